"""The explainer's inverse Hessian without a matrix: conjugate gradients through the rows.

The dense route eigendecomposes the ``p x p`` Hessian, the Woodbury route factors an
``m x m`` matrix (``m`` the rows times the outputs) and solves with it once per training
row for the leverages: at 20,000 TF-IDF rows that is a 3 GB matrix and ``2 m^2 n``
flops. The matrix-free route forms neither: each ``H^-1 a`` is solved by Jacobi-
preconditioned conjugate gradients on Hessian-vector products

.. math::

    H v = A^T (S (A v)) + \\Lambda v

(:class:`~sktraceprop.gradients._hessian_operator.HessianOperator`, shared with the
unlearner's matrix-free Newton steps: two passes over the non-zeros of ``X`` per
product, sparse kept sparse), for a block of right-hand sides at once (independent CG
per column, one sparse product for the block). An explained row costs one solve
(:class:`MatrixFreeScores`), then one pass over the training rows for its scores.

Exact to a stated tolerance: each solve stops when its residual ``r = H v - a`` has
``||r|| <= RTOL ||a||`` (:data:`RTOL`, ``1e-10``); a score ``-v^T g_i`` is then off by
``|r^T H^-1 g_i|``, at most ``||r|| ||H^-1 g_i||``. Measured against the dense inverse
(``tests/influence/test_matrix_free_route.py``), scores agree within ``1e-8`` of the
largest (the tests' bound; about ``1e-11`` found), and with the Woodbury route's to
``5.5e-11`` at 5,000 TF-IDF rows (``benchmarks/bench_influence_matrix_free.py``).
A solve that does not reach the tolerance in :data:`MAX_ITER` iterations raises rather
than return an inexact score.

What the route does not compute: the leverages (one solve per training row, the cost it
avoids): ``leverage_`` is None and every explanation's notes say so.

Softmax outputs with intercepts: ``(0, 1_k)`` is an exact null vector of ``H``, which the
dense route drops; the iterates are kept orthogonal to it (the operator projects), so
the solves are the dense route's pseudo-inverse there.
"""

from collections import deque

import numpy as np
from scipy import sparse

from ..gradients._hessian_operator import HessianOperator
from ..gradients._symmetric_operator import SymmetricOperator
from ..utils._sklearn_compat import num_samples
from ._woodbury_scores import RowScores

__all__ = ["KEEP_SOLVES", "MAX_ITER", "RTOL", "MatrixFreeInverse", "MatrixFreeScores"]

#: Relative residual ``||H v - a|| / ||a||`` at which a solve stops.
RTOL = 1e-10

#: Most conjugate-gradient iterations of one solve before it raises.
MAX_ITER = 5000

#: Bytes of work arrays (about six ``q x p`` float64 arrays) a block of right-hand
#: sides may take; set this module attribute to trade memory for speed.
WORK_BYTES = 256 << 20

#: Blocks whose iteration counts an inverse keeps (the most recent): an explainer
#: asked many times solves without end, and its log must not grow with it.
KEEP_SOLVES = 64


class MatrixFreeInverse(SymmetricOperator):
    """``H^-1`` of a linear model's objective applied by conjugate gradients.

    ``V @ inverse`` (rows of ``V``) and ``inverse @ v`` apply it; nothing of size
    ``p x p``, ``n x n`` or ``m x m`` is formed.

    Parameters
    ----------
    objective : LinearObjective
    X : {ndarray, sparse matrix} of shape (n, d)
    y : array-like of shape (n,) or (n, n_labels)
    sample_weight : ndarray of shape (n,) or None
    damping : "auto" or float
        As :func:`~._inverse_hessian.inverse_hessian`: a multiple of the mean eigenvalue
        of ``H`` (its trace over the free parameters) added to every eigenvalue.

    Attributes
    ----------
    damping_ : float
    n_null : int
        1 for softmax outputs with intercepts (their null vector), else 0.
    n_iter : deque of int
        Iterations of each of the last :data:`KEEP_SOLVES` blocks solved (the most of
        its columns), oldest first.
    n_blocks, total_iter, most_iter : int
        Of every block solved so far: how many, their iterations in all, and the most
        iterations one took.
    """

    def __init__(self, objective, X, y, sample_weight, damping):
        self.X = X.tocsr() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
        self.k, self.d = objective.n_outputs, objective.n_features
        self.n_params = objective.n_params
        self.fit_intercept = objective.fit_intercept
        op = HessianOperator(objective, self.X, y, sample_weight, objective.params(), 0.0)
        diag = op.diagonal()
        self.null = op.null
        self.n_null = int(self.null)
        self.damping_ = 0.0
        if damping != "auto":
            self.damping_ = float(damping) * float(diag.sum()) / (self.n_params - self.n_null)
            op = HessianOperator(
                objective, self.X, y, sample_weight, objective.params(), self.damping_, op.rows
            )
            diag = op.diagonal()
        self.op = op
        # an intercept no row curves (every probability saturated) has no scale
        self.inv_diag = 1.0 / np.where(diag > 0, diag, 1.0)
        self.n_iter = deque(maxlen=KEEP_SOLVES)
        self.n_blocks = self.total_iter = self.most_iter = 0

    def chunk_rows(self):
        """Right-hand sides a block of work arrays may hold (at least one)."""
        return max(1, int(WORK_BYTES // (6 * 8 * max(self.n_params, 1))))

    # -- H v for a block ------------------------------------------------------------------
    def _project(self, V):
        if self.null:
            kd = self.k * self.d
            V[:, kd:] -= V[:, kd:].mean(axis=1, keepdims=True)
        return V

    def hessian_times(self, V):
        """``V H`` for the rows of ``V`` (q, p) (``H`` symmetric): one sparse product
        with the block, not one per row."""
        op, k, d = self.op, self.k, self.d
        q, kd = V.shape[0], k * d
        dZ = np.asarray(self.X @ V[:, :kd].reshape(q * k, d).T).reshape(-1, q, k)
        if self.fit_intercept:
            dZ = dZ + V[None, :, kd:]
        if op.C.ndim == 3:
            U = np.einsum("iac,iqc->iqa", op.C, dZ)
        else:
            U = op.C[:, None, :] * dZ
        n = U.shape[0]
        out = np.empty_like(V)
        XtU = np.asarray(op.XT @ U.reshape(n, q * k))  # (d, q k)
        out[:, :kd] = XtU.T.reshape(q, k, d).reshape(q, kd) + op.mu * V[:, :kd]
        if self.fit_intercept:
            out[:, kd:] = U.sum(axis=0) + op.damping * V[:, kd:]
        return self._project(out)

    # -- the inverse ------------------------------------------------------------------------
    def apply(self, A):
        """``A H^-1`` for the rows of ``A`` (q, p), each to :data:`RTOL`, in blocks of
        :meth:`chunk_rows`."""
        A = np.atleast_2d(np.asarray(A, dtype=np.float64))
        out = np.empty_like(A)
        step = self.chunk_rows()
        for lo in range(0, A.shape[0], step):
            out[lo : lo + step] = self._solve(A[lo : lo + step])
        return out

    def _solve(self, A):
        """Independent preconditioned CG for each row of ``A``, from 0: the block's
        products are taken together, and a row that has reached :data:`RTOL` takes no
        further step (its step length is set to 0)."""
        A = self._project(A.copy())
        target = RTOL * np.linalg.norm(A, axis=1)
        S = np.zeros_like(A)
        R = A.copy()
        Z = self._project(R * self.inv_diag)
        P = Z.copy()
        rz = np.einsum("qj,qj->q", R, Z)
        active = np.linalg.norm(R, axis=1) > target
        it = 0
        while active.any():
            if it >= MAX_ITER:
                worst = float(np.max(np.linalg.norm(R, axis=1) / np.linalg.norm(A, axis=1)))
                raise ArithmeticError(
                    "InfluenceExplainer (matrix-free route): conjugate gradients did not "
                    f"reach the relative residual {RTOL:g} in {MAX_ITER} iterations (worst "
                    f"{worst:.3g}): the Hessian is too ill-conditioned for exact scores this "
                    "way. Use solver='woodbury' or solver='dense'."
                )
            Q = self.hessian_times(P)
            pq = np.einsum("qj,qj->q", P, Q)
            if not np.all(pq[active] > 0):
                raise ArithmeticError(
                    "InfluenceExplainer (matrix-free route): the Hessian has a direction "
                    "of no curvature (or not finite) along a solve: its inverse is not "
                    "defined there. Use solver='dense', which drops its null space."
                )
            alpha = np.zeros_like(rz)
            alpha[active] = rz[active] / pq[active]
            S += alpha[:, None] * P
            R -= alpha[:, None] * Q
            Z = self._project(R * self.inv_diag)
            rz_new = np.einsum("qj,qj->q", R, Z)
            beta = np.zeros_like(rz)
            beta[active] = rz_new[active] / rz[active]
            P *= beta[:, None]
            P += Z
            rz = rz_new
            active &= np.linalg.norm(R, axis=1) > target
            it += 1
        self.n_iter.append(it)
        self.n_blocks += 1
        self.total_iter += it
        self.most_iter = max(self.most_iter, it)
        return S


class MatrixFreeScores(RowScores):
    """The test and training sides of the scores on the matrix-free route (the interface
    of :class:`~._woodbury_scores.WoodburyScores`).

    A test row's side is ``v_s = H^-1 a_s`` (one solve, ``a_s = J(x_s)^T u_s``); its
    score against training row ``i`` is ``-v_s^T g_i = -(J_i v_s) . v_i`` less the
    extra vectors' parts (an ``SGDClassifier``'s penalty share, balanced class sums):
    ``J_i v_s`` is the row's outputs at the parameters ``v_s``, one pass over the rows.
    """

    def chunk_rows(self):
        return self.inverse.chunk_rows()

    def test_side(self, Xt, U):
        """Solve ``H v_s = a_s`` for the test rows ``(Xt, U)``."""
        obj = self.objective
        k, d = obj.n_outputs, obj.n_features
        U = np.asarray(U, dtype=np.float64)
        q = U.shape[0]
        Xd = Xt.toarray() if sparse.issparse(Xt) else np.asarray(Xt, dtype=np.float64)
        A = (U[:, :, None] * Xd[:, None, :]).reshape(q, k * d)
        if obj.fit_intercept:
            A = np.hstack([A, U])
        sol = self.inverse.apply(A)
        return {"sol": sol, "extras": sol @ self.extras.T, "n": num_samples(Xt)}

    def scores(self, side, rows):
        """Scores of the test rows of ``side`` against the training rows ``rows``."""
        obj = self.objective
        k, d = obj.n_outputs, obj.n_features
        sol = side["sol"]
        q = sol.shape[0]
        V, coefs = self.removal_parts(rows)
        W = sol[:, : k * d].reshape(q * k, d)
        Jv = np.asarray(self.inverse.X[rows] @ W.T).reshape(-1, q, k)  # (b, q, k)
        if obj.fit_intercept:
            Jv = Jv + sol[None, :, k * d :]
        out = np.einsum("bqk,bk->qb", Jv, V)
        if coefs.shape[1]:
            out += side["extras"] @ coefs.T
        return -out
