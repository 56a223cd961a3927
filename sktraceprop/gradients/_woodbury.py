"""The exact inverse Hessian of a linear model through its rows, when they are fewer than its
parameters (Woodbury identity, no ``p x p`` matrix).

The Hessian of the objective of :mod:`._linear` is

.. math::

    H = \\Lambda + B^T B, \\qquad B = \\tilde L^T A,

with ``A`` the Jacobian of the ``n k`` outputs ``z_ia = W_a x_i + b_a`` with respect
to ``theta = [coef_.ravel(), intercept_]``, ``tilde L_i = sqrt(s w_i) L_i`` a square
root of row ``i``'s weighted loss curvature ``s w_i C_i = tilde L_i tilde L_i^T``
(``sqrt(c)`` for one output or a diagonal curvature; for softmax
``L = diag(sqrt(p)) (I - sqrt(p) sqrt(p)^T)``) and ``Lambda`` the L2 penalty plus any
damping: ``mu = lambda_n + delta`` on the coefficients, ``delta`` on the unpenalised
intercept. ``B`` has ``m = n k`` rows (``n`` for one output). Split into its coefficient
and intercept columns ``B = [B_w, B_b]``:

* ``H_ww = mu I + B_w^T B_w`` is inverted by the Woodbury identity,
  ``H_ww^-1 u = (u - B_w^T (mu I + K)^-1 B_w u) / mu``, through the ``m x m`` matrix
  ``K = B_w B_w^T = (X X^T kron 1) o (tilde L tilde L^T)``, factored once by Cholesky;
  ``B_w u`` and ``B_w^T t`` are products with ``X`` as given (sparse stays sparse);
* the intercept, not penalised, is eliminated by blocks: with ``F = H_ww^-1 H_wb`` and
  the ``k x k`` Schur complement ``S = H_bb - H_wb^T F``, ``H^-1 [u; v]`` is
  ``y_b = S^-1 (v - H_wb^T H_ww^-1 u)``, ``y_w = H_ww^-1 u - F y_b``.

Exact, not an approximation: the same inverse as the dense route's whenever that one
drops no eigenvalue as null space, which :attr:`WoodburyInverse.min_eigenvalue_bound`
and :attr:`WoodburyInverse.max_eigenvalue_bound` certify (``S``'s block
factorisation gives ``lambda_min(H) >= min(mu, lambda_min(S)) / (1 + ||F||)^2``;
Gershgorin on ``B B^T`` gives ``lambda_max(H) <= mu + max row sum``). It costs
``O(nnz(X X^T) + m^3 / 3)`` time to factor and ``O(n^2 + m^2)`` memory, against the
dense route's ``O(n p^2 + p^3)`` and ``O(p^2)``.
"""

import numpy as np
from scipy import linalg, sparse
from scipy.special import softmax

from ._symmetric_operator import SymmetricOperator

__all__ = ["WoodburyInverse", "curvature_roots", "woodbury_applies"]


def woodbury_applies(objective, row_weights, n_bound=0):
    """Why the Woodbury route cannot give the dense route's inverse, or None when it can.

    Without an L2 penalty on the coefficients (``LinearRegression``, an unpenalised
    ``LogisticRegression``) the Hessian of more parameters than rows has a null space,
    which the dense route drops (a pseudo-inverse): a damped ``mu I`` would not.

    Parameters
    ----------
    objective : LinearObjective
    row_weights : ndarray of shape (n_samples,)
    n_bound : int, default=0
        Parameters held at a bound (``positive=True``).
    """
    if n_bound:
        return "coefficients are held at 0 by positive=True"
    if not objective.penalty_strength(np.shape(row_weights)[0]) > 0:
        return "the coefficients have no L2 penalty (their Hessian can be singular)"
    weights = np.asarray(row_weights, dtype=np.float64)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        return "some row weights are negative or not finite (no square root of the curvature)"
    return None


def curvature_roots(objective, X, y, row_weights, theta=None):
    """``tilde L_i`` of every row, shape (n, k, r): ``s w_i C_i = tilde L_i tilde L_i^T``."""
    t = objective.encode_targets(y)
    Z = objective.decision(X, theta)
    w = np.asarray(row_weights, dtype=np.float64) * objective.scale
    n, k = Z.shape
    if objective.loss == "multinomial":
        q = np.sqrt(softmax(Z, axis=1))
        root = q[:, :, None] * (np.eye(k)[None] - q[:, :, None] * q[:, None, :])
        return np.sqrt(w)[:, None, None] * root
    _, _, curvature = objective.pointwise(Z, t)  # diagonal: (n, k)
    out = np.zeros((n, k, k))
    idx = np.arange(k)
    out[:, idx, idx] = np.sqrt(w[:, None] * curvature)
    return out


def _gram(X):
    """``X X^T`` as a dense float64 array (sparse products stay sparse until then)."""
    if sparse.issparse(X):
        X = X.tocsr()
        G = X @ X.T
        return G.toarray() if sparse.issparse(G) else np.asarray(G)
    X = np.asarray(X, dtype=np.float64)
    return X @ X.T


class WoodburyInverse(SymmetricOperator):
    """``H^-1`` of a linear model's objective as an operator (see module docstring).

    ``V @ inverse`` (rows of ``V``) and ``inverse @ v`` (a vector or columns) apply it;
    it is symmetric. Nothing of size ``p x p`` is formed.

    Parameters
    ----------
    objective : LinearObjective
    X : {ndarray, sparse matrix} of shape (n, d)
    y : array-like of shape (n,)
    row_weights : ndarray of shape (n,)
        :meth:`LinearObjective.row_weights` of the rows (non-negative).
    damping : "auto" or float, default="auto"
        As :func:`sktraceprop.influence._inverse_hessian.inverse_hessian`: a multiple of
        the mean eigenvalue of ``H`` (``trace(H) / p``) added to every eigenvalue.
    theta : ndarray of shape (n_params,), default=None
        Where the Hessian is taken; the fitted parameters if None.
    absolute_damping : float, default=None
        Added to every eigenvalue as it is (as the unlearner's ``damping``), in place
        of ``damping``.
    gram : ndarray of shape (n, n), default=None
        ``X X^T`` when already computed (it does not depend on ``theta``).

    Attributes
    ----------
    damping_ : float
        The absolute damping added.
    min_eigenvalue_bound, max_eigenvalue_bound : float
        A lower bound on the smallest and an upper bound on the largest eigenvalue of
        the damped ``H``.
    """

    def __init__(
        self,
        objective,
        X,
        y,
        row_weights,
        damping="auto",
        theta=None,
        *,
        absolute_damping=None,
        gram=None,
    ):
        self.k, self.d = objective.n_outputs, objective.n_features
        self.fit_intercept = objective.fit_intercept
        self.n_params = objective.n_params
        self.X = X.tocsr() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
        n = self.X.shape[0]
        self.root = curvature_roots(objective, self.X, y, row_weights, theta)
        r = self.root.shape[2]
        self.m = n * r
        # B_b: the intercept columns of B, (m, k); B_b B_b^T = tilde L tilde L^T
        self.Bb = self.root.transpose(0, 2, 1).reshape(self.m, self.k)
        self.G = _gram(self.X) if gram is None else gram
        K = np.kron(self.G, np.ones((r, r)))
        K *= self.Bb @ self.Bb.T
        lam = objective.penalty_strength(n)
        sq_norms = np.diag(self.G)
        trace_btb = float(np.sum(self.root**2, axis=(1, 2)) @ (sq_norms + self.fit_intercept))
        trace = lam * self.k * self.d + trace_btb
        # softmax outputs with intercepts: shifting every intercept alike changes no
        # probability, so (0, 1_k / sqrt(k)) is an exact null vector of H, which the
        # dense route drops; it is lifted to an eigenvalue here and taken out again
        self.null = objective.loss == "multinomial" and self.fit_intercept
        self.n_null = int(self.null)
        free = self.n_params - self.n_null
        self.damping_ = 0.0 if damping == "auto" else float(damping) * trace / free
        if absolute_damping is not None:
            self.damping_ = float(absolute_damping)
        self.mu = lam + self.damping_
        # Gershgorin on B B^T = K + B_b B_b^T (with the intercept), before K is overwritten
        full = np.abs(K + self.Bb @ self.Bb.T) if self.fit_intercept else np.abs(K)
        self.max_eigenvalue_bound = self.mu + float(full.sum(axis=1).max(initial=0.0))
        del full
        K[np.diag_indices_from(K)] += self.mu
        self.factor = linalg.cho_factor(K, lower=True, overwrite_a=True, check_finite=False)
        self.min_eigenvalue_bound = self.mu
        if self.fit_intercept:
            self.Hwb = self._bw_t(self.Bb.T)  # (k, k d): columns of H_wb as rows
            self.F = self._hww_inv(self.Hwb)  # (k, k d)
            Hbb = self.Bb.T @ self.Bb + self.damping_ * np.eye(self.k)
            self.lift = 0.0
            if self.null:
                self.lift = max(float(np.trace(Hbb)) / self.k, self.mu)
                Hbb += self.lift / self.k
            self.S = Hbb - self.Hwb @ self.F.T
            self.S = 0.5 * (self.S + self.S.T)
            s_min = float(np.linalg.eigvalsh(self.S).min())
            f_norm = float(np.linalg.norm(self.F, 2)) if self.F.size else 0.0
            self.min_eigenvalue_bound = min(self.mu, s_min) / (1.0 + f_norm) ** 2
            # (mu I + K)^-1 B_b: the intercepts' part of bilinear forms in the rows
            # (:mod:`._woodbury_kernel`)
            self.solved_bb = linalg.cho_solve(self.factor, self.Bb, check_finite=False)

    # -- products with B_w -------------------------------------------------------------
    def _bw(self, U):
        """``B_w u`` for the rows ``u`` of ``U`` (q, k d): (q, m)."""
        q = U.shape[0]
        XU = self.X @ U.reshape(q * self.k, self.d).T  # (n, q k)
        XU = np.asarray(XU).reshape(-1, q, self.k)
        return np.einsum("iae,iqa->qie", self.root, XU).reshape(q, self.m)

    def _bw_t(self, T):
        """``B_w^T t`` for the rows ``t`` of ``T`` (q, m): (q, k d)."""
        q = T.shape[0]
        T = T.reshape(q, -1, self.root.shape[2])
        s = np.einsum("iae,qie->qai", self.root, T).reshape(q * self.k, -1)  # (q k, n)
        out = (self.X.T @ s.T).T if sparse.issparse(self.X) else s @ self.X
        return np.asarray(out).reshape(q, self.k * self.d)

    def _hww_inv(self, U):
        """``H_ww^-1 u`` for the rows of ``U`` (q, k d)."""
        t = linalg.cho_solve(self.factor, self._bw(U).T, check_finite=False)
        return (U - self._bw_t(t.T)) / self.mu

    # -- the inverse ---------------------------------------------------------------------
    def apply(self, V):
        """``V H^-1`` for the rows of ``V`` (q, n_params)."""
        V = np.atleast_2d(np.asarray(V, dtype=np.float64))
        kd = self.k * self.d
        t = self._hww_inv(V[:, :kd])
        if not self.fit_intercept:
            return t
        yb = np.linalg.solve(self.S, (V[:, kd:] - t @ self.Hwb.T).T).T
        yw = t - yb @ self.F
        if self.null:
            # less the lifted null vector's part, nu (nu^T v) / (damping + lift)
            yb = yb - V[:, kd:].sum(axis=1, keepdims=True) / self._null_eigenvalue()
        return np.hstack([yw, yb])

    def _null_eigenvalue(self):
        return self.k * (self.damping_ + self.lift)

    def output_blocks(self, rows):
        """``J_i H^-1 J_i^T`` of the training rows ``rows`` (a slice), shape (b, k, k).

        ``J_i`` is the Jacobian of row ``i``'s ``k`` outputs (``x_i`` in output ``a``'s
        coefficients, 1 at its intercept); taken in the ``m``-dimensional space, through
        the columns of ``X X^T``, without a ``p``-dimensional vector.
        """
        idx = np.arange(self.G.shape[0])[rows]
        b, k = idx.size, self.k
        # W[(j, e), (i, a)] = tilde L[j, a, e] G[j, i] = (B_w J^w_ia)_(j, e)
        W = np.einsum("jae,ji->jeia", self.root, self.G[:, idx]).reshape(self.m, b * k)
        Y = linalg.cho_solve(self.factor, W, check_finite=False)
        Wb, Yb = W.reshape(self.m, b, k), Y.reshape(self.m, b, k)
        out = -np.einsum("mic,mia->ica", Wb, Yb)
        out[:, np.arange(k), np.arange(k)] += np.diag(self.G)[idx][:, None]
        out /= self.mu
        if self.fit_intercept:
            # (A_w F - A_b) S^-1 (A_w F - A_b)^T, with A_w F = Y^T B_b
            P = np.einsum("mic,ma->ica", Yb, self.Bb) - np.eye(k)[None]
            out += P @ np.linalg.solve(self.S, P.transpose(0, 2, 1))
            if self.null:
                out -= 1.0 / self._null_eigenvalue()
        return 0.5 * (out + out.transpose(0, 2, 1))
