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

Which directions are flat is decided on the features scaled to unit column norms: a
column in cents next to one in rates is badly scaled, not collinear, and its
coefficient is determined (taking it for a flat direction moved a logistic model's
coefficient from 8756 to 0 and its gradient from 6e-11 to 15 per row, under the
certificate of the point before). A move is kept only where the gradient after it
still meets the tolerance. ``LinearRegression`` (scikit-learn >= 1.7, dense features)
is the exception: its ``lstsq`` drops the directions whose singular values of the
weighted, centred features fall below ``tol`` times the largest, determined or not, so
a retrain is matched by dropping the same ones.
"""

import numpy as np
from scipy import sparse
from sklearn.linear_model import LinearRegression

__all__ = ["least_norm"]

#: Singular values of the retained features, scaled to unit column norms, below this
#: fraction of the largest count as zero: collinear up to rounding.
RCOND = 1e-6

#: A column whose norm after centring is below this fraction of its norm before is
#: constant on the retained rows: what is left is the rounding of its mean.
_CONSTANT = 1e-12


def _gram(Z, centred):
    """``A^T A`` of the rows ``Z``, centred on their mean when ``centred``; the mean;
    and the squared column norms before centring."""
    n = Z.shape[0]
    mean = np.asarray(Z.mean(axis=0)).ravel()
    if sparse.issparse(Z):
        G = np.asarray((Z.T @ Z).todense())
        raw = np.diag(G).copy()
        if centred:
            G -= n * np.outer(mean, mean)
    else:
        A = np.asarray(Z, dtype=np.float64)
        raw = np.einsum("ij,ij->j", A, A)
        if centred:
            A = A - mean
        G = A.T @ A
    return (G + G.T) / 2, mean, raw


def _lstsq_null_basis(Z, weights, centred, rcond):
    """The right singular vectors ``lstsq(cond=rcond)`` drops from the dense rows ``Z``
    scaled by ``sqrt(weights)`` (and centred on their weighted mean), as
    ``LinearRegression`` fits them; and that mean."""
    A = np.asarray(Z, dtype=np.float64)
    mean = weights @ A / float(weights.sum())
    if centred:
        A = A - mean
    # the singular values of R are those of A, to rounding (not squared, as a Gram's)
    R = np.linalg.qr(A * np.sqrt(weights)[:, None], mode="r")
    _, sv, vt = np.linalg.svd(R)
    # fewer rows than columns: R has fewer rows, and the columns past them are directions
    # with singular value 0 (undetermined), which lstsq drops too
    sv = np.concatenate([sv, np.zeros(vt.shape[0] - sv.size)])
    top = float(sv[0]) if sv.size else 0.0
    return vt[sv < rcond * top].T if top > 0 else np.eye(A.shape[1]), mean


def _scaled_null_basis(G, raw):
    """Orthonormal directions (original coordinates) along which the rows are constant
    or collinear, judged on unit-norm columns; ordered most certainly flat first."""
    d = G.shape[0]
    diag = np.clip(np.diag(G), 0.0, None)
    constant = diag <= (_CONSTANT**2) * raw  # zero, or constant once centred
    live = np.flatnonzero(~constant)
    scale = 1.0 / np.sqrt(diag[live])
    S = G[np.ix_(live, live)] * scale[:, None] * scale[None, :]
    columns = [np.eye(d)[:, np.flatnonzero(constant)]]
    if live.size:
        eigval, eigvec = np.linalg.eigh(S)
        top = max(float(eigval[-1]), 0.0)
        small = eigval <= (RCOND**2) * top if top > 0 else np.ones(eigval.size, bool)
        back = np.zeros((d, int(small.sum())))
        back[live] = eigvec[:, small] * scale[:, None]  # Z D u = 0 -> Z (D u) = 0
        columns.append(back)
    V = np.hstack(columns)
    if not V.shape[1]:
        return V
    Q, R = np.linalg.qr(V)
    return Q[:, np.abs(np.diag(R)) > 1e-12 * np.abs(np.diag(R)).max()]


def _move(objective, theta, N, mean, joint, centred):
    """``theta`` with its coefficients' components along ``N`` removed (intercepts
    adjusted so the retained rows' outputs stay)."""
    k, d = objective.n_outputs, objective.n_features
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
        if centred:
            b = b + shift @ mean  # outputs on the retained rows unchanged
    out = W.ravel()
    return np.concatenate([out, b]) if objective.fit_intercept else out


def _certificate(objective, Z, y, sw, theta, N=None, joint=False):
    """``||grad J_R(theta)|| / |R|``; with ``N``, of the gradient's part off ``N``."""
    g = objective.objective_gradient(Z, y, sw, theta=theta)
    if N is not None and N.shape[1]:
        k, d = objective.n_outputs, objective.n_features
        Gw = g[: k * d].reshape(k, d)
        g = np.concatenate([(Gw - (Gw @ N) @ N.T).ravel(), g[k * d :]])
    return float(np.linalg.norm(g) / Z.shape[0])


def least_norm(objective, final, Z, y, sample_weight, theta, tol):
    """The least-norm minimiser with the same outputs as ``theta`` on the retained rows.

    Parameters
    ----------
    objective : LinearObjective
    final : estimator
        The model corrected (its class and ``tol`` decide how ``lstsq`` would drop
        directions).
    Z, y, sample_weight
        The retained rows (rows of weight 0 tell no direction apart).
    theta : ndarray of shape (n_params,)
        A minimiser of the retained objective, its certificate at most ``tol``.
    tol : float
        The certificate a moved point must still meet.

    Returns
    -------
    theta : ndarray of shape (n_params,)
    n_flat : int
        Directions moved along (0: ``theta`` unchanged).
    certificate : float
        ``||grad J_R|| / |R|`` at the returned ``theta``; for ``LinearRegression``, of
        the gradient off the directions its ``lstsq`` drops.
    off : ndarray of shape (n_features, m) or None
        Those directions (None: the certificate is of the whole gradient).

    Squared losses fit the intercept apart (features centred), as scikit-learn's
    linear models do; logistic ones take the intercept among the parameters.
    """
    n_rows = Z.shape[0]
    weights = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
    rows = weights > 0
    if not rows.any():  # no row weighs: nothing tells any direction apart, nothing to move
        return theta, 0, _certificate(objective, Z, y, sample_weight, theta), None
    Zp = Z[rows] if not rows.all() else Z
    squared = objective.loss in ("squared", "squared_classifier")
    joint = objective.fit_intercept and not squared
    centred = objective.fit_intercept and squared
    if joint and sparse.issparse(Zp):
        Zp = sparse.hstack([Zp, np.ones((Zp.shape[0], 1))], format="csr")
    elif joint:
        Zp = np.hstack([np.asarray(Zp, dtype=np.float64), np.ones((Zp.shape[0], 1))])
    tol_lstsq = getattr(final, "tol", None) if isinstance(final, LinearRegression) else None
    if tol_lstsq is not None and not sparse.issparse(Zp):
        # LinearRegression >= 1.7 on dense rows: lstsq(cond=tol) on sqrt(w) (Z - mean_w)
        N, mean = _lstsq_null_basis(Zp, weights[rows], centred, float(tol_lstsq))
        if not N.shape[1]:
            return theta, 0, _certificate(objective, Z, y, sample_weight, theta), None
        moved = _move(objective, theta, N, mean, joint, centred)
        certificate = _certificate(objective, Z, y, sample_weight, moved, N)
        return moved, int(N.shape[1]), certificate, N
    # rows of weight 0 tell nothing apart, whatever their weight does to the mean
    G, mean, raw = _gram(Zp, centred)
    N = _scaled_null_basis(G, raw)
    while N.shape[1]:
        moved = _move(objective, theta, N, mean, joint, centred)
        certificate = _certificate(objective, Z, y, sample_weight, moved)
        if certificate <= tol:
            return moved, int(N.shape[1]), certificate, None
        N = N[:, :-1]  # the least certainly flat direction was not: keep its component
    return theta, 0, _certificate(objective, Z, y, sample_weight, theta), None
