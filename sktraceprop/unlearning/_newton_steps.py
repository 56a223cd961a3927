"""The Newton iteration on a retained objective, certified by its gradient norm.

Steps ``theta <- theta - (H + damping I)^-1 grad J_R(theta)`` with a backtracking line
search, the Hessian retaken where the gradient falls slowly; dense (a Cholesky factor of
``H``, least squares where singular) or matrix-free (:mod:`._newton_cg`). Used by the
corrections of :mod:`._convex` and :mod:`._pipeline_refit`.
"""

import numpy as np
from scipy import linalg

from ..gradients._hessian_operator import prepare_rows
from ._newton_cg import cg_solver


def _null_space(objective):
    """Orthonormal directions the multinomial objective is flat in, or None.

    Softmax is unchanged by adding one constant to every class's intercept (and, with
    no penalty, one vector to every class's coefficients). The gradient is orthogonal to
    these directions; keeping the steps orthogonal too keeps scikit-learn's choice
    (zero-sum intercepts) instead of a drift that changes ``decision_function``.
    """
    if objective.loss != "multinomial":
        return None
    k, d = objective.n_outputs, objective.n_features
    columns = []
    if objective.penalty_strength(0) == 0:
        for j in range(d):
            v = np.zeros(objective.n_params)
            v[j : k * d : d] = 1.0
            columns.append(v)
    if objective.fit_intercept:
        v = np.zeros(objective.n_params)
        v[k * d :] = 1.0
        columns.append(v)
    return np.column_stack(columns) / np.sqrt(k) if columns else None


def _factor(H, damping, null=None):
    A = H if not damping else H + damping * np.eye(H.shape[0])
    if null is not None:
        A = A + np.mean(np.abs(np.diag(H))) * (null @ null.T)
    try:
        factor = linalg.cho_factor(A, check_finite=False)
        return lambda g: linalg.cho_solve(factor, g, check_finite=False)
    except linalg.LinAlgError:
        # Singular (collinear features, no penalty): least-squares steps still reach a
        # minimiser, and the gradient check below certifies it.
        return lambda g: linalg.lstsq(A, g, check_finite=False)[0]


def newton(objective, Z, y, sw, theta, H, H_theta, *, tol, max_iter, damping):
    """Newton-type steps on the retained objective from ``theta``.

    ``H`` is the retained Hessian evaluated at ``H_theta``; None (above
    :data:`~._convex.MAX_NEWTON_PARAMS` parameters) solves each step by conjugate gradients on
    Hessian-vector products (:func:`~._newton_cg.cg_solver`), the Hessian never formed
    and taken afresh at every accepted point (one pass over the rows). Returns a dict with the new
    ``theta``, ``certificate``, ``converged``, ``n_iter``, ``n_hessian_updates``, the
    Hessian to cache (and its point) and a ``note`` on failure.
    """
    n = Z.shape[0]

    def grad(t):
        return objective.objective_gradient(Z, y, sw, theta=t)

    null = _null_space(objective)
    matrix_free = H is None  # above MAX_NEWTON_PARAMS: CG on H v through the rows
    g = grad(theta)
    gnorm = np.linalg.norm(g)
    g0_norm, floor = gnorm, 0.1 * tol * n
    rows = prepare_rows(Z) if matrix_free else None

    def factor(H, H_theta, retry=False):
        if matrix_free:
            return cg_solver(objective, Z, y, sw, H_theta, damping, g0_norm, floor, retry, rows)
        return _factor(H, damping, null)

    def hessian(theta):
        return None if matrix_free else objective.hessian(Z, y, sw, theta=theta)

    solve = factor(H, H_theta)
    fresh = False
    n_iter = n_updates = 0
    note = ""
    while gnorm / n > tol:
        if n_iter >= max_iter:
            note = (
                f"certificate {gnorm / n:.3g} above tol={tol:g} after max_iter={max_iter} "
                "steps; refitted on the retained rows"
            )
            break
        step = solve(g)
        n_iter += 1
        t = 1.0
        for _ in range(30):
            theta_new = theta - t * step
            g_new = grad(theta_new)
            g_new_norm = np.linalg.norm(g_new)
            if g_new_norm < gnorm:
                break
            t *= 0.5
        else:
            if fresh:
                note = (
                    f"the gradient stopped decreasing at certificate {gnorm / n:.3g} (above "
                    f"tol={tol:g}: floating-point floor or ill-conditioning); refitted"
                )
                break
            # the matrix-free step at the same point, solved a thousand times tighter
            H, H_theta, fresh = hessian(theta), theta, True
            solve, n_updates = factor(H, H_theta, retry=True), n_updates + 1
            continue
        slow = g_new_norm > 0.25 * gnorm
        theta, g, gnorm = theta_new, g_new, g_new_norm
        fresh = False
        if (slow or matrix_free) and gnorm / n > tol:
            # matrix-free, the Hessian at the new point costs one pass over the rows
            H, H_theta, fresh = hessian(theta), theta, not matrix_free
            solve, n_updates = factor(H, H_theta), n_updates + 1
    converged = gnorm / n <= tol
    if not np.all(np.isfinite(theta)):
        converged, note = False, "the correction diverged; refitted"
    return {
        "theta": theta,
        "certificate": float(gnorm / n),
        "converged": bool(converged),
        "n_iter": n_iter,
        "n_hessian_updates": n_updates,
        "hessian": H,
        "hessian_theta": H_theta,
        "note": note,
    }
