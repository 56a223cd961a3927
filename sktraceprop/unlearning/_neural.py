"""How a neural classifier forgets: an influence step plus retained-set fine-tuning.

Used for skorch nets (``_neural_torch.py``) and
:class:`~sktraceprop.adapters.JaxClassifier` MLPs (``_neural_jax.py``); neither framework
is imported here.

The model minimises ``J(theta) = mean_i loss_i + wd / 2 ||theta||^2``. Removing the rows
``K`` (``R`` retained) is done in two steps:

1. an influence (one Gauss-Newton) step on the **last layer** (its inputs, the
   penultimate activations, held fixed) or on all parameters
   (:mod:`._influence_step`);
2. ``n_steps`` mini-batch SGD steps of step size ``lr`` on the retained objective over
   **all** parameters (same loss and weight decay as the training).

A calibration can rescale step 1 so that the removed rows' mean loss, measured after
step 2, matches an estimate of what a retrain would give them (a root search on the
scale ``t`` of the step, shortening or lengthening it):

- ``"holdout"``: the model's mean loss on rows it never trained on (a population
  estimate: blind to how hard the removed rows themselves are);
- ``"crossfit"``: per row, the mean loss under clones fitted at ``fit`` time that left
  the row out (:mod:`._crossfit`), corrected by a holdout ratio to the removal's size.

Neither step is certified for a non-convex model: the reported *certificate* is the
retained-objective gradient norm after the correction, a measure of stationarity, not a
bound on the distance to a retrain.

:class:`NeuralCorrection` keeps the retained rows as the network sees them (module
inputs and encoded targets), the rows of a skorch validation split (a calibration
holdout, never trained on) and, with the crossfit calibration, each retained row's
crossfit loss. After a removal the optimizer state of the net (momentum buffers, which
hold gradients of the removed rows) is cleared.
"""

import copy
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from ..utils._module_input import check_module_input
from ._crossfit import crossfit_losses, crossfit_target
from ._influence_step import full_gauss_newton_step, gauss_newton_step
from ._method import Removal, RemovalMethod
from ._neural_backend import mean_loss, row_losses

__all__ = ["NeuralCorrection", "calibrate", "neural_remove", "resolve_calibration"]

#: The calibrated step is at most this multiple of the influence step.
CALIBRATION_MAX_SCALE = 4096.0
#: The calibration stops when the removed rows' loss is this close to its target, as a
#: fraction of the distance it had to travel (from the loss with no step).
CALIBRATION_RTOL = 1e-3
CALIBRATION_MAX_EVALS = 32


def calibrate(loss_at, target, *, rtol=CALIBRATION_RTOL, max_evals=CALIBRATION_MAX_EVALS):
    """The scale ``t >= 0`` at which ``loss_at(t)`` reaches ``target``.

    The loss rises along the step. The bracket grows by doubling from ``[0, 1]`` until
    the loss at its top reaches ``target`` (at most ``CALIBRATION_MAX_SCALE``); then
    regula falsi with the Illinois modification (superlinear on a smooth monotone
    function: each evaluation is a fine-tuning run), bisecting instead whenever a step
    did not halve the bracket, until ``|loss - target|`` is at most ``rtol`` times
    ``target - loss_at(0)``, or ``max_evals`` evaluations.

    Returns
    -------
    t : float
    reached : bool
        Whether the loss came within the tolerance of ``target``.
    n_evals : int
        Evaluations of ``loss_at``.
    """
    f_lo = loss_at(0.0) - target
    if f_lo >= 0:
        return 0.0, True, 1
    tol = rtol * -f_lo
    lo, hi, n_evals = 0.0, 1.0, 2
    f_hi = loss_at(hi) - target
    while f_hi < -tol:
        if hi >= CALIBRATION_MAX_SCALE:
            return hi, False, n_evals
        lo, f_lo, hi = hi, f_hi, 2.0 * hi
        f_hi, n_evals = loss_at(hi) - target, n_evals + 1
    best_t, best_f = hi, f_hi
    side, width = 0, hi - lo
    while abs(best_f) > tol and n_evals < max_evals and hi - lo > 1e-12 * hi:
        if hi - lo > 0.5 * width:  # the last step did not halve the bracket
            t, side = 0.5 * (lo + hi), 0
        else:
            t = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        width = hi - lo
        f, n_evals = loss_at(t) - target, n_evals + 1
        if abs(f) < abs(best_f):
            best_t, best_f = t, f
        if f < 0:
            lo, f_lo = t, f
            if side < 0:
                f_hi /= 2.0
            side = -1
        else:
            hi, f_hi = t, f
            if side > 0:
                f_lo /= 2.0
            side = 1
    return best_t, bool(abs(best_f) <= tol), n_evals


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

    ``backend`` is the framework module from
    :func:`~sktraceprop.unlearning._neural_backend.neural_backend`; ``Z`` and ``Y`` are
    the rows the model trained on (module inputs, encoded targets). ``influence`` is
    ``"full"`` (all parameters) or ``"last_layer"``. ``holdout`` is None or
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

    scale, target, reached, source, n_evals = 1.0, None, True, None, 0
    if crossfit is not None:
        target, source = crossfit
    elif holdout is not None:
        # What a model that never saw the rows scores on them: the loss on unseen rows.
        target, source = mean_loss(backend, model, holdout[0], holdout[1]), holdout[2]
    if target is not None:

        def forget_loss_at(t):
            # the loss the removal ends with: after the step *and* the fine-tuning
            backend.set_params_vector(model, start)
            apply(t)
            finetune()
            return mean_loss(backend, model, Z[forget], Y[forget])

        scale, reached, n_evals = calibrate(forget_loss_at, target)
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
        "calibration_evaluations": int(n_evals),
        "step_scale": float(scale),
        "n_steps": int(n_steps),
        "lr": lr,
        "weight_decay": float(weight_decay),
    }


def _final(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def _module_inputs(estimator, X, features=None):
    """``X`` as the final step sees it (through the preprocessing), as float32.

    ``features``: ``X``'s features as they reached the final step at its fit, taken in
    place of the preprocessing's ``transform`` (training rows; see
    :func:`~sktraceprop.influence._fit_features.features_trained_on`).
    """
    if features is not None:
        X = features
    elif isinstance(estimator, Pipeline) and len(estimator) > 1:
        X = estimator[:-1].transform(X)
    check_module_input(X, "the neural correction")
    return check_array(X, dtype=np.float32, allow_nd=True)


class NeuralCorrection(RemovalMethod):
    """Influence step plus fine-tuning of a neural classifier.

    Parameters
    ----------
    backend : module
        The framework backend.
    Z, Y : ndarray
        Module inputs and encoded targets of the rows the model holds.
    validation : tuple (Z_v, Y_v, "validation split") or None
        Rows of a skorch validation split: given to ``fit``, never trained on.
    crossfit : dict or None
        ``unseen`` (each held row's crossfit loss), ``model_holdout`` and
        ``clones_holdout`` (the model's and the clones' mean holdout loss), ``left_out``
        (the clones' left-out fraction) and ``source`` (see
        :func:`~._crossfit.crossfit_target`); also ``holdout_clones`` (each clone's loss
        on each holdout row) and ``holdout_full`` (the model's), kept for studies of the
        target (``benchmarks/study_unlearning_neural_calibration.py``).
    calibration : {"crossfit", "holdout", "none"}
        The calibration ``calibration="auto"`` resolved to at ``fit``.
    validation_ids : ndarray of int64 or None
        Row ids of the ``validation`` rows, so that a removal of their source drops them.
    """

    def __init__(
        self,
        backend,
        Z,
        Y,
        validation=None,
        crossfit=None,
        calibration="holdout",
        validation_ids=None,
    ):
        self.backend = backend
        self.Z = Z
        self.Y = Y
        self.validation = validation
        self.crossfit = crossfit
        self.calibration = calibration
        self.validation_ids = validation_ids

    def __getstate__(self):
        # a module cannot be pickled: keep its name
        return {**vars(self), "backend": self.backend.__name__}

    def __setstate__(self, state):
        import importlib

        state["backend"] = importlib.import_module(state["backend"])
        vars(self).update(state)

    @classmethod
    def fit(
        cls,
        backend,
        estimator,
        X,
        y,
        trained,
        params,
        X_holdout=None,
        y_holdout=None,
        ids=None,
        features=None,
    ):
        """Prepare the removal for the fitted ``estimator`` (fit the crossfit clones).

        ``trained`` are the positions of the rows the net trained on (None: all); the
        others form a skorch validation split, used as a calibration holdout. ``ids``:
        the row ids of ``X``. ``features``: the inputs of the rows of ``X`` as the net
        was fitted on them (a ``TargetEncoder`` cross fits: its ``transform`` gives the
        training rows other encodings); None takes them through the preprocessing's
        ``transform``.
        """
        final = _final(estimator)
        Z_all = _module_inputs(estimator, X, features)
        y_all = np.asarray(y)
        if y_all.ndim == 2 and y_all.shape[1] == 1:
            y_all = y_all.ravel()
        Z, Y = (Z_all, y_all) if trained is None else (Z_all[trained], y_all[trained])
        Z, Y = backend.prepare(final, Z, Y)
        validation = validation_ids = None
        if trained is not None:
            held = np.setdiff1d(np.arange(y_all.shape[0]), trained)
            if held.size:
                validation = backend.prepare(final, Z_all[held], y_all[held]) + (
                    "validation split",
                )
                validation_ids = None if ids is None else np.asarray(ids, np.int64)[held]
        calibration = resolve_calibration(
            params["calibration"], X_holdout is not None or validation is not None
        )
        crossfit = None
        if calibration == "crossfit":
            holdout = (
                validation
                if X_holdout is None
                else _holdout_rows(backend, estimator, X_holdout, y_holdout)
            )
            if holdout is None:
                raise ValueError(
                    "calibration='crossfit' needs rows the model does not train on, at fit: "
                    "pass X_holdout and y_holdout to fit, or give the skorch net a "
                    "validation split (train_split)."
                )
            seed = check_random_state(params["random_state"]).randint(np.iinfo(np.int32).max)
            unseen, clones_holdout, left_out = crossfit_losses(
                backend,
                final,
                clone(final),
                Z,
                Y,
                n_models=params["n_crossfit"],
                n_folds=params["crossfit_folds"],
                seed=seed,
                holdout=holdout,
                n_jobs=params["n_jobs"],
                verbose=params["verbose"],
                return_left_out=True,
            )
            full_holdout = row_losses(backend.last_layer_inputs(final, holdout[0])[1], holdout[1])
            crossfit = {
                "unseen": unseen,
                "model_holdout": float(full_holdout.mean()),
                "clones_holdout": float(clones_holdout.mean()),
                # 1 / crossfit_folds, more when a skorch validation split held rows out
                "left_out": left_out,
                "holdout_clones": clones_holdout,
                "holdout_full": full_holdout,
                "source": (
                    f"{params['n_crossfit']} clones on {params['crossfit_folds']}-fold "
                    f"splits, corrected on the {holdout[2]} rows to the removal's size"
                ),
            }
        return cls(backend, Z, Y, validation, crossfit, calibration, validation_ids)

    def trained_features(self):
        return self.Z, True

    def without_validation(self, drop):
        """A copy that no longer holds the validation rows the mask ``drop`` selects (the
        model never trained on them: nothing else changes)."""
        stay = ~np.asarray(drop, dtype=bool)
        validation = self.validation
        return NeuralCorrection(
            self.backend,
            self.Z,
            self.Y,
            (validation[0][stay], validation[1][stay], validation[2]) if stay.any() else None,
            self.crossfit,
            self.calibration,
            self.validation_ids[stay] if stay.any() else None,
        )

    def remove(
        self,
        estimator,
        forget,
        keep,
        params,
        X_holdout=None,
        y_holdout=None,
        drop_validation=None,
    ):
        """As :meth:`RemovalMethod.remove`; ``drop_validation`` (a mask over the
        validation rows) names those of removed sources: the removal neither uses nor
        keeps them."""
        backend = self.backend
        validation = self.validation
        validation_ids = getattr(self, "validation_ids", None)  # (older pickles lack it)
        n_dropped = 0 if drop_validation is None else int(np.sum(drop_validation))
        if n_dropped:
            stay = ~np.asarray(drop_validation, dtype=bool)
            validation = (
                (validation[0][stay], validation[1][stay], validation[2]) if stay.any() else None
            )
            validation_ids = validation_ids[stay] if stay.any() else None
        final = copy.deepcopy(_final(estimator))
        crossfit, holdout = None, None
        calibration = (
            self.calibration if params["calibration"] == "auto" else params["calibration"]
        )
        if calibration == "crossfit":
            if self.crossfit is None:
                raise ValueError(
                    "calibration='crossfit' was set after fit: its clones are fitted by fit; "
                    "fit the unlearner again with it."
                )
            # Every row is left out by at least one clone (n_crossfit >= crossfit_folds).
            cf = self.crossfit
            fraction = forget.shape[0] / self.Y.shape[0]
            target = crossfit_target(
                cf["unseen"][forget],
                fraction,
                cf["model_holdout"],
                cf["clones_holdout"],
                cf["left_out"],
            )
            crossfit = (target, cf["source"])
        elif calibration == "holdout":
            holdout = (
                validation
                if X_holdout is None
                else _holdout_rows(backend, estimator, X_holdout, y_holdout)
            )
        info = neural_remove(
            backend,
            final,
            self.Z,
            self.Y,
            forget,
            keep,
            n_steps=params["n_steps"],
            lr=params["lr"],
            damping=params["damping"],
            influence=params["influence"],
            holdout=holdout,
            crossfit=crossfit,
        )
        backend.reset_optimizer(final)
        backend.record_held_rows(final, self.Z[keep], self.Y[keep])
        note = (
            f"non-convex model: {info['influence'].replace('_', '-')} Gauss-Newton "
            "influence step"
            + (
                f" scaled (heuristic) so the forgotten rows' mean loss matches "
                f"{info['calibration_source']}"
                if info["calibration"] != "none"
                else ""
            )
            + " plus retained-set fine-tuning; the certificate is the retained-objective "
            "gradient norm, not a bound on the distance to a retrain"
        )
        fields = {
            "method": (
                "influence+finetune"
                if info["influence"] == "last_layer"
                else "full-influence+finetune"
            ),
            "certificate": info.pop("certificate"),
            "calibration_setting": params["calibration"],
            "tol": None,
            "n_iter": info["n_steps"],
            **info,
            "note": note,
        }
        remains = []
        if self.crossfit is not None:
            remains.append(
                "the crossfit losses kept for the retained rows and the holdout rows were "
                "measured by clones fitted with the removed rows (a few numbers per row, "
                "no row's values)"
            )
        if n_dropped:
            fields["validation_rows_dropped"] = n_dropped
            fields["note"] += (
                f"; {n_dropped} row(s) of the removed data were in the validation split "
                "(never trained on): dropped from the calibration holdout the unlearner "
                "keeps, and not used by this removal"
            )
        kept = NeuralCorrection(
            backend,
            self.Z[keep],
            self.Y[keep],
            validation,
            None
            if self.crossfit is None
            else {**self.crossfit, "unseen": self.crossfit["unseen"][keep]},
            self.calibration,
            validation_ids,
        )
        if remains:
            fields["caveat"] = "; ".join(remains)
        return Removal(final, kept, fields)


def resolve_calibration(calibration, has_holdout):
    """The calibration a neural removal uses for the parameter ``calibration``.

    ``"auto"`` is ``"crossfit"`` when ``fit`` has rows the model does not train on
    (``has_holdout``: ``X_holdout``/``y_holdout`` or a skorch validation split), the
    calibration measured closest to a retrain; without them it is ``"holdout"``, with a
    warning, as the crossfit clones cannot be corrected to the model's level without
    such rows. Any other value is returned as given.
    """
    if calibration != "auto":
        return calibration
    if has_holdout:
        return "crossfit"
    warnings.warn(
        "calibration='auto' uses the crossfit calibration only when fit has rows the "
        "model does not train on (X_holdout/y_holdout, or a skorch validation split); "
        "without them it falls back to calibration='holdout', whose removals land far "
        "from a retrain's forget loss (benchmarks/results/unlearning_neural.md). Pass "
        "X_holdout and y_holdout to fit, or set calibration explicitly.",
        UserWarning,
        stacklevel=5,  # GradientCorrectionUnlearner.fit's caller
    )
    return "holdout"


def _holdout_rows(backend, estimator, X_holdout, y_holdout):
    """``(Z, Y, "X_holdout")``: the given holdout rows as the final step sees them."""
    Z = _module_inputs(estimator, X_holdout)
    return backend.prepare(_final(estimator), Z, np.asarray(y_holdout)) + ("X_holdout",)
