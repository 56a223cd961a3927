"""KNN-Shapley values of validation rows, block by block.

Blocks of validation rows whose size depends on the data's shape and sklearn's
``working_memory`` only (so values never change with ``n_jobs``), each valued by the
Numba kernel on fast distances, and again on exact distances where those may misorder
neighbours (:mod:`._distances`, :mod:`._exact_order`).
"""

import numpy as np
from joblib import cpu_count, effective_n_jobs
from scipy import sparse
from sklearn import get_config
from sklearn.utils import gen_batches

from ..utils._progress import map_blocks
from ._distances import (
    _cosine_ranks,
    _cosine_tolerance,
    _direct_distances,
    _distances,
    _run_kernel,
    _shifted,
    _tolerances,
)
from ._exact_order import TrainingGrid, exactly_ordered

# Distance entries per block of validation rows: big enough for BLAS and the parallel
# kernel to run at full speed, small enough that joblib/Dask get several tasks.
_BLOCK_ENTRIES = 1 << 21


def block_rows(n_train, dense_width=0):
    """Validation rows per block: a function of the data's shape and sklearn's working_memory.

    It never depends on ``n_jobs``, so the per-block sums are added in the same order
    however the blocks are spread, and the values do not change with ``n_jobs``.
    ``dense_width`` is the number of features of a sparse training matrix: a block of
    validation rows is made dense (never the training matrix) to multiply it.
    """
    # distances overwritten by the values (8 bytes each), the kernel's sort and prefix
    # scratch (40 bytes a training row, per thread: an upper bound), the dense block
    row_bytes = 48 * n_train + 8 * dense_width
    by_memory = get_config()["working_memory"] * 2**20 // row_bytes
    return int(max(1, min(by_memory, max(16, _BLOCK_ENTRIES // n_train))))


def block_values(
    block,
    metric,
    X_fit,
    shift,
    fit_norms,
    fit_stats,
    y_fit,
    n_neighbors,
    regression,
    n_threads,
    fit_grid,
):
    """Sum over a block ``(X_block, y_block)`` of validation rows of their KNN-Shapley
    values, their utilities, and whether ties in distance decided each row's values and
    its utility (two boolean arrays).

    ``X_block`` is not shifted yet; ``shift`` is what the training rows were shifted by
    (None: not shifted). ``n_threads`` None runs the parallel kernel with Numba's
    current thread count. Rows whose fast distances leave two neighbours within their
    rounding error, or that the shift does not move exactly, are valued again on
    distances computed from differences, and where those may still misorder them
    (values off a common grid of one power of two), on exact rationals
    (:func:`._exact_order.exactly_ordered`; ``fit_grid``: the training rows' grid).
    """
    X_block, y_block = block
    moved = np.zeros(X_block.shape[0], dtype=np.bool_)
    shifted = X_block
    if shift is not None:
        dense = X_block.toarray() if sparse.issparse(X_block) else X_block
        shifted, exact = _shifted(dense, shift)
        moved = ~exact.all(axis=1)
    dist = _distances(metric, X_fit, fit_norms, shifted)
    near = np.zeros(dist.shape[0], dtype=np.bool_)
    tied = np.zeros(dist.shape[0], dtype=np.bool_)
    tied_utility = np.zeros(dist.shape[0], dtype=np.bool_)
    if metric == "cosine":
        tolerance = np.full(dist.shape[0], _cosine_tolerance(X_fit.shape[1]))
    else:
        tolerance = _tolerances(fit_stats, shifted)
    # the values overwrite the distances
    utility = _run_kernel(
        "knn_shapley_rows",
        (dist, y_fit, y_block, n_neighbors, regression, dist, tolerance, near, tied, tied_utility),
        n_threads,
    )
    near |= moved
    if near.any():
        rows = np.flatnonzero(near)
        if metric == "cosine":
            exact = _cosine_ranks(X_fit, X_block[rows], fit_norms, fit_stats, tolerance[0])
        else:
            exact = _direct_distances(X_fit, shift, X_block[rows], n_threads)
            exact = exactly_ordered(X_fit, shift, X_block[rows], exact, fit_grid, n_threads)
        tied_exact = np.zeros(rows.size, dtype=np.bool_)
        tied_utility_exact = np.zeros(rows.size, dtype=np.bool_)
        utility[rows] = _run_kernel(
            "knn_shapley_rows",
            (
                exact,
                y_fit,
                y_block[rows],
                n_neighbors,
                regression,
                exact,
                np.zeros(rows.size),  # distances from differences: no near ties to flag
                np.zeros(rows.size, dtype=np.bool_),
                tied_exact,
                tied_utility_exact,
            ),
            n_threads,
        )
        dist[rows] = exact
        tied[rows] = tied_exact
        tied_utility[rows] = tied_utility_exact
    return dist.sum(axis=0), utility, tied, tied_utility


def value_blocks(valuer, X, y, desc):
    """Values, utilities and ties of validation rows ``(X, y)`` (as
    :func:`._validation.validation_rows` returns them) against ``valuer``'s training
    rows, block by block (:func:`block_values`): the values averaged over the rows, the
    utilities and the two tie flags per row."""
    n_train = valuer.n_samples_fit_
    dense_width = valuer._fit_X.shape[1] if sparse.issparse(valuer._fit_X) else 0
    blocks = gen_batches(X.shape[0], block_rows(n_train, dense_width))
    n_jobs = effective_n_jobs(valuer.n_jobs)
    # One worker: the kernel uses Numba's threads as configured; several: share cores.
    n_threads = None if n_jobs == 1 else max(1, cpu_count() // n_jobs)
    results = map_blocks(
        block_values,
        [(X[block], y[block]) for block in blocks],
        shared=(
            valuer.metric,
            valuer._fit_X,
            getattr(valuer, "_shift", None),  # (a valuer pickled before it was kept)
            valuer._fit_norms,
            getattr(valuer, "_fit_stats", None),
            valuer._fit_y,
            valuer.n_neighbors,
            valuer.task_ == "regression",
            n_threads,
            TrainingGrid(valuer._fit_X, getattr(valuer, "_shift", None)),
        ),
        n_jobs=valuer.n_jobs,
        verbose=valuer.verbose,
        desc=desc,
    )
    total = np.zeros(n_train)
    for block_sum, *_ in results:
        total += block_sum
    utility, tied, tied_utility = (
        np.concatenate([block[i] for block in results]) for i in (1, 2, 3)
    )
    if valuer.task_ == "regression":
        check_finite(total, utility, valuer._fit_y, y)
    return total / X.shape[0], utility, tied, tied_utility


def check_finite(total, utility, y_fit, y):
    """Refuse a regression's values or utilities that float64 cannot hold: squared
    errors of targets beyond about ``1e154`` overflow, and the values (of the order of
    the squared targets) would come back NaN or infinite, with nothing said."""
    if np.isfinite(total).all() and np.isfinite(utility).all():
        return
    top = max(float(np.abs(y_fit).max(initial=0.0)), float(np.abs(y).max(initial=0.0)))
    raise ValueError(
        "The KNN-Shapley values of this regression overflow float64: its utility is minus a "
        f"squared error, and targets as large as {top:.3g} (training or validation) "
        "square beyond 1.8e308, so the values would be NaN or infinite. Divide the "
        "targets by a power of ten first (the values are then divided by its square)."
    )
