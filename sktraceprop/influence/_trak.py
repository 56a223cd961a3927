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
"""

import os
import uuid
import warnings

import numpy as np
from scipy.special import expit
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._lineage._skorch import is_skorch_net, skorch_fit_indices
from ..utils._module_input import check_module_input
from ..utils._progress import map_blocks
from ._gauss_newton import DualSolver, PrimalSolver
from ._penalty import l2_penalty

__all__ = ["fit_neural", "is_neural_model", "refit_subset_margins"]

#: Exact ("ggn") inverses: a parameter-space eigendecomposition up to this many
#: parameters, a factor-space one up to this many factors (Gram matrices of at most
#: 8192^2 float64 = 512 MB).
_MAX_PRIMAL = 8192
_MAX_DUAL = 8192
#: method="auto" picks "ggn" when its fit costs at most this many flops (about a minute
#: of one CPU core), else "trak".
_AUTO_GGN_FLOPS = 5e11
#: Directions of each row's loss Hessian in the logits kept by "trak" (the largest; all
#: of them up to 5 classes): it approximates anyway, and the cost grows with them. On
#: the 10-class digits MLP the 4 largest hold 97% of the trace of ``Lambda_i``.
_TRAK_DIRECTIONS = 4
#: Bytes of per-sample gradients held at once while computing features.
_BLOCK_BYTES = 128 << 20


def is_jax_model(model):
    """Whether ``model`` is a JaxClassifier (fitted or not), or a fitted classifier with
    its ``apply_fn_``, ``params_`` and ``classes_``.

    Not a :class:`~sktraceprop.adapters.JaxRegressor`: the neural influence scores the
    margin of a class under the cross-entropy, which a regressor does not have.
    """
    from ..adapters import JaxClassifier

    if isinstance(model, JaxClassifier):
        return True
    return all(hasattr(model, a) for a in ("apply_fn_", "params_", "classes_"))


def is_neural_model(model):
    """Whether ``model`` is a skorch net or a JAX classifier (explained by TRAK)."""
    return is_skorch_net(model) or is_jax_model(model)


# -- framework dispatch -------------------------------------------------------------------


def _margins(model, X, y):
    if is_jax_model(model):
        from ..gradients import jax_margins

        return jax_margins(model, X, y)
    from ..gradients import torch_margins

    return torch_margins(model, X, y)


def _probabilities(model, X, y):
    """``p`` and ``q = 1 - p``, the true-class probability and its complement, float64.

    Both from the margin (``expit(m)``, ``expit(-m)``), not ``1 - p`` of a float32
    ``p``: near ``p = 1`` float32 keeps no digit of ``q`` (``q = 3e-7`` at margin 15
    came out 20% off, and ``q = 0`` beyond margin 17), and ``q`` weighs each training
    row's score and ``p q`` its curvature.
    """
    m = _margins(model, X, y)[0].astype(np.float64)
    bad = ~np.isfinite(m)
    if bad.any():
        raise ValueError(
            f"The margins of {int(bad.sum())} of {m.size} training rows are NaN or "
            f"infinite (row {int(np.flatnonzero(bad)[0])} first): the model's outputs are "
            "not finite there (its training diverged, or its parameters are NaN), so no "
            "influence can be computed. Train it again (a smaller learning rate, scaled "
            "inputs)."
        )
    return expit(m), expit(-m)


def _gradients(model, X, y, parameters, block_size, out=None, projector=None):
    kwargs = dict(parameters=parameters, block_size=block_size, out=out, projector=projector)
    if is_jax_model(model):
        from ..gradients import jax_per_sample_gradients

        return jax_per_sample_gradients(model, X, y, **kwargs)
    from ..gradients import torch_per_sample_gradients

    return torch_per_sample_gradients(model, X, y, **kwargs)


def _factors(model, X, parameters, block_size, projector=None, n_directions=None):
    kwargs = dict(
        parameters=parameters,
        block_size=block_size,
        projector=projector,
        n_directions=n_directions,
    )
    if is_jax_model(model):
        from ..gradients import jax_gauss_newton_factors

        return jax_gauss_newton_factors(model, X, **kwargs)
    from ..gradients import torch_gauss_newton_factors

    return torch_gauss_newton_factors(model, X, **kwargs)


def _n_params(model, parameters):
    if is_jax_model(model):
        from ..gradients import jax_parameter_names
        from ..gradients._jax import _leaves

        names, leaves, _ = _leaves(model.params_)
        chosen = set(jax_parameter_names(model, parameters))
        return sum(int(np.size(leaf)) for name, leaf in zip(names, leaves) if name in chosen)
    from ..gradients import torch_parameter_names

    chosen = set(torch_parameter_names(model, parameters))
    return sum(p.numel() for name, p in model.module_.named_parameters() if name in chosen)


def _n_directions(model, X):
    """Curvature factors per row: 1 for one logit, ``K - 1`` for ``K``."""
    if is_jax_model(model):
        n_out = int(np.asarray(model.apply_fn_(model.params_, X[:1])).reshape(1, -1).shape[1])
    else:
        from ..gradients._torch import _forward, _logits_fn, _module_and_outputs, _torch

        torch = _torch()
        module, outputs = _module_and_outputs(model, "auto")
        first = next(module.parameters())
        x = torch.as_tensor(X[:1], dtype=first.dtype, device=first.device)
        with torch.no_grad():
            n_out = _forward(module, dict(module.named_parameters()), x, _logits_fn(outputs))
        n_out = n_out.shape[-1]
    return 1 if n_out == 1 else n_out - 1


def _refit_member(member, model, Xt, y):
    """Ensemble member ``(seed, rows)``: a clone of ``model`` trained on those rows."""
    seed, half = member
    return _refit(model, Xt[half], y[half], seed)


def _refit(model, X, y, seed):
    """A clone of ``model`` trained on ``(X, y)`` with its own seed."""
    return _refit_seen(model, X, y, seed)[0]


def _refit_seen(model, X, y, seed):
    """A clone trained on ``(X, y)``, and the positions of the rows it trained on (None:
    all; a skorch net with a ``train_split`` holds some of them out, as the explained
    model did)."""
    est = clone(model)
    if is_jax_model(model):
        return est.set_params(random_state=int(seed)).fit(X, y), None
    import torch

    # skorch draws its initialisation and batch order from torch's global generator.
    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    try:
        with warnings.catch_warnings(), skorch_fit_indices(est) as seen:
            warnings.simplefilter("ignore")
            est.fit(X, y)
    finally:
        torch.random.set_rng_state(state)
    return est, seen.indices


def refit_on(model, Xt, y, mask, seed):
    """A clone trained on the rows ``mask`` and the mask of the rows it trained on.

    A skorch net's validation split leaves out some of the rows it is given: the
    retrain's counterfactual is the rows it trained on, not ``mask``.
    """
    rows = np.flatnonzero(mask)
    est, seen = _refit_seen(model, Xt[rows], y[rows], seed)
    trained = np.asarray(mask, dtype=bool).copy()
    if seen is not None:
        trained[:] = False
        trained[rows[seen]] = True
    return est, trained


def refit_subset_margins(model, Xt, y, mask, Xt_test, y_test, seed):
    """Margins on the test rows of ``model`` retrained from scratch on rows ``mask``,
    and the mask of the rows the retrain trained on (see :func:`refit_on`).

    Used by :func:`sktraceprop.metrics.linear_datamodeling_score` for neural models.
    """
    est, trained = refit_on(model, Xt, y, mask, seed)
    return _margins(est, Xt_test, y_test)[0].astype(np.float64), trained


def as_inputs(Xt):
    """Inputs of the model as a float32 array (torch modules may take n-d inputs)."""
    check_module_input(Xt, "the neural influence")
    return np.ascontiguousarray(np.asarray(Xt, dtype=np.float32))


def _rows_per_block(width, block_size):
    """Rows whose ``width`` float32 columns fit the gradient memory budget."""
    return int(max(1, min(block_size, _BLOCK_BYTES // max(1, 4 * width))))


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


# -- members -------------------------------------------------------------------------------


class _Member:
    """One model of the ensemble: score features and the Gauss-Newton solver.

    ``space`` is "primal" (``(G + lambda I)^-1`` applied in feature space) or "dual"
    (test rows scored through ``F_t F^T`` and ``F_t A^T``: from the stored projected
    features for TRAK, from gradients recomputed from the training rows for the exact
    method, which stores none).
    """

    def __init__(self, model, projector, space, F, q, solver, train=None, A=None):
        self.model = model
        self.projector = projector
        self.space = space
        self.F = F
        self.q = q
        self.solver = solver
        # dual only: the training rows to recompute gradients from (exact method), or
        # the stored projected factors of a multi-logit model (TRAK)
        self.train = train
        self.A = A
        self.damping = None
        self._map = None
        # the curvature of the model's own L2 penalty in the summed objective (n * alpha):
        # the damping's floor
        self.penalty = 0.0

    def set_damping(self, lam):
        """Damping ``lam``, raised to the model's own penalty where below it."""
        self.damping = max(float(lam), self.penalty)
        self._map = self.solver.inverse(self.damping) if self.space == "primal" else None

    def _test_gradients(self, Xt, y, parameters, block_size):
        proj = None if self.projector is None else self.projector.transform
        # per-sample gradients are n_params wide before projection: bound the block
        rows = _rows_per_block(_n_params(self.model, parameters), block_size)
        return np.asarray(
            _gradients(self.model, Xt, y, parameters, rows, projector=proj), dtype=np.float64
        )

    def test_part(self, Xt, y, parameters, block_size):
        """What :meth:`train_block` needs of the test rows: ``F_t M`` or ``[F_t F^T, L_t]``."""
        if self.space == "primal":
            return self._test_gradients(Xt, y, parameters, block_size) @ self._map
        width = self.F.shape[1] if self.F is not None else _n_params(self.model, parameters)
        rows = _rows_per_block(2 * width, Xt.shape[0])
        parts = []
        # test rows in blocks: each block's exact gradients (n_params floats a row) are
        # crossed with the training rows' before the next block is computed
        for start in range(0, Xt.shape[0], rows):
            Ft = self._test_gradients(
                Xt[start : start + rows], y[start : start + rows], parameters, block_size
            )
            parts.append(np.hstack(_dual_cross(self, Ft)))
        return np.vstack(parts)

    def probe_sums(self, rows, W, factors):
        """Predicted sums ``f_r (G + lambda I)^-1 F^T W`` of training rows ``rows``
        for ``lambda = factor * scale`` over ``factors``."""
        lams = [f * self.solver.scale for f in factors]
        if isinstance(self.solver, PrimalSolver):
            return self.solver.probe_sums(self.F, rows, W, lams)
        return self.solver.probe_sums(rows, W, lams)

    def width(self):
        if self.space == "primal":
            return self._map.shape[0]
        return self.solver.K.shape[0] + self.solver.s.size

    def train_block(self, part, tr):
        """Kernel part ``f_t (G + lambda I)^-1 f_i`` for training rows ``tr``."""
        if self.space == "primal":
            return part @ np.asarray(self.F[tr], dtype=np.float64).T
        n = self.solver.K.shape[0]
        return self.solver.scores(part[:, :n], part[:, n:], self.damping, cols=tr)


def _dual_cross(member, Ft):
    """``F_t F^T`` and ``F_t A^T U``, from stored features or recomputed gradients."""
    if member.F is not None:
        F = np.asarray(member.F, dtype=np.float64)
        A = member.A
        if A is None:  # one logit: the factors are sqrt(p (1 - p)) times the features
            A = np.sqrt((1.0 - member.q) * member.q)[:, None] * F
        return Ft @ F.T, (Ft @ A.T) @ member.solver.basis
    Xt, y, parameters, block_size, single = member.train
    n = Xt.shape[0]
    Kt = np.empty((Ft.shape[0], n))
    FtA = []
    for start, stop in _exact_ranges(member.model, Xt, parameters, block_size, single):
        F, A = _exact_block(member.model, Xt[start:stop], y[start:stop], parameters, single)
        Kt[:, start:stop] = Ft @ F.T
        if not single:
            FtA.append(Ft @ A.T)
    if single:  # the factors are sqrt(p (1 - p)) times the gradients: F_t A^T from F_t F^T
        return Kt, (Kt * np.sqrt((1.0 - member.q) * member.q)) @ member.solver.basis
    return Kt, np.hstack(FtA) @ member.solver.basis


def _exact_ranges(model, Xt, parameters, block_size, single):
    """Row blocks whose exact gradients and curvature factors fit the memory budget."""
    # one logit: no factors are held (they are the gradients times sqrt(p (1 - p)))
    per_row = _n_params(model, parameters) * (1 if single else 1 + _n_directions(model, Xt))
    rows = _rows_per_block(2 * per_row, block_size)  # float64: twice the float32 width
    for start in range(0, Xt.shape[0], rows):
        yield start, min(start + rows, Xt.shape[0])


def _exact_block(model, X, y, parameters, single):
    """Exact margin gradients ``F`` and curvature factors ``A`` of rows ``X`` (float64).

    For one logit the factors are ``sqrt(p (1 - p)) grad m`` (the sign of ``grad m``
    against ``grad z`` squares away in ``G = A^T A``): ``A`` is None, the callers scale
    the Gram matrices of ``F`` instead; else one per output direction, row-major
    (:func:`sktraceprop.gradients.torch_gauss_newton_factors`).
    """
    rows = X.shape[0]
    F = np.asarray(_gradients(model, X, y, parameters, rows), dtype=np.float64)
    if single:
        return F, None
    return F, np.asarray(_factors(model, X, parameters, rows), dtype=np.float64)


def _member_trak(model, Xt, y, parameters, n_components, block_size, seed, out, single):
    """Projected margin gradients and the projected Gauss-Newton matrix.

    Returns the projector, the features, ``1 - p``, the solver and the projected
    factors when the dual is used (``n_train * (1 + c) < k``; else None).
    """
    from ..projection import JLProjector

    n_params = _n_params(model, parameters)
    proj = JLProjector(n_components, random_state=seed).fit(
        np.zeros((1, n_params), dtype=np.float32)
    )
    rows = _rows_per_block(n_params, block_size)
    F = _gradients(model, Xt, y, parameters, rows, out, proj.transform)
    p, q = _probabilities(model, Xt, y)
    k = F.shape[1]
    c = 1 if single else min(_n_directions(model, Xt), _TRAK_DIRECTIONS)
    n_factors = Xt.shape[0] * c
    dual = n_factors + (0 if single else Xt.shape[0]) < k
    if single:
        if dual:
            Fd = np.asarray(F, dtype=np.float64)
            r = np.sqrt(p * q)
            K = Fd @ Fd.T
            return proj, F, q, DualSolver(K, r[:, None] * K, r[:, None] * K * r), None
        return proj, F, q, PrimalSolver(_weighted_gram(F, p * q)), None
    frows = _rows_per_block(n_params * c, block_size)
    if dual:
        A = _factors(model, Xt, parameters, frows, proj.transform, c)
        A = np.asarray(A, dtype=np.float64)
        Fd = np.asarray(F, dtype=np.float64)
        return proj, F, q, DualSolver(Fd @ Fd.T, A @ Fd.T, A @ A.T), A
    gram = np.zeros((k, k))
    for start in range(0, Xt.shape[0], frows):
        A = _factors(model, Xt[start : start + frows], parameters, frows, proj.transform, c)
        A = np.asarray(A, dtype=np.float64)
        gram += A.T @ A
    return proj, F, q, PrimalSolver(gram), None


def _weighted_gram(F, w, block_size=4096):
    """``F^T diag(w) F``, ``F`` read block by block (it may be a memmap)."""
    gram = np.zeros((F.shape[1], F.shape[1]))
    for start in range(0, F.shape[0], block_size):
        B = np.asarray(F[start : start + block_size], dtype=np.float64)
        gram += (B * w[start : start + block_size, None]).T @ B
    return gram


def _member_ggn(model, Xt, y, parameters, block_size, out, single, space):
    """Exact gradients; ``G`` in parameter space (primal) or its factor Gram (dual)."""
    p, q = _probabilities(model, Xt, y)
    if space == "primal":
        n_params = _n_params(model, parameters)
        F = _gradients(model, Xt, y, parameters, _rows_per_block(n_params, block_size), out)
        if single:
            return F, q, PrimalSolver(_weighted_gram(F, p * q)), None
        gram = np.zeros((n_params, n_params))
        frows = _rows_per_block(n_params * _n_directions(model, Xt), block_size)
        for start in range(0, Xt.shape[0], frows):
            A = np.asarray(_factors(model, Xt[start : start + frows], parameters, frows))
            gram += A.T.astype(np.float64) @ A.astype(np.float64)
        return F, q, PrimalSolver(gram), None
    n = Xt.shape[0]
    ranges = list(_exact_ranges(model, Xt, parameters, block_size, single))
    K = np.zeros((n, n))
    nf = n if single else n * _n_directions(model, Xt)
    c = nf // n
    D = None if single else np.zeros((nf, n))
    B = None if single else np.zeros((nf, nf))
    # Gram matrices of all pairs of row blocks, the second block's gradients recomputed
    # for each pair: memory stays two blocks of gradients.
    for a, (sa, ea) in enumerate(ranges):
        Fa, Aa = _exact_block(model, Xt[sa:ea], y[sa:ea], parameters, single)
        for sb, eb in ranges[: a + 1]:
            if sb == sa:
                Fb, Ab = Fa, Aa
            else:
                Fb, Ab = _exact_block(model, Xt[sb:eb], y[sb:eb], parameters, single)
            K[sa:ea, sb:eb] = Fa @ Fb.T
            K[sb:eb, sa:ea] = K[sa:ea, sb:eb].T
            if not single:
                D[sa * c : ea * c, sb:eb] = Aa @ Fb.T
                D[sb * c : eb * c, sa:ea] = Ab @ Fa.T
                B[sa * c : ea * c, sb * c : eb * c] = Aa @ Ab.T
                B[sb * c : eb * c, sa * c : ea * c] = B[sa * c : ea * c, sb * c : eb * c].T
    if single:
        r = np.sqrt(p * q)
        solver = DualSolver(K, r[:, None] * K, r[:, None] * K * r[None, :])
    else:
        solver = DualSolver(K, D, B)
    return None, q, solver, (Xt, y, parameters, block_size, single)


# -- the state -----------------------------------------------------------------------------


def _file_state(path):
    """What changes when a file is written or replaced: inode, size, modification time."""
    st = os.stat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class NeuralState:
    """What :meth:`InfluenceExplainer.explain` needs for a neural model.

    Attributes
    ----------
    method : {"trak", "ggn"}
        How the Gauss-Newton influence was computed.
    models : list of estimators
        The ensemble; ``models[0]`` is the explained model itself.
    members : list
        Per model: projector (None for "ggn"), features, ``1 - p``, solver, damping.
    weights : ndarray of shape (n_train,)
        Train-side weight of every row (``1 - p``, see :mod:`._damping`).
    factor : float
        Damping as a multiple of each member's mean nonzero eigenvalue of ``G``.
    dampings : ndarray of shape (n_models,)
        Absolute damping ``lambda_m`` per member: the factor times the member's scale,
        at least ``n`` times the model's own L2 coefficient (:mod:`._penalty`).
    penalty : str
        What the curvature includes of the model's own L2 penalty, in words.
    selection : dict
        How the damping (and the weights) were chosen.
    """

    def __init__(self, method, members, parameters):
        self.method = method
        self.members = members
        self.models = [m.model for m in members]
        self.parameters = parameters
        self.weights = None
        self.factor = None
        self.n_used = len(members)
        self.selection = None
        self.penalty = "no L2"
        self.store = None
        self.store_files = {}

    def check_store(self):
        """Raise if a training-feature file of ``gradient_store`` changed since the fit:
        the features are read from it, so its scores would be another fit's or none."""
        files = getattr(self, "store_files", {})
        # (an unpickled explainer holds its features in memory: no file is read)
        mapped = {getattr(m.F, "filename", None) for m in self.members}
        for path, was in files.items():
            if path not in mapped:
                continue
            try:
                now = _file_state(path)
            except OSError:
                now = None
            if now != was:
                what = "was deleted" if now is None else "was written or replaced"
                raise ValueError(
                    f"The gradient store file {path} {what} after InfluenceExplainer.fit: "
                    "the training features are read from it, so the scores would not be "
                    "those of this fit. Fit the explainer again."
                )

    @property
    def projectors(self):
        return [m.projector for m in self.members]

    @property
    def features(self):
        return [m.F for m in self.members]

    @property
    def dampings(self):
        return np.array([m.damping for m in self.members])

    def set_damping(self, factor, weights, n_used=None):
        """Damping ``factor`` for every member, train-side ``weights``, and the members
        whose scores are averaged: the first ``n_used`` (all by default)."""
        self.factor = float(factor)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.n_used = len(self.members) if n_used is None else int(n_used)
        for m in self.members:
            m.set_damping(factor * m.solver.scale)

    @property
    def used(self):
        return self.members[: self.n_used]

    def margins(self, Xt, y):
        """Margins of the explained model (member 0) on ``(Xt, y)``."""
        return _margins(self.models[0], Xt, y)[0].astype(np.float64)

    def test_features(self, Xt, y, block_size):
        """The members' test parts side by side: shape (n_test, sum of widths)."""
        return np.hstack([m.test_part(Xt, y, self.parameters, block_size) for m in self.used])

    def train_block(self, A, tr):
        """Scores ``(n_test, len(tr))`` of the training rows ``tr``."""
        S = np.zeros((A.shape[0], tr.stop - tr.start))
        start = 0
        for m in self.used:
            width = m.width()
            S += m.train_block(A[:, start : start + width], tr)
            start += width
        return S * (self.weights[tr] / self.n_used)


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
