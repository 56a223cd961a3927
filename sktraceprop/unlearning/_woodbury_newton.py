"""Newton steps for a model of more parameters than retained rows, without a ``p x p``
matrix.

Above :data:`~._convex.MAX_NEWTON_PARAMS` parameters (a text vocabulary) the dense
Hessian and its factorisation cost far more than the estimator's fit. With an L2
penalty the Newton step ``(H + damping I)^-1 g`` is taken through the retained rows
instead (:class:`~sktraceprop.gradients._woodbury.WoodburyInverse`: an ``m x m`` Cholesky
factor, ``m`` the rows times the outputs, the intercept eliminated by blocks). The
steps, the line search and the certificate ``||grad J_R|| / |R| <= tol`` are those of
:func:`~._convex.newton`: only how a step is solved changes.
"""

import numpy as np

from ..gradients._dense_size import physical_memory
from ..gradients._woodbury import WoodburyInverse, _gram, woodbury_applies

__all__ = ["gram_of", "woodbury_solver", "woodbury_why_not"]


def woodbury_why_not(objective, y, sw):
    """Why the Woodbury steps do not apply to the retained rows, or None: they must
    be exact (:func:`woodbury_applies`), their ``m x m`` system smaller than the
    ``p x p`` Hessian and its matrices within the machine's memory."""
    try:
        weights = objective.row_weights(y, sw)
    except ValueError as exc:  # balanced class weights of a class weighing 0
        return str(exc)
    why = woodbury_applies(objective, weights)
    if why is not None:
        return why
    n, k = np.shape(y)[0], objective.n_outputs
    m = n * (k if k > 1 else 1)
    if m >= objective.n_params:
        return (
            f"its system of {m} rows x outputs is not smaller than the {objective.n_params} "
            "parameters"
        )
    need, total = 8 * (n * n + 3 * m * m), physical_memory()
    if total is not None and need > total:
        return f"its {m} x {m} system needs {need / 2**30:,.1f} GiB, more than the memory"
    return None


def gram_of(Z):
    """``Z Z^T``: computed once per removal, it does not depend on the parameters."""
    return _gram(Z)


def woodbury_solver(objective, Z, y, sw, theta, damping, gram):
    """``g -> (H(theta) + damping I)^-1 g`` for the retained rows, by the Woodbury
    identity (the multinomial intercepts' null direction, which no gradient has,
    dropped)."""
    weights = objective.row_weights(y, sw)
    try:
        inverse = WoodburyInverse(
            objective, Z, y, weights, theta=theta, absolute_damping=float(damping), gram=gram
        )
    except np.linalg.LinAlgError:
        inverse = None

    def solve(g):
        # a singular system gives no step: the line search finds no decrease, and
        # newton() refits, as it does where the dense factor fails
        try:
            return inverse @ g
        except (np.linalg.LinAlgError, TypeError):
            return np.full_like(np.asarray(g, dtype=np.float64), np.nan)

    return solve
