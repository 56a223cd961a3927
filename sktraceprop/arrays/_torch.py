"""Traced torch tensors: a ``torch.Tensor`` subclass that keeps row ids (``__torch_function__``).

Every torch function, method and operator called on a :class:`TracedTensor` comes
through ``__torch_function__``; a table maps it to a row rule (elementwise, reduction,
reshape, indexing, concatenation, matmul, a batch-preserving layer, a loss: the rules
are in :mod:`._torch_rules`; the commonest operations have fast paths here). A function
without a rule gives every output row every input row (it is never assumed to keep
rows). In-place methods (``add_``, ``x[k] = v``) update the tensor's lineage, and a view
whose memory was written through another view reports stale lineage. The output of a
``DataLoader`` over traced tensors is a traced batch that knows its rows, and a skorch
net fitted inside a traced estimator records them.
"""

import numpy as np
import torch
import torch.nn.functional as F

from . import _rowmap as rmap
from ._graph import _MODE, NOT_RECORDED, ROWS, note_rows, operand, record, without_rows
from ._index import assign_map, index_map
from ._state import _EPOCH, _WRITES, STALE, is_stale, note_write
from ._torch_rules import (
    _LIST_KEY,
    _RULES,
    UNREADABLE,
    _elementwise,
    _funcs,
    _in_place_name,
    _torch_key,
)

__all__ = ["TracedTensor"]

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

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        fast = _FAST.get(func)
        if fast is not None and not _WRITES:
            out = fast(func, args, kwargs)
            if out is not None:
                return out
        if kwargs is None:
            kwargs = {}
        if func in _PASSTHROUGH:
            with _Disabled():
                out = func(*args, **kwargs)
            if func in _SHARED_NUMPY and not out.flags.owndata:
                # NumPy's view of the tensor's memory: a write through it would change
                # rows behind the lineage's back, so it is refused (read-only)
                out.flags.writeable = False
            return out
        return _dispatch(func, args, kwargs)

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


def _collect(args, kwargs):
    """Maps (``{where: (map, shape)}``), nodes and recorded operands of the arguments
    (call with torch function handling disabled). ``where`` is a position, a keyword,
    or ``(position, k)`` inside a list argument (``torch.cat([a, b])``)."""
    maps, nodes, operands = {}, [], []
    for k, a in enumerate(args):
        ta = type(a)
        if ta is TracedTensor:
            d = a.__dict__
            maps[k] = (_rows_of(a), d.get("_stp_shape") or tuple(a.shape))
            nodes.append(d.get("_stp_node"))
            operands.append(_ARG)
        elif ta is list or ta is tuple:
            for j, v in enumerate(a):
                if type(v) is TracedTensor:
                    maps[(k, j)] = (_rows_of(v), tuple(v.shape))
                    nodes.append(v.__dict__.get("_stp_node"))
            operands.append(_ARG if (k, 0) in maps else operand(a))
        elif ta in _PLAIN_ARGS:
            operands.append(a)
        else:
            operands.append(operand(a))
    for k, v in kwargs.items():
        if k == "out":
            continue  # written, not read: its old rows are not the result's
        if type(v) is TracedTensor:
            maps[k] = (_rows_of(v), tuple(v.shape))
            nodes.append(v.__dict__.get("_stp_node"))
        elif type(v) in (list, tuple):
            for j, item in enumerate(v):
                if type(item) is TracedTensor:
                    maps[(k, j)] = (_rows_of(item), tuple(item.shape))
                    nodes.append(item.__dict__.get("_stp_node"))
    return maps, nodes, operands


_PLAIN_ARGS = (int, float, bool, str, type(None))


def _foreign(args, kwargs):
    """Traced NumPy/JAX arrays among the arguments, converted to tensors (with lineage)."""
    for v in args:
        if type(v) is not TracedTensor and _is_foreign(v):
            break
    else:
        if not kwargs or not any(_is_foreign(v) for v in kwargs.values()):
            return args, kwargs, None
    extra = {}

    def convert(v, where):
        if _is_foreign(v):
            plain, rm, _ = _split(v)
            extra[where] = (rm, tuple(plain.shape))
            return plain
        return v

    args = tuple(convert(a, k) for k, a in enumerate(args))
    kwargs = {k: convert(v, k) for k, v in kwargs.items()}
    return args, kwargs, extra


def _is_foreign(v):
    t = type(v)
    if t in _PLAIN_ARGS or t is torch.Tensor or t is TracedTensor:
        return False
    return not isinstance(v, torch.Tensor) and getattr(v, "__stp_framework__", None) is not None


def _dispatch(func, args, kwargs):
    special = _SPECIAL.get(func)
    if special is not None:
        return special(args, kwargs)
    mode = _MODE.get()
    if not args and "tensors" in kwargs:
        # torch.cat(tensors=[a, b]): the sequence where the rules read it
        kwargs = dict(kwargs)
        args = (kwargs.pop("tensors"),)
    args, kwargs, foreign = _foreign(args, kwargs)
    with _Disabled():
        out = func(*args, **kwargs)
        if type(out) is not torch.Tensor and not _has_tensor(out):
            return out
        if mode == "none":
            return _wrap_all(out, NOT_RECORDED, None, args)
        maps, nodes, operands = _collect(args, kwargs)
        if foreign:
            maps.update(foreign)
        if not maps:
            return out  # no traced argument reached this function (a factory method)
        rule = _RULES.get(func)
        name = getattr(func, "__name__", None) or type(func).__name__
        if rule is None:
            rm, used = _unmodelled(out, args, kwargs, maps, name)
            params = {"modelled": False}
        else:
            rm, used = rule(out, args, kwargs, maps, name)
            params = tuple(operands) if not kwargs else {"args": tuple(operands), **kwargs}
        # (a rule may name arguments that were not given: compare keys, not counts)
        extra = [m for k, (m, _) in maps.items() if k not in used]
        if extra:
            rm = _pooled(rm, extra, name)
        node = (
            (name, tuple(nodes), params, "torch", rm)
            if mode == "op"
            else record(name, tuple(nodes), params, "torch", mode)
        )
        target = kwargs.get("out")
        if type(target) is TracedTensor:
            _set_rows(target, rm, node)
            if out is target:
                return target
        if func in _IN_PLACE or (rule is None and _in_place_name(name)):
            target = args[0]
            if type(target) is TracedTensor:
                _set_rows(target, rm, node)
                if out is target:
                    return target
        result = _wrap_all(out, rm, node, args)
        if func in _SHARING and type(args[0]) is TracedTensor:
            # the same memory, but not a view: writes through it must reach the owner
            result.__dict__["_stp_owner"] = _owner(args[0])
        return result


# -- fast paths ---------------------------------------------------------------------------
# The most common operations at granularity "op", answered without the general dispatch.
# Each returns None, before running anything, when the general path must answer.


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


def _pooled(rm, extra, name):
    pooled = rmap.merge([rmap.pooled_in(m, name) for m in extra], None)
    if isinstance(rm, list):
        return [_pooled(r, extra, name) for r in rm]
    if rm.dropped is not None:
        return rm
    if pooled.dropped is not None:
        return pooled
    if rm.n is None:
        return rmap.merge([rm, pooled], None)
    return rmap.with_parents(rm, pooled)


def _unmodelled(out, args, kwargs, maps, name):
    rm = rmap.merge([rmap.pooled_in(m, name) for m, _ in maps.values()], None)
    return rm, set(maps)


# -- the tables ---------------------------------------------------------------------------
# The row rules of every modelled function are in ._torch_rules (``_RULES``).

_IN_PLACE = {f for f in _RULES if _in_place_name(getattr(f, "__name__", ""))}
_REDUCTION_KEYWORDS = {"dim", "keepdim", "unbiased", "correction"}
_INDEX_DTYPES = {torch.int64, torch.int32, torch.bool}
#: Functions whose result shares the argument's memory without being a view of it.
_SHARING = {torch.Tensor.detach, torch.detach, torch.Tensor.data.__get__}
#: The fast paths of ``__torch_function__`` (granularity "op", no in-place writes yet).
_FAST = {f: _fast_elementwise for f, r in _RULES.items() if r is _elementwise}
for _f in _IN_PLACE | _SHARING:
    _FAST.pop(_f, None)
for _f in _funcs("sum mean std var amax amin".split()):
    _FAST[_f] = _fast_reduction
for _f in _funcs(["cat", "concat", "concatenate"]):
    _FAST[_f] = _fast_cat
for _f in _funcs(["matmul", "mm", "__matmul__"]):
    _FAST[_f] = _fast_matmul
_FAST[torch.Tensor.__getitem__] = _fast_getitem
_RULES[F.relu] = _elementwise
del _f


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

    def method(self, other):
        if not _WRITES:
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

#: Functions whose results carry no data of the tensor (shapes, dtypes, printing).
_PASSTHROUGH = {
    torch.Tensor.shape.__get__,
    torch.Tensor.dtype.__get__,
    torch.Tensor.device.__get__,
    torch.Tensor.ndim.__get__,
    torch.Tensor.requires_grad.__get__,
    torch.Tensor.is_cuda.__get__,
    torch.Tensor.grad.__get__,
    torch.Tensor.grad_fn.__get__,
    torch.Tensor.is_leaf.__get__,
    torch.Tensor._base.__get__,
    torch.Tensor.data_ptr,
    torch.Tensor.dim,
    torch.Tensor.size,
    torch.Tensor.numel,
    torch.Tensor.__len__,
    torch.Tensor.stride,
    torch.Tensor.is_contiguous,
    torch.Tensor.element_size,
    torch.Tensor.__repr__,
    torch.Tensor.__format__,
    torch.Tensor.item,
    torch.Tensor.tolist,
    torch.Tensor.numpy,
    torch.Tensor.backward,
    torch.Tensor.__bool__,
    torch.Tensor.__float__,
    torch.Tensor.__int__,
    torch.Tensor.__index__,
    torch.Tensor.__hash__,
    torch.Tensor.__reduce_ex__,
    torch.Tensor.__deepcopy__,
    torch.Tensor.__array__,
}


#: Passthrough functions that give a NumPy array sharing the tensor's memory.
_SHARED_NUMPY = {torch.Tensor.numpy, torch.Tensor.__array__}


def _dispatch_setitem(args, kwargs):
    target, key, value = args
    mode = _MODE.get()
    plain_value, rv, nv = _split(value)
    with _Disabled():
        torch.Tensor.__setitem__(target, key, plain_value)
        shape = tuple(target.shape)
        value_shape = _shape(plain_value)
    if mode == "none":
        _set_rows(target, NOT_RECORDED, None)
        return None
    old = _rows_of(target, writer=value)  # x[k] += v writes through x[k], then back
    parts = key if isinstance(key, tuple) else (key,)
    keep = any(getattr(k, "_stp_rows", None) is not None for k in parts)  # a traced key
    key = _torch_key(key, shape)
    if key is UNREADABLE:
        new = _LIST_KEY
    else:
        value_map = rmap.EMPTY if rv is None else rv
        new = assign_map(old, key, shape, value_map, value_shape, keep=keep)
    node = record(
        "__setitem__",
        (target.__dict__.get("_stp_node"), *nv),
        {"key": operand(key)},
        "torch",
        mode,
    )
    _set_rows(target, new, node)
    return None


def _copy_(args, kwargs):
    target, src = args[0], args[1]
    mode = _MODE.get()
    plain_src, rs, ns = _split(src)
    with _Disabled():
        torch.Tensor.copy_(target, plain_src, *args[2:], **kwargs)
        shape = tuple(target.shape)
        src_shape = _shape(plain_src)
    if mode == "none":
        _set_rows(target, NOT_RECORDED, None)
        return target
    new = rmap.EMPTY if rs is None else rmap.elementwise([(rs, src_shape)], shape, "copy_")
    node = record("copy_", (target.__dict__.get("_stp_node"), *ns), None, "torch", mode)
    _set_rows(target, new, node)
    return target


def _fill(value_kind):
    def handle(args, kwargs):
        target = args[0]
        mode = _MODE.get()
        value = args[1] if len(args) > 1 else kwargs.get("value")
        plain, rv, nv = _split(value) if value is not None else (None, None, ())
        with _Disabled():
            getattr(torch.Tensor, value_kind)(target, *([plain] if value is not None else []))
        if mode == "none":
            _set_rows(target, NOT_RECORDED, None)
            return target
        new = rmap.EMPTY if rv is None else rmap.collapse(rv, value_kind)
        node = record(value_kind, (target.__dict__.get("_stp_node"), *nv), None, "torch", mode)
        _set_rows(target, new, node)
        return target

    return handle


_REPLACED = (
    "the tensor's memory was replaced in place (set_, or assigning .data), so its row "
    "ids were dropped rather than guessed"
)


def _replace_data(args, kwargs):
    """``x.data = y``: ``x`` now holds ``y``'s memory; its rows are dropped."""
    target, value = args[0], args[1]
    with _Disabled():
        torch.Tensor.data.__set__(target, _split(value)[0])
    node = record(".data =", (target.__dict__.get("_stp_node"),), None, "torch", _MODE.get())
    _set_rows(target, rmap.dropped(_REPLACED), node)
    _share(target, value)


def _share(target, source):
    """``target`` now uses ``source``'s memory: writes through it reach ``source``."""
    if isinstance(source, torch.Tensor):
        target.__dict__["_stp_owner"] = _owner(source)


def _set_(self, *args, **kwargs):
    """``x.set_(source)``: as ``torch.Tensor.set_``; ``x``'s rows are dropped (its memory
    is now another tensor's or storage's; torch does not route ``set_`` through
    ``__torch_function__``)."""
    with _Disabled():
        args = tuple(_split(a)[0] for a in args)
        torch.Tensor.set_(self, *args, **kwargs)
    node = record("set_", (self.__dict__.get("_stp_node"),), None, "torch", _MODE.get())
    _set_rows(self, rmap.dropped(_REPLACED), node)
    source = args[0] if args else kwargs.get("source")
    _share(self, source)
    return self


TracedTensor.set_ = _set_
_SPECIAL = {
    torch.Tensor.data.__set__: _replace_data,
    torch.Tensor.__setitem__: _dispatch_setitem,
    torch.Tensor.copy_: _copy_,
    torch.Tensor.fill_: _fill("fill_"),
    torch.Tensor.zero_: _fill("zero_"),
    torch.Tensor.uniform_: _fill("uniform_"),
    torch.Tensor.normal_: _fill("normal_"),
}


def make(value, rm, node, convert):
    """A TracedTensor of ``value`` (from a source, or converted from another framework)."""
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(np.asarray(value))
    if convert:
        node = record("as_tensor", (node,), None, "torch", _MODE.get())
    with _Disabled():
        plain = value.as_subclass(torch.Tensor) if type(value) is TracedTensor else value
        # the caller's tensor is aliased, never re-classed
        return _wrap(plain, rm, node, (plain,))
