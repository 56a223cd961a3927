"""The stores of this process each run was saved to.

A run object (a traced estimator's ``lineage_``) is the record as it was fitted; values
erased from its stored copy since (:meth:`BaseStore.redact`, ``erase_rows``,
``unlearn(redact=)``) are still in it. An exporter given such a run would write them out
again: :func:`refuse_erased` lets it see the erasure in every store of this process the
run was saved to. (A run pickled into another process, or a store object collected, is
beyond this: that store's erasures are then seen only by exporting with ``store=`` or
exporting ``store.load_run(run_id)``.)
"""

import threading
import weakref

from ..exceptions import LineageError, StoreError

_LOCK = threading.Lock()
#: store -> run ids saved through it in this process
_SAVED = weakref.WeakKeyDictionary()


def note_saved(store, run_id):
    """Remember that ``store`` holds run ``run_id``."""
    with _LOCK:
        _SAVED.setdefault(store, set()).add(run_id)


def refuse_erased(run, what):
    """Raise :class:`LineageError` when a store of this process that ``run`` was saved to
    holds an erasure of values ``run`` still has (``what``: the export, for the message)."""
    with _LOCK:
        stores = [s for s, ids in _SAVED.items() if run.run_id in ids]
    for store in stores:
        try:
            view = store._as_stored(run)
        except (StoreError, OSError):  # closed for good, moved: its erasures unknown here
            continue
        if view is not None and view != run:
            raise LineageError(
                f"values of run {run.run_id} were erased from {store!r} since it was "
                f"fitted (store.redaction events): {what} of the run as fitted would write "
                "them again. Export the stored run, store.load_run(run_id), which shows "
                "them as erased"
            )


def stores_of(run_id):
    """The stores of this process that run ``run_id`` was saved to or loaded from."""
    with _LOCK:
        return [s for s, ids in _SAVED.items() if run_id in ids]
