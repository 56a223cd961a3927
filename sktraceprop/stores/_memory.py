"""In-process store."""

import contextlib
import os
import threading
import uuid
import warnings

import numpy as np

from .._state_format import check_state, stamp_state
from ..exceptions import LineageWarning, StoreError
from ..utils._stack import user_stacklevel
from ._base import BaseStore
from ._copy_erasures import remember_copy, warn_copies_hold, warn_missed_erasures
from ._memory_view import View
from ._sealed import REDACTION_EVENT


def _frozen(ids):
    ids = np.array(ids, dtype=np.int64, copy=True)
    ids.flags.writeable = False
    return ids


class MemoryStore(BaseStore):
    """Keeps runs, audit events and checkpoints in this process.

    Runs are kept as their records and read-only copies of their row ids, so changing a
    loaded run, or the ``lineage_`` of the estimator that made it, never changes what is
    stored; and they are under the same hash chain as in the other stores
    (:meth:`verify`, :meth:`checkpoint`).

    A MemoryStore lives in one process. Pickling it (or an estimator holding one)
    pickles its runs, and the copy unpickled is read-only (in this process too: a model
    saved with ``joblib.dump`` and loaded again holds a copy, which would never pass
    what it is given to the store it was saved with): process
    workers (``n_jobs`` with joblib's default ``loky`` backend, ``multiprocessing``,
    Dask) would otherwise write to copies that are thrown away, so a traced fit there
    raises :class:`~sktraceprop.exceptions.StoreError` before fitting. Use
    :class:`SQLiteStore` or :class:`PostgresStore` with process workers, or threads
    (``joblib.parallel_backend("threading")``); :meth:`copy` makes a writable copy.

    An erasure request (:meth:`erase_rows`) cannot reach a copy taken before it (nor the
    bytes of a pickle): the copy's runs still hold what it erased. Where such a copy is
    unpickled in the process that made the request, an
    :class:`~sktraceprop.exceptions.ErasedRowsHeldWarning` names the request and the
    runs; a copy read in another process cannot know.

    Examples
    --------
    >>> from sktraceprop.stores import MemoryStore
    >>> store = MemoryStore()
    >>> len(store.list_runs())
    0
    """

    def __init__(self):
        self._runs = {}
        self._leaves = {}
        self._salts = {}  # salted prediction events' salts, by seq (beside the chain)
        self._sources = {}
        self._events = []
        self._checkpoints = []
        self._id = str(uuid.uuid4())
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._local = threading.local()  # (each thread's snapshot: _memory_view)
        self._redactions_by_run = {}

    @property
    def store_id(self):
        return self._id

    _state_format = 1  # (its pickle records it: see _state_format)

    def __getstate__(self):
        with self._lock:
            state = {
                k: v
                for k, v in self.__dict__.items()
                if k not in ("_lock", "_local", "_redactions_by_run")
            }
            state["_runs"] = dict(self._runs)
            state["_leaves"] = {k: dict(v) for k, v in self._leaves.items()}
            state["_salts"] = dict(self._salts)
            state["_sources"] = dict(self._sources)
            state["_events"] = list(self._events)
            state["_checkpoints"] = list(self._checkpoints)
        return stamp_state(self, state)

    def __setstate__(self, state):
        self.__dict__.update(check_state(self, state))
        # a copy, in this process too (joblib.dump then load): what it would be given to
        # write would never reach the store that was pickled
        self._unpickled = True
        self._lock = threading.RLock()
        self._local = threading.local()
        self.__dict__.setdefault("_pid", os.getpid())
        self.__dict__.setdefault("_leaves", {})  # (a store pickled before runs were sealed)
        self.__dict__.setdefault("_salts", {})  # (... before prediction events were salted)
        self._index_redactions()
        # pickled before an erasure this process made through the store: it holds what
        # that erased (as the pickle's bytes do), which this process knows and says
        warn_missed_erasures(self)
        remember_copy(self)

    def _index_redactions(self):
        self._redactions_by_run = {}
        for row in self._events:
            if row[3] == REDACTION_EVENT:
                self._redactions_by_run.setdefault(row[1], []).append(row)

    def copy(self):
        """A writable copy of this store (same runs, events, checkpoints and store id).

        The copy and this store go their own ways from here: an erasure request
        recorded in one is not in the other. So the copy's erasure checks say that they
        cannot know of a request recorded in this store since, as an unpickled copy's
        do (the ``erased`` column ``<NA>`` where it records none, an
        :class:`~sktraceprop.exceptions.ErasuresUnknownWarning` from the checks that
        answer in one word, an explanation's ``trace()`` withholding the values), and
        an erasure recorded in the copy warns that this store does not record it.
        """
        new = MemoryStore.__new__(MemoryStore)
        new.__setstate__(self.__getstate__())
        new._pid = os.getpid()
        new._unpickled = False
        new._copied = True  # (a snapshot for erasure checks: see is_snapshot)
        return new

    def erase_rows(self, *, source_id=None, sample_id=None, reason, features=(), dry_run=False):
        out = super().erase_rows(
            source_id=source_id,
            sample_id=sample_id,
            reason=reason,
            features=features,
            dry_run=dry_run,
        )
        if not dry_run:
            warn_copies_hold(self)
        if self.__dict__.get("_copied") and not dry_run:
            warnings.warn(
                f"this erasure request is recorded in a copy of a MemoryStore (store.copy(), "
                f"store_id {self._id}) only: the store it was copied from, and its other "
                "copies, do not record it, and their runs still hold the rows and their "
                "checks do not name them. Make the request in every copy that is kept, "
                "or keep the runs in one SQLiteStore or PostgresStore.",
                LineageWarning,
                stacklevel=user_stacklevel(),
            )
        return out

    erase_rows.__doc__ = BaseStore.erase_rows.__doc__

    def _writable_problem(self):
        if self._pid == os.getpid() and self.__dict__.get("_unpickled"):
            return StoreError(
                "this MemoryStore was unpickled (pickle.loads, joblib.load, or a model "
                "that holds it loaded so): it is a copy of the store that was pickled, and "
                "runs or events written here would never reach that store. Nothing was "
                "fitted or written. Use SQLiteStore(path) or PostgresStore(dsn) for a "
                "store that outlives a pickle, pass the original store, or write to "
                "store.copy()."
            )
        if self._pid != os.getpid():
            return StoreError(
                f"this MemoryStore was copied into process {os.getpid()} from process "
                f"{self._pid} (by process-based parallelism such as joblib's loky "
                "backend, multiprocessing or Dask, or by unpickling): runs written here "
                "would never reach the original store. Nothing was fitted or written. Use "
                "SQLiteStore(path) or PostgresStore(dsn) with process workers, run the "
                "workers as threads (joblib.parallel_backend('threading')), or write to "
                "store.copy()."
            )
        return None

    # -- reads ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _snapshot(self):
        # the lock held only while the state is taken: a refit's write, a logged call,
        # need not wait for a long read (a report's verification of the chain)
        local = self._local
        if getattr(local, "view", None) is not None:  # (within this thread's snapshot)
            yield
            return
        with self._lock:
            local.view = View(self)
        try:
            yield
        finally:
            local.view = None

    def _view(self):
        """This thread's snapshot (:class:`._memory_view.View`), or None."""
        return getattr(self._local, "view", None)

    def _raw_run(self, run_id):
        view = self._view()
        return (self._runs if view is None else view.runs).get(run_id)

    # Reads that walk a dict take the lock: another thread's writer.apply() may add to
    # it meanwhile ("dictionary changed size during iteration", seen in a threaded test).
    def _raw_run_list(self):
        view = self._view()
        if view is not None:
            return view.run_list()
        with self._lock:
            return [(run_id, row[0], None) for run_id, row in self._runs.items()]

    def _raw_leaves(self, run_id):
        view = self._view()
        if view is not None:
            return dict(view.leaves.get(run_id, {}))
        with self._lock:
            return dict(self._leaves.get(run_id, {}))

    def _raw_leaf_runs(self):
        view = self._view()
        if view is not None:
            return view.leaf_runs()
        with self._lock:
            return {run_id: len(held) for run_id, held in self._leaves.items() if held}

    def _raw_prediction_salts(self):
        view = self._view()
        if view is not None:
            return dict(view.salts)
        with self._lock:
            return dict(self._salts)

    def _raw_prediction_salt_seqs(self):
        view = self._view()
        if view is not None:
            return view.salt_seqs()
        with self._lock:
            seqs = np.fromiter(self._salts, np.int64, len(self._salts))
        seqs.sort()
        return seqs

    def _raw_prediction_salt_rows(self):
        view = self._view()
        if view is not None:
            yield from view.salt_rows()
            return
        # as the databases stream them: by seq, one at a time, the seqs alone held (8
        # bytes each), not a copy of the dict of every salt, which grows with the log
        for seq in map(int, self._raw_prediction_salt_seqs()):
            with self._lock:
                salt = self._salts.get(seq)
            if salt is not None:  # (erased since the seqs were read)
                yield seq, salt

    def _raw_source(self, source_id, sha256):
        view = self._view()
        return (self._sources if view is None else view.sources).get((source_id, sha256))

    def _raw_sources(self):
        view = self._view()
        if view is not None:
            return view.sources_list()
        with self._lock:
            return [(*key, *row) for key, row in self._sources.items()]

    def _raw_event(self, seq):
        view = self._view()
        if view is not None:
            return view.event(seq)
        if isinstance(seq, int) and 1 <= seq <= len(self._events):
            row = self._events[seq - 1]
            if row[0] == seq:
                return row
        return next((row for row in self._events if row[0] == seq), None)

    def _raw_events(self, run_id=None):
        view = self._view()
        if view is not None:
            return view.events_list(run_id)
        with self._lock:
            return [row for row in self._events if run_id is None or row[1] == run_id]

    def _raw_redaction_events(self, run_id):
        # read at every load of a sealed run: an index, not a scan of every event
        view = self._view()
        if view is not None:
            return list(view.redactions.get(run_id, ()))
        with self._lock:
            return list(self._redactions_by_run.get(run_id, ()))

    def _raw_checkpoints(self):
        view = self._view()
        if view is not None:
            return view.checkpoints_list()
        with self._lock:
            return list(self._checkpoints)

    def _encode(self, ids):
        return _frozen(ids)

    # -- writes -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _writer(self):
        with self._lock:
            # (a write in a snapshot's thread reads the store as it is, and that thread's
            # reads see what it wrote: its snapshot taken again after it)
            view, self._local.view = self._view(), None
            try:
                writer = _Writer(self)
                yield writer
                # Only reached without an exception: apply everything at once.
                writer.apply()
            finally:
                self._local.view = None if view is None else View(self)

    def __repr__(self):
        # its identity, not its contents: read with no lock (a message naming the store
        # may be made while another thread writes to it) and the same all its life (a
        # request's words name it: see _label); a copy shares the store_id
        state = self.__dict__
        how = (
            ", copy='unpickled'"
            if state.get("_unpickled")
            else ", copy='store.copy()'"
            if state.get("_copied")
            else ""
        )
        return f"MemoryStore(store_id={state.get('_id')!r}{how})"

    def _label(self):
        # (a copy's requests are named as its store's: one request, one name)
        return f"MemoryStore(store_id={self.__dict__.get('_id')!r})"


class _Writer:
    """Stages one transaction's rows; :meth:`apply` adds them all."""

    def __init__(self, store):
        self.store = store
        self.events, self.sources, self.runs, self.checkpoints = [], {}, {}, []
        self.leaves, self.erased = {}, {}
        self.salts, self.salts_erased = {}, []

    def last_event(self, known=None):
        """The last row; ``known`` itself where it is that row (see _sqlite_writer:
        here the rows are held, and compared as they are)."""
        if self.events:
            last = self.events[-1]
        else:
            last = self.store._events[-1] if self.store._events else None
        return known if known is not None and last == known else last

    def insert_event(self, row):
        self.events.append(tuple(row))

    def run_exists(self, run_id):
        return run_id in self.store._runs or run_id in self.runs

    def source_exists(self, source_id, sha256):
        key = (source_id, sha256)
        return key in self.store._sources or key in self.sources

    def insert_source(self, source_id, sha256, record_text, n_parent_ids, parents, event_seq):
        self.sources[(source_id, sha256)] = (record_text, n_parent_ids, parents, event_seq)

    def insert_run(self, run_id, created_at, record_text, n_samples, n_input, ids, inputs, seq):
        self.runs[run_id] = (record_text, n_samples, n_input, ids, inputs, seq)

    def insert_leaves(self, run_id, leaves):
        self.leaves[run_id] = {n: (text, salt) for n, text, salt in leaves}

    def delete_leaves(self, run_id, numbers, wipe=None):
        held = self.store._leaves.get(run_id, {})
        self.erased[run_id] = [n for n in numbers if n in held]
        return len(self.erased[run_id])

    def insert_salt(self, seq, salt):
        self.salts[seq] = salt

    def delete_salts(self, seqs, wipe=None):
        self.salts_erased = [s for s in seqs if s in self.store._salts]
        return len(self.salts_erased)

    def next_checkpoint_seq(self):
        return len(self.store._checkpoints) + len(self.checkpoints) + 1

    def insert_checkpoint(self, number, text):
        self.checkpoints.append(text)

    def apply(self):
        store = self.store
        store._events.extend(self.events)
        for row in self.events:
            if row[3] == REDACTION_EVENT:
                store._redactions_by_run.setdefault(row[1], []).append(row)
        store._sources.update(self.sources)
        store._runs.update(self.runs)
        store._leaves.update(self.leaves)
        for run_id, numbers in self.erased.items():
            kept = dict(store._leaves[run_id])  # a new dict: a pickled copy never shares it
            for n in numbers:
                del kept[n]
            store._leaves[run_id] = kept
        store._salts.update(self.salts)  # (a pickled copy gets a copy: __getstate__)
        if self.salts_erased:  # (a new dict: a snapshot taken before reads the old one)
            erased = set(self.salts_erased)
            store._salts = {seq: s for seq, s in store._salts.items() if seq not in erased}
        store._checkpoints.extend(self.checkpoints)
