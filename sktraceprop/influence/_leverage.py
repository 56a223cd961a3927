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
from scipy.special import softmax

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


def _largest_eigenvalues(B, curvature, weight, objective, Z):
    """Largest eigenvalue of ``weight * B @ C`` per row, ``C`` the loss curvature.

    ``B C`` (``B`` and ``C`` symmetric positive semi-definite) has the eigenvalues of the
    symmetric ``L^T B L`` for any ``C = L L^T``: a diagonal ``C`` has ``L = sqrt(C)``;
    softmax's ``C = diag(p) - p p^T`` has ``L = diag(sqrt(p)) (I - sqrt(p) sqrt(p)^T)``
    (a projection, as ``sum(p) = 1``). ``eigvalsh`` on those is a third of ``eigvals``'s
    time on the products.
    """
    if curvature.ndim == 2:
        root = np.sqrt(curvature)
        S = root[:, :, None] * B * root[:, None, :]
    elif objective.loss == "multinomial":
        root = np.sqrt(softmax(Z, axis=1))
        S = root[:, :, None] * B * root[:, None, :]
        Sr = np.einsum("iac,ic->ia", S, root)
        rSr = np.einsum("ia,ia->i", Sr, root)
        S = (
            S
            - Sr[:, :, None] * root[:, None, :]
            - root[:, :, None] * Sr[:, None, :]
            + rSr[:, None, None] * root[:, :, None] * root[:, None, :]
        )
    else:
        return np.linalg.eigvals(weight[:, None, None] * (B @ curvature)).real.max(axis=1)
    return np.linalg.eigvalsh(weight[:, None, None] * S).max(axis=1)


def leverages(objective, X, y, row_weights, inv_hessian, block_size):
    """Largest eigenvalue of each training row's leverage matrix.

    Parameters
    ----------
    objective : LinearObjective
    X, y : the training rows as the objective takes them
    row_weights : ndarray of shape (n_train,)
        :meth:`LinearObjective.row_weights` of the training rows.
    inv_hessian : ndarray of shape (n_params, n_params) or WoodburyInverse
        The (pseudo-)inverse used for the scores.
    block_size : int

    Returns
    -------
    leverage : ndarray of shape (n_train,)
        In ``[0, 1]`` for an exact inverse; a removal changes the margins by about
        ``1 / (1 - leverage)`` times the row's score.
    """
    from ..gradients._linear_hessian import dense as _dense

    n = np.shape(y)[0]
    if not isinstance(inv_hessian, np.ndarray):  # the Woodbury operator: no p x p blocks
        return _leverages_woodbury(objective, X, y, row_weights, inv_hessian, block_size)
    blocks = _output_blocks(objective)
    k = len(blocks)
    # B[a, c] = xa^T Hinv_ac xa is symmetric in (a, c): one product per output a with
    # the blocks c >= a side by side, k (k + 1) / 2 blocks in all instead of k^2
    right = [inv_hessian[np.ix_(blocks[a], np.concatenate(blocks[a:]))] for a in range(k)]
    out = np.empty(n)
    for start in range(0, n, block_size):
        rows = slice(start, min(start + block_size, n))
        Xa = _dense(X[rows])
        if objective.fit_intercept:
            Xa = np.hstack([Xa, np.ones((Xa.shape[0], 1))])
        Z = objective.decision(X[rows])
        _, _, curvature = objective.pointwise(Z, objective.encode_targets(y[rows]))
        m, da = Xa.shape
        B = np.empty((m, k, k))
        for a in range(k):
            P = (Xa @ right[a]).reshape(m, k - a, da)  # (BLAS product)
            B[:, a, a:] = np.einsum("icj,ij->ic", P, Xa)
            B[:, a:, a] = B[:, a, a:]
        weight = row_weights[rows] * objective.scale
        if k == 1:
            out[rows] = weight * B[:, 0, 0] * curvature.reshape(m)
        else:
            out[rows] = _largest_eigenvalues(B, curvature, weight, objective, Z)
    return out


def _leverages_woodbury(objective, X, y, row_weights, inverse, block_size):
    """:func:`leverages` from the Woodbury operator's ``J_i H^-1 J_i^T`` blocks."""
    n = np.shape(y)[0]
    k = objective.n_outputs
    out = np.empty(n)
    for start in range(0, n, block_size):
        rows = slice(start, min(start + block_size, n))
        B = inverse.output_blocks(rows)
        Z = objective.decision(X[rows])
        _, _, curvature = objective.pointwise(Z, objective.encode_targets(y[rows]))
        weight = row_weights[rows] * objective.scale
        if k == 1:
            out[rows] = weight * B[:, 0, 0] * curvature.reshape(-1)
        else:
            out[rows] = _largest_eigenvalues(B, curvature, weight, objective, Z)
    return out
