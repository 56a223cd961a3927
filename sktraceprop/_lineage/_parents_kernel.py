"""Row parents of a join, in one compiled pass (see :meth:`._source.Parents.from_positions`)."""

import numpy as np
from numba import njit

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)


@njit(cache=True, nogil=True)
def join_parents(left, right, left_ids, right_ids):
    """``(indptr, ids)``: row ``i``'s parents are ``left_ids[left[i]]`` and
    ``right_ids[right[i]]``, each where the position is not negative.

    A position past the end of its id array raises ``IndexError`` (numba's bounds check is
    off, so it is checked here): a merge result never holds one, and a wrong parent must
    never be written.
    """
    n = left.size
    indptr = np.empty(n + 1, np.int64)
    ids = np.empty(2 * n, np.int64)
    nl, nr = left_ids.size, right_ids.size
    k = 0
    indptr[0] = 0
    for i in range(n):
        a = left[i]
        if a >= 0:
            if a >= nl:
                raise IndexError("a left position is past the end of the left row ids")
            ids[k] = left_ids[a]
            k += 1
        b = right[i]
        if b >= 0:
            if b >= nr:
                raise IndexError("a right position is past the end of the right row ids")
            ids[k] = right_ids[b]
            k += 1
        indptr[i + 1] = k
    return indptr, (ids if k == ids.size else ids[:k].copy())
