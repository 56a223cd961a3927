"""Row rules of traced torch tensors: which input rows each output row of a torch
function depends on.

A rule is called with the function's plain output, its arguments and the row maps of
its traced arguments (``{where: (map, shape)}``) and returns the output's row map(s)
and the argument positions it used; ``_RULES`` maps every modelled torch function,
method and operator to its rule. A function without a rule is not modelled: the
dispatch in :mod:`._torch` gives every output row every input row.
"""

import operator
import warnings
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from . import _rowmap as rmap
from ._index import index_map, positions

# -- rules --------------------------------------------------------------------------------


def _arg(args, kwargs, pos, names, default=None):
    if len(args) > pos:
        return args[pos]
    for n in (names,) if isinstance(names, str) else names:
        if n in kwargs:
            return kwargs[n]
    return default


def _out_shape(out):
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    return tuple(out[0].shape)


def _elementwise(out, args, kwargs, maps, name):
    if len(maps) == 1:
        ((key, (rm, shape)),) = maps.items()
        out_shape = tuple(out.shape)
        if rm.n is None or (len(shape) == len(out_shape) and shape[0] == out_shape[0]):
            return rm, (key,)
        return rmap.elementwise([(rm, shape)], out_shape, name), (key,)
    parts = list(maps.values())
    return rmap.elementwise(parts, _out_shape(out), name), tuple(maps)


def _hits_rows(dim, ndim):
    if dim is None or ndim == 0:
        return True
    dims = dim if isinstance(dim, tuple | list) else (dim,)
    return any(operator.index(d) % ndim == 0 for d in dims)


def _reduction(default=None, pos=1):
    def rule(out, args, kwargs, maps, name):
        rm, shape = maps.get(0, (None, None))
        if rm is None:
            return rmap.EMPTY, set()
        dim = _arg(args, kwargs, pos, ("dim", "axis"), default)
        if isinstance(dim, torch.Tensor) or "other" in kwargs:
            return _elementwise(out, args, kwargs, maps, name)  # torch.max(a, b)
        if isinstance(dim, bool):
            dim = None  # torch.std(x, True): ``unbiased``, over every element
        if rm.n is not None and rm.dropped is None and _hits_rows(dim, len(shape)):
            return rmap.collapse(rm, name), {0}
        return rm, {0}

    return rule


def _same(out, args, kwargs, maps, name):
    rm, _ = maps.get(0, (None, None))
    return (rmap.EMPTY if rm is None else rm), {0}


def _empty(out, args, kwargs, maps, name):
    # rows of no source, as many as ``out`` has: rows written later (``out[i] = t[j]``)
    # take exactly the parents written (a collapsed map would give them all of ``t``'s)
    return (rmap.RowMap(n=out.shape[0]) if out.dim() else rmap.EMPTY), {0}


def _reshape_rule(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    size_in, size_out = args[0].element_size(), out.element_size()
    if size_in != size_out:
        # x.view(dtype): the same bytes, C order, read with another element size
        return rmap.reshape(rm, (*shape, size_in), (*out.shape, size_out), name), {0}
    return rmap.reshape(rm, shape, tuple(out.shape), name), {0}


def _moves(first):
    def rule(out, args, kwargs, maps, name):
        rm, shape = maps.get(0, (None, None))
        if rm is None:
            return rmap.EMPTY, set()
        if len(shape) > 1 and first(args, kwargs, len(shape)) % len(shape) != 0:
            return rmap.collapse(rm, name), {0}
        return rm, {0}

    return rule


def _permute_first(args, kwargs, ndim):
    dims = _arg(args, kwargs, 1, "dims")
    if isinstance(dims, int):
        dims = args[1:]
    return operator.index(dims[0])


def _transpose_first(args, kwargs, ndim):
    d0 = operator.index(_arg(args, kwargs, 1, "dim0")) % ndim
    d1 = operator.index(_arg(args, kwargs, 2, "dim1")) % ndim
    return d1 if d0 == 0 else (d0 if d1 == 0 else 0)


def _movedim_first(args, kwargs, ndim):
    source = _arg(args, kwargs, 1, "source")
    destination = _arg(args, kwargs, 2, "destination")
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    source = [s % ndim for s in source]
    destination = [d % ndim for d in destination]
    order = [k for k in range(ndim) if k not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return order[0]


def _t_first(args, kwargs, ndim):
    return 1 if ndim == 2 else 0


def _squeeze(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    if shape and shape[0] == 1 and (len(out.shape) < len(shape)):
        dim = _arg(args, kwargs, 1, "dim")
        if dim is None or _hits_rows(dim, len(shape)):
            return rmap.single(rm), {0}
    return rm, {0}


def _unsqueeze(out, args, kwargs, maps, name):
    rm, _ = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % out.ndim
    return (rmap.collapse(rm, name) if dim == 0 else rm), {0}


def _expand(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    return rmap.elementwise([(rm, shape)], tuple(out.shape), name), {0}


def _repeat(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    sizes = _arg(args, kwargs, 1, ("repeats", "dims", "sizes"))
    sizes = list(args[1:]) if isinstance(sizes, int) and len(args) > 2 else sizes
    sizes = [sizes] if isinstance(sizes, int) else list(sizes)
    if len(sizes) > len(shape):
        return rmap.collapse(rm, name), {0}
    r0 = sizes[0] if len(sizes) == len(shape) else 1
    if r0 == 1 or rm.n is None:
        return rm, {0}
    return rmap.take(rm, np.tile(np.arange(shape[0]), r0)), {0}


def _flip(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dims = _arg(args, kwargs, 1, "dims")
    dims = list(args[1:]) if isinstance(dims, int) else list(dims)
    if any(d % len(shape) == 0 for d in dims):
        return rmap.take(rm, slice(None, None, -1)), {0}
    return rm, {0}


def _roll(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    shifts = _arg(args, kwargs, 1, "shifts")
    dims = _arg(args, kwargs, 2, "dims")
    if dims is None or dims == ():
        if len(shape) == 1:
            return rmap.take(rm, np.roll(np.arange(shape[0]), shifts)), {0}
        return rmap.collapse(rm, name), {0}
    shifts = np.atleast_1d(shifts)
    dims = np.atleast_1d(dims)
    total = int(sum(s for s, d in zip(shifts, dims) if d % len(shape) == 0))
    if total == 0:
        return rm, {0}
    return rmap.take(rm, np.roll(np.arange(shape[0]), total)), {0}


def _narrow(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % len(shape)
    if dim != 0:
        return rm, {0}
    start = int(_arg(args, kwargs, 2, "start"))
    start = start + shape[0] if start < 0 else start
    length = int(_arg(args, kwargs, 3, "length"))
    return rmap.take(rm, slice(start, start + length)), {0}


def _select(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % len(shape)
    if dim != 0:
        return rm, {0}
    index = int(_arg(args, kwargs, 2, "index")) % shape[0]
    return rmap.single(rmap.take(rm, slice(index, index + 1))), {0}


def _pieces(out, args, kwargs, maps, name, default_dim=0):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return [rmap.EMPTY] * len(out), set()
    dim = _arg(args, kwargs, 2, "dim", default_dim)
    dim = operator.index(dim) % max(len(shape), 1)
    if name == "unbind":
        dim = operator.index(_arg(args, kwargs, 1, "dim", 0)) % max(len(shape), 1)
        if dim == 0:
            return [rmap.single(rmap.take(rm, slice(k, k + 1))) for k in range(len(out))], {0}
        return [rm] * len(out), {0}
    if dim != 0 or rm.n is None:
        return [rm] * len(out), {0}
    bounds = np.cumsum([0] + [o.shape[0] for o in out])
    return [rmap.take(rm, slice(int(b), int(e))) for b, e in zip(bounds[:-1], bounds[1:])], {0}


def _index_select(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, {2, "index"}  # an index's own rows select, they are not data
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % len(shape)
    if dim != 0:
        return rm, {0, 2, "index"}
    index = _arg(args, kwargs, 2, "index")
    return rmap.take(rm, index.detach().cpu().numpy().astype(np.int64)), {0, 2, "index"}


def _gather(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, {2, "index"}
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % len(shape)
    index = _arg(args, kwargs, 2, "index").detach().cpu().numpy()
    if dim != 0:
        return rmap.elementwise([(rm, shape)], tuple(out.shape), name), {0, 2, "index"}
    return rmap.from_positions(rm, index), {0, 2, "index"}


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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation note, given once already
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


def _concat(out, args, kwargs, maps, name):
    seq = args[0]
    items = [(maps.get((0, k), (None, None))[0], tuple(t.shape)) for k, t in enumerate(seq)]
    dim = operator.index(_arg(args, kwargs, 1, ("dim", "axis"), 0)) % out.ndim
    used = {(0, k) for k in range(len(seq))}
    if dim == 0:
        return rmap.concat([(m, s[0]) for m, s in items]), used
    parts = [(m, s) for m, s in items if m is not None]
    return (rmap.elementwise(parts, tuple(out.shape), name) if parts else rmap.EMPTY), used


def _stack(out, args, kwargs, maps, name):
    seq = args[0]
    dim = operator.index(_arg(args, kwargs, 1, "dim", 0)) % out.ndim
    used = {(0, k) for k in range(len(seq))}
    items = [maps.get((0, k), (None, None)) for k in range(len(seq))]
    if dim == 0:
        rows = [(None if m is None else rmap.collapse(m, name), 1) for m, _ in items]
        return rmap.concat(rows), used
    parts = [(m, s + (1,)) for m, s in items if m is not None]
    return (rmap.elementwise(parts, tuple(out.shape), name) if parts else rmap.EMPTY), used


def _vstack(out, args, kwargs, maps, name):
    seq = args[0]
    used = {(0, k) for k in range(len(seq))}
    rows = []
    for k, t in enumerate(seq):
        m = maps.get((0, k), (None, None))[0]
        if t.ndim < 2:
            rows.append((None if m is None else rmap.collapse(m, name), 1))
        else:
            rows.append((m, t.shape[0]))
    return rmap.concat(rows), used


def _hstack(out, args, kwargs, maps, name):
    seq = args[0]
    used = {(0, k) for k in range(len(seq))}
    if all(t.ndim < 2 for t in seq):
        return rmap.concat(
            [
                (
                    maps.get((0, k), (None, None))[0],
                    max(t.numel(), 1) if t.ndim == 0 else t.shape[0],
                )
                for k, t in enumerate(seq)
            ]
        ), used
    parts = [maps[(0, k)] for k in range(len(seq)) if (0, k) in maps]
    return (rmap.elementwise(parts, tuple(out.shape), name) if parts else rmap.EMPTY), used


def _column_stack(out, args, kwargs, maps, name):
    seq = args[0]
    used = {(0, k) for k in range(len(seq))}
    parts = []
    for k in range(len(seq)):
        if (0, k) in maps:
            m, s = maps[(0, k)]
            parts.append((m, s if len(s) >= 2 else s + (1,)))
    return (rmap.elementwise(parts, tuple(out.shape), name) if parts else rmap.EMPTY), used


def _matmul(out, args, kwargs, maps, name):
    a, sa = maps.get(0, (None, tuple(args[0].shape)))
    b, sb = maps.get(1, (None, tuple(args[1].shape)))
    out_shape = tuple(out.shape)
    if len(sa) > 2 or len(sb) > 2:
        parts = [(m, s) for m, s in ((a, sa), (b, sb)) if m is not None]
        return rmap.elementwise(parts, out_shape, name), {0, 1}
    rows = []
    if a is not None:
        rows.append(a if len(sa) == 2 else rmap.collapse(a, name))
    if b is not None:
        rows.append(rmap.collapse(b, name))
    if not out_shape or len(sa) < 2:
        return rmap.merge([rmap.collapse(m, name) for m in rows], None), {0, 1}
    n = out_shape[0]
    return rmap.merge([m if m.n is not None else rmap.spread(m, n) for m in rows], n), {0, 1}


def _rmatmul(out, args, kwargs, maps, name):
    """``x.__rmatmul__(w)`` is ``w @ x``: the operands as ``_matmul`` reads them."""
    swapped = {1 - k: v for k, v in maps.items() if k in (0, 1)}
    rm, _ = _matmul(out, (args[1], args[0]), kwargs, swapped, name)
    return rm, {0, 1}


def _addmm(out, args, kwargs, maps, name):
    # addmm(bias, mat1, mat2): mat1's rows stay rows, the bias broadcasts
    shifted = {k - 1: v for k, v in maps.items() if isinstance(k, int) and k >= 1}
    rm, used = _matmul(out, args[1:], kwargs, shifted, name)
    used = {k + 1 for k in used}
    if 0 in maps:
        rm = rmap.elementwise([(rm, tuple(out.shape)), maps[0]], tuple(out.shape), name)
        used.add(0)
    return rm, used


def _batched(ndims):
    """A layer that maps each sample of a batch on its own (conv, pooling, layer norm):
    rows stay rows when the input is batched (``input.ndim`` in ``ndims``); weights and
    other traced arguments are pooled into every row."""

    def rule(out, args, kwargs, maps, name):
        rm, shape = maps.get(0, maps.get("input", (None, None)))
        if rm is None:
            return rmap.EMPTY, set()
        if ndims is not None and len(shape) not in ndims:
            return rmap.collapse(rm, name), {0, "input"}
        return rmap.elementwise([(rm, shape)], _out_shape(out), name), {0, "input"}

    return rule


def _layer_norm(out, args, kwargs, maps, name):
    """``layer_norm``: each row normalised on its own, unless ``normalized_shape`` covers
    the row axis too (then with statistics of every row)."""
    rm, used = _batched(None)(out, args, kwargs, maps, name)
    _, shape = maps.get(0, maps.get("input", (None, ())))
    normalized = _arg(args, kwargs, 1, "normalized_shape", ())
    k = 1 if isinstance(normalized, int) else len(normalized)
    if rm.n is not None and rm.dropped is None and k >= len(shape):
        rm = rmap.with_parents(rm, rmap.collapse(rm, name))
    return rm, used


def _linear(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, maps.get("input", (None, None)))
    if rm is None:
        return rmap.EMPTY, set()
    if len(shape) < 2:
        return rmap.collapse(rm, name), {0, "input"}
    return rmap.elementwise([(rm, shape)], tuple(out.shape), name), {0, "input"}


def _loss(out, args, kwargs, maps, name):
    reduction = kwargs.get("reduction", "mean")
    parts = [maps[k] for k in (0, 1, "input", "target") if k in maps]
    used = {0, 1, "input", "target"}
    if not parts:
        return rmap.EMPTY, used
    if reduction == "none":
        return rmap.elementwise(parts, tuple(out.shape), name), used
    return rmap.merge([rmap.collapse(m, name) for m, _ in parts], None), used


def _batch_norm(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, maps.get("input", (None, None)))
    if rm is None:
        return rmap.EMPTY, set()
    training = _arg(args, kwargs, 5, "training", False)
    if training and rm.n is not None:
        # each row is normalised with statistics of the whole batch
        return rmap.with_parents(rm, rmap.collapse(rm, name)), {0, "input"}
    return rm, {0, "input"}


def _normalize(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dim = _arg(args, kwargs, 2, "dim", 1)
    if rm.n is not None and _hits_rows(dim, len(shape)):
        return rmap.with_parents(rm, rmap.collapse(rm, name)), {0}
    return rm, {0}


def _pad(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    pad = list(_arg(args, kwargs, 1, "pad"))
    if len(pad) // 2 >= len(shape) and any(pad[2 * (len(shape) - 1) :][:2]):
        return rmap.collapse(rm, name), {0}
    return rm, {0}


# -- the table ----------------------------------------------------------------------------


def _funcs(names, namespaces=(torch, torch.Tensor, F)):
    found = []
    for name in names:
        for ns in namespaces:
            f = getattr(ns, name, None)
            if f is not None and callable(f):
                found.append(f)
    return found


_ELEMENTWISE = """add sub subtract mul multiply div divide true_divide floor_divide remainder fmod
pow
neg negative abs absolute exp exp2 expm1 log log2 log10 log1p sqrt rsqrt square sin cos tan
tanh sigmoid relu sign sgn floor ceil round trunc frac clamp clip clamp_min clamp_max
maximum minimum fmax fmin where eq ne lt le gt ge logical_and logical_or logical_not
logical_xor bitwise_and bitwise_or bitwise_xor bitwise_not isnan isinf isfinite nan_to_num
lerp addcmul addcdiv erf erfc reciprocal atan2 hypot float double half bfloat16 int long bool
to type type_as contiguous clone detach cpu cuda masked_fill softplus gelu leaky_relu elu
selu silu mish hardtanh relu6 dropout alpha_dropout dropout1d dropout2d dropout3d
isclose xlogy logit hardsigmoid hardswish tanhshrink softsign threshold sigmoid_ relu_
add_ sub_ mul_ div_ clamp_ pow_ neg_ abs_ exp_ log_ sqrt_ masked_fill_ nan_to_num_
clamp_min_ clamp_max_ tanh_ sigmoid_ requires_grad_ __add__ __radd__ __iadd__ __sub__
__rsub__ __isub__ __mul__ __rmul__ __imul__ __truediv__ __rtruediv__ __itruediv__ __div__
__rdiv__ __idiv__ __floordiv__ __rfloordiv__ __ifloordiv__ __mod__ __rmod__ __imod__
__pow__ __rpow__ __ipow__ __neg__ __pos__ __abs__ __and__ __rand__ __iand__ __or__ __ror__
__ior__ __xor__ __rxor__ __ixor__ __invert__ __lt__ __le__ __gt__ __ge__ __eq__ __ne__
__lshift__ __rlshift__ __rshift__ __rrshift__""".split()

_IN_PLACE_DUNDERS = {
    "__iadd__",
    "__isub__",
    "__imul__",
    "__itruediv__",
    "__idiv__",
    "__ifloordiv__",
    "__imod__",
    "__ipow__",
    "__iand__",
    "__ior__",
    "__ixor__",
    "__setitem__",
}

_RULES = {}
for _f in _funcs(_ELEMENTWISE):
    _RULES[_f] = _elementwise
for _f in _funcs(
    """sum mean std var prod amax amin argmax argmin logsumexp nanmean nansum
all any count_nonzero std_mean var_mean median nanmedian max min mode""".split()
):
    _RULES[_f] = _reduction()
for _f in _funcs("cumsum cumprod logcumsumexp cummax cummin softmax log_softmax".split()):
    _RULES[_f] = _reduction()
for _f in _funcs("sort argsort".split()):
    _RULES[_f] = _reduction(default=-1)
# the dimension comes after k (topk, kthvalue) or p (norm)
for _f in _funcs("topk kthvalue".split()):
    _RULES[_f] = _reduction(default=-1, pos=2)
for _f in _funcs(["norm"]):
    _RULES[_f] = _reduction(pos=2)
for _f in _funcs("reshape view flatten ravel unflatten view_as reshape_as".split()):
    _RULES[_f] = _reshape_rule
for _f in _funcs("permute".split()):
    _RULES[_f] = _moves(_permute_first)
for _f in _funcs("transpose swapaxes swapdims".split()):
    _RULES[_f] = _moves(_transpose_first)
for _f in _funcs("movedim moveaxis".split()):
    _RULES[_f] = _moves(_movedim_first)
for _f in _funcs(["t"]):
    _RULES[_f] = _moves(_t_first)
for _f in _funcs(["squeeze"]):
    _RULES[_f] = _squeeze
for _f in _funcs(["unsqueeze"]):
    _RULES[_f] = _unsqueeze
for _f in _funcs("expand expand_as broadcast_to".split()):
    _RULES[_f] = _expand
for _f in _funcs("repeat tile".split()):
    _RULES[_f] = _repeat
for _f in _funcs(["flip"]):
    _RULES[_f] = _flip
for _f in _funcs(["roll"]):
    _RULES[_f] = _roll
for _f in _funcs(["narrow"]):
    _RULES[_f] = _narrow
for _f in _funcs(["select"]):
    _RULES[_f] = _select
for _f in _funcs("split chunk tensor_split unbind".split()):
    _RULES[_f] = _pieces
for _f in _funcs(["index_select"]):
    _RULES[_f] = _index_select
for _f in _funcs(["gather"]):
    _RULES[_f] = _gather
for _f in _funcs("cat concat concatenate".split()):
    _RULES[_f] = _concat
for _f in _funcs(["stack"]):
    _RULES[_f] = _stack
for _f in _funcs("vstack row_stack".split()):
    _RULES[_f] = _vstack
for _f in _funcs(["hstack"]):
    _RULES[_f] = _hstack
for _f in _funcs(["column_stack"]):
    _RULES[_f] = _column_stack
for _f in _funcs("matmul mm bmm __matmul__ mv".split()):
    _RULES[_f] = _matmul
_RULES[torch.Tensor.__rmatmul__] = _rmatmul
for _f in _funcs(["addmm"]):
    _RULES[_f] = _addmm
for _f in _funcs(["linear"]):
    _RULES[_f] = _linear
for _f in _funcs(
    "zeros_like ones_like empty_like rand_like randn_like full_like new_zeros new_ones "
    "new_empty new_full".split()
):
    _RULES[_f] = _empty
for _f in _funcs(
    """cross_entropy nll_loss mse_loss l1_loss smooth_l1_loss huber_loss
binary_cross_entropy binary_cross_entropy_with_logits kl_div""".split(),
    (F,),
):
    _RULES[_f] = _loss
for _f in _funcs(["batch_norm"], (F,)):
    _RULES[_f] = _batch_norm
for _f in _funcs(["normalize"], (F,)):
    _RULES[_f] = _normalize
for _f in _funcs(["pad"], (F,)):
    _RULES[_f] = _pad
for _names, _nd in (
    (
        "conv1d conv_transpose1d max_pool1d avg_pool1d adaptive_avg_pool1d adaptive_max_pool1d",
        (3,),
    ),
    (
        "conv2d conv_transpose2d max_pool2d avg_pool2d adaptive_avg_pool2d adaptive_max_pool2d",
        (4,),
    ),
    (
        "conv3d conv_transpose3d max_pool3d avg_pool3d adaptive_avg_pool3d adaptive_max_pool3d",
        (5,),
    ),
    ("layer_norm group_norm instance_norm interpolate one_hot embedding", None),
):
    for _f in _funcs(_names.split(), (F, torch)):
        _RULES[_f] = _batched(_nd)
for _f in _funcs(["layer_norm"], (F, torch)):
    _RULES[_f] = _layer_norm
_RULES[torch.Tensor.__getitem__] = _getitem
del _f, _names, _nd


def _in_place_name(name):
    return (name.endswith("_") and not name.endswith("__")) or name in _IN_PLACE_DUNDERS
