"""Bilinear forms ``a^T H^-1 g`` of a linear model's row gradients through its rows: no
``p``-sized vector.

A row gradient of a linear model is ``J(x)^T u``: ``u`` (one number per output) times
the features ``x`` in each output's coefficients, and ``u`` at the intercepts. With
:class:`~._woodbury.WoodburyInverse`'s notation (``M = mu I + K``, ``B = [B_w, B_b]``,
``S`` the intercepts' Schur complement, ``G = X X^T`` of the training rows), for ``a =
J(x_s)^T u_s`` and a training row's ``g = J(x_i)^T v_i``::

    a^T H^-1 g = (u_s . v_i) (x_s . x_i) / mu + omega_s^T gamma_i - (S^-1 P_s) . v_i
                 - (sum u_s) (sum v_i) / nu

with ``beta_s = B_w a_w`` and ``gamma_i = B_w g_w`` (``m``-vectors from the columns
``X x_s`` and ``G[:, i]``), ``P_s = B_b^T M^-1 beta_s - u_s``, ``omega_s = -M^-1
beta_s / mu + M^-1 B_b S^-1 P_s`` and ``nu`` the lifted softmax null vector's eigenvalue
(the last two terms only with intercepts, the last only for softmax). The first term is
``a_w^T H_ww^-1 g_w`` by the Woodbury identity, the next the intercepts' block
elimination, the last the null vector taken out, each as
:meth:`WoodburyInverse.apply` does.

A block of ``b`` rows ``x_s`` costs one ``m x b`` Cholesky solve and ``O(m b)``
memory (:func:`row_side`); each block of training rows then ``O(n k b b')`` time
(:func:`bilinear`). Sparse features stay sparse: only ``X x_s`` and ``x_s . x_i`` are
formed, dense ``n x b`` and ``b x b'``.
"""

import numpy as np
from scipy import linalg, sparse

__all__ = ["bilinear", "jacobian_dot", "row_quadratics", "row_side"]


def _products(A, B):
    """``A B^T`` as a dense float64 array, either factor sparse or dense."""
    out = A @ B.T
    return out.toarray() if sparse.issparse(out) else np.asarray(out, dtype=np.float64)


def row_side(inverse, Xs, U):
    """What :func:`bilinear` needs of the rows ``a_s = J(x_s)^T u_s``.

    Parameters
    ----------
    inverse : WoodburyInverse
    Xs : {ndarray, sparse matrix} of shape (b, n_features)
    U : ndarray of shape (b, n_outputs)

    Returns
    -------
    side : dict
    """
    U = np.asarray(U, dtype=np.float64)
    n, r = inverse.G.shape[0], inverse.root.shape[2]
    Gx = _products(inverse.X, Xs)  # (n, b): x_j . x_s
    beta = np.einsum("jae,sa->jes", inverse.root, U)
    beta *= Gx[:, None, :]
    del Gx
    solved = linalg.cho_solve(inverse.factor, beta.reshape(inverse.m, -1), check_finite=False)
    del beta
    omega = solved / -inverse.mu
    side = {"X": Xs, "U": U, "SP": None}
    if inverse.fit_intercept:
        P = inverse.Bb.T @ solved - U.T  # (k, b)
        side["SP"] = np.linalg.solve(inverse.S, P)
        bb = getattr(inverse, "solved_bb", None)
        if bb is None:  # an inverse pickled before it kept them
            bb = linalg.cho_solve(inverse.factor, inverse.Bb, check_finite=False)
        omega += bb @ side["SP"]
    del solved
    # Omega[a, s, j] = sum_e root[j, a, e] omega[(j, e), s]: contracted with G[:, i] v_i
    side["Omega"] = np.einsum("jae,jes->asj", inverse.root, omega.reshape(n, r, -1))
    return side


def bilinear(inverse, side, rows, V):
    """``a_s^T H^-1 J(x_i)^T v_i`` for the rows of ``side`` and the training rows
    ``rows`` (a slice), ``V`` their ``v_i`` (b', n_outputs): shape (b, b')."""
    V = np.asarray(V, dtype=np.float64)
    U, k = side["U"], inverse.k
    out = (U @ V.T) * _products(side["X"], inverse.X[rows]) / inverse.mu
    G = inverse.G[:, rows]
    for a in range(k):
        out += (side["Omega"][a] @ G) * V[:, a]
    if side["SP"] is not None:
        out -= side["SP"].T @ V.T
        if inverse.null:
            out -= np.outer(U.sum(axis=1), V.sum(axis=1)) / inverse._null_eigenvalue()
    return out


def jacobian_dot(Xs, U, vectors, k, d, fit_intercept):
    """``(J(x_s)^T u_s) . z`` for the rows ``(Xs, U)`` and the ``p``-vectors ``z``, the
    rows of ``vectors`` (q, p): shape (b, q)."""
    q = vectors.shape[0]
    coef = vectors[:, : k * d].reshape(q * k, d)
    XZ = np.asarray(Xs @ coef.T)
    XZ = XZ.reshape(XZ.shape[0], q, k)
    out = np.einsum("sqa,sa->sq", XZ, U)
    if fit_intercept:
        out += U @ vectors[:, k * d :].T
    return out


def row_quadratics(inverse, rows, V, extra, chunk):
    """``g_i^T H^-1 g_i`` of ``g_i = J(x_i)^T v_i + extra`` for the training rows
    ``rows`` (an index array), ``V`` their ``v_i``, ``extra`` one ``p``-vector shared by
    every row; ``chunk`` rows at a time: shape (len(rows),)."""
    k, d = inverse.k, inverse.d
    solved = inverse @ extra
    shared = float(extra @ solved)
    out = np.empty(len(rows))
    for lo in range(0, len(rows), chunk):
        part = rows[lo : lo + chunk]
        Xs, Vs = inverse.X[part], V[lo : lo + chunk]
        side = row_side(inverse, Xs, Vs)
        cross = jacobian_dot(Xs, Vs, solved[None, :], k, d, inverse.fit_intercept)[:, 0]
        out[lo : lo + chunk] = np.diag(bilinear(inverse, side, part, Vs)) + 2 * cross + shared
    return out
