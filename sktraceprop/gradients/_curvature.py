"""Factors of the cross-entropy's Hessian with respect to a model's outputs (framework-free).

For logits ``z`` (``K >= 2`` outputs, softmax cross-entropy) the Hessian of the loss with
respect to ``z`` is ``Lambda = diag(p) - p p^T`` (``p = softmax(z)``); for one output
(binary, sigmoid cross-entropy) it is ``p (1 - p)``. The generalised Gauss-Newton (GGN)
matrix of the training loss is ``G = sum_i J_i^T Lambda_i J_i`` with ``J_i`` the Jacobian
of the outputs of row ``i``. Writing ``Lambda_i = sum_e w_ie v_ie v_ie^T`` (its
eigendecomposition) gives ``G = sum_{i,e} a_ie a_ie^T`` with
``a_ie = sqrt(w_ie) J_i^T v_ie``, the gradient of ``sqrt(w_ie) v_ie . z``: one
vector-Jacobian product per direction, which is how the torch and JAX modules compute
the *curvature factors* ``a_ie``. ``Lambda_i`` has rank ``K - 1`` (its null space is the
all-ones shift of the logits), so ``K - 1`` directions are exact.
"""

import numpy as np

__all__ = ["output_curvature", "n_directions_for"]


def n_directions_for(n_outputs, n_directions=None):
    """Directions per row: all ``K - 1`` nonzero ones (one for one output) by default."""
    full = 1 if n_outputs == 1 else n_outputs - 1
    if n_directions is None:
        return full
    n_directions = int(n_directions)
    if n_directions < 1:
        raise ValueError(f"n_directions must be a positive integer, got {n_directions}.")
    return min(n_directions, full)


def output_curvature(z, n_directions=None):
    """Top eigenpairs of the loss Hessian with respect to the outputs, per row.

    Parameters
    ----------
    z : ndarray of shape (n_rows, K)
        Logits (``K == 1``: the binary decision value).
    n_directions : int, default=None
        Eigenpairs kept per row, largest first; None keeps all nonzero ones.

    Returns
    -------
    directions : ndarray of shape (n_rows, c, K), float64
        Unit eigenvectors ``v_ie``.
    weights : ndarray of shape (n_rows, c), float64
        Their eigenvalues ``w_ie >= 0``.
    """
    z = np.asarray(z, dtype=np.float64)
    n, K = z.shape
    c = n_directions_for(K, n_directions)
    if K == 1:
        p = 1.0 / (1.0 + np.exp(-z[:, 0]))
        return np.ones((n, 1, 1)), (p * (1.0 - p))[:, None]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    lam = -p[:, :, None] * p[:, None, :]
    idx = np.arange(K)
    lam[:, idx, idx] += p
    w, V = np.linalg.eigh(lam)  # ascending
    w = np.clip(w[:, ::-1][:, :c], 0.0, None)
    V = np.transpose(V[:, :, ::-1][:, :, :c], (0, 2, 1))
    return np.ascontiguousarray(V), np.ascontiguousarray(w)
