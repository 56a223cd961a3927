"""Distances for KNN-Shapley, and the neighbour order they give, exactly.

Neighbours are ranked by fast distances (one matrix product); rows whose fast distances
leave two neighbours within their rounding error are ranked again on distances computed
from differences (Euclidean) or on exact rationals (cosine), so that ties are ties and
nothing else is.
"""

import threading
from fractions import Fraction

import numpy as np
from scipy import sparse
from sklearn.metrics import pairwise_distances
from sklearn.preprocessing import normalize

# Parallel numba kernels are launched one at a time: not every threading layer
# supports concurrent launches from several Python threads.
_PARALLEL_LAUNCH = threading.Lock()

#: Metrics ranked by ``||x_j||^2 - 2 <x, x_j>`` (one matrix product, here or in
#: scikit-learn's ``euclidean_distances``); they do not change under a shift of the data.
_DOT_METRICS = ("euclidean", "sqeuclidean", "l2")


def _shift(X):
    """Per-column shift that makes dense data small before the dot-product expansion.

    ``||x_j||^2 - 2 <x, x_j>`` cancels catastrophically when the columns sit far from 0
    relative to their spread (a Unix time: 1.7e9 plus a few seconds ranks neighbours by
    rounding error). Distances do not change under a shift, so the data are moved by
    their mean first. The mean is rounded to an integer: integer data stay integers,
    whose products are exact, so ties stay exact ties. A column is shifted only where
    every training value moves exactly: ``1e-14 - 500`` rounds to ``-500``, as
    ``2e-14 - 500`` does, and two rows that differ would be ranked as a tie.
    """
    if sparse.issparse(X) or X.shape[0] == 0:
        return None
    shift = np.round(X.mean(axis=0))
    if not np.any(shift):  # data centred near 0 (standardised): nothing to move
        return None
    shift[~_shifted(X, shift)[1].all(axis=0)] = 0.0
    return shift if np.any(shift) else None


def _shifted(X, shift):
    """``X - shift`` and where that difference is exact (Knuth's TwoSum error is 0)."""
    out = X - shift
    back = out - X
    exact = (X - (out - back)) + (-shift - back) == 0.0
    return out, exact


def _entries(X):
    return X.data if sparse.issparse(X) else X


def _integral(X):
    values = _entries(X)
    return bool(np.all(np.floor(values) == values))


def _max_abs(X):
    values = _entries(X)
    return float(np.abs(values).max()) if values.size else 0.0


def _fit_stats(X, metric):
    """What the error bound of the dot-product distances needs from the training rows;
    for cosine, which training rows are equal (their exact ties need no rationals)."""
    if metric == "cosine":
        norms = _squared_norms(X)
        top = float(norms.max()) if norms.size else 0.0
        return _row_classes(X), _integral(X), _max_abs(X), top
    if metric not in _DOT_METRICS:
        return None
    norms = _squared_norms(X)
    return _integral(X), _max_abs(X), float(norms.max()) if norms.size else 0.0, X.shape[1]


def _row_classes(X):
    """An id per training row, equal for equal rows."""
    if not sparse.issparse(X):
        return np.unique(X, axis=0, return_inverse=True)[1].ravel()
    X = X.tocsr()
    X.sum_duplicates()
    X.sort_indices()
    seen = {}
    return np.array(
        [
            seen.setdefault((X.indices[a:b].tobytes(), X.data[a:b].tobytes()), len(seen))
            for a, b in zip(X.indptr[:-1], X.indptr[1:])
        ],
        dtype=np.int64,
    )


def _tolerances(fit_stats, X_block):
    """Error bound on the difference of two of a row's computed distances (0: exact).

    ``||x_j||^2 - 2 <x, x_j>`` is exact when every product and partial sum is an integer
    below 2**53; otherwise each term carries at most ``gamma_(d+2)`` times
    ``||x_j||^2 + 2 ||x|| ||x_j||`` of rounding error (any summation order), and two
    distances closer than twice that may be ranked in the wrong order.
    """
    n_rows = X_block.shape[0]
    if fit_stats is None:
        return np.zeros(n_rows)
    integral, max_abs, max_sq_norm, width = fit_stats
    block_abs = _max_abs(X_block)
    if (
        integral
        and _integral(X_block)
        and width * (max_abs * max_abs + 2.0 * max_abs * block_abs) < 2.0**53
    ):
        return np.zeros(n_rows)
    unit = np.finfo(np.float64).eps / 2
    gamma = (width + 2) * unit / (1 - (width + 2) * unit)
    norms = np.sqrt(_squared_norms(X_block))
    return 4.0 * gamma * (max_sq_norm + 2.0 * norms * np.sqrt(max_sq_norm))


def _direct_distances(X_fit, shift, rows, n_threads):
    """Squared distances from each of ``rows`` to the training rows, from differences.

    No ``||x||^2 - 2 <x, x_j>`` cancellation: for the rows whose neighbours the fast
    distances cannot order. ``rows`` are not shifted; a dense ``X_fit`` was shifted by
    ``shift`` (None: not shifted) exactly, so ``X_fit + shift`` is the training data
    itself and each difference is that of the stored doubles.
    """
    rows = rows.toarray() if sparse.issparse(rows) else np.asarray(rows)
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    out = np.empty((rows.shape[0], X_fit.shape[0]))
    if not sparse.issparse(X_fit):
        shift = np.zeros(X_fit.shape[1]) if shift is None else shift
        _run_kernel("direct_squared_distances", (X_fit, shift, rows, out), n_threads)
        return out
    # sparse: stored entries by their difference, x's other nonzeros by their square
    # (all terms nonnegative: nothing cancels)
    X_fit = X_fit.tocsr()
    by_column = X_fit.tocsc()
    owner = np.repeat(np.arange(X_fit.shape[0]), np.diff(X_fit.indptr))
    for i, x in enumerate(rows):
        inside = (X_fit.data - x[X_fit.indices]) ** 2
        out[i] = np.bincount(owner, weights=inside, minlength=X_fit.shape[0])
        for c in np.flatnonzero(x):
            outside = np.full(X_fit.shape[0], x[c] * x[c])
            outside[by_column.indices[by_column.indptr[c] : by_column.indptr[c + 1]]] = 0.0
            out[i] += outside
    return out


def _squared_norms(X):
    if sparse.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    return np.einsum("ij,ij->i", X, X)


def _inner_products(X_fit, X_block):
    """``X_block @ X_fit.T`` as a dense C-ordered array, whichever side is sparse.

    A sparse training matrix is multiplied by the (small) validation block made dense:
    the training matrix is never densified, and sparse x dense products are cheaper
    than sparse x sparse ones whose result is dense anyway (one-hot rows share columns).
    """
    if sparse.issparse(X_fit):
        block = X_block.toarray() if sparse.issparse(X_block) else X_block
        return np.ascontiguousarray((X_fit @ block.T).T)
    return np.ascontiguousarray(X_block @ X_fit.T)


def _distances(metric, X_fit, fit_norms, X_block):
    """Distances of ``X_block`` rows to the training rows, up to a per-row constant.

    Only the order within a row matters, so Euclidean distances are ranked by
    ``||x_j||^2 - 2 <x, x_j>`` (one BLAS product, no square root) and cosine distances
    by ``-<x / ||x||, x_j / ||x_j||>``. Either matrix may be sparse.
    """
    if metric in _DOT_METRICS:
        dist = _inner_products(X_fit, -2.0 * X_block)  # scaling by -2 is exact
        dist += fit_norms
        return dist
    if metric == "cosine":
        # the training rows are kept as given (their exact directions, for re-ranking)
        dist = _inner_products(X_fit, normalize(X_block))
        dist /= -np.sqrt(np.where(fit_norms > 0, fit_norms, 1.0))
        return dist
    if metric == "precomputed":
        # a copy: the values overwrite the distances
        return X_block.toarray() if sparse.issparse(X_block) else np.array(X_block, order="C")
    return np.ascontiguousarray(pairwise_distances(X_block, X_fit, metric=metric), np.float64)


def _run_kernel(name, args, n_threads):
    """Kernel ``name`` on one thread (``n_threads == 1``) or on Numba's threads (None:
    as many as set)."""
    from . import _kernels

    if n_threads == 1:
        return getattr(_kernels, f"{name}_serial")(*args)
    import numba

    with _PARALLEL_LAUNCH:
        previous = numba.get_num_threads()
        if n_threads is not None:
            numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
        try:
            return getattr(_kernels, name)(*args)
        finally:
            numba.set_num_threads(previous)


def _cosine_tolerance(width):
    """Bound on the difference of two computed cosine distances of one row (a multiple
    of float64's unit roundoff: normalising, the dot product over ``width`` terms, the
    division by the training row's norm)."""
    unit = np.finfo(np.float64).eps / 2
    terms = 3 * width + 12
    return 4.0 * terms * unit / (1 - terms * unit)


def _cosine_key(a, x):
    """``-cos(a, x)`` up to the positive factor ``|x|``, as an exact order key:
    ``-sign(a.x) (a.x)^2 / |a|^2`` in rationals (0 for a zero row, as sklearn does)."""
    a = a.toarray().ravel() if sparse.issparse(a) else np.asarray(a).ravel()
    nonzero = np.flatnonzero(a)
    dot = sum(Fraction(float(a[i])) * Fraction(float(x[i])) for i in nonzero)
    norm = sum(Fraction(float(a[i])) ** 2 for i in nonzero)
    if norm == 0 or dot == 0:
        return Fraction(0)
    return -dot * abs(dot) / norm


def _cosine_ranks(X_fit, rows, fit_norms, fit_stats, tolerance):
    """For each of ``rows``, a key per training row in exact cosine order (equal keys:
    a tie).

    Integer data small enough give the key ``-sign(a.x) (a.x)^2 / |a|^2`` exactly
    enough in float64: two different such fractions are further apart than their
    rounding. Otherwise neighbours the fast distances place within ``tolerance`` of
    each other form a group; a group of equal training rows is a tie, any other is
    ordered on exact rationals; groups keep their computed order.
    """
    rows = rows.toarray() if sparse.issparse(rows) else np.asarray(rows, dtype=np.float64)
    X_fit = X_fit.tocsr() if sparse.issparse(X_fit) else X_fit
    n = X_fit.shape[0]
    classes, integral, max_abs, max_norm = (
        fit_stats if fit_stats is not None else (np.arange(n), False, 0.0, 0.0)
    )
    dist = _distances("cosine", X_fit, fit_norms, rows)
    dots = _inner_products(X_fit, rows)
    out = np.empty_like(dist)
    for r, x in enumerate(rows):
        x_abs = float(np.abs(x).max())
        bound = np.sqrt(max_norm * float(x @ x))  # |a.x| <= |a| |x|
        if (
            integral
            and _integral(x)
            and X_fit.shape[1] * max_abs * x_abs < 2.0**53
            and bound * bound * max_norm * max_norm < 2.0**51
        ):
            norms = np.where(fit_norms > 0, fit_norms, 1.0)
            out[r] = -dots[r] * np.abs(dots[r]) / norms
            continue
        if not np.any(x):  # no direction: every training row at cosine distance 1
            out[r] = 0.0
            continue
        order = np.argsort(dist[r], kind="stable")
        group = np.r_[0, np.cumsum(np.diff(dist[r][order]) > tolerance)]
        sub = np.zeros(n)
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        ends = np.r_[starts[1:], n]
        members = classes[order]
        mixed = np.minimum.reduceat(members, starts) != np.maximum.reduceat(members, starts)
        for a, b in zip(starts[mixed], ends[mixed]):
            keys = {}
            for c, j in zip(members[a:b], order[a:b]):
                if c not in keys:
                    keys[c] = _cosine_key(X_fit[j], x)
            distinct = sorted(set(keys.values()))
            sub[a:b] = [distinct.index(keys[c]) for c in members[a:b]]
        out[r, order] = group * n + sub
    return out
