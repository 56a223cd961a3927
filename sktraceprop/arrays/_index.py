"""Row maps through NumPy-style indexing and assignment (``x[key]``, ``x[key] = v``).

The common keys (a slice, an integer, an integer or boolean array, a tuple whose first
entry is one of those) are read directly. Every other key is answered exactly by
indexing an array of row positions with the same key: the positions that land in output
row ``j`` are the rows it came from.
"""

import operator

import numpy as np

from . import _pools
from . import _rowmap as rmap

_BASIC_SCALARS = (int, np.integer)


def _kind(item):
    if item is None:
        return "N"
    if item is Ellipsis:
        return "E"
    if isinstance(item, slice):
        return "S"
    if isinstance(item, bool | np.bool_):
        return "X"  # a scalar boolean adds an axis: rare, answered by positions
    if isinstance(item, _BASIC_SCALARS):
        return "I"
    arr = np.asarray(item)
    if arr.dtype == bool:
        return "B" if arr.ndim else "X"
    if arr.dtype.kind in "iu":
        return "A" if arr.ndim else "I"
    return "X"


def positions(shape):
    """Row position of every element of an array of ``shape`` (a broadcast view)."""
    n = shape[0]
    column = np.arange(n, dtype=np.int64).reshape((n,) + (1,) * (len(shape) - 1))
    return np.broadcast_to(column, shape)


def reshaped(rm, plain, out_shape, order="C", via="reshape"):
    """Map after NumPy reads the elements of ``plain`` in ``order`` ("C", "F", or "A"
    and "K", which follow the memory layout) into ``out_shape`` (reshape, ravel)."""
    if rm.n is None or rm.dropped is not None:
        return rm
    shape = plain.shape
    if order in ("A", "K") and len(shape) > 1 and not plain.flags.c_contiguous:
        if plain.flags.f_contiguous:
            order = "F"
        elif order == "K":
            # memory order, neither C nor F (a strided view): an array of row positions
            # with the same layout is read the same way
            pos = np.empty_like(plain, dtype=np.int64)
            pos[...] = positions(shape)
            return rmap.from_positions(rm, pos.ravel("K").reshape(out_shape))
    if order == "F":
        return rmap.from_positions(rm, positions(shape).reshape(out_shape, order="F"))
    return rmap.reshape(rm, shape, out_shape, via)


def _by_positions(rm, key, shape):
    return rmap.from_positions(rm, positions(shape)[key])


def _one_row(item, n):
    """The slice of the row an integer index picks (None when out of range)."""
    k = operator.index(item)
    if k < -n or k >= n:
        return None  # the indexing itself raises; nothing to map
    k = k + n if k < 0 else k
    return slice(k, k + 1)


def _fields(key):
    """True for a field name or a list of them (a structured array's columns)."""
    if isinstance(key, str):
        return True
    return isinstance(key, list) and bool(key) and all(isinstance(k, str) for k in key)


def index_map(rm, key, shape):
    """Map of ``x[key]`` where ``x`` has ``shape`` and map ``rm``."""
    if rm.n is None or rm.dropped is not None or not shape or _fields(key):
        return rm
    n = shape[0]
    items = key if isinstance(key, tuple) else (key,)
    kinds = [_kind(item) for item in items]
    if "X" in kinds:
        return _by_positions(rm, key, shape)
    advanced = [k for k, kind in enumerate(kinds) if kind in "IAB"]
    if "E" in kinds[1:] and len(advanced) > 1:
        return _by_positions(rm, key, shape)
    adjacent = not advanced or advanced == list(range(advanced[0], advanced[-1] + 1))
    if not items:
        return rm
    first = kinds[0]
    if first == "E":
        consumed = sum(
            np.ndim(it) if kd == "B" else 1 for it, kd in zip(items, kinds) if kd in "SIAB"
        )
        if consumed < len(shape):
            # The ellipsis covers the row axis, which stays first unless advanced
            # indices are split up and their broadcast axes move to the front.
            return rm if adjacent else rmap.collapse(rm, "index")
        return index_map(rm, items[1:], shape)
    if first == "N":
        return _by_positions(rm, key, shape)
    if first == "I":
        rows = _one_row(items[0], n)
        return rm if rows is None else rmap.single(rmap.take(rm, rows))
    if first == "S":
        selected = rmap.take(rm, items[0])
        return selected if adjacent or len(advanced) < 2 else rmap.collapse(selected, "index")
    # first is an integer or boolean array: its broadcast axes lead the result.
    others = [items[k] for k in advanced[1:]]
    lead = np.asarray(items[0])
    lead = lead.nonzero()[0] if first == "B" else lead
    arrays = [lead] + [
        _advanced_arrays(it, kd) for it, kd in ((items[k], kinds[k]) for k in advanced[1:])
    ]
    try:
        shapes = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    except ValueError:
        return rm  # the indexing itself raises
    if len(shapes) != 1 or (first == "B" and np.ndim(items[0]) > 1 and others):
        return _by_positions(rm, key, shape)
    rows = np.broadcast_to(lead, shapes)
    return rmap.take(rm, rows)


def _advanced_arrays(item, kind):
    arr = np.asarray(item)
    if kind == "B":
        return arr.nonzero()[0]
    return arr


def assign_map(rm, key, shape, value, value_shape, via="setitem", keep=False):
    """Map of ``x`` after ``x[key] = v`` (``value``: map of ``v``, EMPTY when untraced).

    Rows overwritten entirely take the parents of what was written; rows written in
    part keep theirs and gain those of the value. ``keep``: the key was computed from
    traced data (``x[np.isnan(x)] = 0``), which decided what each row now holds, so
    every row keeps its parents (an all-NaN row imputed with a constant is still the
    row it was, never a row of no source).
    """
    if rm.dropped is not None:
        return rm
    if value.dropped is not None:
        return value
    if _fields(key):
        # some fields of every element: each row keeps its parents and gains the value's
        new = assign_map(rm, Ellipsis, shape, value, value_shape, via, keep)
        return rmap.merge([rm, new], rm.n) if rm.n == new.n else new
    written = np.zeros(shape, bool)
    written[key] = True
    rm = rmap.written_map(rm, shape)
    if rm.n is None or not shape:
        whole = written.all() and not keep
        if value is rmap.EMPTY:
            return rmap.EMPTY if whole else rm
        collapsed = rmap.collapse(value, via)
        return collapsed if whole else rmap.merge([rm, collapsed], None)
    n = shape[0]
    full, touched = written_rows(written)
    if keep:
        full = np.zeros_like(full)
    if value is rmap.EMPTY or (not value.ids and not value.pools):
        return rmap.overwrite(rm, full, touched, rmap.EMPTY)
    part = None
    selection = positions(shape)[key]  # the row each written element is in
    if (
        value.n is not None
        and len(value_shape) == selection.ndim >= 1
        and selection.size == np.count_nonzero(written)
        and selection.size
    ):
        # no element written twice (which write wins is unspecified): pair each written
        # element's row with the value row NumPy broadcast into it (the value's row axis
        # meets the selection's first axis)
        m = selection.shape[0]
        rows = selection.reshape(m, -1)
        from_rows = np.arange(m) if value_shape[0] == m else np.zeros(m, np.int64)
        if rows.shape[1] and (rows == rows[:, :1]).all():
            rows = rows[:, 0]  # each selected row lies in one row: one pair per row
        else:
            from_rows = np.broadcast_to(from_rows[:, None], rows.shape)
        part = _written_from(value, rows, from_rows, n)
    if part is None:
        part = rmap.spread(rmap.collapse(value, via), n)
    return rmap.overwrite(rm, full, touched, part)


def _written_from(value, rows, value_rows, n, most=64):
    """Map of ``n`` rows whose row ``r`` holds the value rows paired with ``r`` (element
    by element: ``rows`` and ``value_rows`` have one entry per written element); None
    when a row holds more than ``most`` value rows (the caller pools them)."""
    target = rows.ravel()
    source = value_rows.ravel()
    step = np.diff(target)
    if (step > 0).all() or (step < 0).all():
        return _scatter(value, target, source, n)  # one value row per row (a slice, a mask)
    order = np.lexsort((source, target))
    target, source = target[order], source[order]
    new = np.ones(len(target), bool)
    new[1:] = (target[1:] != target[:-1]) | (source[1:] != source[:-1])
    target, source = target[new], source[new]
    first = np.ones(len(target), bool)
    first[1:] = target[1:] != target[:-1]
    rank = np.arange(len(target)) - np.maximum.accumulate(
        np.where(first, np.arange(len(target)), 0)
    )
    width = int(rank.max()) + 1 if len(rank) else 1
    if width > most:
        return None
    pos = np.full((n, width), -1, np.int64)
    pos[target, rank] = source
    return rmap.from_positions(value, pos)


def _scatter(value, target, source, n):
    """Value row ``source[j]`` placed at row ``target[j]`` (``target`` without repeats)."""
    value = rmap.take(value, source)
    ids = []
    for s in value.ids:
        slot = np.zeros(n, np.int64)
        slot[target] = s
        ids.append(slot)
    pools = []
    for p, mask in value.pools:
        where = np.zeros(n, bool)
        where[target] = True if mask is None else _pools.full(mask, len(target))
        pools.append((p, where))
    rows = np.full(n, -1, np.int64)
    rows[target] = np.arange(len(target))
    return rmap.RowMap(tuple(ids), tuple(pools), n, None, ("gather", value, rows))


def written_rows(written):
    """``(full, touched)`` rows of a boolean mask of written elements (first axis = rows)."""
    per_row = written.reshape(written.shape[0], -1) if written.size else written[:, :0]
    touched = per_row.any(axis=1)
    return per_row.all(axis=1) & touched, touched
