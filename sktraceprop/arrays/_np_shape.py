"""Row rules of NumPy functions that reshape, reorder, select or pad arrays
(``__array_function__``; see :mod:`._numpy_functions` for the dispatch)."""

import operator

import numpy as np

from . import _rowmap as rmap
from ._array import (
    TracedArray,
)
from ._index import positions, reshaped
from ._numpy_functions import (
    GENERAL,
    HANDLED,
    _arg,
    _axes,
    _first,
    _since_numpy_2,
    implements,
)

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


def _swapaxes_same(a, axis1, axis2):
    """``np.swapaxes(a, k, k)`` of a traced array is the array itself, not a new view of
    it: NumPy's ``Generator.shuffle`` writes through ``np.swapaxes(x, 0, axis)``, and its
    writes must update the rows of ``x`` (through a view, they would leave ``x`` stale)."""
    ndim = np.ndim(a)
    if type(a) is TracedArray and ndim:
        a1, a2 = operator.index(axis1), operator.index(axis2)
        if -ndim <= a1 < ndim and -ndim <= a2 < ndim and a1 % ndim == a2 % ndim:
            return a
    return GENERAL[np.swapaxes](a, axis1, axis2)


GENERAL[np.swapaxes] = HANDLED[np.swapaxes]
HANDLED[np.swapaxes] = _swapaxes_same
