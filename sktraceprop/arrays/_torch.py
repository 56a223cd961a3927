"""Traced torch tensors: a ``torch.Tensor`` subclass that keeps row ids (``__torch_function__``).

Every torch function, method and operator called on a :class:`TracedTensor` comes
through ``__torch_function__``; a table maps it to a row rule (elementwise, reduction,
reshape, indexing, concatenation, matmul, a batch-preserving layer, a loss: the table
is :mod:`._torch_rules`, with the modules of rules it names; the commonest operations
have fast paths and operator methods in :mod:`._torch_fast`, in-place writes with no
rule are in :mod:`._torch_special`, the class itself is in :mod:`._torch_tensor`). A function
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
from ._graph import _MODE, NOT_RECORDED, operand, record
from ._state import _WRITES
from ._torch_fast import (
    _fast_cat,
    _fast_elementwise,
    _fast_getitem,
    _fast_matmul,
    _fast_reduction,
)
from ._torch_rules import _RULES, _elementwise, _funcs, _in_place_name
from ._torch_special import SPECIAL as _SPECIAL
from ._torch_special import _set_
from ._torch_tensor import (
    _ARG,
    _PLAIN_ARGS,
    TracedTensor,
    _Disabled,
    _has_tensor,
    _owner,
    _rebuild,
    _rows_of,
    _set_rows,
    _split,
    _wrap,
    _wrap_all,
)

__all__ = ["TracedTensor"]
#: Pickles made before this module was split name ``_torch._rebuild``: still found here.
PICKLED = {"_rebuild": _rebuild}


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


def _torch_function(cls, func, types, args=(), kwargs=None):
    """``TracedTensor.__torch_function__``: a fast path, a function whose result carries
    no data of the tensor, or the general dispatch."""
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


TracedTensor.__torch_function__ = classmethod(_torch_function)
TracedTensor.set_ = _set_


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
