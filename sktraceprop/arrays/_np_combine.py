"""Row rules of NumPy functions that join, split or multiply arrays
(``__array_function__``; see :mod:`._numpy_functions` for the dispatch)."""

import operator

import numpy as np

from . import _rowmap as rmap
from ._array import (
    TracedArray,
    node_of,
    plain_of,
    rows_of,
    split,
    wrap,
)
from ._graph import _MODE, NOT_RECORDED, record
from ._index import positions
from ._numpy_functions import (
    GENERAL,
    HANDLED,
    _arg,
    _first,
    _pooled,
    _shape,
    _since_numpy_2,
    implements,
)

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
        return GENERAL[np.concatenate](arrays, axis, *more, **kwargs)
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
            return GENERAL[np.concatenate](arrays, axis, **kwargs)
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


GENERAL[np.concatenate] = HANDLED[np.concatenate]
HANDLED[np.concatenate] = _concatenate_fast
