"""Gauss-Newton influence for neural classifiers (skorch nets and JAX models).

A training row ``i`` is scored against a test row ``z`` by the influence function of
the model linearised at its trained parameters, with the generalised Gauss-Newton
(GGN) matrix of the training loss as curvature::

    tau(z, i) = grad m(z)^T (G + lambda I)^-1 grad m(x_i) * q_i,
    G = sum_i J_i^T Lambda_i J_i,

where ``lambda`` is the damping, never below ``n alpha``, the curvature of the model's
own L2 penalty in the summed objective (:mod:`._penalty`), ``m`` the signed margin
(DESIGN.md),
``J_i`` the Jacobian of row ``i``'s logits, ``Lambda_i`` the Hessian of its
cross-entropy with respect to them (``p (1 - p)`` for one logit, ``diag(p) - p p^T`` for
``K``) and ``q_i = 1 - p_i`` the derivative of the row's cross-entropy
``log(1 + exp(-m))`` with respect to its margin: removing row ``i`` moves the parameters
by about ``(G + lambda I)^-1 grad m(x_i) q_i``. Two methods compute it:

* ``"trak"`` (Park et al., 2023): the gradients are projected to ``k`` dimensions by
  :class:`~sktraceprop.projection.JLProjector` (``phi = P^T grad m``) and ``G`` by the
  same projection of its factors; the inverse is a ``k x k`` (or smaller dual) problem.
  TRAK itself replaces ``G`` by ``Phi^T Phi`` (no ``Lambda``); the weighted form is the
  Gauss-Newton matrix of the logistic regression on the projected features, which is
  what the one-step Newton argument of the paper starts from.
* ``"ggn"``: no projection, the exact damped GGN influence. The inverse is taken in the
  smaller of parameter space (a ``p x p`` eigendecomposition) and factor space (Woodbury
  on the Gram matrix of the curvature factors, one per row and output direction), so
  nets with 1e5 parameters need no ``p x p`` matrix.

An ensemble (``n_models > 1``) adds clones of the model trained from scratch on random
subsets of ``alpha`` times the training rows (TRAK's recipe), each with its own seed (and
its own projection); every member computes features for all training rows. The score of
the first ``m`` members is the mean of their ``grad m(z)^T (G_m + lambda_m I)^-1 grad
m(x_i)`` times one weight per training row; with ``damping="auto"`` the retrains of
:mod:`._damping` choose ``m`` (the explained model alone unless more members predict the
retrains better by a margin). Damping ``lambda_m`` is a factor times the mean nonzero eigenvalue of
``G_m``; with ``damping="auto"`` the factor (and the weights: the models' own ``1 - p``,
or that of models retrained on subsets) is chosen by :mod:`._damping` from a few cheap
retrains measured on held-out training rows.

torch and jax are imported only through :mod:`sktraceprop.gradients`, when used.

This module chooses the method and fits the ensemble; the parts live beside it: the
model's margins, gradients and factors in :mod:`._neural_model`, the retrained clones in
:mod:`._neural_refit`, each member's features and solver in :mod:`._neural_members`, and
what the fitted explainer keeps in :mod:`._neural_state`.
"""

import os
import uuid

import numpy as np
from sklearn.utils import check_random_state

from ..utils._progress import map_blocks
from ._gauss_newton import DualSolver
from ._neural_members import _Member, _member_ggn, _member_trak
from ._neural_model import _n_directions, _n_params
from ._neural_refit import _refit_member
from ._neural_state import NeuralState, _file_state
from ._penalty import l2_penalty

__all__ = ["fit_neural", "ggn_plan", "resolve_method"]

#: Exact ("ggn") inverses: a parameter-space eigendecomposition up to this many
#: parameters, a factor-space one up to this many factors (Gram matrices of at most
#: 8192^2 float64 = 512 MB).
_MAX_PRIMAL = 8192
_MAX_DUAL = 8192
#: method="auto" picks "ggn" when its fit costs at most this many flops (about a minute
#: of one CPU core), else "trak".
_AUTO_GGN_FLOPS = 5e11


# -- the cost of the exact method --------------------------------------------------------


def ggn_plan(n_train, n_params, n_directions):
    """How the exact method would invert ``G``, and its fit cost in flops.

    Returns
    -------
    space : {"primal", "dual"} or None
        None when neither fits the size limits.
    flops : float
    """
    n_factors = n_train * n_directions
    dual_size = n_train if n_directions == 1 else n_train + n_factors
    options = []
    if n_params <= _MAX_PRIMAL:
        options.append(("primal", n_factors * n_params**2 + 9.0 * n_params**3))
    if dual_size <= _MAX_DUAL:
        options.append(("dual", dual_size**2 * n_params + 9.0 * dual_size**3))
    if not options:
        return None, float("inf")
    return min(options, key=lambda o: o[1])


def resolve_method(method, model, Xt, parameters):
    """ "trak" or "ggn" for ``method``; "auto" is "ggn" when its fit is affordable."""
    n_params = _n_params(model, parameters)
    space, flops = ggn_plan(Xt.shape[0], n_params, _n_directions(model, Xt))
    if method == "ggn" and space is None:
        raise ValueError(
            f"method='ggn' needs a Gauss-Newton inverse of {n_params} parameters or of "
            f"{Xt.shape[0]} rows x {_n_directions(model, Xt)} output directions, more than "
            f"the exact method handles (at most {_MAX_PRIMAL} of either); use "
            "method='trak', or restrict `parameters` (e.g. to the last layer)."
        )
    if method == "auto":
        method = "ggn" if space is not None and flops <= _AUTO_GGN_FLOPS else "trak"
    return method, space


def fit_neural(
    model,
    Xt,
    y,
    *,
    method,
    n_models,
    n_components,
    parameters,
    damping,
    gradient_store,
    block_size,
    random_state,
    alpha,
    verbose=0,
    n_jobs=None,
):
    """Train the ensemble, compute the features and solvers, choose the damping.

    Parameters
    ----------
    model : fitted skorch net or JaxClassifier
        The explained model (member 0 of the ensemble).
    Xt : ndarray of shape (n_train, ...)
        Model inputs of the rows the model trained on.
    y : ndarray of shape (n_train,)
        Their labels.
    method : {"auto", "trak", "ggn"}
        See :func:`resolve_method`.
    n_models : int
        Ensemble size; members ``1..n_models-1`` are clones trained from scratch on
        random subsets of ``alpha`` times the rows, each with its own seed.
    n_components : int
        Projection dimension ``k`` ("trak").
    parameters : None, list of str or callable
        Parameters to differentiate.
    damping : "auto" or float
        Multiple of the mean nonzero eigenvalue of ``G``, or chosen by retrains.
    gradient_store : None or path
        Directory for the stored training features (``.npy`` memmaps).
    block_size : int
        Rows per vectorised gradient pass (capped by a memory budget).
    random_state : int, RandomState instance or None
        Draws the member seeds, the projection seeds and the damping retrains.
    alpha : float
        Fraction of the rows in each damping retrain and ensemble member (as for the
        LDS).
    verbose : int, default=0
        Progress of the ensemble training and the damping retrains.
    n_jobs : int, default=None
        joblib's ``n_jobs`` for training the ensemble members (independent fits, each
        with its own seed: the members do not depend on ``n_jobs``).

    Returns
    -------
    state : NeuralState
    """
    from ._damping import select_damping

    rng = check_random_state(random_state)
    method, space = resolve_method(method, model, Xt, parameters)
    single = _n_directions(model, Xt) == 1
    store = None
    if gradient_store is not None:
        # a directory of this fit's own: another fit into the same gradient_store (a
        # clone in a search, a second explainer) wrote over the files this one maps
        store = os.path.join(os.fspath(gradient_store), f"fit_{uuid.uuid4().hex[:16]}")
        os.makedirs(store)
    # the damping retrains draw from their own stream, so that they are the same for
    # every ensemble size (and the members the same for every damping)
    damping_rng = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
    # member by member, so that the first m members are the same for any n_models
    n = Xt.shape[0]
    seeds, proj_seeds, halves = [None], [int(rng.randint(np.iinfo(np.int32).max))], [None]
    for _ in range(n_models - 1):
        seeds.append(int(rng.randint(np.iinfo(np.int32).max)))
        proj_seeds.append(int(rng.randint(np.iinfo(np.int32).max)))
        halves.append(np.sort(rng.choice(n, size=max(1, int(round(alpha * n))), replace=False)))
    models = [model] + map_blocks(
        _refit_member,
        list(zip(seeds[1:], halves[1:])),
        shared=(model, Xt, y),
        n_jobs=n_jobs,
        verbose=verbose,
        desc="ensemble members",
    )
    members = []
    for m, member in enumerate(models):
        out = None if store is None else os.path.join(store, f"trak_features_{m}.npy")
        if method == "trak":
            proj, F, q, solver, A = _member_trak(
                member, Xt, y, parameters, n_components, block_size, proj_seeds[m], out, single
            )
            dual = isinstance(solver, DualSolver)
            members.append(_Member(member, proj, "dual" if dual else "primal", F, q, solver, A=A))
        else:
            F, q, solver, train = _member_ggn(
                member, Xt, y, parameters, block_size, out, single, space
            )
            members.append(_Member(member, None, space, F, q, solver, train))
    coef, state_penalty = l2_penalty(model)
    for member in members:
        member.penalty = n * coef
    state = NeuralState(method, members, parameters)
    state.penalty = state_penalty
    state.store = store
    state.store_files = {
        f.filename: _file_state(f.filename) for f in state.features if isinstance(f, np.memmap)
    }
    if damping == "auto":
        factor, used, weights, selection = select_damping(
            state, model, Xt, y, rng=damping_rng, alpha=alpha, verbose=verbose
        )
    else:
        factor, used = float(damping), len(members)
        weights = np.mean([m.q for m in members], axis=0)
        selection = {
            "rule": "given",
            "factor": factor,
            "members": "all" if used > 1 else "explained model",
            "weights": "model",
        }
    state.set_damping(factor, weights, used)
    first = members[0]
    if first.penalty > factor * first.solver.scale:
        # said, so that the factor recorded is not read as the damping used
        selection["floor"] = first.penalty
        selection["reason"] = (
            selection.get("reason", f"damping factor {factor:g} given")
            + f"; the damping is raised to n * alpha = {first.penalty:.3g}, the curvature "
            f"of the model's own L2 penalty (the factor gives {factor * first.solver.scale:.3g})"
        )
    state.selection = selection
    return state
