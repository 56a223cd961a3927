"""The exact Hessian of a linear model's objective, summed over chunks of rows.

Used by :meth:`~._linear.LinearObjective.hessian`: the rows' loss curvature in the
linear outputs, spread over the parameters, with the L2 penalty on ``coef_``.
"""

import numpy as np
from scipy import sparse

from ._dense_size import check_dense_fits

#: Rows of X made dense at a time by :func:`linear_hessian` (bytes of float64).
HESSIAN_CHUNK_BYTES = 4 << 20


def dense(X):
    """``X`` as a dense float array (a sparse matrix made dense)."""
    return X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)


def linear_hessian(objective, X, w, H, lam):
    """Exact Hessian ``sum_i w_i xa_i^T H_i xa_i + lam`` on ``coef_``, shape (p, p).

    Parameters
    ----------
    objective : LinearObjective
        Gives the numbers of outputs and features, the intercept and the estimator's
        name.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    w : ndarray of shape (n_samples,)
        The rows' weights, scale included.
    H : ndarray of shape (n_samples, K, K) or (n_samples, K)
        The loss's second derivatives in the outputs (or their diagonal).
    lam : float
        L2 strength on ``coef_``.
    """
    k, d = objective.n_outputs, objective.n_features
    da = d + 1 if objective.fit_intercept else d
    # the blocks and their reordered copy
    check_dense_fits(k * da, 2, f"The Hessian of {type(objective.estimator).__name__}")
    full = H.ndim == 3
    # Blocks (a, c) of sum_i w_i H_i[a, c] xa_i xa_i^T, ordered (output, feature),
    # summed over chunks of rows: the temporaries (the rows made dense, with their
    # intercept column, and weighted) are a chunk's, not a copy of all of X each.
    blocks = np.zeros((k, da, k, da))
    X = X.tocsr() if sparse.issparse(X) else X if isinstance(X, np.ndarray) else np.asarray(X)
    n = X.shape[0]
    step = max(1, HESSIAN_CHUNK_BYTES // (8 * da))
    for lo in range(0, n, step):
        rows = slice(lo, min(n, lo + step))
        Xa = dense(X[rows])
        if objective.fit_intercept:
            Xa = np.hstack([Xa, np.ones((Xa.shape[0], 1))])
        for a in range(k):
            for c in range(a, k if full else a + 1):
                coeff = w[rows] * (H[rows, a, c] if full else H[rows, a])
                blocks[a, :, c, :] += (Xa * coeff[:, None]).T @ Xa
    for a in range(k):
        for c in range(a + 1, k if full else a + 1):
            blocks[c, :, a, :] = blocks[a, :, c, :].T
    blocks = blocks.reshape(k * da, k * da)
    # Reorder from (output, feature+1) to [coef (output, feature), intercept (output)].
    order = np.arange(k * da).reshape(k, da)
    perm = np.concatenate([order[:, :d].ravel(), order[:, d:].ravel()])
    hess = blocks[np.ix_(perm, perm)]
    idx = np.arange(k * d)
    hess[idx, idx] += lam
    return hess
