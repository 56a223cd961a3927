"""The certificate measured in float64, and how far that can be from the exact one.

The certificate ``||grad J_R(theta)|| / |R|`` is evaluated in float64: the outputs
``z = W x + b``, the loss derivatives at them, and their sums over the retained rows
each round. Where the features are large (unscaled columns in the millions) or the loss
is weighted heavily (a large ``C``), those roundings can exceed ``tol``: Newton steps then
wander among points whose *computed* gradient is tiny by chance. A certificate of 8e-11
was reported where the exact gradient per row at the same parameters was 1.04e-7
(60-digit arithmetic), ten times ``tol``.

:func:`certificate_fields` measures the certificate with the rows' sums taken in blocks
of :data:`BLOCK` rows, the blocks' sums added pairwise, and bounds the difference
between the value it reports and the exact one (``certificate_rounding``) by the
standard error analysis of inner products (Higham, *Accuracy and Stability of
Numerical Algorithms*, ch. 3: ``m`` products summed in any order err by at most
``gamma_m = m u / (1 - m u)`` times the sum of their magnitudes, ``u = 2**-53``), to
first order in ``u``. Summed in blocks, ``m`` is a block's length plus the depth of the
pairwise sums, not the number of rows. The bound is a worst case (the actual error is
usually far smaller): a certificate is said to meet ``tol`` only where the certificate
plus this bound does.
"""

import math

import numpy as np
from scipy import sparse

__all__ = ["BLOCK", "certificate_fields", "check_resolved", "unresolved_note"]

#: Rows whose products one inner product sums; the blocks' sums are added pairwise.
BLOCK = 32

#: Values of the rows made dense at a time (16 MiB), as whole blocks.
_CHUNK_VALUES = 1 << 21

#: Unit roundoff of float64.
_U = np.finfo(np.float64).eps / 2


def _gamma(m):
    return m * _U / (1.0 - m * _U)


def _pairwise(parts):
    """Sum of ``parts`` over its first axis, added pairwise (depth ``ceil(log2 q)``)."""
    while parts.shape[0] > 1:
        if parts.shape[0] % 2:
            parts = np.concatenate([parts, np.zeros_like(parts[:1])])
        parts = parts[0::2] + parts[1::2]
    return parts[0]


def _column_sums(V):
    """``V.sum(axis=0)`` in blocks of :data:`BLOCK` rows added pairwise, and the
    additions any entry went through, at most."""
    n, k = V.shape
    pad = -n % BLOCK
    blocks = np.vstack([V, np.zeros((pad, k))]).reshape(-1, BLOCK, k).sum(axis=1)
    return _pairwise(blocks), BLOCK + math.ceil(math.log2(blocks.shape[0])) + 1


def _products(Z, V):
    """``Z^T V`` (``(d, k)``) and, per row of it, the additions any entry went through,
    at most (the ``m`` of its error bound ``gamma_m``). Sparse ``Z``: by scipy, each
    entry a sum over the nonzeros of its column. Dense: in blocks of :data:`BLOCK`
    rows whose sums are added pairwise."""
    n, d = Z.shape
    k = V.shape[1]
    if sparse.issparse(Z):
        return np.asarray(Z.T @ V), np.asarray(Z.getnnz(axis=0)) + 1.0
    rows = max(BLOCK, _CHUNK_VALUES // max(d, 1) // BLOCK * BLOCK)
    stack = []  # a binary counter of the chunks' sums: (level, sum)
    for lo in range(0, n, rows):
        Zc, Vc = np.asarray(Z[lo : lo + rows], dtype=np.float64), V[lo : lo + rows]
        pad = -Zc.shape[0] % BLOCK
        if pad:
            Zc, Vc = np.vstack([Zc, np.zeros((pad, d))]), np.vstack([Vc, np.zeros((pad, k))])
        Zb, Vb = Zc.reshape(-1, BLOCK, d), Vc.reshape(-1, BLOCK, k)
        part, level = _pairwise(np.matmul(Zb.transpose(0, 2, 1), Vb)), 0
        while stack and stack[-1][0] == level:
            part, level = stack.pop()[1] + part, level + 1
        stack.append((level, part))
    total = stack.pop()[1]
    while stack:
        total = stack.pop()[1] + total
    blocks, chunks = -(-rows // BLOCK), -(-n // rows)
    depth = BLOCK + math.ceil(math.log2(blocks)) + 2 * math.ceil(math.log2(chunks)) + 2
    return total, np.full(d, float(depth))


def careful_gradient(objective, Z, y, sw, theta):
    """``objective``'s gradient at ``theta`` on the rows ``(Z, y, sw)``, summed blockwise,
    and a bound on the 2-norm of its difference from the exact gradient.

    The features, targets, weights and parameters are taken as exact.

    Returns
    -------
    gradient : ndarray of shape (n_params,)
    error : float
    """
    n, d = Z.shape
    t, w, out = objective._parts(Z, y, sw, theta)
    _, G, _ = objective.pointwise(out, t)
    Gw = G * w[:, None]
    coef, depth = _products(Z, Gw)
    intercept, depth_b = _column_sums(Gw)
    parts = [coef.T.ravel()] + ([intercept] if objective.fit_intercept else [])
    penalty = objective.penalty_strength(n) * objective._penalty_vector(theta)
    gradient = np.concatenate(parts) + penalty

    W, b = objective._split(theta)
    A = abs(Z) if sparse.issparse(Z) else np.abs(np.asarray(Z, dtype=np.float64))
    # |z computed - z|: an inner product of d terms (a sparse row's nonzeros) plus b
    terms = np.asarray(Z.getnnz(axis=1))[:, None] if sparse.issparse(Z) else d
    ez = _gamma(terms + 2) * (np.asarray(A @ np.abs(W).T) + np.abs(b))
    # |derivative computed - derivative exact|: its slope times ez, plus its own rounding
    if objective.loss == "multinomial":
        # |d softmax_c| <= 2 p_c (1 - p_c) max_j |dz_j| <= max_j |dz_j| / 2
        eG = 0.5 * ez.max(axis=1, keepdims=True) + (out.shape[1] + 6) * _U
    elif objective.loss in ("binomial", "log_ovr"):
        eG = 0.25 * ez + 4 * _U  # the logistic function's slope is at most 1/4
    else:  # squared error: G = 2 (z - target)
        eG = 2.0 * ez + 2 * _U * np.abs(G)
    aw = np.abs(w)[:, None]
    # weighted (row and class weights, the loss's scale: a few roundings), then summed
    per_row, size = aw * eG + 4 * _U * aw * np.abs(G), aw * np.abs(G)
    err = [(np.asarray(A.T @ per_row) + _gamma(depth)[:, None] * np.asarray(A.T @ size)).T.ravel()]
    if objective.fit_intercept:
        err.append(per_row.sum(axis=0) + _gamma(depth_b) * size.sum(axis=0))
    # the penalty term and its addition
    err = np.concatenate(err) + 2 * _U * (np.abs(gradient) + np.abs(penalty))
    # (the bound's own float64 sums of non-negative terms: a relative gamma_n at most)
    return gradient, float(np.linalg.norm(err)) * (1 + _gamma(n + d + 8))


def certificate_fields(objective, Z, y, sw, theta, off=None):
    """Event fields ``certificate`` (``||grad J_R(theta)|| / n``, measured as
    :func:`careful_gradient` sums) and ``certificate_rounding`` (at most its distance
    from the exact value).

    ``off``: orthonormal directions of the coefficients (columns, ``(d, m)``) the
    certificate is measured off (the gradient's part along them dropped), as
    :func:`~._min_norm.least_norm` measures ``LinearRegression``'s.
    """
    gradient, error = careful_gradient(objective, Z, y, sw, theta)
    if off is not None and off.shape[1]:
        k, d = objective.n_outputs, objective.n_features
        Gw = gradient[: k * d].reshape(k, d)
        gradient = np.concatenate([(Gw - (Gw @ off) @ off.T).ravel(), gradient[k * d :]])
    norm = float(np.linalg.norm(gradient))
    n = Z.shape[0]
    return {
        "certificate": norm / n,
        # a projection does not lengthen the error; the norm's own rounding added
        "certificate_rounding": (error + _gamma(gradient.size + 1) * norm) / n,
    }


def check_resolved(objective, Z, y, sw, result, fields, off=None):
    """Measure the certificate of a Newton ``result`` (:func:`certificate_fields` at
    ``result["theta"]``) and keep the result only where the certificate plus its
    rounding bound meets ``fields["tol"]``; else mark it for a refit (``converged``
    False, ``method`` ``"refit"``), the event's note saying why. ``off``: directions the
    certificate is measured off (:func:`~._min_norm.least_norm`)."""
    measured = certificate_fields(objective, Z, y, sw, result["theta"], off)
    certificate, rounding = measured["certificate"], measured["certificate_rounding"]
    if certificate + rounding <= fields["tol"]:
        result["certificate"] = certificate
        fields["certificate_rounding"] = rounding
        return
    result["converged"] = False
    fields["method"] = "refit"
    note = unresolved_note(certificate, rounding, fields["tol"])
    note += "; refitted on the retained rows"
    fields["note"] = f"{fields['note']}; {note}" if "note" in fields else note


def unresolved_note(certificate, rounding, tol):
    """What an event says where ``certificate + rounding`` exceeds ``tol`` though the
    certificate alone does not: float64 cannot tell the gradient apart from 0 at ``tol``."""
    return (
        f"the certificate {certificate:.3g} is within its float64 rounding bound "
        f"{rounding:.3g} per row (the features' magnitudes and the loss's weight make the "
        f"gradient's evaluation round by that much), above tol={tol:g}: the exact gradient "
        "is not known to meet tol (scale the features, or raise tol)"
    )
