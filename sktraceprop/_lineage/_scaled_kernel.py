"""Numba kernel behind :func:`._scaled_fit._fit`'s first stage (arrays in, arrays out).

Every scaling ``a * c + b`` made from a low and a high value of each column, scored
on a few loaded values: how many land, within rounding, on a value of the column. The
arithmetic is NumPy's, operation by operation (no fused or reordered operations: numba
compiles without ``fastmath``), and the candidates come in the order of
``np.meshgrid(cs[:n_c], xs[:n_x], cs[-n_c:], xs[-n_x:])`` raveled, so the scores equal
those of the NumPy code this replaced (checked in ``tests/_lineage/test_scaled_fast.py``)
and ties are broken alike. It replaced one ``searchsorted`` per candidate and probe
made through temporaries of up to 4096 x 16 values, which was most of a fit's cost
on data without row ids.
"""

import numpy as np
from numba import njit

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)


@njit(cache=True, nogil=True)
def _table(xs):
    """Where to start looking for a value in the distinct, sorted ``xs``: ``first[k]``
    is the first position whose value is not below the ``k``-th of ``4 * xs.size``
    even steps from ``xs[0]`` (a hint only: :func:`_nearest_distance` corrects it)."""
    size = 4 * xs.size
    width = (xs[-1] - xs[0]) / size
    first = np.empty(size + 1, np.int64)
    j = 0
    for k in range(size + 1):
        edge = xs[0] + k * width
        while j < xs.size and xs[j] < edge:
            j += 1
        first[k] = j
    return first, width


@njit(cache=True, nogil=True)
def _nearest_distance(xs, first, width, wanted):
    """``_scaled_fit._nearest``'s distance for one value: ``np.searchsorted`` left (found
    from the table's hint, then stepped to exactly that position), clipped to
    ``[1, size - 1]``, the left neighbour on a tie."""
    n = xs.size
    if wanted <= xs[0]:
        lo = 0
    elif wanted > xs[-1]:
        lo = n
    else:
        step = (wanted - xs[0]) / width
        k = int(step) if step < first.size - 1 else first.size - 1
        lo = first[k]
        while lo < n and xs[lo] < wanted:
            lo += 1
        while lo > 0 and xs[lo - 1] >= wanted:
            lo -= 1
    pos = min(max(lo, 1), n - 1)
    left = abs(wanted - xs[pos - 1])
    right = abs(wanted - xs[pos])
    return left if left <= right else right


@njit(cache=True, nogil=True)
def probe_scores(xs, cs, n_c, n_x, probe, eps, cs_max, xs_max):
    """``(a, b, score)`` of every candidate scaling with ``a > 0`` and both finite, in
    ``np.meshgrid`` order; ``score``: the probes mapped within rounding of a value of
    ``xs`` (``cs_max``, ``xs_max``: the largest magnitudes of ``cs`` and ``xs``)."""
    first, width = _table(xs)
    total = n_x * n_c * n_c * n_x
    a_out = np.empty(total, np.float64)
    b_out = np.empty(total, np.float64)
    score = np.empty(total, np.int64)
    k = 0
    for i in range(n_x):
        x1 = xs[i]
        for j in range(n_c):
            c1 = cs[j]
            for m in range(n_c):
                c2 = cs[cs.size - n_c + m]
                for q in range(n_x):
                    x2 = xs[xs.size - n_x + q]
                    a = (x2 - x1) / (c2 - c1)
                    b = x1 - a * c1
                    if not (np.isfinite(a) and np.isfinite(b) and a > 0):
                        continue
                    scale = max(abs(a) * cs_max, abs(b))
                    tol = 64 * eps * max(scale, xs_max)
                    hits = 0
                    for p in probe:
                        if _nearest_distance(xs, first, width, a * p + b) <= tol:
                            hits += 1
                    a_out[k], b_out[k], score[k] = a, b, hits
                    k += 1
    return a_out[:k], b_out[:k], score[:k]


@njit(cache=True, nogil=True)
def hits_of(xs, values, a, b, eps, cs_max, xs_max):
    """For each scaling ``(a[i], b[i])``: how many of ``values`` it maps within rounding
    of a value of ``xs`` (``_scaled_fit._fit``'s count over every loaded value)."""
    first, width = _table(xs)
    out = np.empty(a.size, np.int64)
    for i in range(a.size):
        scale = max(abs(a[i]) * cs_max, abs(b[i]))
        tol = 64 * eps * max(scale, xs_max)
        hits = 0
        for v in values:
            if _nearest_distance(xs, first, width, a[i] * v + b[i]) <= tol:
                hits += 1
        out[i] = hits
    return out
