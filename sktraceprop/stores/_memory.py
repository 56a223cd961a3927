"""In-process store."""

import threading

from ..exceptions import StoreError, UnknownRunError
from ._base import GENESIS, BaseStore, make_event


class MemoryStore(BaseStore):
    """Keeps runs and audit events in this process.

    Pickling a MemoryStore (or an estimator holding one) pickles its runs.

    Examples
    --------
    >>> from sktraceprop.stores import MemoryStore
    >>> store = MemoryStore()
    >>> len(store.list_runs())
    0
    """

    def __init__(self):
        self._runs = {}
        self._events = []
        self._lock = threading.Lock()

    def __getstate__(self):
        return {"_runs": self._runs, "_events": self._events}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def save_run(self, lineage):
        with self._lock:
            if lineage.run_id in self._runs:
                raise StoreError(f"run {lineage.run_id} is already stored; runs are append-only")
            self._runs[lineage.run_id] = lineage
        return lineage.run_id

    def load_run(self, run_id):
        try:
            return self._runs[run_id]
        except KeyError:
            raise UnknownRunError(f"no run {run_id!r} in this MemoryStore") from None

    def _run_rows(self):
        return [
            (r.run_id, r.created_at, r.estimator, r.n_samples, r.source_ids())
            for r in self._runs.values()
        ]

    def append_event(self, kind, payload, run_id=None):
        with self._lock:
            prev = self._events[-1]["hash"] if self._events else GENESIS
            event = make_event(prev, kind, payload, run_id, len(self._events) + 1)
            self._events.append(event)
        return event

    def events(self, run_id=None):
        return [dict(e) for e in self._events if run_id is None or e["run_id"] == run_id]

    def __repr__(self):
        return "MemoryStore()"
