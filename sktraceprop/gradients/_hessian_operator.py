"""Hessian-vector products of a linear model's objective through its rows, no matrix formed.

.. math::

    H v = A^T (S (A v)) + \\Lambda v,

``A v`` the ``k`` outputs' change ``X V^T + v_b`` for the direction ``v = [V, v_b]``,
``S`` each row's weighted loss curvature (``s w_i C_i``, ``k x k`` for softmax, its
diagonal otherwise) and ``Lambda`` the penalty plus damping (``lambda_n + damping`` on
the coefficients, ``damping`` on the unpenalised intercept): two passes over the
non-zeros of ``X`` (sparse kept sparse), plus the diagonal for a Jacobi preconditioner.
Used by the unlearner's matrix-free Newton steps
(:mod:`sktraceprop.unlearning._newton_cg`) and the explainer's matrix-free inverse
(:mod:`sktraceprop.influence._matrix_free`).
"""

import numpy as np
from scipy import sparse

__all__ = ["HessianOperator", "prepare_rows"]


class HessianOperator:
    """``v -> (H(theta) + damping I) v`` of the objective on the rows ``(X, y, sw)``.

    Parameters
    ----------
    objective : LinearObjective
    X : {ndarray, sparse matrix} of shape (n, d)
    y : ndarray of shape (n,) or (n, n_targets)
    sw : ndarray of shape (n,) or None
    theta : ndarray of shape (n_params,)
    damping : float
        Added to every eigenvalue.
    """

    def __init__(self, objective, X, y, sw, theta, damping, rows=None):
        self.k, self.d = objective.n_outputs, objective.n_features
        self.fit_intercept = objective.fit_intercept
        self.rows = prepare_rows(X) if rows is None else rows
        self.X, self.XT = X, self.rows["XT"]
        t = objective.encode_targets(y)
        w = objective.row_weights(y, sw) * objective.scale
        _, _, C = objective.pointwise(objective.decision(X, theta), t)
        self.C = C * (w[:, None, None] if C.ndim == 3 else w[:, None])
        self.mu = objective.penalty_strength(X.shape[0]) + float(damping)
        self.damping = float(damping)
        self.null = objective.loss == "multinomial" and self.fit_intercept

    def _outputs(self, v):
        kd = self.k * self.d
        dZ = np.asarray(self.X @ v[:kd].reshape(self.k, self.d).T)
        return dZ + v[kd:] if self.fit_intercept else dZ

    def __call__(self, v):
        kd = self.k * self.d
        dZ = self._outputs(v)
        U = np.einsum("iac,ic->ia", self.C, dZ) if self.C.ndim == 3 else self.C * dZ
        out = np.empty_like(v)
        out[:kd] = np.asarray(self.XT @ U).T.ravel() + self.mu * v[:kd]
        if self.fit_intercept:
            out[kd:] = U.sum(axis=0) + self.damping * v[kd:]
        return self.project(out)

    def diagonal(self):
        """The diagonal of the damped ``H`` (the Jacobi preconditioner)."""
        sq = self.rows["XT_squared"]
        C = np.einsum("iaa->ia", self.C) if self.C.ndim == 3 else self.C
        out = [np.asarray(sq @ C).T.ravel() + self.mu]
        if self.fit_intercept:
            out.append(C.sum(axis=0) + self.damping)
        return np.concatenate(out)

    def project(self, v):
        """``v`` less its component along the softmax intercepts' null vector."""
        if self.null:
            kd = self.k * self.d
            v[kd:] -= v[kd:].mean()
        return v


def prepare_rows(X):
    """``X^T`` (row-major when sparse: its products are row sweeps) and its squares:
    the same at every step of one removal, computed once."""
    XT = X.T.tocsr() if sparse.issparse(X) else np.asarray(X).T
    return {"XT": XT, "XT_squared": XT.multiply(XT).tocsr() if sparse.issparse(XT) else XT**2}
