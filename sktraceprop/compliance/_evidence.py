"""What the record holds about one run: its events and their times, and the retention
section; the other sections of a run are built beside it: its model
(:mod:`._model_evidence`), features (:mod:`._feature_evidence`), logs
(:mod:`._log_evidence`) and sources (:mod:`._source_evidence`).

Every figure here is read from the run record and the store's audit events; nothing is
recomputed from files (they may have changed) and nothing is estimated.
"""

import re
from datetime import timedelta

from .._exact_time import ExactTime, exact_time, exact_times, own_stamps
from ..exceptions import ComplianceError
from ._source_evidence import sources_section  # noqa: F401 (the report's sections)

#: Kinds of audit event summarised rather than copied into a report (one per call).
SUMMARISED_KINDS = ("prediction",)
#: Prefix of the events a store writes itself (a run or source put under the chain).
STORE_PREFIX = "store."


def all_events(store):
    """Every event of the store's hash chain, its own bookkeeping events included."""
    return store.events(include_store_events=True)


def is_store_event(event):
    """Whether the store wrote this event itself (a run or source put under the chain)."""
    return str(event["kind"]).startswith(STORE_PREFIX)


def audit_events(events):
    """The events logged by the system's use and its people, not the store's bookkeeping."""
    return [e for e in events if not is_store_event(e)]


def included(event, run_id, source_keys):
    """Whether a report on ``run_id`` copies this event in full.

    The run's own events (removals, explanations, its ``store.run`` event) and events of
    no run (reviews, and the ``store.source`` events of the run's sources), but not the
    prediction log (summarised with a digest) nor other runs' events.
    """
    kind = str(event["kind"])
    if kind in SUMMARISED_KINDS:
        return False
    if event["run_id"] == run_id:
        return True
    if event["run_id"] is not None:
        return False
    if is_store_event(event):
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        return (payload.get("source_id"), payload.get("sha256")) in source_keys
    return True


#: An event's time as the report's schema takes it (``stored_time``): ISO 8601 with an
#: explicit offset, which another writer following the store's schema may choose.
_STAMPED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")


def check_stamped(events, store):
    """Refuse, naming it, an event whose time names no instant; else the events' times
    (as :func:`parse_time` reads them, in order), for the figures made from them.

    Every figure of a report compares instants (in UTC); a time with an explicit offset
    other than UTC (``+01:00``, written by another writer) names one. A time with no
    offset names none: read as UTC it could be hours off, read as local time it depends
    on the reader's zone, so the report is refused rather than built on a guess.
    """
    times = own_stamps([event["created_at"] for event in events])
    if times is not None:  # (every one the library's own stamp, read at once)
        return times
    times = []
    for event in events:
        text = event["created_at"]
        if isinstance(text, str) and _STAMPED.fullmatch(text):
            try:
                times.append(parse_time(text))
                continue
            except ValueError:
                pass
        raise ComplianceError(
            f"audit event {event['seq']} ({event['kind']}) in {store!r} is stamped "
            f"{text!r}, not an ISO 8601 time with a UTC offset (such as "
            "2026-12-06T10:00:00+00:00 or +01:00): the instant it was logged is not known, "
            "so no figure of the log's times can be given. It was written by another "
            "writer; nothing was written."
        )
    return times


#: An ISO 8601 time as an aware UTC datetime (naive times are taken as UTC), exact to the
#: nanosecond (an :class:`~sktraceprop._exact_time.ExactTime` where it has digits below
#: the microsecond). A stored time may have up to nine fractional digits; ``datetime``
#: holds six. The time returned compares, orders and hashes as the exact instant, so a
#: time set back (or a report's time under its chain head's) by less than a microsecond
#: is seen; its text (``isoformat``, the report's figures) and its differences are to the
#: microsecond. (:func:`~sktraceprop._exact_time.exact_time` itself rather than a
#: function calling it: one call fewer for each time a report reads.)
parse_time = exact_time


def months_before(moment, months):
    """The same wall-clock time ``months`` calendar months earlier (day clamped)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def retention_section(
    store,
    run,
    events,
    now,
    runs=None,
    run_times=False,
    clamped=False,
    chain_order=True,
    times=None,
):
    """Earliest and latest logged times, and whether they span six months.

    The times are those of the store's chained events (``events``: each written by the
    store when it was logged, runs' and sources' bookkeeping events included), not the
    times the runs record of their own fits: a run saved today with an old time (copied
    from another store, or built with one) is not a log kept since then.

    ``run_times``: also count the runs' recorded times, as reports of format versions
    1-3 did (their check rebuilds them so); ``runs`` (the store's :meth:`list_runs`
    frame by default) are those runs: a check of an older report passes those stored
    up to its chain head. ``clamped``: count six months as reports of format
    versions 1-15 did, from the same time of day with the day clamped to the month's
    last: at a month's end it named a date up to three days early (31 August to 28
    February, though logs of 31 August span six months from 1 March) and could deny six
    months to logs that spanned them (logs of 28 February at noon, a report of 30
    August at ten). ``chain_order``: count six months from the earliest time the chain's
    order does not contradict (:mod:`._log_times`), and say which events' times are set
    back (``times_set_back``, ``coverage_from``, ``first_logged_use_contradicted``), as
    reports of format 16 do; earlier formats counted from the earliest time stamped.
    ``times``: the events' times, where already read (:func:`check_stamped`).
    """
    from ._log_times import contradicted, event_times, times_set_back, uncontradicted

    # parsed once: every figure below is of these times
    stamped = event_times(events) if times is None else times
    times = stamped
    if run_times:
        if runs is None:
            runs = store.list_runs()
        times = stamped + [parse_time(t) for t in runs["created_at"]]
    report_time = parse_time(now)
    earliest, latest = min(times), max(times)
    limit = months_before(report_time, 6) if clamped else six_months_before(report_time)
    found = uncontradicted(events, stamped) if chain_order else None
    start = min(found, default=None) if chain_order else earliest
    covers = start is not None and start <= limit
    at = [
        i for i, e in enumerate(events) if e["run_id"] == run.run_id and e["kind"] == "prediction"
    ]
    mine = [events[i] for i in at]
    in_use_since = stamped[at[0]] if at else None
    out = {
        "requirement": (
            "logs automatically generated by the system kept for a period appropriate to "
            "its intended purpose, at least six months (Art. 26(6); Art. 19(1))"
        ),
        "report_time": now,
        "earliest_logged": earliest.isoformat(timespec="microseconds"),
        "latest_logged": latest.isoformat(timespec="microseconds"),
        "span_days": round((latest - earliest).total_seconds() / 86400, 6),
        "six_months_before_report": limit.isoformat(timespec="microseconds"),
        "stored_logs_cover_six_months": covers,
        "six_months_reached_on": None
        if covers or start is None
        else (months_before(start, -6) if clamped else six_months_after(start)).isoformat(
            timespec="microseconds"
        ),
        "first_logged_use": None
        if in_use_since is None
        else in_use_since.isoformat(timespec="microseconds"),
    }
    if chain_order:  # format 16: what the chain's order says of the times
        out["coverage_from"] = None if start is None else start.isoformat(timespec="microseconds")
        out["times_set_back"] = times_set_back(events, stamped)
        out["first_logged_use_contradicted"] = bool(mine) and contradicted(
            events, mine[0]["seq"], stamped
        )
        # earliest_logged, latest_logged and span_days are of the times stamped, which
        # the chain's order may contradict: the span it shows runs between the times no
        # event contradicts (None where there is none)
        end = max(found, default=None)
        out["latest_uncontradicted"] = (
            None if end is None else end.isoformat(timespec="microseconds")
        )
        out["span_days_uncontradicted"] = (
            None if start is None else round((end - start).total_seconds() / 86400, 6)
        )
        # no event is stamped between the latest logged and the report: the system went
        # unused, or the logs written then are gone (an older copy of the store put
        # back, the chain's end cut), which the chain cannot tell apart
        out["days_unlogged_before_report"] = round(
            (report_time - latest).total_seconds() / 86400, 6
        )
        out.update(longest_unlogged(stamped))
        # the figures above are of every event in the store: a store shared with another
        # model (or refitted) shows no gap for this one while the other logs, so they
        # are also measured over this model's own calls (its prediction events)
        out.update(logged_use(mine, report_time, [stamped[i] for i in at]))
        out.update(model_logs(events, run.run_id, limit, stamped))
    return out


def model_logs(events, run_id, limit, times=None):
    """Six months counted over this model's own logs, the events of its run (its fit,
    calls, explanations, removals): ``model_logs_from`` (the earliest of their times the
    chain's order does not contradict; None where there is none),
    ``model_logs_cover_six_months`` (from ``limit`` or earlier) and
    ``model_six_months_reached_on``.

    Art. 26(6) is about the logs of this system: a store shared with another model, or
    holding an earlier fit's, spans six months while this model's logs span days, and
    its older events show how long the store keeps logs, not this model's kept.
    """
    from ._log_times import event_times, uncontradicted_positions

    times = event_times(events) if times is None else times
    found = [i for i in uncontradicted_positions(times) if events[i]["run_id"] == run_id]
    start = min((times[i] for i in found), default=None)
    covers = start is not None and start <= limit
    return {
        "model_logs_from": None if start is None else start.isoformat(timespec="microseconds"),
        "model_logs_cover_six_months": covers,
        "model_six_months_reached_on": None
        if covers or start is None
        else six_months_after(start).isoformat(timespec="microseconds"),
    }


def logged_use(calls, report_time, times=None):
    """This model's logged calls (``calls``: its prediction events) in time:
    ``earliest_logged_use`` and ``latest_logged_use`` (the earliest and latest times a
    call is stamped; ``first_logged_use`` is that of the first written),
    ``days_unlogged_use_before_report`` (from the latest to ``report_time``) and the
    longest interval between consecutive stamped times of its calls
    (``longest_unlogged_use_from``, ``_to``, ``_days``, as :func:`longest_unlogged`);
    None where no call (or fewer than two) is logged.

    Only prediction events count: a fit, an explanation or another model's call is no
    use of this model. ``times``: the calls' times, where already read.
    """
    times = exact_times(e["created_at"] for e in calls) if times is None else times
    first, last = (min(times), max(times)) if times else (None, None)
    gap = longest_unlogged(times)
    return {
        "earliest_logged_use": None if first is None else first.isoformat(timespec="microseconds"),
        "latest_logged_use": None if last is None else last.isoformat(timespec="microseconds"),
        "days_unlogged_use_before_report": None
        if last is None
        else round((report_time - last).total_seconds() / 86400, 6),
        "longest_unlogged_use_from": gap["longest_unlogged_from"],
        "longest_unlogged_use_to": gap["longest_unlogged_to"],
        "longest_unlogged_use_days": gap["longest_unlogged_days"],
    }


def longest_unlogged(times):
    """The longest interval between consecutive logged times in which no event is
    stamped: ``longest_unlogged_from``, ``longest_unlogged_to`` (UTC) and
    ``longest_unlogged_days`` (all None where fewer than two events are logged).

    The times are those stamped, taken in time order rather than the chain's order: a
    clock set back makes consecutive events in seq order stamped backwards, and a
    negative interval is no stretch without logs. So each end is a time some event is
    stamped, and no event is stamped between them; where times are set back
    (``times_set_back``) an end may be a time the chain's order contradicts. The first
    of equally long intervals is taken.
    """
    ordered = sorted(times)
    if len(ordered) < 2:
        return {
            "longest_unlogged_from": None,
            "longest_unlogged_to": None,
            "longest_unlogged_days": None,
        }
    start, end = max(zip(ordered, ordered[1:]), key=lambda pair: pair[1] - pair[0])
    return {
        "longest_unlogged_from": start.isoformat(timespec="microseconds"),
        "longest_unlogged_to": end.isoformat(timespec="microseconds"),
        "longest_unlogged_days": round((end - start).total_seconds() / 86400, 6),
    }


def _next_month_start(moment):
    year, month = divmod(moment.year * 12 + moment.month, 12)
    return moment.replace(
        year=year, month=month + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    )


def six_months_after(moment):
    """The first moment at which logs kept since ``moment`` span six calendar months.

    A period of months ends on the day of the same number, or, where the last month is
    shorter, at the end of its last day (Regulation 1182/71, Art. 3(2)(c)): six months
    after 31 August end with 28 February, so they are reached on 1 March at 00:00.
    """
    after = months_before(moment, -6)
    return after if after.day == moment.day else _next_month_start(after)


def six_months_before(moment):
    """The latest moment from which logs kept span six calendar months at ``moment``:
    the inverse of :func:`six_months_after` (logs since ``t`` span six months at
    ``moment`` exactly when ``t <= six_months_before(moment)``). Six months before 31
    August: the last moment of 28 February (logs of 1 March reach six months on 1
    September), not 28 February at the time of day of 31 August. That last moment is
    the last nanosecond (a stored time may be that fine: logs of 28 February at
    23:59:59.9999995 span six months on 31 August); written, it shows its microsecond."""
    before = months_before(moment, 6)
    if before.day == moment.day:
        return before
    return ExactTime.of(_next_month_start(before) - timedelta(microseconds=1), 999)
