"""In-place writes: an array whose memory was written through another view is stale.

Row-preserving operations share row ids, and NumPy views share memory. When an in-place
operation changes the parents of some rows (``v += b`` on a view ``v`` of ``x``), every
other traced view of that memory, made before the write, would still name the old
parents. Those views are detected here instead of being believed: each write that
changes parents is stamped with an epoch on the memory's owner, and a traced array made
before that epoch reports its lineage as stale. Nothing is stamped (and nothing is
checked) until the first such write.
"""

import contextvars
import threading
import weakref

import numpy as np

_EPOCH = [0]
_WRITES = {}
#: Each write gets its own epoch: ``_EPOCH[0] += 1`` in two threads at once could give
#: both the same one, and an array made between them would not see the second as later.
_WRITE_LOCK = threading.Lock()

STALE = (
    "the memory of this array was modified in place through another view after it was "
    "computed, changing which rows it holds; its lineage no longer holds. Modify the "
    "array itself (x[key] op= value) rather than a view of it, or copy before writing."
)


def epoch():
    return _EPOCH[0]


def owner_of(arr):
    """The object at the end of an array's ``base`` chain (what owns the memory)."""
    base = arr
    while True:
        nxt = getattr(base, "base", None)
        if nxt is None:
            return base
        if not isinstance(nxt, np.ndarray):
            return nxt
        base = nxt


def note_write(arr, owner=None):
    """Record that ``arr``'s memory got new parents; return the new epoch for ``arr``."""
    owner = owner_of(arr) if owner is None else owner
    with _WRITE_LOCK:
        return _note_write(arr, owner)


def _note_write(arr, owner):
    _EPOCH[0] += 1
    key = id(owner)
    found = _WRITES.get(key)
    if found is not None and found[0]() is owner:
        ref, writers = found[0], found[2]
    else:
        try:
            ref = weakref.ref(owner, lambda _, key=key: _WRITES.pop(key, None))
        except TypeError:
            ref = _Strong(owner)
        writers = ()
    # the recent writers: x[k] += v writes through the view x[k], then assigns it back
    writers = (*writers[-7:], (_EPOCH[0], id(arr)))
    _WRITES[key] = (ref, _EPOCH[0], writers)
    return _EPOCH[0]


class _Strong:
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __call__(self):
        return self.obj


def is_stale(arr, born, owner=None, writer=None):
    """True when ``arr`` (made at epoch ``born``) shares memory written after that, by
    anything but ``writer`` (the value an assignment is writing back)."""
    if not _WRITES:
        return False
    owner = owner_of(arr) if owner is None else owner
    found = _WRITES.get(id(owner))
    if found is None or found[0]() is not owner or found[1] <= born:
        return False
    if writer is None:
        return True
    history = found[2]
    if len(history) == 8 and history[0][0] > born:
        return True  # older writes after ``born`` were not kept: their writers are unknown
    return any(w != id(writer) for epoch, w in history if epoch > born)


#: Memory owners frozen by a user (``x.flags.writeable = False`` on a traced array), or
#: read-only before it was traced: ``id(owner) -> (weakref, permanent)``. A traced
#: array's own writes check it (see _array._writable).
_FROZEN = {}


def freeze(arr, frozen, permanent=False):
    """Freeze (or thaw) the memory ``arr`` lies in, for the traced arrays' own writes;
    ``permanent``: memory that was read-only before it was traced (never thawed)."""
    owner = owner_of(arr)
    key = id(owner)
    if not frozen:
        found = _FROZEN.get(key)
        if found is not None and not (found[1] and found[0]() is owner):
            del _FROZEN[key]
        return
    try:
        ref = weakref.ref(owner, lambda _, key=key: _FROZEN.pop(key, None))
    except TypeError:
        ref = _Strong(owner)
    _FROZEN[key] = (ref, permanent)


def is_frozen(arr, owner=None):
    owner = owner_of(arr) if owner is None else owner
    found = _FROZEN.get(id(owner))
    return found is not None and found[0]() is owner


#: True while ``sktraceprop.arrays.apply`` traces a JAX function to a jaxpr in this thread
#: (a context variable: another thread's arrays are not inside that function).
JAX_TRACING = contextvars.ContextVar("sktraceprop_jax_tracing", default=False)

CAPTURED = (
    "a traced array was used inside a function that sktraceprop.arrays.apply is tracing "
    "without being one of its arguments (captured from an enclosing scope?), so JAX would "
    "take it as a constant and its row ids would be lost. Pass it to apply as an argument."
)
