"""Each model's logged calls in time, measured apart (``record_keeping/calls_by_model``,
format 17), and Art. 26(5)'s words on their gaps.

Where several models log to one store, the store's events show no gap while any of them
logs: one model silent for a month beside another called every three days reads as a
store with three-day gaps. The prediction log is therefore measured per model (each run
whose calls the chain holds), and Art. 26(5) names every model whose log has an interval
of :data:`~._section_logs.GAP_DAYS` days or more with no call, so that no model's log is
taken as complete where it is not.
"""

from ._article import _plural
from ._evidence import logged_use, parse_time

__all__ = ["calls_by_model", "gap_words"]

#: How many other models Art. 26(5) names by their gaps (the rest are counted).
NAMED = 10


def calls_by_model(events, now, times=None):
    """Per run whose calls (``"prediction"`` events) ``events`` holds, in the order of
    its first call: ``run_id``, ``n_calls`` and its calls in time as
    :func:`~._evidence.logged_use` measures them up to ``now`` (the report's time).
    ``times``: the events' times, where already read."""
    runs = {}
    for i, event in enumerate(events):
        if event["kind"] == "prediction":
            runs.setdefault(event["run_id"], []).append(i)
    report_time = parse_time(now)
    out = []
    for run_id, at in runs.items():
        calls = [events[i] for i in at]
        moments = None if times is None else [times[i] for i in at]
        out.append(
            {"run_id": run_id, "n_calls": len(at), **logged_use(calls, report_time, moments)}
        )
    return out


def _gaps(entry, gap_days):
    """The intervals of ``entry`` (one model's calls) with no call, ``gap_days`` long or
    longer, in words (empty where none)."""
    said = []
    days = entry["longest_unlogged_use_days"]
    if days is not None and days >= gap_days:
        said.append(
            f"none between {entry['longest_unlogged_use_from']} and "
            f"{entry['longest_unlogged_use_to']} ({days:.1f} days, its longest such interval)"
        )
    before = entry["days_unlogged_use_before_report"]
    if before is not None and before >= gap_days:
        said.append(f"none in the {before:.1f} days from its latest to this report")
    return said


def gap_words(report, gap_days):
    """Art. 26(5)'s sentences on the gaps of each model's log (empty in reports of
    format 16 and earlier, which do not measure them per model)."""
    entries = report["record_keeping"].get("calls_by_model")
    if entries is None:
        return ""
    run_id = report["model"]["run_id"]
    words = ""
    for entry in entries:
        if entry["run_id"] == run_id and _gaps(entry, gap_days):
            words += (
                " This model's own calls, measured apart from the store's other events: "
                + "; ".join(_gaps(entry, gap_days))
                + ". The record does not show whether it went unused then or the logs of "
                "its calls are missing: its log is not shown complete there."
            )
    others = [e for e in entries if e["run_id"] != run_id]
    if not others:
        return words
    gapped = [e for e in others if _gaps(e, gap_days)]
    words += (
        f" The store also logs the calls of {_plural(len(others), 'other model')}, each "
        "measured apart (one model's calls do not fill another's gaps)"
    )
    if not gapped:
        return words + f": none has an interval of {gap_days} days or more without a call."
    named = "; ".join(
        f"run {e['run_id']} ({_plural(e['n_calls'], 'call')}): " + ", ".join(_gaps(e, gap_days))
        for e in gapped[:NAMED]
    )
    more = len(gapped) - NAMED
    return (
        words
        + f"; {len(gapped)} of them logged no call for {gap_days} days or more: {named}"
        + (f"; and {more} more (see /record_keeping/calls_by_model)" if more > 0 else "")
        + ". The record does not show whether those models went unused then or the logs "
        "of their calls are missing."
    )
