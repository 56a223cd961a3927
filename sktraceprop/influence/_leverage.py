"""Leverage of each training row: how much a row's own fit depends on the row.

Removing row ``i`` changes the parameters by ``H^-1 g_i`` to first order (its score),
but the row also held up its own part of the curvature. With the leverage ``h_i`` of
row ``i`` (for one output ``h_i = w_i s l''_i xa_i^T H^-1 xa_i``, ``xa = [x, 1]``), a
refit without the row moves by ``H^-1 g_i / (1 - h_i)``: exactly for squared error
(the leave-one-out identity of least squares), to one Newton step for the other
losses. For ``K`` outputs the leverage is a ``K x K`` matrix; its largest eigenvalue
bounds the amplification.
"""

import numpy as np

__all__ = ["leverages"]


def _output_blocks(objective):
    """Parameter indices of each output: its coefficients, then its intercept."""
    k, d = objective.n_outputs, objective.n_features
    blocks = []
    for out in range(k):
        idx = list(range(out * d, (out + 1) * d))
        if objective.fit_intercept:
            idx.append(k * d + out)
        blocks.append(np.asarray(idx))
    return blocks


def leverages(objective, X, y, row_weights, inv_hessian, block_size):
    """Largest eigenvalue of each training row's leverage matrix.

    Parameters
    ----------
    objective : LinearObjective
    X, y : the training rows as the objective takes them
    row_weights : ndarray of shape (n_train,)
        :meth:`LinearObjective.row_weights` of the training rows.
    inv_hessian : ndarray of shape (n_params, n_params)
        The (pseudo-)inverse used for the scores.
    block_size : int

    Returns
    -------
    leverage : ndarray of shape (n_train,)
        In ``[0, 1]`` for an exact inverse; a removal changes the margins by about
        ``1 / (1 - leverage)`` times the row's score.
    """
    from ..gradients._linear import _dense

    n = np.shape(y)[0]
    blocks = _output_blocks(objective)
    k = len(blocks)
    out = np.empty(n)
    for start in range(0, n, block_size):
        rows = slice(start, min(start + block_size, n))
        Xa = _dense(X[rows])
        if objective.fit_intercept:
            Xa = np.hstack([Xa, np.ones((Xa.shape[0], 1))])
        Z = objective.decision(X[rows])
        _, _, curvature = objective.pointwise(Z, objective.encode_targets(y[rows]))
        if curvature.ndim == 2:  # the diagonal of each row's K x K curvature
            curvature = curvature[:, :, None] * np.eye(k)[None]
        B = np.empty((Xa.shape[0], k, k))
        for a in range(k):
            for c in range(k):
                block = inv_hessian[np.ix_(blocks[a], blocks[c])]
                B[:, a, c] = np.einsum("ij,ij->i", Xa @ block, Xa)  # (BLAS product)
        weight = row_weights[rows] * objective.scale
        M = weight[:, None, None] * (B @ curvature)
        out[rows] = np.linalg.eigvals(M).real.max(axis=1) if k > 1 else M[:, 0, 0]
    return out
