"""Numba kernels for exact KNN-Shapley values (imported lazily: compiling is not free).

The kernels take a block of distances (one row per validation point) and arrays to
fill; choosing the metric, the block size and the thread count is the caller's job.
"""

import numba
import numpy as np
from numba import prange

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)
from ._regression_ties import regression_ties

_DIGIT_BITS = 11
_N_BUCKETS = 1 << _DIGIT_BITS
_TOP_BIT = 31  # three digits from bit 31 sort the top 33 bits; three from bit 0 the rest
_SHORT_RUN = 32  # runs equal in the top bits up to this long are sorted by insertion
_SIGN = np.uint64(1 << 63)
_TINY = np.finfo(np.float64).tiny


@numba.njit(cache=True, nogil=True)
def _sortable_keys(row, keys):
    """Map floats to unsigned integers with the same order (+0.0 and -0.0 alike)."""
    bits = row.view(np.uint64)
    for j in range(row.shape[0]):
        if row[j] == 0.0:
            keys[j] = _SIGN
        elif bits[j] & _SIGN:
            keys[j] = ~bits[j]
        else:
            keys[j] = bits[j] | _SIGN


@numba.njit(cache=True, nogil=True)
def _radix_passes(keys, order, keys_tmp, order_tmp, lo, hi, s0, s1, s2):
    """Three stable LSD radix passes over ``keys[lo:hi]``, on the 11-bit digits at bit
    offsets ``s0 < s1 < s2``, carrying ``order`` along; the sorted keys and their order
    end in ``keys`` and ``order``. A pass whose digit is the same for every key is
    skipped."""
    n = hi - lo
    mask = np.uint64(_N_BUCKETS - 1)
    shifts = (np.uint64(s0), np.uint64(s1), np.uint64(s2))
    hist = np.zeros((3, _N_BUCKETS), np.int64)
    for i in range(lo, hi):
        k = keys[i]
        hist[0, (k >> shifts[0]) & mask] += 1
        hist[1, (k >> shifts[1]) & mask] += 1
        hist[2, (k >> shifts[2]) & mask] += 1
    src_k, src_o, dst_k, dst_o = keys, order, keys_tmp, order_tmp
    swapped = False
    for p in range(3):
        h = hist[p]
        shift = shifts[p]
        if h[(src_k[lo] >> shift) & mask] == n:
            continue
        start = lo
        for b in range(_N_BUCKETS):
            count = h[b]
            h[b] = start
            start += count
        for i in range(lo, hi):
            k = src_k[i]
            b = (k >> shift) & mask
            dst_k[h[b]] = k
            dst_o[h[b]] = src_o[i]
            h[b] += 1
        src_k, dst_k = dst_k, src_k
        src_o, dst_o = dst_o, src_o
        swapped = not swapped
    if swapped:
        for i in range(lo, hi):
            keys[i] = src_k[i]
            order[i] = src_o[i]


@numba.njit(cache=True, nogil=True)
def _stable_argsort(keys, order, keys_tmp, order_tmp):
    """Stable argsort of ``keys`` into ``order``; equal keys keep index order, and
    ``keys`` ends sorted.

    Radix passes on the top 33 bits first (sign, exponent and 21 bits of mantissa of
    the distances the keys come from: most keys differ there); then each run of keys
    equal in those bits is put in order by the low 33 bits, by insertion for a short
    run and by three more radix passes for a long one. Both keep equal keys in the
    order the stable passes left them, index order.
    """
    n = keys.shape[0]
    for i in range(n):
        order[i] = i
    if n < 2:
        return
    _radix_passes(keys, order, keys_tmp, order_tmp, 0, n, _TOP_BIT, _TOP_BIT + 11, _TOP_BIT + 22)
    top_shift = np.uint64(_TOP_BIT)
    start = 0
    while start < n:
        top = keys[start] >> top_shift
        end = start + 1
        while end < n and (keys[end] >> top_shift) == top:
            end += 1
        if end - start > _SHORT_RUN:
            _radix_passes(keys, order, keys_tmp, order_tmp, start, end, 0, 11, 22)
        elif end - start > 1:
            for i in range(start + 1, end):
                k = keys[i]
                o = order[i]
                j = i - 1
                while j >= start and keys[j] > k:
                    keys[j + 1] = keys[j]
                    order[j + 1] = order[j]
                    j -= 1
                keys[j + 1] = k
                order[j + 1] = o
        start = end


@numba.njit(cache=True, nogil=True)
def _classification_row(order, y_train, label, k, out):
    """Jia et al. (2019), Theorem 1, from the farthest point inwards.

    s_N = 1[y_N = y] / max(N, K),  s_i = s_{i+1} + (1[y_i = y] - 1[y_{i+1} = y]) / max(K, i).
    """
    n = order.shape[0]
    far = order[n - 1]
    match_next = 1.0 if y_train[far] == label else 0.0
    v = match_next / max(n, k)
    out[far] = v
    for i in range(n - 1, 0, -1):
        j = order[i - 1]
        match = 1.0 if y_train[j] == label else 0.0
        v += (match - match_next) / max(k, i)
        out[j] = v
        match_next = match
    hits = 0.0
    for i in range(min(k, n)):
        if y_train[order[i]] == label:
            hits += 1.0
    return hits / k


@numba.njit(cache=True, nogil=True)
def _share(k, m):
    """Shapley weight that a row with m closer rivals is among the K-1 nearest of S."""
    top = min(k - 1, m + 1)
    return top * (top + 1) / (2.0 * (m + 1) * (m + 2))


@numba.njit(cache=True, nogil=True)
def _regression_row(order, y_train, target, k, out, prefix):
    """The regression utility U(S) = -(sum of the K nearest y in S / K - t)^2.

    For adjacent ranks i, i+1 the marginal gains differ only on subsets S with fewer
    than K rows closer than i, where both rows enter the neighbours beside the same K-1
    nearest rows of S (sum B): U(S+i) - U(S+i+1) = (y_{i+1} - y_i)/K * ((2B + y_i +
    y_{i+1})/K - 2t). That is linear in B, and the Shapley weight of row j being among
    those K-1 is _share(K, i-2) for every j closer than i and _share(K, j-3) for every
    j farther than i+1 (ranks 1-based), hence one pass with prefix and suffix sums.
    """
    n = order.shape[0]
    acc = 0.0
    for i in range(n):
        prefix[i] = acc  # sum of y over ranks 1..i (0-based: rows before position i)
        acc += y_train[order[i]]
    near = min(k, n)
    far = order[n - 1]
    y_far = y_train[far]
    mean_others = prefix[n - 1] / (n - 1) if n > 1 else 0.0
    v = -(y_far / (n * k)) * (
        near * (near - 1) * mean_others / k + near * (y_far / k - 2 * target)
    )
    out[far] = v
    beyond = 0.0  # sum over ranks r >= i + 2 of _share(K, r - 3) * y_r
    for i in range(n - 1, 0, -1):
        y_i, y_next = y_train[order[i - 1]], y_train[order[i]]
        if i + 2 <= n:
            beyond += _share(k, i - 1) * y_train[order[i + 1]]
        inside = prefix[i - 1] * _share(k, i - 2) if i >= 2 else 0.0
        p_enter = min(k, i) / i
        v += ((y_next - y_i) / k) * (
            ((y_i + y_next) / k - 2 * target) * p_enter + 2.0 / k * (inside + beyond)
        )
        out[order[i - 1]] = v
    prediction = 0.0
    for i in range(near):
        prediction += y_train[order[i]]
    return -((prediction / k - target) ** 2)


@numba.njit(cache=True, nogil=True)
def _sorted_values(keys, bits):
    """The floats behind sorted ``keys`` (``_sortable_keys`` undone), in ``bits``'s
    memory: the row's distances in neighbour order, read without a gather."""
    for i in range(keys.shape[0]):
        k = keys[i]
        bits[i] = k ^ _SIGN if k & _SIGN else ~k
    return bits.view(np.float64)


@numba.njit(cache=True, nogil=True)
def _near_tie(ranked, tolerance):
    """Whether two consecutive distances of ``ranked`` (a row's distances in neighbour
    order) are closer than ``tolerance``."""
    if tolerance <= 0.0:
        return False
    for i in range(ranked.shape[0] - 1):
        if ranked[i + 1] - ranked[i] <= tolerance:
            return True
    return False


@numba.njit(cache=True, nogil=True)
def _tie_decides(ranked, order, y_train, label, regression, k):
    """Whether the order of training rows at equal distance changes the values, and
    whether it changes the utility of the whole training set.

    Classification: a run of equal distances in ``order`` that reaches past the K
    nearest and holds rows that differ in label match. A run wholly among the K nearest
    is among the K nearest of every subset holding its rows, in any order: it decides
    nothing. The utility: such a run that also starts among the K nearest (it straddles
    the K-th rank), so which of its rows are counted is the tie rule's choice.
    Regression: decided exactly by :func:`._regression_ties.regression_ties` (tied rows
    with different targets may decide nothing). Returns both, as a pair.
    """
    if regression:
        return regression_ties(ranked, order, y_train, label, k)
    n = order.shape[0]
    start = 0
    while start < n:
        end = start
        while end + 1 < n and ranked[end + 1] == ranked[start]:
            end += 1
        if end >= k and end > start:
            first = order[start]
            for i in range(start + 1, end + 1):
                j = order[i]
                if (y_train[j] == label) != (y_train[first] == label):
                    # runs are met nearest first: no later one starts among the K
                    return True, start < k
        start = end + 1
    return False, False


def _knn_shapley_rows(
    dist, y_train, y_val, n_neighbors, regression, values, tolerance, near, tied, tied_utility
):
    n_val, n = dist.shape
    utility = np.empty(n_val)
    for r in prange(n_val):
        keys = np.empty(n, np.uint64)
        keys_tmp = np.empty(n, np.uint64)
        order = np.empty(n, np.int64)
        order_tmp = np.empty(n, np.int64)
        _sortable_keys(dist[r], keys)
        _stable_argsort(keys, order, keys_tmp, order_tmp)
        ranked = _sorted_values(keys, keys_tmp)  # (values may be dist: read it first)
        near[r] = _near_tie(ranked, tolerance[r])
        tied[r], tied_utility[r] = _tie_decides(
            ranked, order, y_train, y_val[r], regression, n_neighbors
        )
        if regression:
            prefix = np.empty(n)
            utility[r] = _regression_row(order, y_train, y_val[r], n_neighbors, values[r], prefix)
        else:
            utility[r] = _classification_row(order, y_train, y_val[r], n_neighbors, values[r])
    return utility


#: Exact KNN-Shapley values of the training points for each row of ``dist``.
#:
#: Parameters: ``dist`` (n_val, n_train) float64 C-contiguous, any finite values, the
#: smaller the closer; ``y_train`` (n_train,) and ``y_val`` (n_val,) float64, label codes
#: (classification) or targets (regression); ``n_neighbors`` int; ``regression`` bool;
#: ``values`` (n_val, n_train) float64, filled with the Shapley value of each training
#: point for each validation row (it may be ``dist`` itself); ``tolerance`` (n_val,)
#: float64, the error bound of each row's distances (0: exact); ``near`` (n_val,) bool,
#: set where two consecutive neighbours are closer than the tolerance, so the order of
#: the row's neighbours (and its values) cannot be trusted; ``tied`` (n_val,) bool, set
#: where the tie rule below decides the row's values (neighbours at equal distance, not
#: all among the K nearest, differ in label match; for a regression, exactly where
#: another order of them gives other values); ``tied_utility`` (n_val,) bool, set where
#: it also decides the row's utility (such a run straddles the K-th rank;
#: ``tied_utility`` implies ``tied``). Returns ``utility`` (n_val,), the utility of
#: the whole training set for each validation row. Ties in distance are broken by the
#: smaller training index.
knn_shapley_rows = numba.njit(parallel=True, cache=True, nogil=True)(_knn_shapley_rows)
#: The same kernel on one thread, for callers that parallelise themselves.
knn_shapley_rows_serial = numba.njit(cache=True, nogil=True)(_knn_shapley_rows)


@numba.njit(cache=True, nogil=True)
def _close(d, order, i, factor):
    """Whether the ``i``-th and ``i + 1``-th nearest distances lie within their
    rounding of each other (as ``_exact_order._runs`` decides it)."""
    a, b = d[order[i]], d[order[i + 1]]
    return b - a <= (b * factor + _TINY) + (a * factor + _TINY)


def _order_runs(dist, orders, factor, max_exact, needs_exact):
    n = dist.shape[1]
    for r in prange(dist.shape[0]):
        d, order = dist[r], orders[r]
        keys = np.empty(n, np.uint64)
        _sortable_keys(d, keys)
        _stable_argsort(keys, order, np.empty(n, np.uint64), np.empty(n, np.int64))
        members = 0
        i = 0
        while i < n - 1:
            if _close(d, order, i, factor):
                start = i
                while i < n - 1 and _close(d, order, i, factor):
                    i += 1
                members += i - start + 1
            i += 1
        needs_exact[r] = 0 < members <= max_exact
        if members > max_exact:  # one tie each: every member at its run's least distance
            i = 0
            while i < n - 1:
                if _close(d, order, i, factor):
                    start = i
                    while i < n - 1 and _close(d, order, i, factor):
                        i += 1  # (the run's end found before any of it is written)
                    for m in range(start + 1, i + 1):
                        d[order[m]] = d[order[start]]
                i += 1


#: For each row of ``dist`` (float64, C-contiguous, finite): ``orders[r]`` (int64, same
#: shape) its stable sort order; ``needs_exact[r]`` (bool) whether it has runs of
#: distances within rounding of each other (``factor``: the relative bound; see
#: ``_exact_order._runs``) holding at most ``max_exact`` rows in all; where they hold
#: more, each run is made one tie in ``dist`` (its rows at the run's least distance).
order_runs = numba.njit(parallel=True, cache=True, nogil=True)(_order_runs)
#: The same kernel on one thread.
order_runs_serial = numba.njit(cache=True, nogil=True)(_order_runs)


def _direct_squared_distances(X_fit, shift, rows, out):
    n, width = X_fit.shape
    for r in prange(rows.shape[0]):
        j = 0
        while j + 4 <= n:  # four training rows at once: independent sums, each in order
            a0 = a1 = a2 = a3 = 0.0
            for c in range(width):
                x, s = rows[r, c], shift[c]
                d0 = (X_fit[j, c] + s) - x
                d1 = (X_fit[j + 1, c] + s) - x
                d2 = (X_fit[j + 2, c] + s) - x
                d3 = (X_fit[j + 3, c] + s) - x
                a0 += d0 * d0
                a1 += d1 * d1
                a2 += d2 * d2
                a3 += d3 * d3
            out[r, j], out[r, j + 1], out[r, j + 2], out[r, j + 3] = a0, a1, a2, a3
            j += 4
        for last in range(j, n):
            acc = 0.0
            for c in range(width):
                diff = (X_fit[last, c] + shift[c]) - rows[r, c]
                acc += diff * diff
            out[r, last] = acc


#: Squared Euclidean distances ``out[r, j]`` from ``rows`` (m, d) to ``X_fit + shift``
#: (n, d; ``shift`` (d,) moves ``X_fit`` back to the data exactly), all dense float64,
#: summed from differences (no ``||x||^2 - 2 <x, y>`` cancellation).
direct_squared_distances = numba.njit(parallel=True, cache=True, nogil=True)(
    _direct_squared_distances
)
#: The same kernel on one thread.
direct_squared_distances_serial = numba.njit(cache=True, nogil=True)(_direct_squared_distances)
