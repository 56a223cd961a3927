"""Which exact inverse of a linear model's Hessian the explainer builds: dense or Woodbury.

Both give the same inverse (to rounding): the dense route eigendecomposes the ``p x p``
Hessian (:mod:`._inverse_hessian`); the Woodbury route
(:class:`~sktraceprop.gradients._woodbury.WoodburyInverse`) factors an ``m x m``
matrix, ``m`` the rows times the outputs (``k``, one for a binary or single-output
model), and never forms a ``p x p`` one. ``solver="auto"`` estimates the floating-point
operations of each fit (the Hessian or ``X X^T``, the factorisation, the leverages)
and takes the Woodbury route where it is allowed, its memory fits and it needs fewer:

* dense: ``2 n da^2 b + 11 p^3 + n k (k + 1) da^2`` flops, ``5 * 8 p^2`` bytes
  (``da`` features plus the intercept, ``b`` Hessian blocks: ``k (k + 1) / 2`` for
  softmax, else ``k``; ``9 p^3`` for the eigendecomposition, ``2 p^3`` the inverse);
* Woodbury: ``2 sum_j c_j^2 r^2 + m^3 / 3 + 2 m^2 n k`` flops (``c_j`` the rows where
  feature ``j`` is nonzero, ``r = m / n``: ``X X^T``, the Cholesky factor, the
  leverages), ``8 (n^2 + 3 m^2 + 2 m k block_size)`` bytes.

The Woodbury route is allowed where its inverse is the dense route's: an L2 penalty on
the coefficients, no ``positive=True`` bound, non-negative row weights, and (checked
once built) eigenvalue bounds proving that the dense route would drop no eigenvalue but
the softmax intercepts' exact null vector. Where the proof fails, ``"auto"`` falls back
to the dense route and says why in ``hessian_route_``.
"""

import numpy as np
from scipy import sparse

from ..gradients._dense_size import physical_memory
from ..gradients._woodbury import WoodburyInverse, woodbury_applies
from ._inverse_hessian import _NULL_RTOL

__all__ = ["SOLVERS", "choose_route", "woodbury_inverse"]

SOLVERS = ("auto", "dense", "woodbury")


def _costs(objective, X, block_size):
    n = X.shape[0]
    k, d = objective.n_outputs, objective.n_features
    da, p = d + objective.fit_intercept, objective.n_params
    r = k if k > 1 else 1
    m = n * r
    blocks = k * (k + 1) // 2 if objective.loss == "multinomial" else k
    dense_flops = 2.0 * n * da**2 * blocks + 11.0 * p**3 + n * k * (k + 1) * da**2
    if sparse.issparse(X):
        counts = np.diff(sparse.csc_matrix(X).indptr).astype(np.float64)
        gram = 2.0 * float(counts @ counts)
    else:
        gram = 2.0 * n * n * d
    woodbury_flops = gram * r * r + m**3 / 3.0 + 2.0 * m * m * n * k
    block = min(block_size, n)
    return {
        "n_params": int(p),
        "system_size": int(m),
        "dense_flops": float(dense_flops),
        "woodbury_flops": float(woodbury_flops),
        "dense_bytes": float(5 * 8 * p**2),
        "woodbury_bytes": float(8 * (n * n + 3 * m * m + 2 * m * k * block)),
    }


def choose_route(objective, X, row_weights, n_bound, solver, block_size):
    """The route to take and why: a dict with ``route`` ("dense" or "woodbury"),
    ``reason`` and the estimated costs of both (``*_flops``, ``*_bytes``).

    Raises ``ValueError`` where ``solver="woodbury"`` is asked for and not allowed.
    """
    info = _costs(objective, X, block_size)
    why_not = woodbury_applies(objective, row_weights, n_bound)
    if solver == "woodbury":
        if why_not is not None:
            raise ValueError(
                f"solver='woodbury' cannot give the exact inverse Hessian here: {why_not}. "
                "Use solver='auto' or 'dense'."
            )
        return {**info, "route": "woodbury", "reason": "solver='woodbury'"}
    if solver == "dense":
        return {**info, "route": "dense", "reason": "solver='dense'"}
    if why_not is not None:
        return {**info, "route": "dense", "reason": f"Woodbury not exact: {why_not}"}
    total = physical_memory()
    if total is not None and info["woodbury_bytes"] > total:
        return {**info, "route": "dense", "reason": "Woodbury's matrices exceed the memory"}
    if info["woodbury_flops"] < info["dense_flops"]:
        return {**info, "route": "woodbury", "reason": "fewer estimated flops"}
    return {**info, "route": "dense", "reason": "fewer estimated flops"}


def woodbury_inverse(objective, X, y, row_weights, damping):
    """The Woodbury inverse, or ``(None, why)`` where its eigenvalue bounds cannot prove
    that the dense route would keep every eigenvalue (but a softmax null vector).

    The dense route decides what to drop on the undamped Hessian: with a damping, the
    bounds are taken on an undamped inverse built first (subtracting the damping from
    the damped one's lower bound would be needlessly loose).

    Returns
    -------
    inverse : WoodburyInverse or None
    why : str or None
    """
    undamped = WoodburyInverse(objective, X, y, row_weights, "auto")
    low, high = undamped.min_eigenvalue_bound, undamped.max_eigenvalue_bound
    if not (np.isfinite(low) and np.isfinite(high) and low > _NULL_RTOL * high):
        return None, (
            f"its eigenvalue bounds ({low:.3g} to {high:.3g}) do not prove that no "
            "eigenvalue is below the null-space threshold"
        )
    if damping == "auto":
        return undamped, None
    del undamped
    return WoodburyInverse(objective, X, y, row_weights, damping), None


def route_line(route):
    """One line saying the route taken, why, and both routes' estimated costs."""
    return (
        f"[InfluenceExplainer] inverse Hessian: {route['route']} route ({route['reason']}); "
        f"{route['n_params']} parameters, Woodbury system {route['system_size']}; estimated "
        f"dense {route['dense_flops']:.3g} flops / {route['dense_bytes'] / 2**20:,.0f} MiB, "
        f"Woodbury {route['woodbury_flops']:.3g} flops / "
        f"{route['woodbury_bytes'] / 2**20:,.0f} MiB"
    )
