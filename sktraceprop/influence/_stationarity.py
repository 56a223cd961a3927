"""How far a linear model is from the minimum of the objective its scores assume.

Influence scores are derivatives of the *minimiser* of the objective: they mean what
they say only where the fitted parameters minimise it. One Newton step
``theta_N = theta - H^-1 grad J`` lands (for these convex objectives, up to second
order) on that minimum; the rows' gradients there are the ones the scores should
have used. The relative change of the rows' effects ``H^-1 grad l_i`` between
``theta`` and ``theta_N`` is how wrong the scores are because the model is not at the
minimum: small for a solver that stopped at a loose tolerance on many rows, large for
an unconverged SGD or for a model fitted with weights the explainer was not given.
"""

import numpy as np

from ..gradients._woodbury_kernel import row_quadratics
from ._woodbury_scores import work_rows

__all__ = ["NOTE_STATIONARY", "NOT_STATIONARY", "rows_measured", "sampled_phrase", "stationarity"]

#: Above this relative change of the rows' effects the scores are not those of the
#: objective's minimum: fit warns.
NOT_STATIONARY = 0.1

#: Above this (and up to :data:`NOT_STATIONARY`) each explanation's notes say how far the
#: scores are from the minimum's. The change tracks the scores' own relative distance to
#: those of the exact minimiser (newton-cg, tol 1e-10): 0.95 to 1.06 times it for
#: sag/saga with default tol on scaled breast cancer (stationarity 0.002 to 0.086; saga
#: at max_iter=100 gives 0.086, scores 8% off, below the warning), 1.45 times it on
#: unscaled synthetic data (0.23 to 0.33, warned).
NOTE_STATIONARY = 0.01

_MAX_ROWS = 1024

#: Rows sampled on the matrix-free route, where each costs a conjugate-gradient solve
#: and a dense ``p``-sized gradient.
_MAX_ROWS_MATRIX_FREE = 32


def stationarity(objective, X, y, row_weights, gradient, inv_hessian):
    """Relative change of the rows' effects under a Newton step to the minimum.

    Parameters
    ----------
    objective : LinearObjective
    X, y : the training rows as the objective takes them
    row_weights : ndarray of shape (n_train,)
        :meth:`LinearObjective.row_weights` of the training rows.
    gradient : ndarray of shape (n_params,)
        Gradient of the training objective at the fitted parameters.
    inv_hessian : ndarray of shape (n_params, n_params) or operator
        The (pseudo-)inverse used for the scores (or the Woodbury or matrix-free
        operator applying it).

    Returns
    -------
    change : float
        ``sqrt(sum_i ||d_i||^2 / sum_i ||g_i||^2)`` in the norm of ``H^-1``, with
        ``g_i`` row ``i``'s gradient at the fitted parameters and ``d_i`` its change
        at the Newton step (on at most 1024 evenly spaced rows, 32 on the matrix-free
        route). 0 at the minimum.
    """
    from ._matrix_free import MatrixFreeInverse

    n = np.shape(y)[0]
    matrix_free = isinstance(inv_hessian, MatrixFreeInverse)
    index = _rows_index(n, rows_measured(n, inv_hessian))
    theta = objective.params()
    newton = theta - inv_hessian @ gradient
    Xs, ys, ws = X[index], y[index], row_weights[index]
    if isinstance(inv_hessian, np.ndarray) or matrix_free:
        G = objective.per_sample_gradients(Xs, ys, row_weights=ws, theta=theta)
        D = objective.per_sample_gradients(Xs, ys, row_weights=ws, theta=newton) - G
        size = np.einsum("ij,ij->", G @ inv_hessian, G)
        change = np.einsum("ij,ij->", D @ inv_hessian, D)
    else:
        size, change = _woodbury_sums(objective, Xs, ys, ws, index, inv_hessian, theta, newton)
    if size <= 0.0:
        return 0.0 if change <= 0.0 else float("inf")
    return float(np.sqrt(max(change, 0.0) / size))


def rows_measured(n, inv_hessian):
    """How many of the ``n`` training rows :func:`stationarity` measures on."""
    from ._matrix_free import MatrixFreeInverse

    most = _MAX_ROWS_MATRIX_FREE if isinstance(inv_hessian, MatrixFreeInverse) else _MAX_ROWS
    return _rows_index(n, min(n, most)).size


def sampled_phrase(measured, n):
    """``", estimated on 1,024 evenly spaced rows of the 3,000 training rows"`` when
    the measure saw only some rows (the figure is then an estimate), else ``""``."""
    if measured is None or measured >= n:
        return ""
    return f", estimated on {measured:,} evenly spaced rows of the {n:,} training rows"


def _rows_index(n, count):
    return np.unique(np.linspace(0, n - 1, count).astype(np.int64))


def _woodbury_sums(objective, Xs, ys, ws, index, inverse, theta, newton):
    """``sum_i ||g_i||^2`` and ``sum_i ||d_i||^2`` in the norm of ``H^-1`` through the
    rows (:func:`row_quadratics`): no 1024 x p block of row gradients."""
    V0 = objective.output_gradients(Xs, ys, row_weights=ws, theta=theta)
    V1 = objective.output_gradients(Xs, ys, row_weights=ws, theta=newton)
    share = objective.penalty_per_sample
    pen0 = share * objective._penalty_vector(theta)
    pen1 = share * objective._penalty_vector(newton)
    chunk = work_rows(inverse.m)
    size = row_quadratics(inverse, index, V0, pen0, chunk).sum()
    change = row_quadratics(inverse, index, V1 - V0, pen1 - pen0, chunk).sum()
    return float(size), float(change)
