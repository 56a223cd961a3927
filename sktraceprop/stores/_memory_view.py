"""A consistent read of a :class:`~sktraceprop.stores.MemoryStore` without its lock held.

``_snapshot()`` held the store's lock for the whole read: a compliance report, which
verifies the chain (every event hashed) inside it, kept a refit's write of its run, and
every logged call, waiting until it was done. Now the lock is held only while the state
is taken (:class:`View`): the event and checkpoint lists by their length (they are only
appended to: a prefix never changes), the salts of the prediction events (one per call:
not copied at each snapshot) by the dict and its length (a dict keeps the order its
keys were added in, and an erasure of salts puts a new dict in the old one's place), the
other dicts (runs, sources, leaves: a few per fit) by a shallow copy (a run's leaves are
replaced by a new dict when some are erased, never changed in place). Reads in the
snapshot's thread read the view; writes go on meanwhile and are seen by the next
snapshot. A write in the snapshot's own thread reads the store as it is (the lock held),
and the view is taken again after it, so that thread's reads see what it wrote.
"""

import itertools

import numpy as np


class View:
    """What ``store`` holds now (taken with its lock held)."""

    def __init__(self, store):
        self.events, self.n_events = store._events, len(store._events)
        self.checkpoints, self.n_checkpoints = store._checkpoints, len(store._checkpoints)
        self.runs, self.sources = dict(store._runs), dict(store._sources)
        self.leaves, self._salts, self._lock = dict(store._leaves), store._salts, store._lock
        self.n_salts = len(store._salts)
        self.redactions = {k: tuple(v) for k, v in store._redactions_by_run.items()}

    def run_list(self):
        return [(run_id, row[0], None) for run_id, row in self.runs.items()]

    def leaf_runs(self):
        return {run_id: len(held) for run_id, held in self.leaves.items() if held}

    @property
    def salts(self):
        """``{seq: salt}`` of the salts held when the view was taken."""
        with self._lock:  # (a write adds to the dict meanwhile)
            return dict(itertools.islice(self._salts.items(), self.n_salts))

    def salt_seqs(self):
        salts = self.salts
        seqs = np.fromiter(salts, np.int64, len(salts))
        seqs.sort()
        return seqs

    def salt_rows(self):
        salts = self.salts
        for seq in sorted(salts):
            yield seq, salts[seq]

    def sources_list(self):
        return [(*key, *row) for key, row in self.sources.items()]

    def event(self, seq):
        if isinstance(seq, int) and 1 <= seq <= self.n_events:
            row = self.events[seq - 1]
            if row[0] == seq:
                return row
        return next((row for row in self.events_list() if row[0] == seq), None)

    def events_list(self, run_id=None):
        rows = self.events[: self.n_events]
        return [row for row in rows if run_id is None or row[1] == run_id]

    def checkpoints_list(self):
        return list(self.checkpoints[: self.n_checkpoints])
