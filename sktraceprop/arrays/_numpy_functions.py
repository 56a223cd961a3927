"""NumPy functions on traced arrays (``__array_function__``): one row rule per function.

Every handler unwraps its traced arguments, calls the NumPy function on plain arrays,
and asks its rule for the result's row map. A rule names the arguments it reasoned
about; any other traced argument is pooled into every output row, so an argument a rule
forgot can only add parents, never leave one out. A function with no handler pools all
its traced inputs ("depends on every row"), which is never wrong.
"""

import functools
import operator

import numpy as np

from . import _rowmap as rmap
from ._array import (
    TracedArray,
    node_of,
    plain_of,
    rows_of,
    set_rows,
    split,
    wrap,
    wrap_foreign,
    writable,
)
from ._graph import _MODE, NOT_RECORDED, operand, record
from ._index import positions, reshaped, written_rows
from ._reductions import reduce_map
from ._state import freeze, owner_of

HANDLED = {}


def _shape(a):
    return a.shape if type(a) is np.ndarray else np.shape(a)


def _unwrap_one(value, where, maps, nodes):
    plain, rm, node = split(value)
    if rm is not None:
        maps[where] = (rm, _shape(plain))
        nodes.extend(node)
    return plain


def _unwrap_top(value, where, maps, nodes):
    if type(value) in (list, tuple):
        items = [_unwrap_one(v, (where, k), maps, nodes) for k, v in enumerate(value)]
        if any((where, k) in maps for k in range(len(items))):
            return type(value)(items)
        return value
    return _unwrap_one(value, where, maps, nodes)


def _unwrap(args, kwargs):
    """Plain arguments, and ``{where: (map, shape)}`` / nodes of the traced ones.

    ``where`` is a position, a keyword, or ``(position, k)`` for the ``k``-th element of
    a list or tuple argument (``np.concatenate([a, b])``).
    """
    maps, nodes = {}, []
    plain_args = [_unwrap_top(a, k, maps, nodes) for k, a in enumerate(args)]
    plain_kwargs = {
        k: (v if k == "out" else _unwrap_top(v, k, maps, nodes)) for k, v in kwargs.items()
    }
    return plain_args, plain_kwargs, maps, nodes


def _params(args, kwargs, maps):
    out = {}
    for k, a in enumerate(args):
        listed = type(a) in (list, tuple) and any((k, j) in maps for j in range(len(a)))
        if k not in maps and not listed:
            out[f"arg{k}"] = operand(a)
    for k, v in kwargs.items():
        if k not in maps and k != "out" and v is not None:
            out[k] = operand(v)
    return out or None


def implements(*funcs, name=None):
    """Register a row rule ``rule(out, args, kwargs, maps) -> (map or list, used keys)``;
    a ``None`` in ``funcs`` (a name this NumPy lacks, see :func:`_since_numpy_2`) is skipped."""

    def decorate(rule):
        for func in funcs:
            if func is None:
                continue
            HANDLED[func] = functools.partial(_handle, func, rule, name or func.__name__)
        return rule

    return decorate


def _since_numpy_2(name):
    """``np.<name>``, or None before NumPy 2.0, which added these Array API names."""
    return getattr(np, name, None)


def _wrap_all(out, rm, node, owners=()):
    """Traced arrays of a function's results; ``owners``: the memory of its untraced
    array arguments (see :func:`_caller_owners`)."""
    if isinstance(out, tuple | list):
        maps = rm if isinstance(rm, list) else [rm] * len(out)
        items = [_wrap_all(o, m, node, owners) for o, m in zip(out, maps)]
        return type(out)._make(items) if hasattr(out, "_fields") else type(out)(items)
    if type(out) is np.ndarray:
        if owners:
            owner = owner_of(out)
            if any(owner is w for w in owners):
                # the caller's array given back, or a view of it (a plain ``out=``,
                # np.broadcast_arrays): never made read-only, never unlocked
                if isinstance(owner, np.ndarray) and not owner.flags.writeable:
                    freeze(owner, True, permanent=True)
                return wrap_foreign(out, rm, node)
        return wrap(out, rm, node)
    if isinstance(out, np.generic):
        return wrap(np.asarray(out), rm, node)
    return out


def _caller_owners(args, kwargs):
    """The memory owners of the untraced arrays among the arguments (lists included)."""
    found = []
    for v in (*args, *kwargs.values()):
        for a in v if type(v) in (list, tuple) else (v,):
            if isinstance(a, np.ndarray) and type(a) is not TracedArray:
                found.append(owner_of(a))
    return found


def _pooled(rm, extra, out, name):
    """Add every unconsumed traced argument to every row of the result."""
    if not extra:
        return rm
    pooled = rmap.merge([rmap.collapse(m, name) for m in extra], None)
    if isinstance(rm, list):
        return [_pooled(r, extra, o, name) for r, o in zip(rm, out)]
    if rm.dropped is not None:
        return rm
    if pooled.dropped is not None:
        return pooled
    if rm.n is None:
        return rmap.merge([rm, pooled], None)
    return rmap.merge([rm, rmap.spread(pooled, rm.n)], rm.n)


def _out_plain(target):
    """The plain array to give NumPy as ``out``: a traced one is written through
    :func:`writable` (traced arrays are read-only to others)."""
    return writable(target) if type(target) is TracedArray else split(target)[0]


#: ``out``'s position in the handled functions that NumPy 1.x implements in C with no
#: signature ``inspect`` can read (NumPy 2 gives them one)
_C_OUT_POSITIONS = {np.dot: 2, np.concatenate: 2}


@functools.cache
def _out_position(func):
    """Position of ``func``'s ``out`` parameter, or None."""
    import inspect

    try:
        names = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return _C_OUT_POSITIONS.get(func)
    return names.index("out") if "out" in names else None


def _positional_out_plain(func, args, plain_args):
    """A traced ``out`` given by position is written: a writable view of it."""
    k = _out_position(func)
    if k is not None and k < len(args) and type(args[k]) is TracedArray:
        plain_args[k] = writable(args[k])


def _positional_out(args, plain_args, out, maps):
    """The traced array given as ``out`` by position (NumPy returns it), or None; its
    old rows are not read, so its map is taken out of ``maps``."""
    for k in range(1, len(args)):
        if plain_args[k] is out and type(args[k]) is TracedArray:
            maps.pop(k, None)
            return args[k]
    return None


def _handle(func, rule, name, *args, **kwargs):
    mode = _MODE.get()
    plain_args, plain_kwargs, maps, nodes = _unwrap(args, kwargs)
    target = kwargs.get("out")
    if target is not None:
        plain_kwargs["out"] = _out_plain(target)
    elif len(args) > 2:
        _positional_out_plain(func, args, plain_args)
    out = func(*plain_args, **plain_kwargs)
    if target is None and len(args) > 2:
        target = _positional_out(args, plain_args, out, maps)
    if mode == "none":
        rm = NOT_RECORDED
        node = None
    else:
        rm, used = rule(out, plain_args, plain_kwargs, maps)
        extra = [m for k, (m, _) in maps.items() if k not in used and k != "out"]
        rm = _pooled(rm, extra, out, name)
        node = record(name, tuple(nodes), _params(args, kwargs, maps), "numpy", mode)
    if type(target) is TracedArray:
        set_rows(target, rm, node, "where" in kwargs and kwargs["where"] is not None)
        return target
    return _wrap_all(out, rm, node, _caller_owners(args, kwargs))


def unmodelled(func, args, kwargs):
    """Any NumPy function without a rule: every output row depends on every input row."""
    mode = _MODE.get()
    found = _deep_traced(args, kwargs)
    # from the arguments as given: nested lists keep their nesting (np.block)
    plain_args = [_deep_plain(a) for a in args]
    plain_kwargs = {k: _deep_plain(v) for k, v in kwargs.items()}
    if kwargs.get("out") is not None:
        plain_kwargs["out"] = _out_plain(kwargs["out"])
    elif len(args) > 2:
        _positional_out_plain(func, args, plain_args)
    out = func(*plain_args, **plain_kwargs)
    target = kwargs.get("out")
    if target is None:
        # an ``out`` given by position is what NumPy returns: written, not read
        for a, p in zip(args[1:], plain_args[1:]):
            if p is out and type(a) is TracedArray:
                target = a
                found = [x for x in found if x is not a]
                break
    if mode == "none":
        if type(target) is TracedArray:
            set_rows(target, NOT_RECORDED, None)
            return target
        return _wrap_all(out, NOT_RECORDED, None, _caller_owners(args, kwargs))
    name = getattr(func, "__name__", "function")
    maps_all = [rows_of(x) if type(x) is TracedArray else x._stp_rows for x in found]
    rm = rmap.merge([rmap.collapse(m, name) for m in maps_all], None)
    nodes = tuple(node_of(x) if type(x) is TracedArray else x._stp_node for x in found)
    node = record(name, nodes, {"modelled": False}, "numpy", mode)
    if type(target) is TracedArray:
        set_rows(target, rm, node)
        return target
    return _wrap_all(out, rm, node, _caller_owners(args, kwargs))


def _deep_traced(args, kwargs):
    found = []

    def walk(v):
        if type(v) is TracedArray or getattr(v, "_stp_rows", None) is not None:
            found.append(v)
        elif type(v) in (list, tuple):
            for item in v:
                walk(item)
        elif type(v) is dict:
            for item in v.values():
                walk(item)

    for a in args:
        walk(a)
    for v in kwargs.values():
        walk(v)
    return found


def _deep_plain(v):
    if type(v) in (list, tuple):
        return type(v)(_deep_plain(x) for x in v)
    if type(v) is dict:
        return {k: _deep_plain(x) for k, x in v.items()}
    return split(v)[0]


# -- helpers ------------------------------------------------------------------------------


def _arg(args, kwargs, pos, name, default=None):
    if len(args) > pos:
        return args[pos]
    return kwargs.get(name, default)


def _axes(axis, ndim):
    if axis is None:
        return None
    seq = axis if isinstance(axis, tuple | list) else (axis,)
    return tuple(operator.index(a) % max(ndim, 1) for a in seq)


def _first(maps, key=0):
    return maps.get(key, (None, None))


# -- reductions ---------------------------------------------------------------------------


def _reduction(pos, default=None):
    def rule(out, args, kwargs, maps):
        rm, shape = _first(maps)
        if rm is None:
            return rmap.EMPTY, set()
        return reduce_map(rm, shape, _arg(args, kwargs, pos, "axis", default), "reduce"), {0}

    return rule


# fmt: off
implements(
    np.mean, np.std, np.var, np.sum, np.prod, np.min, np.max, np.amin, np.amax, np.all,
    np.any, np.median, np.nanmean, np.nanstd, np.nanvar, np.nansum, np.nanprod, np.nanmin,
    np.nanmax, np.nanmedian, np.argmax, np.argmin, np.nanargmax, np.nanargmin, np.ptp,
    np.count_nonzero, np.cumsum, np.cumprod, np.nancumsum, np.nancumprod, np.average,
)(_reduction(1))
# fmt: on
implements(np.sort, np.argsort)(_reduction(1, default=-1))
implements(np.linalg.norm)(_reduction(2))


@implements(np.partition, np.argpartition)
def _partition(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    return reduce_map(rm, shape, _arg(args, kwargs, 2, "axis", -1), "partition"), {0}


@implements(np.percentile, np.quantile, np.nanpercentile, np.nanquantile)
def _quantile(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    if np.ndim(_arg(args, kwargs, 1, "q")) > 0:
        return rmap.collapse(rm, "quantile"), {0}
    return reduce_map(rm, shape, _arg(args, kwargs, 2, "axis"), "quantile"), {0}


@implements(np.diff)
def _diff(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    n = operator.index(_arg(args, kwargs, 1, "n", 1))
    axis = _axes(_arg(args, kwargs, 2, "axis", -1), len(shape))[0]
    padded = kwargs.get("prepend", np._NoValue) is not np._NoValue or (
        kwargs.get("append", np._NoValue) is not np._NoValue
    )
    if axis != 0 or rm.n is None:
        return rm, {0}
    if padded or n == 0:
        return rmap.collapse(rm, "diff"), {0}
    rows = shape[0] - n
    if rows <= 0:
        return rmap.take(rm, slice(0, 0)), {0}
    return rmap.merge([rmap.take(rm, slice(k, k + rows)) for k in range(n + 1)], rows), {0}


# -- elementwise --------------------------------------------------------------------------


@implements(
    np.where,
    np.clip,
    np.round,
    np.around,
    np.nan_to_num,
    np.isclose,
    np.real,
    np.imag,
    np.fix,
    np.copy,
    np.real_if_close,
)
def _elementwise(out, args, kwargs, maps):
    if isinstance(out, tuple):
        return rmap.merge([rmap.collapse(m, "where") for m, _ in maps.values()], None), set(maps)
    parts = [(rm, shape) for rm, shape in maps.values()]
    if not parts:
        return rmap.EMPTY, set()
    return rmap.elementwise(parts, np.shape(out), "elementwise"), set(maps)


@implements(np.isin, np.digitize, np.interp)
def _first_elementwise(out, args, kwargs, maps):
    # Row by row in the first argument; the values looked up in (test elements, bins,
    # sample points) are left to the pooling of unused arguments.
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    return rmap.elementwise([(rm, shape)], np.shape(out), "lookup"), {0}


@implements(np.searchsorted)
def _searchsorted(out, args, kwargs, maps):
    rm, shape = maps.get(1, maps.get("v", (None, None)))
    if rm is None:
        return rmap.EMPTY, set()
    return rmap.elementwise([(rm, shape)], np.shape(out), "searchsorted"), {1, "v"}


@implements(np.zeros_like, np.ones_like, np.empty_like)
def _like(out, args, kwargs, maps):
    return _no_parents(out), {0, "a", "prototype"}


@implements(np.full_like)
def _full_like(out, args, kwargs, maps):
    return _no_parents(out), {0, "a"}


def _no_parents(out):
    """Rows of no source, as many as ``out`` has: rows written later (``out[i] = x[j]``,
    filling a preallocated array in a loop) take exactly the parents written, where a
    collapsed map would give every written row all the rows of what was written."""
    shape = np.shape(out)
    return rmap.RowMap(n=shape[0]) if shape else rmap.EMPTY


# -- shape --------------------------------------------------------------------------------


@implements(np.reshape)
def _reshape(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    order = _arg(args, kwargs, 2, "order", "C")
    return _reshaped(rm, shape, np.shape(out), order, args[0]), {0}


@implements(np.ravel)
def _ravel(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    return _reshaped(rm, shape, np.shape(out), _arg(args, kwargs, 1, "order", "C"), args[0]), {0}


def _reshaped(rm, shape, out_shape, order, plain):
    return reshaped(rm, np.asarray(plain), out_shape, order)


def _moved(rm, first_axis, ndim, name):
    if ndim > 1 and first_axis % ndim != 0:
        return rmap.collapse(rm, name)
    return rm


@implements(np.transpose, _since_numpy_2("permute_dims"))
def _transpose(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    axes = _arg(args, kwargs, 1, "axes")
    first = len(shape) - 1 if axes is None else operator.index(axes[0])
    return _moved(rm, first, len(shape), "transpose"), {0}


@implements(_since_numpy_2("matrix_transpose"))
def _matrix_transpose(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    return (rmap.collapse(rm, "matrix_transpose") if len(shape) == 2 else rm), {0}


@implements(np.swapaxes)
def _swapaxes(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    a1, a2 = _axes((_arg(args, kwargs, 1, "axis1"), _arg(args, kwargs, 2, "axis2")), len(shape))
    return (rmap.collapse(rm, "swapaxes") if (a1 == 0) != (a2 == 0) else rm), {0}


@implements(np.moveaxis)
def _moveaxis(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    ndim = len(shape)
    source = _axes(_arg(args, kwargs, 1, "source"), ndim)
    destination = _axes(_arg(args, kwargs, 2, "destination"), ndim)
    order = [k for k in range(ndim) if k not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return _moved(rm, order[0] if order else 0, ndim, "moveaxis"), {0}


@implements(np.rollaxis)
def _rollaxis(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    ndim = len(shape)
    axis = _axes(_arg(args, kwargs, 1, "axis"), ndim)[0]
    start = operator.index(_arg(args, kwargs, 2, "start", 0))
    start = start + ndim if start < 0 else start
    start = start - 1 if axis < start else start
    order = [k for k in range(ndim) if k != axis]
    order.insert(start, axis)
    return _moved(rm, order[0] if order else 0, ndim, "rollaxis"), {0}


@implements(np.squeeze)
def _squeeze(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    axis = _axes(_arg(args, kwargs, 1, "axis"), len(shape))
    if shape and shape[0] == 1 and (axis is None or 0 in axis):
        return rmap.single(rm), {0}
    return rm, {0}


@implements(np.expand_dims)
def _expand_dims(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    axis = _axes(_arg(args, kwargs, 1, "axis"), np.ndim(out))
    return (rmap.collapse(rm, "expand_dims") if 0 in axis else rm), {0}


@implements(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def _atleast(out, args, kwargs, maps):
    outs = out if isinstance(out, tuple | list) else [out]
    result = []
    for k, o in enumerate(outs):
        rm, shape = _first(maps, k)
        if rm is None:
            result.append(rmap.EMPTY)
            continue
        moved = (
            len(shape) < np.ndim(o)
            and len(shape) >= 1
            and np.shape(o)[0] == 1
            and (len(shape) == 1 or np.shape(o)[0] != shape[0])
        )
        result.append(rmap.collapse(rm, "atleast_nd") if moved else rm)
    return (result if isinstance(out, tuple | list) else result[0]), set(maps)


@implements(np.flip)
def _flip(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    axes = _axes(_arg(args, kwargs, 1, "axis"), len(shape))
    if axes is None or 0 in axes:
        return rmap.take(rm, slice(None, None, -1)), {0}
    return rm, {0}


@implements(np.flipud)
def _flipud(out, args, kwargs, maps):
    rm, _ = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    return rmap.take(rm, slice(None, None, -1)), {0}


@implements(np.fliplr)
def _fliplr(out, args, kwargs, maps):
    rm, _ = _first(maps)
    return (rmap.EMPTY if rm is None else rm), {0}


@implements(np.roll)
def _roll(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    shift = _arg(args, kwargs, 1, "shift")
    axis = _arg(args, kwargs, 2, "axis")
    if axis is None:
        if len(shape) == 1:
            return rmap.take(rm, np.roll(np.arange(shape[0]), shift)), {0}
        return rmap.collapse(rm, "roll"), {0}
    shifts = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    total = sum(
        int(s)
        for s, a in zip(shifts[0].ravel(), shifts[1].ravel())
        if operator.index(a) % len(shape) == 0
    )
    if total == 0:
        return rm, {0}
    return rmap.take(rm, np.roll(np.arange(shape[0]), total)), {0}


@implements(np.repeat)
def _repeat(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    repeats = _arg(args, kwargs, 1, "repeats")
    axis = _arg(args, kwargs, 2, "axis")
    if axis is None:
        flat = positions(shape).ravel() if shape else np.zeros(1, np.int64)
        return rmap.from_positions(rm, np.repeat(flat, repeats)), {0}
    if operator.index(axis) % max(len(shape), 1) == 0:
        return rmap.repeat_rows(rm, repeats), {0}
    return rm, {0}


@implements(np.tile)
def _tile(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    reps = tuple(np.atleast_1d(_arg(args, kwargs, 1, "reps")).tolist())
    if len(reps) > len(shape):
        return rmap.collapse(rm, "tile"), {0}
    r0 = reps[0] if len(reps) == len(shape) else 1
    if r0 == 1 or rm.n is None:
        return rm, {0}
    return rmap.take(rm, np.tile(np.arange(shape[0]), r0)), {0}


@implements(np.take)
def _take(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    indices = _arg(args, kwargs, 1, "indices")
    axis = _arg(args, kwargs, 2, "axis")
    mode = _arg(args, kwargs, 4, "mode", "raise")
    if axis is None:
        flat = positions(shape).ravel() if shape else np.zeros(1, np.int64)
        return rmap.from_positions(rm, np.take(flat, indices, mode=mode)), {0}
    if operator.index(axis) % max(len(shape), 1) != 0:
        return rm, {0}
    rows = np.take(np.arange(shape[0]), indices, mode=mode)
    if rows.ndim == 1:
        return rmap.take(rm, rows), {0}
    return rmap.from_positions(rm, rows), {0}


@implements(np.take_along_axis)
def _take_along_axis(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    indices = _arg(args, kwargs, 1, "indices")
    axis = _arg(args, kwargs, 2, "axis", -1)
    if axis is None:
        return rmap.from_positions(rm, positions(shape).ravel()[np.asarray(indices).ravel()]), {0}
    if operator.index(axis) % len(shape) == 0:
        pos = np.take_along_axis(np.ascontiguousarray(positions(shape)), indices, axis)
        return rmap.from_positions(rm, pos), {0}
    return rmap.elementwise([(rm, shape)], np.shape(out), "take_along_axis"), {0}


@implements(np.compress)
def _compress(out, args, kwargs, maps):
    rm, shape = maps.get(1, maps.get("a", (None, None)))
    if rm is None:
        return rmap.EMPTY, set()
    condition = np.asarray(_arg(args, kwargs, 0, "condition"), bool)
    axis = _arg(args, kwargs, 2, "axis")
    if axis is None:
        flat = positions(shape).ravel()
        return rmap.from_positions(rm, np.compress(condition, flat)), {1, "a"}
    if operator.index(axis) % len(shape) == 0:
        return rmap.take(rm, np.nonzero(condition)[0]), {1, "a"}
    return rm, {1, "a"}


@implements(np.extract)
def _extract(out, args, kwargs, maps):
    rm, shape = maps.get(1, maps.get("arr", (None, None)))
    if rm is None:
        return rmap.EMPTY, set()
    condition = _arg(args, kwargs, 0, "condition")
    return rmap.from_positions(rm, np.extract(condition, positions(shape))), {1, "arr"}


@implements(np.delete)
def _delete(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    obj = _arg(args, kwargs, 1, "obj")
    axis = _arg(args, kwargs, 2, "axis")
    if axis is None:
        return rmap.from_positions(rm, np.delete(positions(shape).ravel(), obj)), {0}
    if operator.index(axis) % len(shape) == 0:
        return rmap.take(rm, np.delete(np.arange(shape[0]), obj)), {0}
    return rm, {0}


@implements(np.pad)
def _pad(out, args, kwargs, maps):
    rm, shape = _first(maps)
    if rm is None:
        return rmap.EMPTY, set()
    if not shape or rm.n is None:
        return rm, {0}
    width = np.broadcast_to(np.asarray(_arg(args, kwargs, 1, "pad_width")), (len(shape), 2))
    before, after = (int(w) for w in width[0])
    if before == 0 and after == 0:
        return rm, {0}
    mode = _arg(args, kwargs, 2, "mode", "constant")
    if mode in ("constant", "empty"):
        rows = np.pad(np.arange(shape[0]), (before, after), constant_values=-1)
    elif mode in ("edge", "wrap") or (
        mode in ("reflect", "symmetric") and kwargs.get("reflect_type", "even") == "even"
    ):
        rows = np.pad(np.arange(shape[0]), (before, after), mode=mode)
    elif mode in ("reflect", "symmetric") and max(before, after) < shape[0] - 1:
        # "odd": a padded row is 2 * (edge row) - (mirrored row); one mirror deep (a
        # wider pad reflects padded rows again)
        mirrored = np.pad(np.arange(shape[0]), (before, after), mode=mode)
        edge = np.pad(np.arange(shape[0]), (before, after), mode="edge")
        return rmap.from_positions(rm, np.stack([mirrored, edge], axis=1)), {0}
    else:
        return rmap.collapse(rm, "pad"), {0}
    return rmap.from_positions(rm, rows), {0}


# -- combining ----------------------------------------------------------------------------


def _items(args, kwargs, maps):
    seq = _arg(args, kwargs, 0, "arrays")
    return [(maps.get((0, k), (None, None))[0], _shape(a)) for k, a in enumerate(seq)]


def _used(args):
    return {(0, k) for k in range(len(args[0]))} if args else set()


def _concat_rows(items, out_shape, axis, name):
    if axis is None:
        if all(len(s) == 1 for _, s in items):
            axis = 0
        else:
            maps = [rmap.collapse(m, name) for m, _ in items if m is not None]
            return rmap.merge(maps, None) if maps else rmap.EMPTY
    if axis == 0:
        return rmap.concat([(m, s[0]) for m, s in items])
    parts = [(m, s) for m, s in items if m is not None]
    return rmap.elementwise(parts, out_shape, name) if parts else rmap.EMPTY


def _concatenate_fast(arrays, axis=0, *more, **kwargs):
    """``np.concatenate`` of traced and plain arrays along an axis: the common case,
    answered without the general handler; anything else goes to it."""
    if more or kwargs or type(arrays) not in (list, tuple) or type(axis) is not int:
        return _GENERAL[np.concatenate](arrays, axis, *more, **kwargs)
    plain, maps, nodes = [], [], []
    for a in arrays:
        if type(a) is TracedArray:
            plain.append(plain_of(a))  # only read: the result is a new array
            maps.append(rows_of(a))
            nodes.append(node_of(a))
        elif type(a) is np.ndarray:
            plain.append(a)
            maps.append(None)
        else:
            return _GENERAL[np.concatenate](arrays, axis, **kwargs)
    out = np.concatenate(plain, axis)
    mode = _MODE.get()
    if mode == "none":
        return wrap(out, NOT_RECORDED, None)
    if axis % out.ndim == 0:
        rm = rmap.concat([(m, p.shape[0]) for m, p in zip(maps, plain)])
    else:
        parts = [(m, p.shape) for m, p in zip(maps, plain) if m is not None]
        rm = rmap.elementwise(parts, out.shape, "concatenate") if parts else rmap.EMPTY
    params = {"axis": axis}
    node = (
        ("concatenate", tuple(nodes), params, "numpy", rm)
        if mode == "op"
        else record("concatenate", tuple(nodes), params, "numpy", mode)
    )
    return wrap(out, rm, node)


@implements(np.concatenate, _since_numpy_2("concat"))
def _concatenate(out, args, kwargs, maps):
    items = _items(args, kwargs, maps)
    axis = _arg(args, kwargs, 1, "axis", 0)
    if axis is not None:
        axis = operator.index(axis) % out.ndim
    return _concat_rows(items, out.shape, axis, "concatenate"), _used(args)


@implements(np.stack)
def _stack(out, args, kwargs, maps):
    items = _items(args, kwargs, maps)
    axis = operator.index(_arg(args, kwargs, 1, "axis", 0)) % np.ndim(out)
    if axis == 0:
        rows = [(None if m is None else rmap.collapse(m, "stack"), 1) for m, _ in items]
        return rmap.concat(rows), _used(args)
    # the new axis comes after the row axis: each input keeps its rows in place
    parts = [(m, s + (1,)) for m, s in items if m is not None]
    return (rmap.elementwise(parts, np.shape(out), "stack") if parts else rmap.EMPTY), _used(args)


@implements(np.vstack)
def _vstack(out, args, kwargs, maps):
    items = []
    for m, s in _items(args, kwargs, maps):
        if len(s) < 2:
            items.append((None if m is None else rmap.collapse(m, "vstack"), (1,)))
        else:
            items.append((m, s))
    return rmap.concat([(m, s[0]) for m, s in items]), _used(args)


@implements(np.hstack)
def _hstack(out, args, kwargs, maps):
    items = _items(args, kwargs, maps)
    axis = 0 if all(len(s) < 2 for _, s in items) else 1
    if axis == 0:
        items = [(m, s if s else (1,)) for m, s in items]
    return _concat_rows(items, np.shape(out), axis, "hstack"), _used(args)


@implements(np.column_stack)
def _column_stack(out, args, kwargs, maps):
    items = [(m, s if len(s) >= 2 else s + (1,)) for m, s in _items(args, kwargs, maps)]
    return _concat_rows(items, np.shape(out), 1, "column_stack"), _used(args)


@implements(np.dstack)
def _dstack(out, args, kwargs, maps):
    items = []
    for m, s in _items(args, kwargs, maps):
        if m is not None and len(s) < 2:
            m = rmap.collapse(m, "dstack")
        items.append((m, s if len(s) >= 2 else ()))
    parts = [(m, s + (1,) * (3 - len(s)) if s else ()) for m, s in items if m is not None]
    return (rmap.elementwise(parts, np.shape(out), "dstack") if parts else rmap.EMPTY), _used(args)


def _block(arrays):
    """``np.block``: the same block built of row positions (a code per traced input
    row, -1 elsewhere) says which rows each output row holds. Nested lists are walked
    here: the general handler would turn an inner list into one array."""
    mode = _MODE.get()
    blocks, pooled, nodes = [], [], []

    def walk(v):
        if type(v) is list:
            pairs = [walk(item) for item in v]
            return [p for p, _ in pairs], [c for _, c in pairs]
        plain, rm, node = split(v)
        codes = np.full(np.shape(plain), -1, np.int64)
        if rm is not None:
            nodes.extend(node)
            if rm.n is not None and codes.ndim:
                codes = sum(b[1] for b in blocks) + positions(codes.shape)
                blocks.append((rm, codes.shape[0]))
            else:
                pooled.append(rm)
        return plain, codes

    plain, codes = walk(arrays)
    out = np.block(plain)
    if mode == "none":
        return wrap(out, NOT_RECORDED, None)
    rm = rmap.from_positions(rmap.concat(blocks), np.block(codes)) if blocks else rmap.EMPTY
    rm = _pooled(rm, pooled, out, "block")
    return wrap(out, rm, record("block", tuple(nodes), None, "numpy", mode))


HANDLED[np.block] = _block


@implements(np.append)
def _append(out, args, kwargs, maps):
    a, sa = maps.get(0, maps.get("arr", (None, np.shape(_arg(args, kwargs, 0, "arr")))))
    v, sv = maps.get(1, maps.get("values", (None, np.shape(_arg(args, kwargs, 1, "values")))))
    axis = _arg(args, kwargs, 2, "axis")
    items = [(a, sa), (v, sv)]
    if axis is not None:
        axis = operator.index(axis) % np.ndim(out)
    return _concat_rows(items, np.shape(out), axis, "append"), {0, 1, "arr", "values"}


def _splits(out, args, kwargs, maps, axis):
    rm, shape = _first(maps)
    if rm is None:
        return [rmap.EMPTY] * len(out), set()
    axis = operator.index(axis) % max(len(shape), 1)
    if axis != 0 or rm.n is None:
        return [rm] * len(out), {0}
    bounds = np.cumsum([0] + [np.shape(o)[0] for o in out])
    return [rmap.take(rm, slice(int(b), int(e))) for b, e in zip(bounds[:-1], bounds[1:])], {0}


@implements(np.split, np.array_split)
def _split_rule(out, args, kwargs, maps):
    return _splits(out, args, kwargs, maps, _arg(args, kwargs, 2, "axis", 0))


@implements(np.vsplit)
def _vsplit(out, args, kwargs, maps):
    return _splits(out, args, kwargs, maps, 0)


@implements(np.hsplit)
def _hsplit(out, args, kwargs, maps):
    return _splits(out, args, kwargs, maps, 1 if np.ndim(args[0]) > 1 else 0)


@implements(np.dsplit)
def _dsplit(out, args, kwargs, maps):
    return _splits(out, args, kwargs, maps, 2)


# -- products -----------------------------------------------------------------------------


@implements(np.dot)
def _dot(out, args, kwargs, maps):
    a, sa = maps.get(0, (None, np.shape(args[0])))
    b, sb = maps.get(1, (None, np.shape(args[1])))
    if not sa or not sb:
        parts = [(m, s) for m, s in ((a, sa), (b, sb)) if m is not None]
        return rmap.elementwise(parts, np.shape(out), "dot"), {0, 1}
    rows = []
    if a is not None:
        rows.append(a if len(sa) >= 2 else rmap.collapse(a, "dot"))
    if b is not None:
        rows.append(rmap.collapse(b, "dot"))
    if not np.ndim(out) or len(sa) < 2:
        return rmap.merge([rmap.collapse(m, "dot") for m in rows], None), {0, 1}
    n = np.shape(out)[0]
    return rmap.merge([m if m.n is not None else rmap.spread(m, n) for m in rows], n), {0, 1}


@implements(np.inner)
def _inner(out, args, kwargs, maps):
    return _dot(out, args, kwargs, maps)


@implements(np.outer)
def _outer(out, args, kwargs, maps):
    a, sa = maps.get(0, (None, np.shape(args[0])))
    b, _ = maps.get(1, (None, None))
    rows = []
    if a is not None:
        per_row = int(np.prod(sa[1:])) if len(sa) > 1 else 1
        rows.append(rmap.repeat_rows(a, per_row) if a.n is not None else a)
    if b is not None:
        rows.append(rmap.collapse(b, "outer"))
    n = np.shape(out)[0]
    return rmap.merge([m if m.n is not None else rmap.spread(m, n) for m in rows], n), {0, 1}


# -- in place -----------------------------------------------------------------------------


def _write(target, written, value_map, value_aligned, name, nodes, choice=None):
    """New lineage of ``target`` after writing ``value`` at the ``written`` elements.

    ``choice`` is the ``(map, shape)`` of a traced mask that chose the elements (as
    ``np.where``'s condition): every row gains the parents of its mask row, or, when the
    mask is not aligned with the rows (``np.place`` fills in mask order), of every mask row.
    """
    mode = _MODE.get()
    if type(target) is not TracedArray:
        return
    if mode == "none":
        set_rows(target, NOT_RECORDED, None)
        return
    old = rows_of(target)
    node = record(name, (node_of(target), *nodes), None, "numpy", mode)
    if old.n is None or not written.shape:
        new = old
        if value_map is not None:
            whole = rmap.collapse(value_map, name)
            new = whole if written.all() else rmap.merge([old, whole], None)
        if choice is not None:
            new = rmap.merge([new, rmap.collapse(choice[0], name)], None)
        set_rows(target, new, node)
        return
    full, touched = written_rows(written)
    if value_map is None:
        value = rmap.EMPTY
    elif value_aligned:
        value = value_map
    else:
        value = rmap.spread(rmap.collapse(value_map, name), written.shape[0])
    new = rmap.overwrite(old, full, touched, value)
    if choice is not None:
        n = written.shape[0]
        new = rmap.merge([new, rmap.spread(rmap.elementwise([choice], written.shape, name), n)], n)
    set_rows(target, new, node)


def _in_place(func, apply_mask, value_pos, value_name, name, mask=None):
    """An in-place function; ``mask`` is ``(position, keyword, aligned)`` of a boolean
    mask argument that chooses the written elements (aligned: element by element)."""

    def handle(*args, **kwargs):
        target = args[0]
        plain_args, plain_kwargs, maps, nodes = _unwrap(args, kwargs)
        plain_args[0] = _out_plain(target)
        result = func(*plain_args, **plain_kwargs)
        written = np.zeros(np.shape(plain_args[0]), bool)
        apply_mask(written, plain_args, plain_kwargs)
        value = maps.get(value_pos, maps.get(value_name, (None, None)))[0]
        choice = None if mask is None else maps.get(mask[0], maps.get(mask[1]))
        if choice is not None and not mask[2]:
            choice = (rmap.collapse(choice[0], name), ())
        _write(target, written, value, False, name, nodes, choice)
        return result

    return handle


HANDLED[np.put] = _in_place(
    np.put, lambda w, a, k: np.put(w, a[1], True, mode=k.get("mode", "raise")), 2, "v", "put"
)
HANDLED[np.place] = _in_place(
    np.place,
    lambda w, a, k: np.place(w, _arg(a, k, 1, "mask"), True),
    2,
    "vals",
    "place",
    mask=(1, "mask", False),
)
HANDLED[np.putmask] = _in_place(
    np.putmask,
    lambda w, a, k: np.putmask(w, _arg(a, k, 1, "mask"), True),
    2,
    "values",
    "putmask",
    mask=(1, "mask", True),
)
HANDLED[np.fill_diagonal] = _in_place(
    np.fill_diagonal,
    lambda w, a, k: np.fill_diagonal(w, True, wrap=_arg(a, k, 2, "wrap", False)),
    1,
    "val",
    "fill_diagonal",
)
HANDLED[np.put_along_axis] = _in_place(
    np.put_along_axis,
    lambda w, a, k: np.put_along_axis(w, a[1], True, _arg(a, k, 3, "axis")),
    2,
    "values",
    "put_along_axis",
)


def flat_write(target, key, value):
    """``target.flat[key] = value``: NumPy fills the elements in flat order, repeating
    the value when it is shorter, so the value's rows are pooled into the rows written."""
    _, _, maps, nodes = _unwrap((value,), {})
    plain = _out_plain(target)
    plain.flat[key] = split(value)[0]
    written = np.zeros(plain.shape, bool)
    written.flat[key] = True
    _write(target, written, maps.get(0, (None, None))[0], False, "flat", nodes)


def _copyto(dst, src, casting="same_kind", where=True):
    _, _, maps, nodes = _unwrap((dst, src), {"where": where})
    pd_, ps = _out_plain(dst), split(src)[0]
    pw = split(where)[0]
    np.copyto(pd_, ps, casting=casting, where=pw)
    if type(dst) is not TracedArray:
        return
    value, shape = maps.get(1, (None, None))
    written = np.broadcast_to(np.asarray(pw, bool), pd_.shape)
    aligned = (
        value is not None and value.n is not None and len(shape) == pd_.ndim and pd_.ndim >= 1
    )
    if aligned:
        value = value if shape[0] == pd_.shape[0] else rmap.spread(value, pd_.shape[0])
    _write(dst, np.array(written), value, aligned, "copyto", nodes, maps.get("where"))


HANDLED[np.copyto] = _copyto


_GENERAL = {np.concatenate: HANDLED[np.concatenate]}
HANDLED[np.concatenate] = _concatenate_fast


def _swapaxes_same(a, axis1, axis2):
    """``np.swapaxes(a, k, k)`` of a traced array is the array itself, not a new view of
    it: NumPy's ``Generator.shuffle`` writes through ``np.swapaxes(x, 0, axis)``, and its
    writes must update the rows of ``x`` (through a view, they would leave ``x`` stale)."""
    ndim = np.ndim(a)
    if type(a) is TracedArray and ndim:
        a1, a2 = operator.index(axis1), operator.index(axis2)
        if -ndim <= a1 < ndim and -ndim <= a2 < ndim and a1 % ndim == a2 % ndim:
            return a
    return _GENERAL[np.swapaxes](a, axis1, axis2)


_GENERAL[np.swapaxes] = HANDLED[np.swapaxes]
HANDLED[np.swapaxes] = _swapaxes_same


def _nan_to_num_in_place(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """``np.nan_to_num(x, copy=False)`` of a traced array writes into ``x`` and returns it,
    as NumPy does (it was refused: NumPy was given the read-only view). Each element is
    kept or replaced as its own value decides, so every row keeps its parents, and gains
    those of a traced replacement value."""
    if copy or type(x) is not TracedArray:
        return _GENERAL[np.nan_to_num](x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    plain_args, _, maps, nodes = _unwrap((nan, posinf, neginf), {})
    np.nan_to_num(
        writable(x), copy=False, nan=plain_args[0], posinf=plain_args[1], neginf=plain_args[2]
    )
    mode = _MODE.get()
    if mode == "none":
        set_rows(x, NOT_RECORDED, None)
        return x
    old = rows_of(x)
    rm = _pooled(old, [m for m, _ in maps.values()], None, "nan_to_num")
    set_rows(x, rm, record("nan_to_num", (node_of(x), *nodes), {"copy": False}, "numpy", mode))
    return x


_GENERAL[np.nan_to_num] = HANDLED[np.nan_to_num]
HANDLED[np.nan_to_num] = _nan_to_num_in_place
