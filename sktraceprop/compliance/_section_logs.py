"""Art. 26(6) with 19, and 12: the logs. Their retention, and the automatic
record-keeping of the store's hash chain (with what its checkpoints cannot show about
its end); monitoring of operation (26(5)) is :mod:`._section_monitoring`."""

from ._article import EVIDENCED, PARTLY, _article, _plural
from ._erasure_evidence import erasure_words, retention_words, said
from ._evidence import parse_time
from ._log_times import set_back_words


def _truncation(report):
    """What the chain cannot show about its end, given what its checkpoints showed."""
    checkpoints = report["record_keeping"]["store"]["checkpoints"]
    if not checkpoints["signed"]:
        return (
            "truncation of the chain's end or a recomputed chain (no checkpoint signature "
            "was checked: the chain is not shown signed)"
        )
    return (
        f"events cut from the chain's end after event {checkpoints['signed_through']} (the "
        "last one signed), unless a copy of its checkpoint kept outside the store is "
        "checked: store.verify(public_key, checkpoint=...) or sktraceprop check "
        "--checkpoint"
    )


def _shown_span(r):
    """The span of the logs the chain's order does not contradict, in words: the
    stamped span is not one the record shows where times are set back."""
    if r["span_days_uncontradicted"] is None:
        return " No time is uncontradicted, so the record shows no span of the logs."
    same = (r["coverage_from"], r["latest_uncontradicted"]) == (
        r["earliest_logged"],
        r["latest_logged"],
    )
    if same and "days_unlogged_before_report" in r:  # (said so since it was kept)
        return (
            f" The times no event contradicts run from {r['coverage_from']} to "
            f"{r['latest_uncontradicted']} ({r['span_days_uncontradicted']:.1f} days): the "
            "stamped span, whose first and last times no event contradicts."
        )
    return (
        f" The times no event contradicts run from {r['coverage_from']} to "
        f"{r['latest_uncontradicted']} ({r['span_days_uncontradicted']:.1f} days): the "
        f"span the record shows; the stamped span ({r['span_days']:.1f} days) rests on "
        "contradicted times."
    )


def _intact(r, since_first):
    """What the intact chain shows was not removed: a report of format 16 since
    ``days_unlogged_before_report`` says only what lies between its first and last
    event (an older copy of the store put back ends early with its chain intact), and
    how long before the report the logs end; ``since_first`` is what reports before it
    said."""
    if "days_unlogged_before_report" not in r:
        return since_first
    return (
        f"no log between the first event and the last ({r['latest_logged']}) has been "
        "removed or altered." + _unlogged(r)
    )


def _unlogged(r):
    """The days before the report with no event stamped, in words, where a day or more
    (empty in reports made before they were kept)."""
    days = r.get("days_unlogged_before_report")
    if days is None or days < 1:
        return ""
    return (
        f" No event is stamped in the {days:.1f} days from the latest to this report: the "
        "record does not show whether the system went unused then or the logs written "
        "then are missing (an older copy of the store put back, or the chain's end cut)."
    )


#: The longest stretch with no event stamped said in Art. 26(6) from this many days: a
#: week covers the quiet of weekends and public holidays (up to four or five days), so a
#: shorter stretch is ordinary use, while a system in use that logs nothing for a whole
#: week is one a deployer can be asked to account for.
GAP_DAYS = 7


def _gap(r):
    """The longest interval between logged times with no event stamped, in words, where
    ``GAP_DAYS`` or more (empty in reports made before it was kept)."""
    days = r.get("longest_unlogged_days")
    if days is None or days < GAP_DAYS:
        return ""
    words = (
        f" Between {r['longest_unlogged_from']} and {r['longest_unlogged_to']} no event is "
        f"stamped ({days:.1f} days, the longest such interval between logged events): the "
        "record does not show whether the system went unused then or the logs written "
        "then are missing."
    )
    return words + _set_back(r, "events", "written")


def _use(r):
    """This model's own logged calls in time, in words (empty in reports made before
    they were kept): the store-wide figures count every event, and a store shared with
    another model, or a refit's run, fills them while this model logs nothing."""
    if "latest_logged_use" not in r:
        return ""
    if r["latest_logged_use"] is None:
        return (
            " No call of this model is logged (no prediction event of its run): the "
            "figures above are of the store's other events (fits, other models' calls, "
            "reviews), none of them a use of this model."
        )
    words = (
        f" This model's own calls (its prediction events, not fits nor other models' "
        f"calls) are stamped from {r['earliest_logged_use']} to {r['latest_logged_use']}."
    )
    if r["earliest_logged_use"] != r["earliest_logged"]:
        words += (
            f" The store's earliest logged event ({r['earliest_logged']}) is no call of "
            "this model (a fit, another model's call or the store's own record): the "
            "span counted from it is not one of this model's calls."
        )
    days = r["days_unlogged_use_before_report"]
    if days >= 1 and r["latest_logged_use"] != r["latest_logged"]:  # (else said above)
        words += (
            f" No call of this model is logged in the {days:.1f} days from its latest to "
            "this report, though other events are: the record does not show whether it "
            "went unused then or the logs of its calls are missing."
        )
    gap = r["longest_unlogged_use_days"]
    if gap is not None and gap >= GAP_DAYS:
        words += (
            f" Between {r['longest_unlogged_use_from']} and {r['longest_unlogged_use_to']} "
            f"no call of this model is logged ({gap:.1f} days, the longest such interval "
            "between its logged calls; other events may be stamped inside it): the record "
            "does not show whether the model went unused then or the logs of its calls "
            "are missing."
        )
        words += _set_back(r, "calls", "made")
    return words


def _set_back(r, what, done):
    """What a clock set back means for an interval of ``what`` in the log (empty where
    no time is set back)."""
    if not r.get("times_set_back"):
        return ""
    return (
        " (Times are set back in this log, see Art. 12: a clock set wrong may also stamp "
        f"{what} outside the interval they were {done} in.)"
    )


def _model_logs(r):
    """Six months over this model's own logs (the events of its run), in words, where
    they are not shown: the store's older events are of other runs (another model's,
    an earlier fit's). Empty where they are shown, where they begin within a day of the
    store's first event (a fit's own source records), and in reports made before it was
    said."""
    if "model_logs_from" not in r or r["model_logs_cover_six_months"]:
        return ""
    if r["model_logs_from"] is None:
        return (
            " No event of this model's run (its fit, calls, explanations, removals) has a "
            "time the chain's order does not contradict: the record does not show when "
            "this model's logs began, nor that they span six months."
        )
    start, first = r["model_logs_from"], r.get("coverage_from", r["earliest_logged"])
    if not r["stored_logs_cover_six_months"] and first and _days(first, start) < 1:
        return ""
    return (
        f" This model's own logs (the events of its run: its fit, calls, explanations, "
        f"removals) begin at {start}: the store's earlier events are another model's, an "
        "earlier fit's or the store's own, which show how long the store keeps logs, not "
        "that this model's are kept six months; that can be shown only from "
        f"{r['model_six_months_reached_on']}."
    )


def _days(start, end):
    return (parse_time(end) - parse_time(start)).total_seconds() / 86400


def _reached_on(r):
    """When six months of logs can be shown: of this model's own where said (later than
    the store's, whose first events may be another run's)."""
    return r.get("model_six_months_reached_on") or r["six_months_reached_on"]


def _restored(r):
    """What an older copy of the store put back hides (said in reports since this
    model's own calls were measured): erasures made after the copy was taken."""
    if "latest_logged_use" not in r:
        return []
    return [
        "an older copy of the store put back (a backup restored): its chain is intact, "
        "and it holds the salts of calls erased after it was taken and no record of those "
        "erasures, so the calls read as not erased; only a checkpoint kept outside the "
        "store that signs a later event (store.verify(public_key, checkpoint=...) or "
        "sktraceprop check --checkpoint) shows the logs cut"
    ]


def _retention(report):
    r = report["retention"]
    cannot = ["that logs are kept after this report", _truncation(report)] + _restored(r)
    obligation = (
        "Deployers keep the logs automatically generated by the system, to the extent they "
        "are under their control, for a period appropriate to the intended purpose of at "
        "least six months (Art. 26(6)); providers likewise (Art. 19(1))."
    )
    set_back = r.get("times_set_back") or []
    if set_back:
        status = PARTLY
        why = set_back_words(set_back).lstrip() + (
            f" Times are stamped from {r['earliest_logged']} to {r['latest_logged']}; "
            "six months are counted only from the earliest time the chain's order does "
            "not contradict, "
        )
        if r["coverage_from"] is None:
            why += (
                "and every time is contradicted, so the record does not show when the logs "
                "began nor that they span six months."
            )
        elif r["stored_logs_cover_six_months"]:
            why += (
                f"{r['coverage_from']}, before {r['six_months_before_report']} (six months "
                "before this report); the hash chain verified intact from its first event."
            )
        else:
            why += (
                f"{r['coverage_from']}: the logs are not shown to span six months, which "
                f"can be shown only from {_reached_on(r)}."
            )
        if "latest_uncontradicted" in r:  # (reports of format 16 made before: none)
            why += _shown_span(r)
        why += _unlogged(r) + _gap(r)
        cannot.append("which of the contradicting times is right")
    elif r["stored_logs_cover_six_months"]:
        status = EVIDENCED
        why = (
            (
                f"The store holds logs from {r['earliest_logged']} to {r['latest_logged']}: the "
                f"earliest is before {r['six_months_before_report']}, six months before this "
                "report, and the hash chain verified intact from its first event, so "
            )
            + _intact(r, "no log of the last six months has been removed or altered.")
            + _gap(r)
        )
    else:
        status = PARTLY
        why = (
            f"The store holds {'logs' if 'days_unlogged_before_report' in r else 'every log'}"
            f" from {r['earliest_logged']} to {r['latest_logged']} "
            f"({r['span_days']:.1f} days) and the hash chain verified intact from its first "
            "event, so "
            + _intact(r, "nothing logged has been removed;")
            + (" But" if "days_unlogged_before_report" in r else " but")
            + " the logs do not yet span six months, so six months of retention can only be "
            f"shown from {_reached_on(r)}." + _gap(r)
        )
    model = _model_logs(r)
    if model:
        status = PARTLY
        why += model
        cannot.append(
            "that this model's logs are kept six months (they are not shown to span them)"
        )
    why += _use(r)
    erased = report["record_keeping"].get("prediction_erasures")
    words, short = retention_words(erased, r["six_months_before_report"])
    why += words
    if short:
        status = PARTLY
        cannot.append("whose input the erased calls scored")
    erased = said(erased)
    return _article(
        "26(6), 19(1)",
        "Log retention (at least six months)",
        obligation,
        status,
        why,
        ["/retention", "/record_keeping/store"]
        + (["/record_keeping/prediction_erasures"] if erased else []),
        cannot,
    )


def _record_keeping(report):
    rk = report["record_keeping"]
    predictions = rk["predictions"]
    counts = (
        f"the store holds {_plural(rk['store']['n_runs'], 'run')} and "
        f"{_plural(rk['store']['n_audit_events'], 'audit event')}, in a hash chain of "
        f"{_plural(rk['store']['n_chain_events'], 'event')} with the "
        f"{rk['store']['n_store_events']} the store wrote to put its runs and sources "
        "under it; for this model "
        f"{_plural(predictions['n_calls'], 'prediction call')}, "
        f"{_plural(rk['explanations']['n_calls'], 'explanation')} and "
        f"{_plural(len(rk['removals']), 'removal')} are logged"
    )
    cannot = [_truncation(report)] + _restored(report["retention"])
    erased = rk.get("prediction_erasures")
    if said(erased):
        cannot.append("which calls each erasure erased, and whose input the erased calls scored")
    if predictions["n_calls"]:
        status = EVIDENCED
        why = (
            "Events are recorded automatically: each fit is a run (sources, ops, training "
            f"rows, UTC time) and each use an audit event; {counts}. The chain verified at "
            f"{rk['store']['chain_verified_at']}." + erasure_words(erased)
        )
    else:
        status = PARTLY
        why = (
            f"Training is recorded automatically (each fit is a run); {counts}. The use of "
            "the model is not recorded: fit it with log_predictions=True." + erasure_words(erased)
        )
        cannot.append("the use of the system (no prediction events)")
    set_back = report["retention"].get("times_set_back") or []
    if set_back:
        status = PARTLY
        why += (
            " The events' times are not all consistent with the order they were written "
            "in:" + set_back_words(set_back) + " The order of events is their seq numbers; "
            "the times of those events do not show when they happened."
        )
        if report["retention"].get("first_logged_use_contradicted"):
            why += (
                " The time of this model's first logged use "
                f"({report['retention']['first_logged_use']}) is among those contradicted."
            )
        cannot.append("when the events stamped out of order happened")
    return _article(
        "12",
        "Record-keeping (automatic logging of events)",
        "High-risk AI systems allow the automatic recording of events over their lifetime, "
        "for identifying risks, post-market monitoring and monitoring of operation.",
        status,
        why,
        ["/record_keeping", "/events"],
        cannot,
    )
