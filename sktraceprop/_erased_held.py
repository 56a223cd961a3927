"""A fitted traced model whose ``lineage_`` holds rows a store records as erased.

An erasure (:meth:`~sktraceprop.stores.SQLiteStore.erase_rows`) redacts the store's runs
and names the fitted objects of its own process that keep the rows; it cannot reach a
model pickled before it, loaded later or in another process: its ``lineage_`` still
holds the erased rows (their ids, so their files and lines, and its sources' statistics
counted over them) and its steps what they learnt from them. Where such a model is used
with a store that records the erasure (its logged calls, a compliance report), a
:class:`~sktraceprop.exceptions.ErasedRowsHeldWarning` names the sources and the erasure
events; so does its ``trace()``, and an explanation's ``trace()`` withholds the values
of a row so erased (:func:`erasure_of`). A logged call checks once per model and store
(the store's erasure events, kept by :mod:`._removal_events` until one is appended, and
one query of the run's redactions; a compliance report hands over its own read of the
chain): the erasure of a row later in
this process names the model itself (see :mod:`._holders`).
"""

import threading
import warnings
import weakref

from ._lineage._ids import codes_of
from .exceptions import ErasedRowsHeldWarning
from .utils._stack import user_stacklevel

__all__ = ["erasure_of", "warn_erased_held"]

_LOCK = threading.Lock()
_CHECKED = weakref.WeakKeyDictionary()  # estimator -> {id(store)} checked by logged calls


def _first_check(estimator, store):
    with _LOCK:
        try:
            seen = _CHECKED.setdefault(estimator, set())
        except TypeError:  # (an object no weak reference can name: checked every time)
            return True
        if id(store) in seen:
            return False
        seen.add(id(store))
        return True


def warn_erased_held(estimator, store, *, once=False, events=None):
    """Warn where ``estimator``'s ``lineage_`` holds training rows that ``store``
    records an erasure request of (``once``: only the first time for this estimator and
    store; ``events``: the store's events, already read, to find them in). Returns
    ``{source_id: rows}`` of those rows (empty where none)."""
    from .stores._erased_rows import erased_rows

    run = getattr(estimator, "lineage_", None)
    if run is None or store is None or not hasattr(run, "row_ids"):
        return {}
    if once and not _first_check(estimator, store):
        return {}
    erased = erased_rows(store, run, events)
    if not erased:
        return {}
    rows, seqs = {}, set()
    codes = codes_of(run.row_ids)
    for position, event in erased.items():
        source = run.sources.get(int(codes[position]))
        name = source.source_id if source is not None else "a source this run does not name"
        rows[name] = rows.get(name, 0) + 1
        seqs.add(int(event["seq"]))
    named = ", ".join(f"{name!r} ({n} row(s))" for name, n in sorted(rows.items()))
    warnings.warn(
        f"this {type(estimator).__name__}'s lineage_ (run {run.run_id}) holds "
        f"{len(erased)} training row(s) that {type(store).__name__} records as erased "
        f"since the fit: source(s) {named}, by erasure event(s) seq "
        f"{', '.join(map(str, sorted(seqs)))}. The erasure redacted the store's copy of "
        "the run but could not reach this object (pickled before it, or loaded in "
        "another process): its run still holds those rows' ids (so their files and "
        "lines) and its sources' statistics counted over them, and its fitted steps "
        "what they learnt from them. Refit it on the rows kept, or discard it.",
        ErasedRowsHeldWarning,
        stacklevel=user_stacklevel(),
    )
    return rows


def erasure_of(estimator, row_id):
    """Which erasure request recorded by ``estimator``'s store named training row
    ``row_id`` of its run (in words), or None: ``estimator`` (pickled before the
    erasure) may still hold the row's values, which are then not handed out again."""
    from .stores._erased_rows import erased_rows

    run = getattr(estimator, "lineage_", None)
    store = getattr(estimator, "store", None)
    if run is None or store is None or not hasattr(run, "row_ids"):
        return None
    for position, event in sorted(erased_rows(store, run).items()):
        if int(run.row_ids[position]) == int(row_id):
            return (
                f"erased at request by the store's erasure event {event['seq']} "
                f"({event['created_at']}), after this object was pickled: it still holds "
                "the row until refitted or discarded"
            )
    return None
