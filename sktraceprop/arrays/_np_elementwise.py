"""Row rules of NumPy reductions and element-wise functions (``__array_function__``).

A reduction over rows makes every output row depend on every input row; an element-wise
function keeps each row's parents (see :mod:`._numpy_functions` for the dispatch)."""

import operator

import numpy as np

from . import _rowmap as rmap
from ._array import (
    TracedArray,
    node_of,
    rows_of,
    set_rows,
    writable,
)
from ._graph import _MODE, NOT_RECORDED, record
from ._numpy_functions import (
    GENERAL,
    HANDLED,
    _arg,
    _axes,
    _first,
    _pooled,
    _unwrap,
    implements,
)
from ._reductions import reduce_map

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


def _nan_to_num_in_place(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """``np.nan_to_num(x, copy=False)`` of a traced array writes into ``x`` and returns it,
    as NumPy does (it was refused: NumPy was given the read-only view). Each element is
    kept or replaced as its own value decides, so every row keeps its parents, and gains
    those of a traced replacement value."""
    if copy or type(x) is not TracedArray:
        return GENERAL[np.nan_to_num](x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
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


GENERAL[np.nan_to_num] = HANDLED[np.nan_to_num]
HANDLED[np.nan_to_num] = _nan_to_num_in_place
