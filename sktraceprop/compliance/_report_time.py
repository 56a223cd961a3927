"""The time a report says it was made, checked against the clock and the store.

Art. 26(6)/19(1)'s verdict (logs kept since six months before the report) is made from
the report's time, which the report's hash alone does not protect: re-hashed with its
time moved months ahead, a report would claim six months of retention for logs seconds
old, and its store would agree (the logs are there). Two things show a time moved
forward. A report is made once, at one moment its three times share (``generated_at``,
the retention's ``report_time``, ``chain_verified_at``), which cannot be in the future
of the clock checking it, nor before the last event it holds. And against the store: a
report includes every event logged before it was made, so an event after its chain head
logged well before its time says it was made earlier.
"""

from datetime import datetime, timedelta, timezone

from ._evidence import parse_time

#: How far the checking computer's clock may run behind the one that made the report.
CLOCK_SKEW = timedelta(minutes=10)
#: How much earlier than the report's time an event it does not include may be stamped:
#: a write that stamped its event, then committed after the report read the store.
CONCURRENT_WRITE = timedelta(minutes=10)

_TIMES = (
    ("/report/generated_at", ("report", "generated_at")),
    ("/retention/report_time", ("retention", "report_time")),
    ("/record_keeping/store/chain_verified_at", ("record_keeping", "store", "chain_verified_at")),
)


def _at(report, keys):
    value = report
    for key in keys:
        value = value[key]
    return value


def _parsed(report):
    """``[(pointer, text, time or None)]`` of the report's three times."""
    out = []
    for pointer, keys in _TIMES:
        text = _at(report, keys)
        try:
            moment = parse_time(text)
        except (TypeError, ValueError):  # (the schema names a malformed time)
            moment = None
        out.append((pointer, text, moment))
    return out


def time_problems(report, now=None):
    """The report's times: one moment, after its chain head's event and not in the
    future of ``now`` (this clock)."""
    now = datetime.now(timezone.utc) if now is None else now
    times = _parsed(report)
    problems = []
    first_pointer, first_text, first = times[0]
    for pointer, text, moment in times[1:]:
        if moment is not None and first is not None and moment != first:
            problems.append(
                f"{pointer} differs from {first_pointer} ({text} against {first_text}): a "
                "report is made at one moment, which all three record; it was altered"
            )
    try:
        head = parse_time(report["record_keeping"]["store"]["chain_head"]["created_at"])
    except (KeyError, TypeError, ValueError):
        head = None
    if first is not None and head is not None and first < head:
        problems.append(
            f"{first_pointer} ({first_text}) is earlier than the last event the report "
            f"holds (its chain head, logged at {head.isoformat(timespec='microseconds')}): "
            "a report is made after the events it holds, so its time was altered"
        )
    for pointer, text, moment in times:
        if moment is not None and moment > now + CLOCK_SKEW:
            problems.append(
                f"{pointer} ({text}) is later than this computer's clock "
                f"({now.isoformat(timespec='seconds')}): a report cannot be made in the "
                "future, so its time was altered (or this clock is wrong)"
            )
    return problems


def store_time_problems(report, events, head_seq):
    """The report's time against the events its store logged after its chain head:
    none may be stamped (well) before the report was made, or the report would hold it."""
    times = [m for _, _, m in _parsed(report) if m is not None]
    if not times:
        return []
    made = max(times)
    later = [e for e in events if e["seq"] > head_seq]
    for event in sorted(later, key=lambda e: e["seq"]):
        try:
            logged = parse_time(event["created_at"])
        except (TypeError, ValueError):
            continue
        if logged < made - CONCURRENT_WRITE:
            return [
                f"/retention/report_time ({made.isoformat(timespec='microseconds')}): event "
                f"seq {event['seq']} ({event['kind']}), after the report's chain head, was "
                f"logged at {event['created_at']}, before the report says it was made; a "
                "report holds every event logged before it, so its time was altered"
            ]
    return []
