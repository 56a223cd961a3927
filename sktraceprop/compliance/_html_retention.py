"""The report page's retention section: the logs' span, their gaps, this model's own
calls and logs, and six months counted over them."""

from ._html_parts import _e, _kv
from ._log_times import set_back_words


def _stamped_ends(r):
    """The first and last times stamped."""
    return (r["earliest_logged"], r["latest_logged"])


def _unlogged_row(r):
    """The days before the report with no event stamped (none in reports made before
    they were kept): logs an older copy of the store put back has lost end there."""
    days = r.get("days_unlogged_before_report")
    if days is None:
        return []
    return [["Days before this report with no event stamped", f"{days:.1f}"]]


def _gap_row(r):
    """The longest interval between logged events with no event stamped (none in
    reports made before it was kept)."""
    if "longest_unlogged_days" not in r:
        return []
    if r["longest_unlogged_days"] is None:
        return [["Longest interval with no event stamped", "fewer than two events logged"]]
    return [
        [
            "Longest interval with no event stamped",
            f"{r['longest_unlogged_days']:.1f} days, from {_e(r['longest_unlogged_from'])} "
            f"to {_e(r['longest_unlogged_to'])}",
        ]
    ]


def _use_rows(r):
    """This model's own logged calls in time (none in reports made before they were
    kept): the rows above count every event of the store, other models' included."""
    if "latest_logged_use" not in r:
        return []
    if r["latest_logged_use"] is None:
        return [["Calls of this model logged", "none"]]
    gap = r["longest_unlogged_use_days"]
    return [
        [
            "Calls of this model stamped (UTC)",
            _e(f"{r['earliest_logged_use']} to {r['latest_logged_use']}"),
        ],
        [
            "Days before this report with no call of this model logged",
            f"{r['days_unlogged_use_before_report']:.1f}",
        ],
        [
            "Longest interval with no call of this model logged",
            "fewer than two calls logged"
            if gap is None
            else f"{gap:.1f} days, from {_e(r['longest_unlogged_use_from'])} "
            f"to {_e(r['longest_unlogged_use_to'])}",
        ],
    ]


def _model_rows(r):
    """Six months over this model's own logs (none in reports made before they were
    kept): the rows above count from the store's first event, maybe another run's."""
    if "model_logs_from" not in r:
        return []
    if r["model_logs_cover_six_months"]:
        covers = "yes"
    else:
        covers = "not yet, reached on " + (r["model_six_months_reached_on"] or "(not shown)")
    return [
        ["This model's logs (its run's events) from", _e(r["model_logs_from"] or "not shown")],
        ["This model's logs cover six months", _e(covers)],
    ]


def _section_retention(report):
    r = report["retention"]
    reached = r["six_months_reached_on"] or (
        "reached" if r["stored_logs_cover_six_months"] else "not shown"
    )
    covers = "yes" if r["stored_logs_cover_six_months"] else "not yet"
    set_back = r.get("times_set_back") or []
    if set_back and not r["stored_logs_cover_six_months"]:
        covers = "not shown (times set back)"
    times = [
        ["Earliest logged (UTC)", _e(r["earliest_logged"])],
        ["Latest logged (UTC)", _e(r["latest_logged"])],
        ["Span", f"{r['span_days']:.1f} days"],
    ]
    if set_back:  # the stamped times are contradicted: the span shown is between the others
        span = r.get("span_days_uncontradicted")
        times = [
            ["Earliest stamped (UTC)", _e(r["earliest_logged"])],
            ["Latest stamped (UTC)", _e(r["latest_logged"])],
            ["Span of stamped times", "not shown: the chain's order contradicts times"],
        ]
        ends = (r.get("coverage_from"), r.get("latest_uncontradicted"))
        if "days_unlogged_before_report" in r and ends == _stamped_ends(r):
            # (said since it was kept) no event contradicts the stamped span's two ends
            times[2][1] = f"{r['span_days']:.1f} days (its two ends are not contradicted)"
        if "latest_uncontradicted" in r:
            times.append(
                [
                    "Span the record shows",
                    "none: every time is contradicted"
                    if span is None
                    else _e(
                        f"{span:.1f} days, {r['coverage_from']} to {r['latest_uncontradicted']}"
                    ),
                ]
            )
    pe = report["record_keeping"].get("prediction_erasures")
    if pe and pe["n_calls_erased_in_window"]:
        covers += (
            f", except for {pe['n_calls_erased_in_window']} call(s) of this model logged in "
            "those six months and erased at request (their input rows are no longer held)"
        )
    return (
        '<section id="retention"><h2>Log retention</h2>'
        + _kv(
            [
                ["Requirement", _e(r["requirement"])],
                *times,
                *_unlogged_row(r),
                *_gap_row(r),
                *_use_rows(r),
                ["Six months before this report", _e(r["six_months_before_report"])],
                ["Stored logs cover six months", covers],
                ["Six months reached on", _e(reached)],
                ["First logged use of this model", _e(r["first_logged_use"] or "none")],
                *_model_rows(r),
            ]
            + (
                [
                    ["Six months counted from", _e(r["coverage_from"] or "not shown")],
                    ["Times set back", _e(set_back_words(set_back).strip())],
                ]
                if set_back
                else []
            ),
        )
        + "</section>"
    )
