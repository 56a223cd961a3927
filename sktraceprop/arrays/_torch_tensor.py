"""TracedTensor itself: the torch subclass, its lineage state and how results are wrapped.

A :class:`TracedTensor` keeps its row map, graph node and shape in its instance dict;
:func:`_wrap` and :func:`_finish` make a traced result of a plain one (re-classed in
place), :func:`_set_rows` gives a tensor new lineage after an in-place write, and
:func:`_rows_of` reports lineage made stale by a write through another view. Its
``__torch_function__`` and Python operator methods are installed by :mod:`._torch`
(the general dispatch) and :mod:`._torch_fast` (the fast paths).
"""

import numpy as np
import torch

from . import _rowmap as rmap
from ._graph import NOT_RECORDED, ROWS, note_rows, record, without_rows
from ._state import _EPOCH, _WRITES, STALE, is_stale, note_write

_STALE_MAP = rmap.dropped(STALE)
_ARG = "<input>"
_Disabled = torch._C.DisableTorchFunctionSubclass


def _owner(t):
    """The tensor at the end of a view chain (whose memory the views share); a tensor
    that shares memory without being a view (``detach()``, ``.data``) names its owner."""
    with _Disabled():
        base = t
        while base._base is not None:
            base = base._base
    shared = base.__dict__.get("_stp_owner")
    return base if shared is None else shared


def _rows_of(t, writer=None):
    rm = t.__dict__.get("_stp_rows")
    if rm is None:
        return NOT_RECORDED
    if _WRITES and is_stale(t, t.__dict__.get("_stp_epoch", 0), _owner(t), writer):
        return _STALE_MAP
    return rm


class TracedTensor(torch.Tensor):
    """A torch tensor whose rows carry their source row ids.

    Made by :func:`sktraceprop.array` on a tensor (or with ``framework="torch"``); read
    with :func:`sktraceprop.provenance`.
    """

    __stp_framework__ = "torch"

    def __reduce_ex__(self, protocol):
        # The plain tensor goes through torch's own reducers (shared memory between
        # DataLoader workers), the lineage and its sources beside it.
        from ._fit import sources_of

        with _Disabled():
            plain = self.as_subclass(torch.Tensor)
        node = without_rows(self.__dict__.get("_stp_node"))
        state = (_rows_of(self), node, sources_of(self))
        return _rebuild, (plain, *state)

    def __stp_value__(self):
        with _Disabled():
            return self.as_subclass(torch.Tensor)

    def __stp_state__(self):
        return _rows_of(self), self.__dict__.get("_stp_node")

    def __stp_row_ids__(self):
        from ._fit import fit_row_ids

        return fit_row_ids(self)

    def __stp_run_ops__(self):
        from ._fit import fit_ops

        return fit_ops(self)

    # Read by other frameworks' code; the values live in the instance dict (a pickle
    # restores them through these setters).
    @property
    def _stp_rows(self):
        return _rows_of(self)

    @_stp_rows.setter
    def _stp_rows(self, value):
        self.__dict__["_stp_rows"] = value

    @property
    def _stp_node(self):
        return self.__dict__.get("_stp_node")

    @_stp_node.setter
    def _stp_node(self, value):
        self.__dict__["_stp_node"] = value


def _rebuild(plain, rows, node, sources):
    from .._lineage._source import REGISTRY

    for source in sources:
        REGISTRY.adopt(source)
    with _Disabled():
        return _wrap(plain, rows, node, (plain,))


def _wrap(out, rm, node, inputs=()):
    """``out`` as a TracedTensor carrying ``rm`` and ``node`` (call with torch function
    handling disabled). A fresh result changes class in place (cheaper than an alias);
    a tensor that was an argument is aliased instead, never re-classed."""
    fresh = True
    for a in inputs:
        if out is a:
            fresh = False
            break
    if fresh and type(out) is torch.Tensor:
        shape = tuple(out.shape)  # read while the tensor is plain (no torch function check)
        out.__class__ = TracedTensor
        r = out
    elif fresh and type(out) is TracedTensor:
        r = out
        shape = tuple(out.shape)
    else:
        r = out.as_subclass(TracedTensor)
        shape = tuple(r.shape)
    d = r.__dict__
    d["_stp_shape"] = shape
    d["_stp_rows"] = rm
    d["_stp_node"] = node
    if _EPOCH[0]:
        d["_stp_epoch"] = _EPOCH[0]
    if node is not None and type(node[ROWS]) is list:
        note_rows(node, rm)
    return r


def _split(x):
    """``(plain value, map or None, nodes)`` of an argument."""
    if type(x) is TracedTensor:
        return x, _rows_of(x), (x.__dict__.get("_stp_node"),)
    if isinstance(x, torch.Tensor) or x is None or type(x) in (int, float, bool, str):
        return x, None, ()
    rm = getattr(x, "_stp_rows", None)
    if rm is not None:
        # a traced NumPy or JAX array meeting torch: its value, with its lineage
        return torch.as_tensor(np.asarray(x.__stp_value__())), rm, (x._stp_node,)
    return x, None, ()


def _shape(x):
    return tuple(x.shape) if isinstance(x, torch.Tensor) else np.shape(x)


_PLAIN_ARGS = (int, float, bool, str, type(None))


def _node(name, inputs, params, mode, rm):
    if mode == "op":
        return (name, inputs, params, "torch", rm)
    if mode == "none":
        return None
    return record(name, inputs, params, "torch", mode)


def _finish(out, rm, node, shape):
    """A fresh plain result as a TracedTensor (re-classed in place)."""
    out.__class__ = TracedTensor
    d = out.__dict__
    d["_stp_rows"] = rm
    d["_stp_node"] = node
    d["_stp_shape"] = shape
    if _EPOCH[0]:
        d["_stp_epoch"] = _EPOCH[0]
    return out


def _state(x):
    d = x.__dict__
    return d.get("_stp_rows"), d.get("_stp_shape"), d.get("_stp_node")


def _set_rows(target, rm, node):
    """New lineage for ``target`` after an in-place operation (which may also have
    changed its shape: ``squeeze_``, ``resize_``)."""
    old = _rows_of(target)
    d = target.__dict__
    d["_stp_node"] = node
    note_rows(node, rm)
    with _Disabled():
        d["_stp_shape"] = tuple(target.shape)
    if rm is not old or (old.dropped is not None and "_stp_owner" in d):
        # (a write through a tensor without rows that uses another's memory, set_ or
        # .data =, may change that tensor's rows: it is noted too)
        d["_stp_rows"] = rm
        d["_stp_epoch"] = note_write(target, _owner(target))


def _has_tensor(out):
    if isinstance(out, torch.Tensor):
        return True
    if isinstance(out, tuple | list):
        return any(isinstance(o, torch.Tensor) for o in out)
    return False


def _wrap_all(out, rm, node, inputs=()):
    if isinstance(out, torch.Tensor):
        return _wrap(out, rm[0] if isinstance(rm, list) else rm, node, inputs)
    maps = rm if isinstance(rm, list) else [rm] * len(out)
    items = [
        _wrap(o, m, node, inputs) if isinstance(o, torch.Tensor) else o for o, m in zip(out, maps)
    ]
    return type(out)(items)  # a tuple, a list, or torch.return_types (values, indices)
