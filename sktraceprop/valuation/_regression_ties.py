"""Which ties in distance decide a regression's KNN-Shapley values, exactly.

Training rows at equal distance are ranked by index. Swapping two adjacent tied rows
``i`` and ``j`` (at ranks ``p`` and ``p + 1``) changes the utility of a subset ``S``
holding both only where ``S`` has exactly ``K - 1`` rows ``T`` ranked before ``p``:
then one of them is the K-th neighbour, and the utility moves by
``(y_j - y_i) * (2 * sum(T) + y_i + y_j - 2 * K * t) / K**2`` (``t``: the
validation target), that is, unless ``y_i = y_j`` or ``2 * sum(T) + y_i + y_j = 2 * K * t``.
A change of the game moves some Shapley value (the tests value every order of the tied
rows by brute force), so the values depend on the order of a run of tied rows exactly
when some pair of its rows with different targets and some ``K - 1`` of the rows ranked
before the pair (before the run, or in it) break that equation. Two rows the same
distance from the validation row at the same squared error (``y_i + y_j = 2 * t``,
``K = 1``) are such a tie that decides nothing. The utility of the whole training set
changes likewise for the one run that straddles the K-th rank, where ``T`` is every row
before the run and ``K - 1 - len(before)`` rows of the run.

The equations are decided on the doubles exactly (sums as error-free expansions), so
a tie is never called harmless because of rounding.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _sums_to_zero(terms, n):
    """Whether ``terms[:n]`` add up to exactly zero: a nonoverlapping expansion is grown
    by error-free sums (Shewchuk 1997), nonzero exactly when one of its parts is."""
    parts = np.empty(n + 1)
    m = 0
    for t in range(n):
        q = terms[t]
        kept = 0
        for i in range(m):
            s = q + parts[i]
            back = s - q
            err = (q - (s - back)) + (parts[i] - back)
            q = s
            if err != 0.0:
                parts[kept] = err
                kept += 1
        parts[kept] = q
        m = kept + 1
    for i in range(m):
        if parts[i] != 0.0 or not np.isfinite(parts[i]):
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _put_multiple(terms, n, x, m):
    """Append ``m * x`` (``m`` a whole number >= 0) to ``terms`` as exact powers of two
    times ``x``; returns the new count."""
    bit = 1.0
    while m > 0:
        if m & 1:
            terms[n] = x * bit
            n += 1
        m >>= 1
        bit *= 2.0
    return n


@numba.njit(cache=True, nogil=True)
def _pair_equation_holds(fixed_terms, n_fixed, k_free, w, u, v, k, target):
    """Whether ``2 * (fixed + k_free * w) + u + v == 2 * K * t`` exactly."""
    terms = np.empty(n_fixed + 3 * 64 + 2)
    n = 0
    for i in range(n_fixed):
        terms[n] = 2.0 * fixed_terms[i]
        n += 1
    n = _put_multiple(terms, n, 2.0 * w, k_free)
    terms[n] = u
    terms[n + 1] = v
    n = _put_multiple(terms, n + 2, -2.0 * target, k)
    return _sums_to_zero(terms, n)


@numba.njit(cache=True, nogil=True)
def _run_targets(order, y_train, start, end):
    """The run's two targets and their counts; ``n_u = -1`` when it holds three or more
    (every such run decides: no one equation holds for all its pairs)."""
    u = y_train[order[start]]
    v = u
    n_u = 0
    n_v = 0
    for i in range(start, end + 1):
        y = y_train[order[i]]
        if y == u:
            n_u += 1
        elif n_v == 0 or y == v:
            v = y
            n_v += 1
        else:
            return u, v, -1, -1
    return u, v, n_u, n_v


@numba.njit(cache=True, nogil=True)
def _values_decided(order, y_train, target, k, start, end, same_before):
    """Whether the order of the run ``start..end`` (it reaches past rank K, its targets
    differ) changes values: for a pair (u, v), ``T`` ranges over every ``K - 1`` of the
    other rows ranked ``0..end``. ``same_before``: the rows ranked before ``start`` all
    carry the target of rank 0."""
    u, v, n_u, n_v = _run_targets(order, y_train, start, end)
    if n_u < 0:
        return True
    free = end - 1  # rows ranked 0..end but the pair
    fixed = np.empty(end + 1)
    if k - 1 == 0:
        return not _pair_equation_holds(fixed, 0, 0, 0.0, u, v, k, target)
    if k - 1 == free:  # T is all of them: 2 * (sum - u - v) + u + v
        for i in range(end + 1):
            fixed[i] = y_train[order[i]]
        return not _pair_equation_holds(fixed, end + 1, 0, 0.0, -u, -v, k, target)
    # 0 < K - 1 < free: every choice of T has one sum only if the others are all equal
    if start > 0 and not same_before:
        return True
    w = y_train[order[0]] if start > 0 else (u if n_u > 1 else v)
    if (n_u > 1 and u != w) or (n_v > 1 and v != w):
        return True
    return not _pair_equation_holds(fixed, 0, k - 1, w, u, v, k, target)


@numba.njit(cache=True, nogil=True)
def _utility_decided(order, y_train, target, k, start, end):
    """Whether the order of the run ``start..end`` that straddles rank K changes the
    utility of the whole training set: ``T`` is every row before the run and any
    ``K - 1 - start`` rows of the run but the pair."""
    u, v, n_u, n_v = _run_targets(order, y_train, start, end)
    if n_u < 0:
        return True
    before = np.empty(start)
    for i in range(start):
        before[i] = y_train[order[i]]
    chosen = k - 1 - start
    if chosen == 0:
        return not _pair_equation_holds(before, start, 0, 0.0, u, v, k, target)
    length = end - start + 1
    if chosen == length - 2:  # the run but the pair: 2 * (sum of run - u - v) + u + v
        whole = np.empty(start + length)
        whole[:start] = before
        for i in range(start, end + 1):
            whole[i] = y_train[order[i]]
        return not _pair_equation_holds(whole, start + length, 0, 0.0, -u, -v, k, target)
    if n_u > 1 and n_v > 1:  # the chosen rows' sum varies
        return True
    w = u if n_u > 1 else v
    return not _pair_equation_holds(before, start, chosen, w, u, v, k, target)


@numba.njit(cache=True, nogil=True)
def regression_ties(ranked, order, y_train, target, k):
    """For a regression: whether the order of tied training rows changes the values of
    one validation row, and whether it changes its utility (the kernel's
    ``_tie_decides``), exactly."""
    n = order.shape[0]
    first = y_train[order[0]] if n else 0.0
    same_until = 0  # ranks 0..same_until - 1 all carry the target of rank 0
    while same_until < n and y_train[order[same_until]] == first:
        same_until += 1
    start = 0
    while start < n:
        end = start
        while end + 1 < n and ranked[end + 1] == ranked[start]:
            end += 1
        if end >= k and end > start:
            differ = False
            for i in range(start + 1, end + 1):
                if y_train[order[i]] != y_train[order[start]]:
                    differ = True
                    break
            if differ and _values_decided(
                order, y_train, target, k, start, end, start <= same_until
            ):
                # runs are met nearest first: no later one starts among the K
                return True, start < k and _utility_decided(order, y_train, target, k, start, end)
        start = end + 1
    return False, False
