"""Row maps of operations that select, stack or rearrange rows (a part of :mod:`._rowmap`).

Indexing (:func:`take`), concatenation (:func:`concat`), repetition and grouping of
rows, a reshape that moves elements between rows (:func:`reshape`), an output row made
of given input rows (:func:`from_positions`), and an in-place write (:func:`overwrite`).
Read through :mod:`._rowmap` (``rmap.take``), which imports this module once its own
names are defined.
"""

import numpy as np

from ._pools import full as full_mask
from ._pools import live_pools, stacked_pools
from ._rowmap import EMPTY, NOTHING, Deferred, RowMap
from ._rowmap_combine import collapse, merge, single, spread


def take(rm, key):
    """Rows ``key`` (slice, integer array, boolean mask) of a rowed map.

    For a 1-D index array (copied: the caller's array may change later) or a slice of a
    map not made yet, the rows are gathered when first read (:class:`Deferred`).
    """
    if rm.n is None or rm.dropped is not None:
        return rm
    if type(key) is np.ndarray:
        # the origin keeps the index: a copy, the caller's array may change later
        where = key.copy()
        if where.ndim == 1 and where.dtype.kind in "biu":
            n = int(np.count_nonzero(where)) if where.dtype.kind == "b" else where.size
            return Deferred(lambda: _taken(rm, where), n, ("take", rm, where), (rm,))
    else:
        where = key
        if type(key) is slice and type(rm) is Deferred and not rm.made:
            n = len(range(rm.n)[key])
            return Deferred(lambda: _taken(rm, key), n, ("take", rm, key), (rm,))
    ids, pools = _taken(rm, where)
    n = len(ids[0]) if ids else count(rm.n, key)
    return RowMap(ids, pools, n, None, ("take", rm, where))


def _taken(rm, key):
    """``(ids, pools)`` of rows ``key`` of ``rm``.

    A pooled input that applies to none of the rows taken is left out: it is behind no
    row of the result (see :func:`live_pools`).
    """
    ids = tuple([s[key] for s in rm.ids])
    return ids, (live_pools(rm.pools, key, rm.n) if rm.pools else ())


def count(n, key):
    """Number of rows that ``key`` selects out of ``n``."""
    if isinstance(key, slice):
        return len(range(n)[key])
    key = np.asarray(key)
    return int(np.count_nonzero(key)) if key.dtype == bool else int(key.size)


def concat(parts):
    """Map of blocks ``(map, n_rows)`` stacked along the row axis (None: untraced block).

    The stacked ids are made when first read (:class:`Deferred`): the blocks' maps are
    kept (the origin names them anyway), not a new int64 per row.
    """
    blocks, sizes = [], []
    total = 0
    for rm, n in parts:
        if rm is None:
            rm = EMPTY
        if rm.dropped is not None:
            return rm
        if rm.n != n:
            rm = spread(rm, n)
        blocks.append(rm)
        sizes.append(n)
        total += n
    if len(blocks) == 1:
        return blocks[0]
    at, start = [], 0
    for b, size in zip(blocks, sizes):
        at.append((b, start, start + size))
        start += size
    origin = ("concat", tuple(at))
    return Deferred(lambda: _stacked(blocks, sizes, total), total, origin, blocks)


def _stacked(blocks, sizes, total):
    """``(ids, pools)`` of ``blocks`` of ``sizes`` rows stacked (``total`` rows)."""
    k = max(len(b.ids) for b in blocks)
    if all(len(b.ids) == k for b in blocks):
        ids = tuple([np.concatenate([b.ids[j] for b in blocks]) for j in range(k)])
    else:
        # a block with fewer slots has no parent (0) in the others
        ids = tuple(
            [
                np.concatenate(
                    [
                        b.ids[j] if j < len(b.ids) else np.zeros(size, np.int64)
                        for b, size in zip(blocks, sizes)
                    ]
                )
                for j in range(k)
            ]
        )
    return ids, stacked_pools(blocks, sizes)


def repeat_rows(rm, repeats):
    """Each row repeated ``repeats`` times (an int or one count per row)."""
    if rm.n is None or rm.dropped is not None:
        return rm
    ids = tuple(np.repeat(s, repeats) for s in rm.ids)
    pools = tuple(
        (p, None if m is None else np.repeat(full_mask(m, rm.n), repeats)) for p, m in rm.pools
    )
    n = int(np.sum(np.broadcast_to(repeats, (rm.n,)))) if rm.n else 0
    where = repeats.copy() if isinstance(repeats, np.ndarray) else repeats
    return RowMap(ids, pools, n, None, ("repeat", rm, where))


def group_rows(rm, size):
    """Consecutive groups of ``size`` rows become one row (a C-order reshape)."""
    if rm.n is None or rm.dropped is not None:
        return rm
    n = rm.n // size
    ids = tuple(s.reshape(n, size)[:, j] for s in rm.ids for j in range(size))
    pools = tuple(
        (p, None if m is None else full_mask(m, rm.n)[: n * size].reshape(n, size).any(axis=1))
        for p, m in rm.pools
    )
    return merge([RowMap(ids, pools, n, None, ("group", rm, size))], n)


def reshape(rm, old_shape, new_shape, via="reshape"):
    """Map after a C-order reshape from ``old_shape`` to ``new_shape``."""
    if rm.n is None or rm.dropped is not None:
        return rm
    if not new_shape:
        return single(rm) if rm.n == 1 else collapse(rm, via)
    if not old_shape:
        return spread(rm, new_shape[0])
    n_old, n_new = old_shape[0], new_shape[0]
    per_old = _prod(old_shape[1:])
    per_new = _prod(new_shape[1:])
    if per_old == per_new:
        return rm
    if n_old == 0 or n_new == 0:
        return RowMap(tuple(s[:0] for s in rm.ids), (), 0, None, NOTHING) if n_new == 0 else rm
    if per_old % per_new == 0:
        return repeat_rows(rm, per_old // per_new)
    if per_new % per_old == 0:
        return group_rows(rm, per_new // per_old)
    # Output row j holds elements [j * per_new, (j + 1) * per_new): input rows first..last.
    j = np.arange(n_new, dtype=np.int64)
    first = j * per_new // per_old
    last = ((j + 1) * per_new - 1) // per_old
    width = int((last - first).max()) + 1
    pos = first[:, None] + np.arange(width)[None, :]
    pos = np.where(pos <= last[:, None], pos, -1)
    return from_positions(rm, pos)


def _prod(shape):
    out = 1
    for s in shape:
        out *= int(s)
    return out


def from_positions(rm, pos):
    """Map of an output whose row ``j`` holds the input rows ``pos[j]`` (``-1``: none).

    ``pos`` has one leading axis per output row and any trailing shape; a 0-d ``pos``
    describes a collapsed output made of one row.
    """
    if rm.dropped is not None:
        return rm
    if rm.n is None:
        return rm
    pos = np.asarray(pos, dtype=np.int64)
    if pos.ndim == 0:
        return single(take(rm, pos.reshape(1))) if pos >= 0 else EMPTY
    m = pos.shape[0]
    if m == 0:
        return take(rm, np.zeros(0, np.int64))  # no rows (``x[[]]``)
    flat = pos.reshape(m, -1)
    if flat.shape[1] == 0:
        return RowMap(tuple(np.zeros(m, np.int64) for _ in rm.ids), (), m, None, NOTHING)
    flat = np.sort(flat, axis=1)
    keep = np.ones(flat.shape, bool)
    keep[:, 1:] = flat[:, 1:] != flat[:, :-1]
    keep &= flat >= 0
    width = int(keep.sum(axis=1).max()) if m else 0
    if width <= 1:
        row = np.where(keep.any(axis=1), flat.max(axis=1), -1)
        return _gather(rm, row)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :width]
    cols = np.take_along_axis(np.where(keep, flat, -1), order, axis=1)
    return merge([_gather(rm, cols[:, k]) for k in range(width)], m)


def _gather(rm, rows):
    """Rows ``rows`` of ``rm`` (``-1``: no parent)."""
    present = rows >= 0
    safe = np.where(present, rows, 0)
    if present.all():
        return take(rm, safe)
    if not present.any():  # (``rm`` may have no rows to index)
        none = np.zeros(len(rows), bool)
        ids = tuple(np.zeros(len(rows), np.int64) for _ in rm.ids)
        return RowMap(ids, tuple((p, none) for p, _ in rm.pools), len(rows), None, NOTHING)
    ids = tuple(np.where(present, s[safe], 0) for s in rm.ids)
    pools = tuple(
        (p, present if m is None else (full_mask(m, rm.n)[safe] & present)) for p, m in rm.pools
    )
    return RowMap(ids, pools, len(rows), None, ("gather", rm, rows))


def overwrite(rm, full, touched, value):
    """Map after an in-place write.

    Parameters
    ----------
    rm : RowMap
        Rowed map before the write.
    full, touched : ndarray of bool of shape (n,)
        Rows overwritten entirely, and rows written at all.
    value : RowMap
        Rowed map (``n`` rows) of what was written, meaningful on ``touched`` rows only.
    """
    if rm.dropped is not None:
        return rm
    if value.dropped is not None:
        return value
    n = rm.n
    kept = rm
    origin = ("overwrite", rm, full, touched, value)
    if full.any():
        keep = ~full
        ids = tuple(np.where(keep, s, 0) for s in rm.ids)
        pools = tuple((p, keep if m is None else (full_mask(m, n) & keep)) for p, m in rm.pools)
        kept = RowMap(ids, pools, n, None, origin)
    if value is EMPTY or (not value.ids and not value.pools):
        return kept
    ids = tuple(np.where(touched, s, 0) for s in value.ids)
    pools = tuple(
        (p, touched if m is None else (full_mask(m, n) & touched)) for p, m in value.pools
    )
    out = merge([kept, RowMap(ids, pools, n)], n)
    out.origin = origin
    return out
