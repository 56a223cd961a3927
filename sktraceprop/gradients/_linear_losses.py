"""The losses of :class:`~._linear.LinearObjective` row by row, in the linear outputs.

Each loss's value and first and second derivatives with respect to a row's ``K``
linear outputs ``z_i``, the ``{-1, 1}`` codes of a multilabel target, and the
multiclass true-class margin with its derivative. The objective turns these into
derivatives with respect to the parameters.
"""

import numpy as np
from scipy.special import expit, logsumexp, softmax


def pointwise(loss_name, Z, t):
    """Loss, dloss/dz (n, K) and d2loss/dz2 (n, K, K) or its diagonal (n, K).

    ``loss_name`` is one of :class:`~._linear.LinearObjective`'s losses; ``t`` the
    targets in its coding (:meth:`~._linear.LinearObjective.encode_targets`).
    """
    if loss_name == "binomial":
        z = Z[:, 0]
        p = expit(z)
        loss = np.logaddexp(0, z) - t * z
        return loss, (p - t)[:, None], (p * (1 - p))[:, None]
    if loss_name == "multinomial":
        P = softmax(Z, axis=1)
        rows = np.arange(Z.shape[0])
        loss = logsumexp(Z, axis=1) - Z[rows, t]
        G = P.copy()
        G[rows, t] -= 1.0
        H = -P[:, :, None] * P[:, None, :]
        H[:, np.arange(Z.shape[1]), np.arange(Z.shape[1])] += P
        return loss, G, H
    if loss_name == "log_ovr":
        m = t * Z
        loss = np.logaddexp(0, -m).sum(axis=1)
        s = expit(-m)
        return loss, -t * s, s * (1 - s)
    R = Z - t
    return (R**2).sum(axis=1), 2.0 * R, np.full_like(R, 2.0)


def multilabel_codes(y, n_labels):
    """The ``{-1, 1}`` codes of a 0/1 indicator matrix with ``n_labels`` columns; any
    other target is refused (a RidgeClassifier fitted on such a matrix regresses on its
    codes column by column)."""
    Y = np.asarray(y)
    if Y.ndim != 2 or Y.shape[1] != n_labels or not np.isin(Y, (0, 1)).all():
        raise ValueError(
            f"this RidgeClassifier was fitted on a multilabel target ({n_labels} label "
            f"columns of 0/1): y must be such a 0/1 indicator matrix of shape "
            f"(n_samples, {n_labels}), got an array of shape {Y.shape}"
            + ("" if Y.ndim != 2 or Y.shape[1] != n_labels else " with values other than 0/1")
        )
    return 2.0 * Y.astype(np.float64) - 1.0


def multiclass_margins(Z, idx):
    """True-class logit minus the logsumexp of the other logits, and its derivative
    with respect to the logits ``Z``."""
    rows = np.arange(Z.shape[0])
    others = Z.copy()
    others[rows, idx] = -np.inf
    lse = logsumexp(others, axis=1)
    margin = Z[rows, idx] - lse
    G = -softmax(others, axis=1)
    G[rows, idx] = 1.0
    return margin, G
