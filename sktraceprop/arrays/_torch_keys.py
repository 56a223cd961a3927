"""Indexing keys of torch tensors in NumPy terms, and the row rule of ``x[key]``.

Tensors in a key become arrays; a list key holding sequences, tensors, slices, None or
Ellipsis, which torch reads as a tuple (a rule it deprecated), is read as torch reads
it, checked against the rows torch itself picks; one that cannot be told drops the
row ids rather than guess them (:data:`UNREADABLE`).
"""

from collections.abc import Sequence

import numpy as np
import torch

from ..utils._quiet import quiet
from . import _rowmap as rmap
from ._index import index_map, positions

#: What :func:`_torch_key` gives for a list key it cannot tell (``None`` is a key:
#: ``x[None]`` adds an axis).
UNREADABLE = object()


def _torch_key(key, shape=None):
    """A torch indexing key in NumPy terms (tensors become arrays); :data:`UNREADABLE`
    when a list key of a tensor of ``shape`` cannot be told (see :func:`_list_key`)."""
    if isinstance(key, tuple):
        return tuple(_torch_key(k) for k in key)
    if isinstance(key, torch.Tensor):
        if key.dtype == torch.uint8:
            return key.detach().cpu().numpy().astype(bool)  # torch: a (deprecated) mask
        return key.detach().cpu().numpy()
    if isinstance(key, list):
        if shape and any(_tuple_like(k) for k in key):
            found = _list_key(key, shape)
            return UNREADABLE if found is None else found
        arr = np.asarray([k.item() if isinstance(k, torch.Tensor) else k for k in key])
        return arr.astype(np.int64) if arr.size == 0 else arr  # torch reads [] as integers
    return key


def _tuple_like(item):
    return item is None or item is Ellipsis or isinstance(item, torch.Tensor | slice | Sequence)


def _list_key(key, shape):
    """The NumPy key that selects the rows torch selects with ``key``, a list holding a
    sequence, tensor, slice, None or Ellipsis: torch reads such a list as a tuple
    (``x[[[3, 1], [0, 2]]]`` is ``x[[3, 1], [0, 2]]``), a rule it deprecated; each
    reading is checked against the rows torch itself picks. None when none matches."""
    key = [k.detach().cpu() if isinstance(k, torch.Tensor) else k for k in key]
    n = shape[0]
    rows = torch.arange(n).reshape((n,) + (1,) * (len(shape) - 1)).expand(shape)
    with quiet():  # torch's deprecation note, given once already (this thread's only)
        try:
            want = rows[key].numpy()
        except (IndexError, ValueError, TypeError, RuntimeError):
            return None
    readings = [tuple(_torch_key(k) for k in key)]
    try:
        readings.append(np.asarray(key, dtype=np.int64))
    except (ValueError, TypeError):
        pass
    for reading in readings:
        try:
            got = positions(shape)[reading]
        except (IndexError, ValueError, TypeError):
            continue
        if got.shape == want.shape and np.array_equal(got, want):
            return reading
    return None


_LIST_KEY = rmap.dropped(
    "the tensor was indexed with a list that torch reads in a way sktraceprop could not "
    "tell, so its row ids were dropped rather than guessed"
)


def _getitem(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set(maps)
    key = _torch_key(args[1], shape)
    used = {0} | {k for k in maps if k != 0}  # an index's own rows select, they are not data
    if key is UNREADABLE:
        return _LIST_KEY, used
    return index_map(rm, key, shape), used
