"""Damped Gauss-Newton solves on gradient features, in the primal or in the dual.

Neural attribution scores one test row ``z`` against training row ``i`` as

    tau(z, i) = f(z)^T (G + lambda I)^-1 f_i * q_i,      G = A^T A,

with ``f`` the (projected or exact) gradient of the signed margin, ``A`` the curvature
factors whose Gram matrix is the Gauss-Newton matrix of the training loss
(:func:`sktraceprop.gradients.torch_gauss_newton_factors`) and ``q_i = 1 - p_i`` the
derivative of row ``i``'s cross-entropy with respect to its margin. The inverse is
taken either

* in the *primal*, from the eigendecomposition of the ``d x d`` matrix ``G`` (``d`` the
  feature dimension: the projection dimension, or the number of parameters of a small
  net), or
* in the *dual*, from the eigendecomposition of ``A A^T`` (one row per curvature
  factor), by the Woodbury identity
  ``(G + lambda I)^-1 = (I - A^T U diag(1 / (s + lambda)) U^T A) / lambda``, which
  never forms a ``d x d`` matrix (``d`` may be the 1e5 parameters of a net).

Both are exact, eigendecompose once, and then give the scores for any damping at the
cost of a few matrix products: damping selection sweeps a grid on that.
"""

import numpy as np
import scipy.linalg

__all__ = ["DualSolver", "PrimalSolver"]

# Eigenvalues below this fraction of the largest are rounding noise of a singular Gram
# matrix (fewer curvature factors than dimensions): set to zero.
_NULL_RTOL = 1e-10


def _spectrum(gram):
    # scipy's divide-and-conquer driver: numpy's eigh took 5-8x longer on the 2-core
    # benchmark machine with its second core busy (12.6 s against 1.6 s at d = 2048)
    s, U = scipy.linalg.eigh(np.asarray(gram, dtype=np.float64), driver="evd")
    top = max(float(s.max()), 0.0) if s.size else 0.0
    nonzero = s > _NULL_RTOL * top
    if top <= 0.0 or not nonzero.any():
        raise ValueError(
            "The Gauss-Newton matrix is zero: all gradients vanish, nothing to attribute."
        )
    return np.where(nonzero, s, 0.0), U, nonzero


class PrimalSolver:
    """``(G + lambda I)^-1`` from the eigendecomposition of ``G = A^T A`` (``d x d``).

    Parameters
    ----------
    gram : ndarray of shape (d, d)
        ``A^T A``, accumulated block by block by the caller.

    Attributes
    ----------
    eigenvalues : ndarray of shape (d,)
        Of ``G``, ascending; numerical zeros set to 0.
    scale : float
        Mean of the nonzero eigenvalues: damping factors are multiples of it.
    """

    def __init__(self, gram):
        self.eigenvalues, self.vectors, self._nonzero = _spectrum(gram)
        self.scale = float(self.eigenvalues[self._nonzero].mean())

    def _weights(self, lam):
        if lam > 0:
            return 1.0 / (self.eigenvalues + lam)
        # undamped: the pseudo-inverse, no weight on the null space
        return np.where(self._nonzero, 1.0 / np.where(self._nonzero, self.eigenvalues, 1.0), 0.0)

    def inverse(self, lam):
        """``(G + lambda I)^-1`` (the pseudo-inverse for ``lambda = 0``), ``d x d``."""
        V = self.vectors
        return (V * self._weights(lam)) @ V.T

    def probe_sums(self, F, rows, W, lams):
        """``F[rows] (G + lambda I)^-1 F^T W`` for every ``lambda`` in ``lams``.

        Parameters
        ----------
        F : ndarray or memmap of shape (n, d)
            Score features of the training rows.
        rows : ndarray of int
            Rows playing the test rows.
        W : ndarray of shape (n, m)
            Weights of the training rows per column (``q`` times subset masks).
        lams : sequence of float

        Returns
        -------
        list of ndarray of shape (len(rows), m)
        """
        V = self.vectors
        left = np.asarray(F[rows], dtype=np.float64) @ V
        right = V.T @ _gram_t(F, W)
        return [(left * self._weights(lam)) @ right for lam in lams]


class DualSolver:
    """Scores through ``A A^T`` (Woodbury), never a ``d x d`` matrix.

    Parameters
    ----------
    K : ndarray of shape (n, n)
        ``F F^T``, the Gram matrix of the score features.
    D : ndarray of shape (r, n)
        ``A F^T``.
    B : ndarray of shape (r, r)
        ``A A^T``.

    Attributes
    ----------
    scale : float
        Mean of the nonzero eigenvalues of ``A A^T`` (those of ``G``).
    basis : ndarray of shape (r, t)
        Eigenvectors ``U`` of ``A A^T`` for its ``t`` nonzero eigenvalues: test rows
        need ``F_t A^T U``.
    """

    def __init__(self, K, D, B):
        s, U, nonzero = _spectrum(B)
        self.K = np.asarray(K, dtype=np.float64)
        self.s = s[nonzero]
        self.basis = U[:, nonzero]
        self.C = self.basis.T @ np.asarray(D, dtype=np.float64)  # U^T A F^T, (t, n)
        self.scale = float(self.s.mean())

    def scores(self, Kt, Lt, lam, cols=slice(None)):
        """``F_t (G + lambda I)^-1 F[cols]^T`` from ``Kt = F_t F^T`` and ``Lt = F_t A^T U``.

        Returns
        -------
        ndarray of shape (n_test, n_cols)
        """
        C = self.C[:, cols]
        if lam > 0:
            return (Kt[:, cols] - (Lt / (self.s + lam)) @ C) / lam
        # undamped: the pseudo-inverse A^T (A A^T)^+2 A
        return (Lt / self.s**2) @ C

    def probe_sums(self, rows, W, lams):
        """``F[rows] (G + lambda I)^-1 F^T W`` for every ``lambda`` (see PrimalSolver)."""
        Kt = self.K[rows]
        Lt = self.C[:, rows].T
        KW = Kt @ W
        CW = self.C @ W
        out = []
        for lam in lams:
            if lam > 0:
                out.append((KW - (Lt / (self.s + lam)) @ CW) / lam)
            else:
                out.append((Lt / self.s**2) @ CW)
        return out


def _gram_t(F, W, block_size=4096):
    """``F^T W`` with ``F`` read block by block (it may be a memmap)."""
    out = np.zeros((F.shape[1], W.shape[1]))
    for start in range(0, F.shape[0], block_size):
        B = np.asarray(F[start : start + block_size], dtype=np.float64)
        out += B.T @ W[start : start + block_size]
    return out
