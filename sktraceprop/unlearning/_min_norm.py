"""The least-norm minimiser when the retained rows leave parameters undetermined.

Without a penalty (``LinearRegression``, ``LogisticRegression(penalty=None)``...), an
objective over rows whose features are collinear (a column constant on them, one equal
to another there) is flat along some directions of the parameters. Removing rows can
make such directions: if only the removed rows told two columns apart, the retained
objective is minimised by a whole line of parameters. The Newton correction stops on
that line where it meets it, keeping the component along it that the removed rows alone
set; a retrain picks the least-norm point (``LinearRegression`` solves least squares by
``lstsq`` on centred features; an lbfgs fit from zero stays in the span of the rows).
:func:`least_norm` moves the corrected parameters there, which changes no prediction on
the retained rows and no value of the objective.
"""

import numpy as np
from scipy import sparse
from sklearn.linear_model import LinearRegression

__all__ = ["least_norm"]

#: Singular values of the retained features below this fraction of the largest count as
#: zero, for models without a rank tolerance of their own (LinearRegression's ``tol``,
#: scikit-learn >= 1.7).
RCOND = 1e-7


def _gram(Z, centred):
    """``A^T A`` of the rows ``Z``, centred on their mean when ``centred``; and the mean."""
    mean = np.asarray(Z.mean(axis=0)).ravel()
    if sparse.issparse(Z):
        G = np.asarray((Z.T @ Z).todense())
        if centred:
            G -= Z.shape[0] * np.outer(mean, mean)
        return G, mean
    A = np.asarray(Z, dtype=np.float64)
    if centred:
        A = A - mean
    return A.T @ A, mean


def _null_basis(G, rcond):
    """Orthonormal columns spanning the directions ``G`` (a Gram matrix) is zero on."""
    eigval, eigvec = np.linalg.eigh((G + G.T) / 2)
    top = max(float(eigval[-1]), 0.0)
    return eigvec[:, eigval <= (rcond**2) * top] if top > 0 else eigvec


def least_norm(objective, final, Z, sample_weight, theta):
    """``(theta, n)``: the least-norm parameters with the same outputs as ``theta`` on
    the retained rows ``Z`` (rows of weight 0 excluded), and ``n``, the number of
    undetermined directions found (0: ``theta`` unchanged).

    Squared losses fit the intercept apart (features centred), as scikit-learn's
    linear models do; logistic ones take the intercept among the parameters.
    """
    if sample_weight is not None:
        Z = Z[np.asarray(sample_weight) > 0]
    k, d = objective.n_outputs, objective.n_features
    squared = objective.loss in ("squared", "squared_classifier")
    # LinearRegression's tol (scikit-learn >= 1.7); before it, lstsq's own cutoff is far
    # below what a Gram matrix's eigenvalues resolve, so RCOND stands in
    tol = getattr(final, "tol", None) if isinstance(final, LinearRegression) else None
    rcond = RCOND if tol is None else float(tol)
    joint = objective.fit_intercept and not squared
    if joint and sparse.issparse(Z):
        Z = sparse.hstack([Z, np.ones((Z.shape[0], 1))], format="csr")
    elif joint:
        Z = np.hstack([np.asarray(Z, dtype=np.float64), np.ones((Z.shape[0], 1))])
    G, mean = _gram(Z, centred=objective.fit_intercept and squared)
    N = _null_basis(G, rcond)
    if not N.shape[1]:
        return theta, 0
    theta = np.array(theta, dtype=np.float64)
    W = theta[: k * d].reshape(k, d)
    b = theta[k * d :] if objective.fit_intercept else np.zeros(k)
    if joint:
        P = np.hstack([W, b[:, None]])
        P = P - (P @ N) @ N.T
        W, b = P[:, :d], P[:, d]
    else:
        shift = (W @ N) @ N.T
        W = W - shift
        if objective.fit_intercept:
            b = b + shift @ mean  # outputs on the retained rows unchanged
    out = W.ravel()
    return (np.concatenate([out, b]) if objective.fit_intercept else out), int(N.shape[1])
