"""What the order of the store's chain proves of its events' times.

Each event carries the time the writer's clock read (``created_at``); the chain's order
(``seq``) is the order the events were written. A time earlier than the time of an event
written before it (a clock set back, or writers whose clocks differ sharing one store)
contradicts that order: at least one of the two times is wrong, and the record cannot
say which. So a report must not rest a claim on such a time. Retention counts from
:func:`earliest_uncontradicted`: the earliest time of an event that no other event
contradicts (no event before it in seq order is later, none after it is earlier), and
the span the logs are shown to cover ends at :func:`latest_uncontradicted` (the latest
time stamped may be contradicted as well: a clock set forward, then back). Where
every time is contradicted, no start of the logs is shown at all (None): a time
contradicted both ways could be wrong in either direction, and taking the later of two
contradicting times is still a guess about which clock was right (both may be early).
"""

from .._exact_time import exact_times, ns_between


def _stamp(moment):
    # to its nanosecond where it has one (a time set back by 1 ns would show two equal
    # times cut to the microsecond); other times as every report wrote them
    exact = getattr(moment, "exact_isoformat", None)
    return exact() if exact is not None else moment.isoformat(timespec="microseconds")


def _seconds_back(later, moment):
    """How far ``moment`` is before ``later``, in seconds: to the microsecond (as every
    report wrote it), or where less than one, the exact nanoseconds (rounded to 0 it
    would say no set-back at all)."""
    back = round((later - moment).total_seconds(), 6)
    return back if back > 0 else ns_between(moment, later) / 1e9


def event_times(events):
    """The times of ``events`` (as :func:`~._evidence.parse_time` reads them), in order:
    parsed once for every figure of a report made from them."""
    return exact_times(e["created_at"] for e in events)


def times_set_back(events, times=None):
    """The events whose time is earlier than that of an event before them in seq order.

    Each entry: ``seq`` and ``created_at`` of the event, ``after_seq`` and
    ``after_created_at`` of the first event before it with the latest time so far, and
    ``seconds_back`` (how far earlier it is stamped). ``times``: the events' times
    (:func:`event_times`), where already read.
    """
    out, latest, latest_seq = [], None, None
    for event, moment in zip(events, event_times(events) if times is None else times):
        if latest is not None and moment < latest:
            out.append(
                {
                    "seq": event["seq"],
                    "created_at": _stamp(moment),
                    "after_seq": latest_seq,
                    "after_created_at": _stamp(latest),
                    "seconds_back": _seconds_back(latest, moment),
                }
            )
        elif latest is None or moment > latest:
            latest, latest_seq = moment, event["seq"]
    return out


def earliest_uncontradicted(events, times=None):
    """The earliest time of an event no other event's time contradicts (None if none).

    An event's time is contradicted where an event before it in seq order is stamped
    later, or one after it earlier.
    """
    found = uncontradicted(events, times)
    return min(found) if found else None


def latest_uncontradicted(events, times=None):
    """The latest time of an event no other event's time contradicts (None if none):
    the latest time stamped may be a clock set forward, or the time before one set
    back, which later events contradict."""
    found = uncontradicted(events, times)
    return max(found) if found else None


def uncontradicted(events, times=None):
    """The times of the events no other event's time contradicts, in seq order."""
    times = event_times(events) if times is None else times
    return [times[i] for i in uncontradicted_positions(times)]


def uncontradicted_events(events, times=None):
    """The events whose time no other event's time contradicts, in seq order."""
    times = event_times(events) if times is None else times
    return [events[i] for i in uncontradicted_positions(times)]


def uncontradicted_positions(times):
    """The positions of the times (of events in seq order) no other time contradicts."""
    after = [None] * len(times)  # the earliest time after each event
    low = None
    for i in range(len(times) - 1, -1, -1):
        after[i] = low
        low = times[i] if low is None else min(low, times[i])
    found, high = [], None
    for i, moment in enumerate(times):
        if (high is None or high <= moment) and (after[i] is None or moment <= after[i]):
            found.append(i)
        high = moment if high is None else max(high, moment)
    return found


def contradicted(events, seq, times=None):
    """Whether the time of the event ``seq`` is contradicted by the chain's order."""
    times = list(zip((e["seq"] for e in events), event_times(events) if times is None else times))
    (mine,) = [t for s, t in times if s == seq]
    return any((s < seq and t > mine) or (s > seq and t < mine) for s, t in times)


def set_back_words(entries, limit=5):
    """The set-back events in words, for a statement (empty when there are none)."""
    if not entries:
        return ""
    worst = max(entries, key=lambda e: e["seconds_back"])
    named = "; ".join(
        f"event {e['seq']} stamped {e['created_at']}, "
        f"{e['seconds_back'] / 86400:.2f} days before event {e['after_seq']} "
        f"({e['after_created_at']})"
        for e in entries[:limit]
    )
    more = f"; and {len(entries) - limit} more" if len(entries) > limit else ""
    return (
        f" {len(entries)} event(s) are stamped earlier than an event written before them "
        f"in the chain ({named}{more}; the furthest {worst['seconds_back'] / 86400:.2f} "
        "days back): a clock was set back, or writers whose clocks differ share the "
        "store, and the record cannot say which of the contradicting times is right."
    )
