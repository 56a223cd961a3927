"""Influence step plus retained-set fine-tuning for neural classifiers.

Used by :class:`~sktraceprop.unlearning.GradientCorrectionUnlearner` for skorch nets
(``_neural_torch.py``) and :class:`~sktraceprop.adapters.JaxClassifier` MLPs
(``_neural_jax.py``). Neither framework is imported here.

The model minimises ``J(theta) = mean_i loss_i + wd / 2 ||theta||^2``. Removing the rows
``K`` (``R`` retained) is done in two steps:

1. an influence (one Newton) step on the **last layer** ``W`` (its inputs ``a_i``, the
   penultimate activations with a 1 for the bias, held fixed)::

       W <- W + (G_R + (wd + damping) I)^-1 (sum_{i in K} grad_W loss_i + |K| wd W) / |R|

   ``G_R`` is the Gauss-Newton matrix of the retained mean loss in ``W``, exact for the
   last layer (``mean_i Lambda_i (x) a_i a_i^T``, ``Lambda_i`` the softmax or sigmoid
   Hessian), applied matrix-free and solved by conjugate gradients. The right-hand side
   is minus the retained gradient at an optimum of ``J`` over every row;
2. ``n_steps`` mini-batch SGD steps of step size ``lr`` on the retained objective over
   **all** parameters (same loss and weight decay as the training).

A calibration can rescale step 1 so that the removed rows' mean loss, measured after
step 2, matches an estimate of what a retrain would give them (bisection on the scale
``t`` of the step, shortening or lengthening it):

- ``"holdout"``: the model's mean loss on rows it never trained on (a population
  estimate: blind to how hard the removed rows themselves are);
- ``"crossfit"``: per row, the mean loss under models fitted at ``fit`` time on
  repeated stratified K-fold splits of the training rows that left the row out (each
  trained on ``(K - 1) / K`` of the rows), times the ratio of the full model's holdout
  loss to theirs (a model trained on fewer rows fits unseen rows worse). This
  estimates the retrain's loss on *these* rows, not on average rows. Few folds bias
  it (half-data clones, ``K = 2``, fit unseen rows unlike a model trained on nearly all
  of them, and one ratio does not correct that row by row); many folds leave each row
  out of fewer clones for the same cost, which makes it noisier.
  ``benchmarks/bench_unlearning_neural.py`` measures both.

Neither step is certified for a non-convex model: the reported *certificate* is the
retained-objective gradient norm after the correction, a measure of stationarity, not a
bound on the distance to a retrain.
"""

import numpy as np

__all__ = [
    "NEURAL_MODELS",
    "crossfit_folds",
    "crossfit_losses",
    "gauss_newton_step",
    "neural_backend",
    "neural_remove",
]

NEURAL_MODELS = (
    "skorch NeuralNetClassifier (NLLLoss on a softmax, or CrossEntropyLoss) and "
    "NeuralNetBinaryClassifier, whose module ends in a torch.nn.Linear",
    "sktraceprop.adapters.JaxClassifier with an mlp() network",
)

#: Relative damping used when ``damping=0``: the last-layer Gauss-Newton matrix of a
#: network that fits its data is nearly singular, so some damping is always needed.
AUTO_DAMPING = 1e-3
CG_MAX_ITER = 200
CG_RTOL = 1e-6
#: Each full Gauss-Newton product costs about three passes over the retained rows.
FULL_CG_MAX_ITER = 50
HUTCHINSON_PROBES = 4
GN_MAX_ROWS = 1024
CALIBRATION_BISECTIONS = 12


def neural_backend(estimator):
    """The removal backend (a module) for a neural classifier, or None for other models."""
    from .._lineage._skorch import is_skorch_net
    from ..adapters import JaxClassifier

    if is_skorch_net(estimator):
        from . import _neural_torch

        return _neural_torch
    if isinstance(estimator, JaxClassifier):
        from . import _neural_jax

        return _neural_jax
    return None


def _probabilities(logits):
    if logits.shape[1] == 1:
        return 1.0 / (1.0 + np.exp(-logits))
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def gauss_newton_step(A, logits, Y, forget, retained, W, *, weight_decay, damping):
    """Influence step on the last layer; see the module docstring.

    Parameters
    ----------
    A : ndarray of shape (n, d)
        Inputs of the last layer for the training rows (with a column of ones when the
        layer has a bias).
    logits : ndarray of shape (n, k)
        Outputs of the last layer (``k = 1``: binary, sigmoid).
    Y : ndarray of int of shape (n,)
        Class indices (0/1 when ``k = 1``).
    forget, retained : ndarray of int
        Positions of the removed and the retained rows.
    W : ndarray of shape (k, d)
        Current last-layer parameters (bias as the last column when present).
    weight_decay : float
        The L2 strength ``wd`` of the training objective.
    damping : float
        Added to the Gauss-Newton matrix; 0 picks ``1e-3`` times its mean eigenvalue.

    Returns
    -------
    delta : ndarray of shape (k, d)
        The step to add to ``W``.
    info : dict
        ``damping`` used, ``cg_iter``, ``cg_residual`` (relative).
    """
    A = np.asarray(A, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    P = _probabilities(np.asarray(logits, dtype=np.float64))
    k = P.shape[1]
    residual = P.copy()
    if k == 1:
        residual[:, 0] -= Y
    else:
        residual[np.arange(Y.shape[0]), Y] -= 1.0
    n_r = retained.shape[0]
    b = (residual[forget].T @ A[forget] + forget.shape[0] * weight_decay * W) / n_r
    A_r, P_r = A[retained], P[retained]
    if damping == 0:
        curvature = P_r * (1.0 - P_r)  # diagonal of Lambda_i, sigmoid or softmax
        mean_eig = float((curvature.sum(axis=1) * (A_r**2).sum(axis=1)).mean()) / W.size
        damping = AUTO_DAMPING * mean_eig
    shift = weight_decay + damping

    def gnvp(V):
        S = A_r @ V.T
        if k == 1:
            LS = P_r * (1.0 - P_r) * S
        else:
            PS = P_r * S
            LS = PS - P_r * PS.sum(axis=1, keepdims=True)
        return LS.T @ A_r / n_r + shift * V

    delta, it, rel = _cg(gnvp, b)
    return delta, {"damping": float(damping), "cg_iter": it, "cg_residual": rel}


def _cg(matvec, b, max_iter=CG_MAX_ITER):
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rs = float(np.vdot(r, r))
    b_norm = np.sqrt(rs)
    if b_norm == 0:
        return x, 0, 0.0
    it = 0
    while it < max_iter and np.sqrt(rs) > CG_RTOL * b_norm:
        Ap = matvec(p)
        alpha = rs / float(np.vdot(p, Ap))
        x += alpha * p
        r -= alpha * Ap
        rs_new = float(np.vdot(r, r))
        p = r + (rs_new / rs) * p
        rs = rs_new
        it += 1
    return x, it, float(np.sqrt(rs) / b_norm)


def minibatches(n, batch_size, n_steps, seed=0):
    """Positions of ``n_steps`` mini-batches, from reshuffled passes over ``n`` rows."""
    rng = np.random.default_rng(seed)
    size = n if batch_size is None or batch_size <= 0 or batch_size >= n else batch_size
    order = np.empty(0, dtype=np.int64)
    for _ in range(n_steps):
        if order.shape[0] < size:
            order = np.concatenate([order, rng.permutation(n)])
        yield order[:size]
        order = order[size:]


def _row_losses(logits, Y):
    """Per-row cross-entropy (or logistic loss when ``k = 1``) from the logits."""
    z = np.asarray(logits, dtype=np.float64)
    if z.shape[1] == 1:
        s = (2.0 * Y - 1.0) * z[:, 0]
        return np.logaddexp(0.0, -s)
    top = z.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return lse - z[np.arange(Y.shape[0]), Y]


def _mean_loss(backend, model, Z, Y):
    return float(_row_losses(backend.last_layer_inputs(model, Z)[1], Y).mean())


def full_gauss_newton_step(backend, model, Z, Y, forget, retained, *, weight_decay, damping):
    """Influence step on **all** parameters; see the module docstring.

    Returns the step (flat, in the backend's parameter order) and a dict with
    ``damping``, ``cg_iter`` and ``cg_residual``.
    """
    n_r = retained.shape[0]
    theta = backend.params_vector(model)
    b = backend.loss_gradient(model, Z[forget], Y[forget]) + forget.shape[0] * weight_decay * theta
    b /= n_r
    # The curvature is an average: a fixed subsample of the retained rows estimates it.
    rows = retained
    if rows.shape[0] > GN_MAX_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, GN_MAX_ROWS, replace=False))
    gnvp = backend.gauss_newton_operator(model, Z[rows])
    if damping == 0:
        # Hutchinson estimate of the mean eigenvalue (trace / size) of G_R.
        rng = np.random.default_rng(0)
        probes = rng.choice([-1.0, 1.0], size=(HUTCHINSON_PROBES, theta.shape[0]))
        trace = np.mean([float(v @ gnvp(v)) for v in probes])
        damping = AUTO_DAMPING * trace / theta.shape[0]
    shift = weight_decay + damping
    delta, it, rel = _cg(lambda v: gnvp(v) + shift * v, b, max_iter=FULL_CG_MAX_ITER)
    return delta, {"damping": float(damping), "cg_iter": it, "cg_residual": rel}


#: The calibrated step is at most this multiple of the influence step.
CALIBRATION_MAX_SCALE = 4096.0


def _calibrate(forget_loss_at, target, n_bisect=CALIBRATION_BISECTIONS):
    """The scale ``t >= 0`` at which the forget rows' mean loss reaches ``target``.

    Bisection (the loss rises along the step): the bracket grows by doubling from
    ``[0, 1]`` until the loss at its top reaches ``target`` (at most
    ``CALIBRATION_MAX_SCALE``). Returns ``(t, reached)``.
    """
    if forget_loss_at(0.0) >= target:
        return 0.0, True
    lo, hi = 0.0, 1.0
    while forget_loss_at(hi) < target:
        if hi >= CALIBRATION_MAX_SCALE:
            return hi, False
        lo, hi = hi, 2.0 * hi
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        if forget_loss_at(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi), True


def crossfit_folds(Y, n_folds, rng):
    """A stratified assignment of the rows to ``n_folds`` folds.

    Each class's rows are shuffled and dealt to the folds in turn, from a random fold,
    so the folds differ in size by at most one row per class and, when every class has
    at least two rows, every union of ``n_folds - 1`` folds holds every class.
    """
    fold = np.empty(Y.shape[0], dtype=np.intp)
    for c in np.unique(Y):
        rows = np.flatnonzero(Y == c)
        fold[rng.permutation(rows)] = (np.arange(rows.shape[0]) + rng.integers(n_folds)) % n_folds
    return fold


def crossfit_losses(backend, fitted, template, Z, Y, *, n_models, n_folds, seed, holdout):
    """Per-row losses of rows left out by cross-fitted models, and their holdout loss.

    Fits ``n_models`` clones of the unfitted ``template`` (of the fitted model
    ``fitted``) on repeated stratified ``n_folds``-fold splits of the rows ``(Z, Y)``:
    clone ``m`` is fitted on every fold but fold ``m % n_folds`` of split
    ``m // n_folds`` (a fresh split each repeat), so with ``n_models`` a multiple of
    ``n_folds`` every row is left out by exactly ``n_models / n_folds`` clones, each of
    which trained on ``(n_folds - 1) / n_folds`` of the rows. Each clone is fitted with
    its own seed drawn from ``seed`` (the framework's random state is restored after).
    Returns ``(unseen, clones_holdout_loss)``: ``unseen[i]`` is the mean loss of row
    ``i`` under the clones that left it out (NaN if none did), ``clones_holdout_loss``
    the clones' mean loss on the ``holdout`` rows ``(Z_h, Y_h)``.
    The clones are not kept: they were trained on rows that may be removed later.
    """
    from sklearn.base import clone

    classes, counts = np.unique(Y, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            "calibration='crossfit' needs at least 2 training rows of every class (so "
            f"that every clone trains on every class); class {classes[counts.argmin()]!r} "
            f"has {counts.min()}."
        )
    rng = np.random.default_rng(seed)
    n = Y.shape[0]
    total, count, holdout_losses = np.zeros(n), np.zeros(n), []
    for m in range(n_models):
        if m % n_folds == 0:
            fold = crossfit_folds(Y, n_folds, rng)
        out = fold == m % n_folds
        clone_seed = int(rng.integers(np.iinfo(np.int32).max))
        model = backend.fit_clone(fitted, clone(template), Z[~out], Y[~out], clone_seed)
        total[out] += _row_losses(backend.last_layer_inputs(model, Z[out])[1], Y[out])
        count[out] += 1
        holdout_losses.append(_mean_loss(backend, model, holdout[0], holdout[1]))
    with np.errstate(invalid="ignore"):
        unseen = total / count
    return unseen, float(np.mean(holdout_losses))


def neural_remove(
    backend,
    model,
    Z,
    Y,
    forget,
    retained,
    *,
    n_steps,
    lr,
    damping,
    influence="last_layer",
    holdout=None,
    crossfit=None,
):
    """Remove the rows ``forget`` from ``model`` in place; return what the event reports.

    ``backend`` is the framework module from :func:`neural_backend`; ``Z`` and ``Y``
    are the rows the model trained on (module inputs, encoded targets). ``influence``
    is ``"full"`` (all parameters) or ``"last_layer"``. ``holdout`` is None or
    ``(Z_h, Y_h, source)``: rows the model never trained on, whose mean loss is the
    calibration target of the influence step (see the module docstring). ``crossfit``
    is None or ``(target, description)``: a calibration target computed by the caller
    (it takes precedence over ``holdout``).
    """
    weight_decay = backend.weight_decay(model)
    if influence == "full":
        theta = backend.params_vector(model)
        delta, info = full_gauss_newton_step(
            backend, model, Z, Y, forget, retained, weight_decay=weight_decay, damping=damping
        )

        def apply(t):
            backend.set_params_vector(model, theta + t * delta)

    else:
        A, logits = backend.last_layer_inputs(model, Z)
        W = backend.get_last_layer(model)
        delta, info = gauss_newton_step(
            A, logits, Y, forget, retained, W, weight_decay=weight_decay, damping=damping
        )

        def apply(t):
            backend.set_last_layer(model, W + t * delta)

    lr = backend.default_lr(model) if lr is None else float(lr)
    start = backend.params_vector(model)

    def finetune():
        backend.finetune(
            model, Z[retained], Y[retained], n_steps=n_steps, lr=lr, weight_decay=weight_decay
        )

    scale, target, reached, source = 1.0, None, True, None
    if crossfit is not None:
        target, source = crossfit
    elif holdout is not None:
        # What a model that never saw the rows scores on them: the loss on unseen rows.
        target, source = _mean_loss(backend, model, holdout[0], holdout[1]), holdout[2]
    if target is not None:

        def forget_loss_at(t):
            # the loss the removal ends with: after the step *and* the fine-tuning
            backend.set_params_vector(model, start)
            apply(t)
            finetune()
            return _mean_loss(backend, model, Z[forget], Y[forget])

        scale, reached = _calibrate(forget_loss_at, target)
        backend.set_params_vector(model, start)
    apply(scale)
    finetune()
    certificate = backend.gradient_norm(model, Z[retained], Y[retained], weight_decay)
    return {
        "certificate": float(certificate),
        "influence": influence,
        "influence_step_norm": float(scale * np.linalg.norm(delta)),
        "damping": info["damping"],
        "cg_iter": info["cg_iter"],
        "cg_residual": info["cg_residual"],
        "calibration": (
            "crossfit" if crossfit is not None else "none" if holdout is None else "holdout"
        ),
        "calibration_source": source,
        "calibration_target": target,
        "calibration_reached": bool(reached),
        "step_scale": float(scale),
        "n_steps": int(n_steps),
        "lr": lr,
        "weight_decay": float(weight_decay),
    }
