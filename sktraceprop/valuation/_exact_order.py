"""Neighbours whose squared distances differ below what doubles hold, ranked exactly.

Squared Euclidean distances summed from differences (:func:`._distances._direct_distances`)
round each difference, square and partial sum: two training rows whose exact distances
differ by less than that rounding (values near ``1e160`` that are not multiples of a
common power of two, say) get equal doubles, or doubles in the wrong order, and the
neighbours' order, hence the values, are those of the tie rule, not of the data.

Where every value (the training rows and the validation row) is an integer multiple of
one power of two within a range whose squared differences, summed, stay below ``2**53``
(integers, one-hot, binned data: :func:`on_small_grid`), every step is exact and equal
doubles are equal distances: nothing is done. Otherwise, in each validation row, runs of
neighbours whose distances lie within their rounding of each other are compared exactly
(integers in units of one power of two), and the row's
distances are replaced by their ranks (equal ranks only for equal exact distances), which
order the neighbours exactly as the distances do: KNN-Shapley depends on the order only.
Where a row's runs hold more than ``MAX_EXACT`` training rows (decimal values on a
coarse lattice put thousands in each), each run is made one tie instead: ranked by the
training index, and said where it decides values (:mod:`._ties`).
"""

import numpy as np
from scipy import sparse

__all__ = ["TrainingGrid", "exactly_ordered", "on_small_grid"]

_EPS = np.finfo(np.float64).eps
#: Training rows (in runs within rounding of each other) a validation row may have
#: compared exactly; past it, each run is one tie.
MAX_EXACT = 256


def _grid(values):
    """``(lowest, highest)`` binary exponents of the nonzero finite ``values``: each is
    ``m * 2**lowest`` with ``|m| < 2**(highest - lowest)``; None where all are 0."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[values != 0.0]
    if values.size == 0:
        return None
    mantissa, exponent = np.frexp(values)  # |mantissa| in [0.5, 1)
    whole = np.abs(np.ldexp(mantissa, 53)).astype(np.int64)  # 53-bit integers
    trailing = np.log2((whole & -whole).astype(np.float64)).astype(np.int64)
    return int((exponent - 53 + trailing).min()), int(exponent.max())


class TrainingGrid:
    """The training rows' :func:`_grid`, found at its first use and kept (a ``value``
    call's blocks share it). ``X_fit + shift`` is the data (``shift`` None: ``X_fit``)."""

    def __init__(self, X_fit, shift):
        self._X_fit, self._shift, self._found, self._grid = X_fit, shift, False, None

    def __call__(self):
        if not self._found:
            X = self._X_fit
            if sparse.issparse(X):
                self._grid = _grid(X.data)
            else:
                self._grid = _grid(X if self._shift is None else X + self._shift)
            self._found = True
        return self._grid


def on_small_grid(grids, width):
    """Whether every value with these grids (:func:`_grid` of each array) is an integer
    multiple of one power of two and ``width`` squared differences of them sum exactly
    in float64."""
    lows, highs = [], []
    for found in grids:
        if found is not None:
            lows.append(found[0])
            highs.append(found[1])
    if not lows:
        return True
    span = max(highs) - min(lows) + 1  # a difference is below 2**span units
    return 2 * span + int(np.ceil(np.log2(max(width, 1)))) < 53


def _factor(width):
    """Relative rounding bound of a squared distance summed from differences: a sum of
    ``width`` rounded squares of rounded differences errs by less than (width + 3) eps,
    doubled for safety (plus the smallest normal, for values near 0)."""
    return 2 * (width + 3) * _EPS


def _runs(d, order, width):
    """The runs (``starts``, ``stops``: positions in ``order``, ``d``'s stable sort
    order) of at least two distances, each within its rounding of the next."""
    s = d[order]
    bound = s * _factor(width) + np.finfo(np.float64).tiny
    close = np.diff(s) <= bound[1:] + bound[:-1]
    edges = np.flatnonzero(np.diff(np.concatenate([[False], close, [False]]).astype(np.int8)))
    return edges[0::2], edges[1::2] + 1


def _exact_squared(rows, x):
    """Exact squared distances from ``x`` to each of ``rows`` (float64 arrays), as
    Python integers in units of one power of two (the same for all)."""
    values = np.concatenate([rows.ravel(), x])
    mantissa, exponent = np.frexp(values)
    whole = np.ldexp(mantissa, 53).astype(np.int64).tolist()  # exact: 53-bit integers
    power = (exponent - 53).tolist()
    low = min(power)
    ints = [w << (p - low) for w, p in zip(whole, power)]
    width = x.size
    mine = ints[-width:]
    return [
        sum((a - b) ** 2 for a, b in zip(ints[i * width : (i + 1) * width], mine))
        for i in range(rows.shape[0])
    ]


def exactly_ordered(X_fit, shift, rows, dist, fit_grid, n_threads=None):
    """``dist`` (validation rows x training rows, squared distances from differences),
    with each row whose neighbours the doubles may misorder replaced by exact ranks.

    ``X_fit`` may be shifted by ``shift`` (``X_fit + shift`` is the data, exactly);
    ``rows`` are the validation rows, not shifted; ``fit_grid`` the training rows'
    :class:`TrainingGrid`. A validation row's runs of neighbours within rounding of each
    other are compared exactly while they hold at most ``MAX_EXACT`` training rows in
    all; past that (decimal data on a coarse lattice: thousands of rows a run),
    each run is made one tie (its rows at the run's least distance), ranked by the
    training index as exact ties are, and counted by the tie check where it decides
    values. ``dist`` is changed in place and returned. ``n_threads``: as the kernels
    take it (None: Numba's thread count), for sorting the rows.
    """
    width = X_fit.shape[1]
    dense_fit = not sparse.issparse(X_fit)
    shift = np.zeros(width) if shift is None or not dense_fit else np.asarray(shift)
    rows = rows.toarray() if sparse.issparse(rows) else np.asarray(rows, dtype=np.float64)
    if on_small_grid([fit_grid(), _grid(rows)], width):
        return dist
    X_csr = None if dense_fit else X_fit.tocsr()

    def training_rows(members):
        if dense_fit:
            return X_fit[members] + shift
        return X_csr[members].toarray()

    from ._distances import _run_kernel

    dist = np.ascontiguousarray(dist)
    orders = np.empty(dist.shape, dtype=np.int64)
    needs_exact = np.zeros(dist.shape[0], dtype=np.bool_)
    # sorts each row, and makes the runs of a row past MAX_EXACT one tie each
    _run_kernel("order_runs", (dist, orders, _factor(width), MAX_EXACT, needs_exact), n_threads)
    for r in np.flatnonzero(needs_exact):
        order = orders[r]
        starts, stops = _runs(dist[r], order, width)
        runs = list(zip(starts.tolist(), stops.tolist()))
        members = np.concatenate([order[start:stop] for start, stop in runs])
        exact = _exact_squared(training_rows(members), rows[r])
        ranked = order.copy()  # the neighbours, runs put in exact order
        new_level = np.ones(order.size, dtype=bool)
        at = 0
        for start, stop in runs:
            part = exact[at : at + stop - start]
            at += stop - start
            by_exact = sorted(range(stop - start), key=part.__getitem__)
            ranked[start:stop] = order[start:stop][by_exact]
            part = [part[i] for i in by_exact]
            new_level[start + 1 : stop] = [a != b for a, b in zip(part[1:], part[:-1])]
        dist[r, ranked] = np.cumsum(new_level) - 1
    return dist
