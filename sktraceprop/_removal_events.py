"""A store's removal events, read once per change: the refit check of every traced fit.

Each fit writing to a store checks its rows against the store's ``"unlearning"`` and
erasure events (:mod:`._removed_in_store`); reading and decoding every one of them
(with the row ids of each removal) at every fit made a fit's cost grow with the
removals ever recorded. They are kept here per store object, with the store's mark of
them: their count, the last one's ``seq`` and its chain hash, read in the same snapshot
as the events. Any removal appended since, by this process or another, changes the
mark (events are append-only: a new one has a higher ``seq``), and the events are read
again; a store whose file was replaced by another gives another mark, or fails its own
identity check. The row ids in the kept payloads are int64 arrays (8 bytes a row), not
lists of Python ints.
"""

import threading
import weakref

import numpy as np

from .stores._erase_rows import ERASURE_EVENT as ERASURE

__all__ = ["ERASURE", "removal_events"]

KINDS = ("unlearning", ERASURE)

_LOCK = threading.Lock()
_CACHE = weakref.WeakKeyDictionary()  # store -> (mark, events)


def _compact(event):
    """``event`` with the row ids of its payload as read-only int64 arrays (left as
    read where they are not a list of ints: the check says what is wrong with them)."""
    payload = event["payload"]
    if isinstance(payload, dict):
        for name in ("row_ids", "rows_behind"):
            value = payload.get(name)
            if isinstance(value, list) and all(type(v) is int for v in value):
                ids = np.asarray(value, dtype=np.int64)
                ids.flags.writeable = False
                payload[name] = ids
    return event


def _read(store):
    from .stores._chain import EVENT_COLUMNS
    from .stores._events import decoded

    rows = list(store._raw_events_of_kinds(KINDS))
    return [_compact(decoded(store, dict(zip(EVENT_COLUMNS, row)))) for row in rows]


def removal_events(store):
    """The store's unlearning and erasure events (decoded), oldest first: read from the
    store where any was appended since this process last read them, else kept ones.
    Callers must not change them (they are shared by every later fit)."""
    with store._snapshot():
        mark = tuple(store._raw_events_mark(KINDS))
        with _LOCK:
            kept = _CACHE.get(store)
        if kept is not None and kept[0] == mark:
            return kept[1]
        events = _read(store) if mark[0] else []
    with _LOCK:
        _CACHE[store] = (mark, events)
    return events
