"""Fast paths of traced torch operations and the Python operator methods that call them.

The most common operations at granularity "op" (elementwise arithmetic, reductions,
indexing, concatenation, ``x @ w``) are answered without the general dispatch of
:mod:`._torch`; each fast path returns None, before running anything, when the general
path must answer. The operator methods (``x * 2``, ``x.mean()``, ``x[k]``) are installed
on :class:`~._torch_tensor.TracedTensor` here.
"""

import torch

from . import _rowmap as rmap
from ._graph import _MODE, NOT_RECORDED, operand
from ._index import index_map
from ._state import _WRITES
from ._torch_tensor import (
    _ARG,
    _PLAIN_ARGS,
    TracedTensor,
    _Disabled,
    _finish,
    _node,
    _state,
    _wrap,
    _wrap_all,
)

_REDUCTION_KEYWORDS = {"dim", "keepdim", "unbiased", "correction"}
_INDEX_DTYPES = {torch.int64, torch.int32, torch.bool}


def _fast_reduction(func, args, kwargs):
    """``x.mean(dim)``, ``x.sum(dim=0, keepdim=True)`` and the like."""
    if len(args) > 2 or type(args[0]) is not TracedTensor:
        return None
    d = args[0].__dict__
    rx, sx = d.get("_stp_rows"), d.get("_stp_shape")
    if rx is None or sx is None:
        return None
    if kwargs:
        if not kwargs.keys() <= _REDUCTION_KEYWORDS:
            return None
        dim = args[1] if len(args) == 2 else kwargs.get("dim")
    else:
        dim = args[1] if len(args) == 2 else None
    if dim is not None and type(dim) is not int:
        return None
    with _Disabled():
        out = func(*args, **kwargs) if kwargs else func(*args)
    name = func.__name__
    mode = _MODE.get()
    if mode == "none":
        rm, node = NOT_RECORDED, None
    else:
        rm = rx
        if (
            rx.n is not None
            and rx.dropped is None
            and (dim is None or not sx or dim % len(sx) == 0)
        ):
            rm = rmap.collapse(rx, name)
        params = {"dim": dim, **kwargs} if kwargs else {"dim": dim}
        node = _node(name, (d.get("_stp_node"),), params, mode, rm)
    if type(out) is torch.Tensor:
        return _finish(out, rm, node, tuple(out.shape))
    return _wrap_all(out, rm, node, args)


def _fast_getitem(func, args, kwargs):
    """``x[slice]``, ``x[int]``, ``x[index tensor]``."""
    x, key = args
    tk = type(key)
    if type(x) is not TracedTensor or not (tk is slice or tk is int or tk is torch.Tensor):
        return None
    rx, sx, nx = _state(x)
    if rx is None or sx is None or not sx:
        return None
    if tk is torch.Tensor and (key.ndim != 1 or key.dtype not in _INDEX_DTYPES):
        return None
    if tk is slice and key.step is not None and key.step < 0:
        return None  # torch refuses it; let the general path raise
    with _Disabled():
        out = torch.Tensor.__getitem__(x, key)
        rows = key if tk is not torch.Tensor else (key if key.is_cpu else key.cpu()).numpy()
    mode = _MODE.get()
    if mode == "none":
        rm = NOT_RECORDED
    elif rx.n is not None and rx.dropped is None:
        rm = index_map(rx, rows, sx) if tk is int else rmap.take(rx, rows)
    else:
        rm = rx
    node = _node("__getitem__", (nx,), (_ARG, operand(key)), mode, rm)
    if type(out) is torch.Tensor:
        return _finish(out, rm, node, tuple(out.shape))
    return _wrap(out, rm, node, args)


def _fast_cat(func, args, kwargs):
    """``torch.cat([a, b])`` of traced and plain tensors."""
    if not args:
        return None
    seq = args[0]
    dim = args[1] if len(args) > 1 else (kwargs.get("dim", 0) if kwargs else 0)
    if (
        type(dim) is not int
        or type(seq) not in (list, tuple)
        or (kwargs and set(kwargs) - {"dim"})
    ):
        return None
    maps, nodes = [], []
    for t in seq:
        if type(t) is TracedTensor:
            rm, shape, node = _state(t)
            if rm is None or shape is None:
                return None
            maps.append((rm, shape))
            nodes.append(node)
        elif type(t) is torch.Tensor:
            maps.append((None, tuple(t.shape)))
        else:
            return None
    with _Disabled():
        out = func(seq, dim)
    shape = tuple(out.shape)
    mode = _MODE.get()
    if mode == "none":
        rm = NOT_RECORDED
    elif dim % len(shape) == 0:
        rm = rmap.concat([(m, s[0]) for m, s in maps])
    else:
        parts = [(m, s) for m, s in maps if m is not None]
        rm = rmap.elementwise(parts, shape, func.__name__)
    node = _node(func.__name__, tuple(nodes), {"dim": dim}, mode, rm)
    return _finish(out, rm, node, shape)


def _fast_matmul(func, args, kwargs):
    """Rows times plain weights: ``x @ w``."""
    if kwargs or len(args) != 2:
        return None
    x, w = args
    if type(x) is not TracedTensor or type(w) is not torch.Tensor or w.ndim != 2:
        return None
    rx, sx, nx = _state(x)
    if rx is None or sx is None or len(sx) != 2:
        return None
    with _Disabled():
        out = func(x, w)
    mode = _MODE.get()
    node = _node(func.__name__, (nx,), (_ARG, operand(w)), mode, rx)
    return _finish(out, rx if mode != "none" else NOT_RECORDED, node, tuple(out.shape))


def _fast_elementwise(func, args, kwargs):
    """``x op y`` for a traced ``x`` and a scalar or traced ``y``."""
    if kwargs or len(args) > 2:
        return None
    x = args[0]
    y = args[1] if len(args) == 2 else None
    ty = type(y)
    if type(x) is not TracedTensor or not (ty in _PLAIN_ARGS or ty is TracedTensor):
        return None
    dx = x.__dict__
    rx, sx = dx.get("_stp_rows"), dx.get("_stp_shape")
    if rx is None or sx is None:
        return None
    if ty is TracedTensor:
        dy = y.__dict__
        ry, sy = dy.get("_stp_rows"), dy.get("_stp_shape")
        if ry is None or sy is None:
            return None
    with _Disabled():
        out = func(*args)
    if out is x or out is y:
        return out  # returned unchanged (``x.contiguous()``, ``x.to(x.dtype)``)
    if not isinstance(out, torch.Tensor):
        return out  # NotImplemented, or a Python value
    shape = tuple(out.shape)
    name = func.__name__
    mode = _MODE.get()
    if mode == "none":
        rm, node = NOT_RECORDED, None
    elif ty is TracedTensor:
        rm = rmap.pair(rx, sx, ry, sy, shape, name)
        node = _node(name, (dx.get("_stp_node"), dy.get("_stp_node")), None, mode, rm)
    else:
        rm = rx
        if rm.n is not None and (len(sx) != len(shape) or sx[0] != shape[0]):
            rm = rmap.elementwise([(rx, sx)], shape, name)
        node = _node(name, (dx.get("_stp_node"),), (_ARG, y), mode, rm)
    if type(out) is not torch.Tensor:
        return _wrap(out, rm, node, args)
    return _finish(out, rm, node, shape)


# -- methods ------------------------------------------------------------------------------
# The commonest operators and methods are Python methods of TracedTensor: ``x * 2`` then
# calls the fast path directly, without torch's ``__torch_function__`` protocol (which
# costs several microseconds a call before any of this module runs). Each passes the
# function and arguments that the protocol would pass, so the lineage and the recorded
# op are the same; whatever its fast path declines goes to torch's own method, and from
# there through the protocol to the general dispatch.
_TB = torch._C.TensorBase


def _binary_method(dunder, func):
    fallback = getattr(torch.Tensor, dunder)
    name = func.__name__

    def method(self, other):
        if not _WRITES:
            to = type(other)
            if (to is float or to is int) and _MODE.get() == "op":
                # ``x * 2`` inline (the commonest operation): what _fast_elementwise
                # gives, without its general checks and calls
                dx = self.__dict__
                rx, sx = dx.get("_stp_rows"), dx.get("_stp_shape")
                if rx is not None and sx is not None:
                    with _Disabled():
                        out = func(self, other)
                    if not isinstance(out, torch.Tensor):
                        return out  # NotImplemented
                    shape = tuple(out.shape)
                    rm = rx
                    if rm.n is not None and (len(sx) != len(shape) or sx[0] != shape[0]):
                        rm = rmap.elementwise([(rx, sx)], shape, name)
                    node = (name, (dx.get("_stp_node"),), (_ARG, other), "torch", rm)
                    if type(out) is torch.Tensor:
                        return _finish(out, rm, node, shape)
                    return _wrap(out, rm, node, (self, other))
            elif to is TracedTensor and _MODE.get() == "op":
                # ``x - x.mean()``, ``a / b`` inline
                dx, dy = self.__dict__, other.__dict__
                rx, sx = dx.get("_stp_rows"), dx.get("_stp_shape")
                ry, sy = dy.get("_stp_rows"), dy.get("_stp_shape")
                if not (rx is None or sx is None or ry is None or sy is None):
                    with _Disabled():
                        out = func(self, other)
                    if not isinstance(out, torch.Tensor):
                        return out  # NotImplemented
                    shape = tuple(out.shape)
                    rm = rmap.pair(rx, sx, ry, sy, shape, name)
                    nodes = (dx.get("_stp_node"), dy.get("_stp_node"))
                    node = (name, nodes, None, "torch", rm)
                    if type(out) is torch.Tensor and out is not self and out is not other:
                        return _finish(out, rm, node, shape)
                    return _wrap(out, rm, node, (self, other))
            out = _fast_elementwise(func, (self, other), None)
            if out is not None:
                return out
        return fallback(self, other)

    method.__name__ = method.__qualname__ = dunder
    method.__doc__ = fallback.__doc__
    return method


def _unary_method(dunder, func):
    fallback = getattr(torch.Tensor, dunder)

    def method(self):
        if not _WRITES:
            out = _fast_elementwise(func, (self,), None)
            if out is not None:
                return out
        return fallback(self)

    method.__name__ = method.__qualname__ = dunder
    method.__doc__ = fallback.__doc__
    return method


def _general_method(name, fast, func):
    fallback = getattr(torch.Tensor, name)

    def method(self, *args, **kwargs):
        if not _WRITES:
            if fast is _fast_reduction and not args and not kwargs and _MODE.get() == "op":
                # ``x.mean()`` inline: what _fast_reduction gives for no dimension
                d = self.__dict__
                rx = d.get("_stp_rows")
                if rx is not None and d.get("_stp_shape") is not None:
                    with _Disabled():
                        out = func(self)
                    rm = rx
                    if rx.n is not None and rx.dropped is None:
                        rm = rmap.collapse(rx, name)
                    node = (name, (d.get("_stp_node"),), {"dim": None}, "torch", rm)
                    if type(out) is torch.Tensor:
                        return _finish(out, rm, node, tuple(out.shape))
                    return _wrap_all(out, rm, node, (self,))
            out = fast(func, (self, *args), kwargs or None)
            if out is not None:
                return out
        return fallback(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = fallback.__doc__
    return method


def _getitem_method(self, key):
    if not _WRITES:
        out = _fast_getitem(_TB.__getitem__, (self, key), None)
        if out is not None:
            return out
    return _TB.__getitem__(self, key)


def _matmul_method(self, other):
    if not _WRITES:
        out = _fast_matmul(_TB.matmul, (self, other), None)
        if out is not None:
            return out
    return _TB.__matmul__(self, other)


# (dunder, the function the protocol passes for it); reflected forms of commutative
# operators pass the traced tensor first, as the protocol does.
for _dunder, _func in (
    ("__add__", _TB.add),
    ("__radd__", _TB.add),
    ("__sub__", _TB.sub),
    ("__rsub__", torch.Tensor.__rsub__),
    ("__mul__", _TB.mul),
    ("__rmul__", _TB.mul),
    ("__truediv__", _TB.div),
    ("__rtruediv__", torch.Tensor.__rdiv__),
    ("__pow__", _TB.pow),
):
    setattr(TracedTensor, _dunder, _binary_method(_dunder, _func))
TracedTensor.__neg__ = _unary_method("__neg__", _TB.neg)
for _name in ("mean", "sum", "std", "var"):
    setattr(TracedTensor, _name, _general_method(_name, _fast_reduction, getattr(_TB, _name)))
TracedTensor.__getitem__ = _getitem_method
TracedTensor.__matmul__ = _matmul_method
del _dunder, _func, _name
