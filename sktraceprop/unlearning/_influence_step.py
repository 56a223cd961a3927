"""Gauss-Newton influence steps of the neural removal, on the last layer or on all
parameters (see :mod:`._neural` for where they fit in).

The step removes rows ``K`` (``R`` retained) from a model trained to minimise
``J(theta) = mean_i loss_i + wd / 2 ||theta||^2``: one damped Gauss-Newton step on the
retained objective, whose right-hand side is minus the retained gradient at an optimum
of ``J`` over every row, ``(sum_{i in K} grad loss_i + |K| wd theta) / |R|``.
"""

import numpy as np

__all__ = ["full_gauss_newton_step", "gauss_newton_step"]

#: Relative damping used when ``damping=0``: the last-layer Gauss-Newton matrix of a
#: network that fits its data is nearly singular, so some damping is always needed.
AUTO_DAMPING = 1e-3
CG_MAX_ITER = 200
CG_RTOL = 1e-6
#: Each full Gauss-Newton product costs about three passes over the retained rows.
FULL_CG_MAX_ITER = 50
HUTCHINSON_PROBES = 4
GN_MAX_ROWS = 1024


def _probabilities(logits):
    if logits.shape[1] == 1:
        return 1.0 / (1.0 + np.exp(-logits))
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def gauss_newton_step(A, logits, Y, forget, retained, W, *, weight_decay, damping):
    """Influence step on the last layer ``W``, its inputs held fixed.

    ``W <- W + (G_R + (wd + damping) I)^-1 (sum_{i in K} grad_W loss_i + |K| wd W) / |R|``
    with ``G_R`` the Gauss-Newton matrix of the retained mean loss in ``W``, exact for
    the last layer (``mean_i Lambda_i (x) a_i a_i^T``, ``Lambda_i`` the softmax or
    sigmoid Hessian), applied matrix-free and solved by conjugate gradients.

    Parameters
    ----------
    A : ndarray of shape (n, d)
        Inputs of the last layer for the training rows (with a column of ones when the
        layer has a bias).
    logits : ndarray of shape (n, k)
        Outputs of the last layer (``k = 1``: binary, sigmoid).
    Y : ndarray of int of shape (n,)
        Class indices (0/1 when ``k = 1``).
    forget, retained : ndarray of int
        Positions of the removed and the retained rows.
    W : ndarray of shape (k, d)
        Current last-layer parameters (bias as the last column when present).
    weight_decay : float
        The L2 strength ``wd`` of the training objective.
    damping : float
        Added to the Gauss-Newton matrix; 0 picks ``1e-3`` times its mean eigenvalue.

    Returns
    -------
    delta : ndarray of shape (k, d)
        The step to add to ``W``.
    info : dict
        ``damping`` used, ``cg_iter``, ``cg_residual`` (relative).
    """
    A = np.asarray(A, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    P = _probabilities(np.asarray(logits, dtype=np.float64))
    k = P.shape[1]
    residual = P.copy()
    if k == 1:
        residual[:, 0] -= Y
    else:
        residual[np.arange(Y.shape[0]), Y] -= 1.0
    n_r = retained.shape[0]
    b = (residual[forget].T @ A[forget] + forget.shape[0] * weight_decay * W) / n_r
    A_r, P_r = A[retained], P[retained]
    if damping == 0:
        curvature = P_r * (1.0 - P_r)  # diagonal of Lambda_i, sigmoid or softmax
        mean_eig = float((curvature.sum(axis=1) * (A_r**2).sum(axis=1)).mean()) / W.size
        damping = AUTO_DAMPING * mean_eig
    shift = weight_decay + damping

    def gnvp(V):
        S = A_r @ V.T
        if k == 1:
            LS = P_r * (1.0 - P_r) * S
        else:
            PS = P_r * S
            LS = PS - P_r * PS.sum(axis=1, keepdims=True)
        return LS.T @ A_r / n_r + shift * V

    delta, it, rel = _cg(gnvp, b)
    return delta, {"damping": float(damping), "cg_iter": it, "cg_residual": rel}


def _cg(matvec, b, max_iter=CG_MAX_ITER):
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rs = float(np.vdot(r, r))
    b_norm = np.sqrt(rs)
    if b_norm == 0:
        return x, 0, 0.0
    it = 0
    while it < max_iter and np.sqrt(rs) > CG_RTOL * b_norm:
        Ap = matvec(p)
        alpha = rs / float(np.vdot(p, Ap))
        x += alpha * p
        r -= alpha * Ap
        rs_new = float(np.vdot(r, r))
        p = r + (rs_new / rs) * p
        rs = rs_new
        it += 1
    return x, it, float(np.sqrt(rs) / b_norm)


def full_gauss_newton_step(backend, model, Z, Y, forget, retained, *, weight_decay, damping):
    """Influence step on **all** parameters: a damped Gauss-Newton step, the curvature
    estimated on at most ``GN_MAX_ROWS`` retained rows, solved by conjugate gradients.

    Returns the step (flat, in the backend's parameter order) and a dict with
    ``damping``, ``cg_iter`` and ``cg_residual``.
    """
    n_r = retained.shape[0]
    theta = backend.params_vector(model)
    b = backend.loss_gradient(model, Z[forget], Y[forget]) + forget.shape[0] * weight_decay * theta
    b /= n_r
    # The curvature is an average: a fixed subsample of the retained rows estimates it.
    rows = retained
    if rows.shape[0] > GN_MAX_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, GN_MAX_ROWS, replace=False))
    gnvp = backend.gauss_newton_operator(model, Z[rows])
    if damping == 0:
        # Hutchinson estimate of the mean eigenvalue (trace / size) of G_R.
        rng = np.random.default_rng(0)
        probes = rng.choice([-1.0, 1.0], size=(HUTCHINSON_PROBES, theta.shape[0]))
        trace = np.mean([float(v @ gnvp(v)) for v in probes])
        damping = AUTO_DAMPING * trace / theta.shape[0]
    shift = weight_decay + damping
    delta, it, rel = _cg(lambda v: gnvp(v) + shift * v, b, max_iter=FULL_CG_MAX_ITER)
    return delta, {"damping": float(damping), "cg_iter": it, "cg_residual": rel}
