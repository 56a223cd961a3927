"""Which exact inverse of a linear model's Hessian the explainer builds: dense, Woodbury
or matrix-free.

All three give the same inverse (the first two to rounding, the third to the stated
tolerance of its solves): the dense route eigendecomposes the ``p x p`` Hessian
(:mod:`._inverse_hessian`); the Woodbury route
(:class:`~sktraceprop.gradients._woodbury.WoodburyInverse`) factors an ``m x m``
matrix, ``m`` the rows times the outputs (``k``, one for a binary or single-output
model), and never forms a ``p x p`` one; the matrix-free route
(:class:`~._matrix_free.MatrixFreeInverse`) forms no matrix and solves each ``H^-1 a``
by conjugate gradients through the rows, one solve per explained row.
``solver="auto"`` estimates the floating-point operations of each fit and of each
explained row, and takes the route allowed whose memory fits and whose fit plus
:data:`EXPLAINED_ROWS` explained rows need the fewest:

* dense: fit ``2 n da^2 b + 11 p^3 + n k (k + 1) da^2`` flops, ``2 p^2`` a row,
  ``5 * 8 p^2`` bytes (``da`` features plus the intercept, ``b`` Hessian blocks:
  ``k (k + 1) / 2`` for softmax, else ``k``; ``9 p^3`` for the eigendecomposition,
  ``2 p^3`` the inverse);
* Woodbury: fit ``2 sum_j c_j^2 r^2 + m^3 / 3 + 2 m^2 n k`` flops (``c_j`` the rows
  where feature ``j`` is nonzero, ``r = m / n``: ``X X^T``, the Cholesky factor, the
  leverages), ``2 m^2`` a row, ``8 (n^2 + 3 m^2 + 2 m k block_size)`` bytes;
* matrix-free: a solve is :data:`CG_ITERATIONS` Hessian-vector products of
  ``4 k (nnz(X) + n) + 10 p`` flops, counted :data:`SPARSE_FLOP_COST` times for sparse
  ``X`` (a sparse product runs far below a dense factorisation's rate; 3 times for
  dense ``X``); the fit is :data:`FIT_SOLVES` solves (the stationarity check), a row
  one; ``8 (6 p q + 2 nnz(X) + 4 n k)`` bytes, ``q`` the right-hand sides solved
  together. It computes no leverages (one solve per training row): ``leverage_`` is
  None there, and the explanations' notes say so.

So a wide sparse model whose ``m x m`` factorisation and ``m``-sized solves per training
row cost more than a few hundred solves takes the matrix-free route (20,000 TF-IDF rows
and more), a smaller one the Woodbury route, whose per-row cost after its factorisation
is lower: explaining many more than :data:`EXPLAINED_ROWS` rows, ``solver="woodbury"``
may be faster. The Woodbury and matrix-free routes are allowed where their inverse is
the dense route's: an L2 penalty on the coefficients, no ``positive=True`` bound,
non-negative row weights, and (Woodbury, checked once built) eigenvalue bounds proving
that the dense route would drop no eigenvalue but the softmax intercepts' exact null
vector. Where the proof fails, ``"auto"`` falls back to the dense route and says why in
``hessian_route_``; a matrix-free solve that does not converge raises.

Why the route is chosen at fit and not at each ``explain`` by the rows it is asked (looked
at, and not done): the decision would be cheap (the estimates above are kept in
``hessian_route_``), but only one switch could ever pay, and not cheaply. After a
Woodbury or dense fit no other route is cheaper per row (``2 m^2`` or ``2 p^2`` flops
against a CG solve of ``CG_ITERATIONS`` passes over the rows). After a matrix-free fit,
a call of many rows would be cheaper on the Woodbury route only by building its inverse
in that call: the ``m x m`` factorisation and the ``8 (n^2 + 3 m^2)`` bytes the fit was
spared (at 20,000 x 100,000 TF-IDF, where "auto" takes the matrix-free route, the
Woodbury fit exceeded an 8 GiB limit: ``benchmarks/README.md``, "Exact influence on
large sparse text"), paid again by every such call, or kept as state built outside
``fit``, which removals (whose erasure must reach it) and concurrent ``explain`` calls
would have to track. The same rows explained in a small and a large call would also
get scores from two routes (equal to the solves' tolerance, not bit for bit). A user
expecting many more than :data:`EXPLAINED_ROWS` rows passes ``solver="woodbury"``,
whose fit the estimate then need not guess.
"""

import numpy as np
from scipy import sparse

from ..gradients._dense_size import physical_memory
from ..gradients._woodbury import WoodburyInverse, woodbury_applies
from ._inverse_hessian import _NULL_RTOL

__all__ = ["EXPLAINED_ROWS", "SOLVERS", "choose_route", "route_line", "woodbury_inverse"]

SOLVERS = ("auto", "dense", "woodbury", "matrix_free")

#: Conjugate-gradient iterations one matrix-free solve is budgeted in the estimate
#: (72 to 73 on the TF-IDF benchmark at 5,000 x 50,000, ``LogisticRegression(C=10)``).
CG_ITERATIONS = 100

#: Right-hand sides the matrix-free fit solves: the Newton step of the stationarity
#: check and two gradients of each of its 32 rows.
FIT_SOLVES = 65

#: Test rows the estimate assumes will be explained per fit: the matrix-free route pays
#: a solve per explained row, the Woodbury route one ``m x m`` triangular solve pair.
EXPLAINED_ROWS = 200

#: How many dense (BLAS-3) flops one flop of a sparse product costs in the estimate:
#: measured on the TF-IDF benchmark (2-core shared machine), the Woodbury fit ran at
#: about 27 GFLOP/s, the conjugate gradients' sparse products and vector updates at
#: about 0.75.
SPARSE_FLOP_COST = 30.0


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
    nnz = X.nnz if sparse.issparse(X) else n * d
    product = 4.0 * k * (nnz + n) + 10.0 * p  # X v, X^T u, and the CG's vector updates
    # (with dense X the block's products are BLAS-3, the vector updates are not)
    solve = CG_ITERATIONS * product * (SPARSE_FLOP_COST if sparse.issparse(X) else 3.0)
    matrix_free_flops = FIT_SOLVES * solve
    block = min(block_size, n)
    return {
        "n_params": int(p),
        "system_size": int(m),
        "dense_flops": float(dense_flops),
        "woodbury_flops": float(woodbury_flops),
        "matrix_free_flops": float(matrix_free_flops),
        # per explained row, beyond the pass over the training rows every route makes
        "dense_row_flops": float(2.0 * p * p),
        "woodbury_row_flops": float(2.0 * m * m),
        "matrix_free_row_flops": float(solve),
        "dense_bytes": float(5 * 8 * p**2),
        "woodbury_bytes": float(8 * (n * n + 3 * m * m + 2 * m * k * block)),
        "matrix_free_bytes": float(8 * (6 * p * min(_mf_rows(p), block) + 2 * nnz + 4 * n * k)),
    }


def _mf_rows(p):
    from ._matrix_free import WORK_BYTES

    return max(1, int(WORK_BYTES // (6 * 8 * max(p, 1))))


def choose_route(objective, X, row_weights, n_bound, solver, block_size):
    """The route to take and why: a dict with ``route`` ("dense", "woodbury" or
    "matrix_free"), ``reason`` and the estimated costs of each (``*_flops`` for the
    fit, ``*_row_flops`` per explained row, ``*_bytes``).

    Raises ``ValueError`` where ``solver="woodbury"`` or ``"matrix_free"`` is asked for
    and not allowed.
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
    if solver == "matrix_free":
        if why_not is not None:
            raise ValueError(
                f"solver='matrix_free' cannot give the exact inverse Hessian here: {why_not}. "
                "Use solver='auto' or 'dense'."
            )
        return {**info, "route": "matrix_free", "reason": "solver='matrix_free'"}
    if solver == "dense":
        return {**info, "route": "dense", "reason": "solver='dense'"}
    if why_not is not None:
        return {**info, "route": "dense", "reason": f"Woodbury not exact: {why_not}"}
    total = physical_memory()
    rows = EXPLAINED_ROWS
    cost = {
        route: info[f"{route}_flops"] + rows * info[f"{route}_row_flops"]
        for route in ("dense", "woodbury", "matrix_free")
    }
    fits = {
        route: total is None or info[f"{route}_bytes"] <= total
        for route in ("dense", "woodbury", "matrix_free")
    }
    allowed = [route for route in cost if fits[route]] or ["matrix_free"]
    best = min(allowed, key=cost.get)
    reason = "fewer estimated flops"
    if not fits["woodbury"] and best == "matrix_free":
        reason += "; Woodbury's matrices exceed the memory"
    return {**info, "route": best, "reason": reason}


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
    """One line saying the route taken, why, and the routes' estimated costs."""
    costs = ", ".join(
        f"{name} {route[f'{key}_flops']:.3g} flops + {route[f'{key}_row_flops']:.3g} per "
        f"row / {route[f'{key}_bytes'] / 2**20:,.0f} MiB"
        for key, name in (("dense", "dense"), ("woodbury", "Woodbury"), ("matrix_free", "CG"))
    )
    return (
        f"[InfluenceExplainer] inverse Hessian: {route['route']} route ({route['reason']}); "
        f"{route['n_params']} parameters, Woodbury system {route['system_size']}; "
        f"estimated {costs}"
    )
