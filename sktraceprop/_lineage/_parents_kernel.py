"""Row parents of a join, and the parents of given rows, each in one compiled pass (see
:meth:`._source.Parents.from_positions` and :meth:`._source.Parents.of`)."""

import numpy as np
from numba import njit

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)


@njit(cache=True, nogil=True, inline="always")
def _put(ids, k, side_ids, position):
    """Write ``side_ids[position]`` at ``ids[k]`` unless the position is negative (no
    row on that side); return the next free index. numba's bounds check is off, so a
    position past the end is refused here: a wrong parent must never be written."""
    if position < 0:
        return k
    if position >= side_ids.size:
        raise IndexError("a merge position is past the end of its side's row ids")
    ids[k] = side_ids[position]
    return k + 1


@njit(cache=True, nogil=True)
def join_parents(left, right, left_ids, right_ids):
    """``(indptr, ids)``: row ``i``'s parents are ``left_ids[left[i]]`` and
    ``right_ids[right[i]]``, each where the position is not negative."""
    n = left.size
    indptr = np.empty(n + 1, np.int64)
    ids = np.empty(2 * n, np.int64)
    k = 0
    indptr[0] = 0
    for i in range(n):
        k = _put(ids, k, left_ids, left[i])
        k = _put(ids, k, right_ids, right[i])
        indptr[i + 1] = k
    return indptr, (ids if k == ids.size else ids[:k].copy())


@njit(cache=True, nogil=True)
def parents_of(indptr, ids, rows):
    """``(which, parent_ids)``: the parents of row ``rows[i]`` are
    ``ids[indptr[rows[i]]:indptr[rows[i] + 1]]``, each listed with ``which = i``, in
    order. A row outside ``0 .. indptr.size - 2``, or offsets outside ``ids``, raise
    (numba's bounds check is off: nothing may be read past an array)."""
    n_rows = indptr.size - 1
    total = 0
    for i in range(rows.size):
        r = rows[i]
        if r < 0 or r >= n_rows:
            raise IndexError("a row is outside the derived source's rows")
        if indptr[r] < 0 or indptr[r] > indptr[r + 1] or indptr[r + 1] > ids.size:
            raise IndexError("parent offsets are inconsistent with the parent ids")
        total += indptr[r + 1] - indptr[r]
    which = np.empty(total, np.int64)
    out = np.empty(total, np.int64)
    k = 0
    for i in range(rows.size):
        r = rows[i]
        for j in range(indptr[r], indptr[r + 1]):
            which[k] = i
            out[k] = ids[j]
            k += 1
    return which, out


@njit(cache=True, nogil=True)
def rows_by_source(pos, codes, sources, n_rows):
    """``out[j, r]``: row ``r`` has a leaf of source ``sources[j]`` (leaf ``t`` of row
    ``pos[t]`` has code ``codes[t]``), in one pass over the leaves. A position outside
    ``0 .. n_rows - 1`` or a code not in ``sources`` raises (numba's bounds check is
    off: nothing may be written past the array)."""
    out = np.zeros((sources.size, n_rows), np.bool_)
    for t in range(pos.size):
        r = pos[t]
        if r < 0 or r >= n_rows:
            raise IndexError("a leaf's row is outside the rows")
        j = 0
        while j < sources.size and sources[j] != codes[t]:
            j += 1
        if j == sources.size:
            raise IndexError("a leaf's source is not among the sources")
        out[j, r] = True
    return out
