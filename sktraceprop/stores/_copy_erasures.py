"""What a MemoryStore copy holds of rows that this process erased after it was taken.

A copy of a :class:`~sktraceprop.stores.MemoryStore` (pickled with a model, or made by
``store.copy()``) is frozen when it is taken: an erasure request recorded in its
original since redacted the original's runs, not the copy's, nor the bytes of the
pickle. The copy's runs still hold what the request erased there (their sources' label
counts, the record of their sample weights, the feature names it named). Where the copy
is unpickled (or copied) in the process that made such a request, this process knows it:
an :class:`~sktraceprop.exceptions.ErasedRowsHeldWarning` names the requests and the
runs; the ``erased`` column of a view given the copy marks the rows
(:mod:`sktraceprop._lineage._erasures_seen`). A copy read in another process cannot
know (its views say ``<NA>``, never False).
"""

import threading
import warnings
import weakref

from ..exceptions import ErasedRowsHeldWarning
from ..utils._stack import user_stacklevel

__all__ = ["remember_copy", "warn_copies_hold", "warn_missed_erasures"]

_LOCK = threading.Lock()
_COPIES = weakref.WeakSet()  # the MemoryStore copies alive in this process


def remember_copy(store):
    """Keep a weak reference to ``store``, a MemoryStore copy just made (unpickled, or
    by ``copy()``), for :func:`warn_copies_hold`."""
    with _LOCK:
        _COPIES.add(store)


def missed_erasures(store):
    """``[(words, run ids)]``: the erasure requests made in this process through the
    store that ``store`` is a copy of (same ``store_id``) that ``store`` does not record,
    with the runs of ``store`` each erased from in the original."""
    from .._removal_events import ERASURE, removal_events
    from .._removed_rows import erasure_requests_here

    here = [r for r in erasure_requests_here() if r[2][0] == store.store_id]
    if not here:
        return []
    own = {
        (store.store_id, int(e["seq"]), str(e["created_at"]))
        for e in removal_events(store)
        if e["kind"] == ERASURE
    }
    runs = {row[0] for row in store._raw_run_list()}
    missed = []
    for what, payload, key in here:
        held = sorted(runs & set(payload.get("runs") or ()))
        if key not in own and held:
            missed.append((what, held))
    return missed


def warn_missed_erasures(store):
    """Warn where ``store``, a MemoryStore copy just unpickled or copied, holds what an
    erasure request made in this process through its original erased there."""
    missed = missed_erasures(store)
    if not missed:
        return
    runs = sorted({r for _, held in missed for r in held})
    warnings.warn(
        f"this MemoryStore (store_id {store.store_id}) is a copy taken before "
        f"{len(missed)} erasure request(s) made in this process through the store it was "
        f"copied from ({'; '.join(w for w, _ in missed)}): its stored run(s) "
        f"{', '.join(runs)} still hold what those requests erased there (their sources' "
        "label counts, the record of their sample weights, the feature names named), as "
        "the pickled bytes it was loaded from do. An erasure cannot reach a copy: discard "
        "it (and the pickle), or read the store itself.",
        ErasedRowsHeldWarning,
        stacklevel=user_stacklevel(),
    )


def warn_copies_hold(store):
    """Warn where copies of ``store`` alive in this process (unpickled, or made by
    ``copy()``, before the erasure request just recorded in it) hold what it erased."""
    with _LOCK:
        copies = [c for c in _COPIES if c is not store and c.store_id == store.store_id]
    missed = [{r for _, runs in missed_erasures(c) for r in runs} for c in copies]
    held = sorted(set().union(*missed))
    if not held:
        return
    warnings.warn(
        f"{sum(map(bool, missed))} copy(ies) of this MemoryStore (store_id "
        f"{store.store_id}) alive in this process (unpickled, or made by store.copy(), "
        "before this erasure request) "
        f"hold what it erased from run(s) {', '.join(held)}: an erasure cannot reach a "
        "copy. Their views mark the rows erased; discard them (and any pickle of the "
        "store), or make the request in each copy that is kept.",
        ErasedRowsHeldWarning,
        stacklevel=user_stacklevel(),
    )
