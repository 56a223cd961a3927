"""Newton steps off the dense route (:func:`~._convex.newton_route`: sparse wide features,
or more than :data:`~._convex.MAX_NEWTON_PARAMS` parameters), matrix-free: conjugate
gradients on Hessian-vector products through the rows.

There (a text vocabulary) the dense ``p x p`` Hessian and its factorisation cost far
more than the estimator's fit. With an L2 penalty on the coefficients the
Newton step ``(H + damping I)^-1 g`` is solved by preconditioned conjugate gradients on

.. math::

    H v = A^T (S (A v)) + \\Lambda v,

``A v`` the ``k`` outputs' change ``X V^T + v_b`` for the direction ``v = [V, v_b]``,
``S`` each row's weighted loss curvature (``s w_i C_i``, ``k x k`` for softmax, its
diagonal otherwise) and ``Lambda`` the penalty plus damping (``lambda_n + damping`` on
the coefficients, ``damping`` on the unpenalised intercept). Each product is two passes
over the non-zeros of ``X`` (as given: sparse stays sparse): no ``n x n``, ``m x m`` or
``p x p`` matrix, and no eigenvalue bound, is formed. The preconditioner is the
Hessian's diagonal (Jacobi), one more pass per step. The product is
:class:`~sktraceprop.gradients._hessian_operator.HessianOperator`, shared with the
explainer's matrix-free route (:mod:`sktraceprop.influence._matrix_free`).

The certificate is untouched: :func:`~._newton_steps.newton` still accepts a step only where
the gradient norm of the retained objective falls, and certifies the result only
where ``||grad J_R(theta)|| / |R| <= tol``, the gradient evaluated afresh at the
returned parameters. How exactly a step is solved changes how many steps that takes,
never what is certified: an inexact step (relative residual ``eta < 1``) of the
Hessian at ``theta`` is a descent direction of ``||grad J_R||^2`` there, since
``d/dt ||g(theta - t s)||^2 = -2 g^T H s = -2 (||g||^2 + g^T r) <= -2 (1 - eta) ||g||^2``.
The Hessian is taken afresh at each accepted point (one pass over the rows, as a
gradient), so the steps are inexact Newton steps with forcing term ``eta`` shrinking as
``||g|| / ||g_0||`` (Eisenstat-Walker), superlinear near the minimiser. Each step starts
from the current parameters (the model before the removal, then each accepted point);
the conjugate gradients start from ``s = 0``, not the previous step: after an accepted
step the new gradient is mostly the previous solve's residual, in no direction the
previous step predicts.

Softmax outputs with intercepts: shifting every intercept alike changes no
probability, so ``(0, 1_k)`` is an exact null vector of the undamped ``H``; the
gradient has no component along it, and the iterates are kept orthogonal to it (the
preconditioner projected), as the dense route's choice of zero-sum intercepts.
"""

import numpy as np

from ..gradients._hessian_operator import HessianOperator
from ..gradients._woodbury import woodbury_applies

__all__ = ["cg_solver", "matrix_free_why_not"]

#: Largest number of conjugate-gradient iterations of one Newton step.
MAX_CG_ITER = 1000


def matrix_free_why_not(objective, y, sw):
    """Why the matrix-free steps do not apply to the retained rows, or None: the
    coefficients need an L2 penalty (else their Hessian can be singular, which the
    dense route handles by a least-norm step) and the rows non-negative weights."""
    try:
        weights = objective.row_weights(y, sw)
    except ValueError as exc:  # balanced class weights of a class weighing 0
        return str(exc)
    return woodbury_applies(objective, weights)


def conjugate_gradients(apply, g, precondition, rtol_abs, maxiter):
    """Preconditioned CG on ``H s = g`` from ``s = 0``, until ``||H s - g|| <=
    rtol_abs`` or ``maxiter`` iterations; returns ``s``. Every iterate from 0 is a
    descent direction of the quadratic model (``g^T s > 0``)."""
    s = np.zeros_like(g)
    r = g.copy()
    z = precondition(r)
    p = z.copy()
    rz = r @ z
    for _ in range(maxiter):
        if np.linalg.norm(r) <= rtol_abs:
            break
        q = apply(p)
        pq = p @ q
        if not pq > 0:  # no curvature left (or not finite): the step so far
            break
        alpha = rz / pq
        s += alpha * p
        r -= alpha * q
        z = precondition(r)
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return s


def forcing(gnorm, g0_norm):
    """The step's relative residual ``eta = min(0.5, ||g|| / ||g_0||)``: loose while
    the gradient is far from 0, tightening as it falls (quadratic convergence; on the
    wide TF-IDF benchmark 3 to 10% fewer products than ``sqrt`` of the ratio)."""
    return min(0.5, gnorm / g0_norm) if g0_norm > 0 else 0.5


def cg_solver(objective, Z, y, sw, theta, damping, g0_norm, floor, retry=False, rows=None):
    """``g -> (H(theta) + damping I)^-1 g`` approximately, by Jacobi-preconditioned CG.

    The step's residual is at most ``eta ||g||``, ``eta`` from :func:`forcing`
    (``1e-3`` of that on a ``retry``, after a step the line search
    refused), but never asked below ``floor`` (a tenth of the certificate's target,
    ``0.1 tol |R|``: the gradient after the step is about the residual). ``rows``:
    :func:`prepare_rows` of ``Z``, when already computed.
    """
    op = HessianOperator(objective, Z, y, sw, theta, damping, rows)
    diag = op.diagonal()
    # an intercept no retained row curves (every probability saturated) has no scale
    inv_diag = 1.0 / np.where(diag > 0, diag, 1.0)

    def precondition(r):
        return op.project(inv_diag * r)

    def solve(g):
        g = op.project(np.array(g, dtype=np.float64))
        gnorm = float(np.linalg.norm(g))
        eta = forcing(gnorm, g0_norm)
        if retry:
            eta *= 1e-3
        maxiter = min(MAX_CG_ITER, 2 * g.size)
        return conjugate_gradients(op, g, precondition, max(eta * gnorm, floor), maxiter)

    return solve
