"""One neural removal on the network itself: the influence step, its calibrated scale,
then fine-tuning on the retained rows (the steps :mod:`._neural` describes).

Mini-batch fine-tuning can raise the certificate (the retained objective's gradient
norm) the influence step left, by its noise or a step too large for the curvature.
Where it did and the step was not given (``lr=``), the removal starts again from the
model it was given with half the step (the calibration, if any, searched again from
the scale found for the step before, which is most often kept after one fine-tuning),
up to ``FALLBACK_HALVINGS`` times, and ends with the first fine-tuning that did not
raise it; the event lists those given up (``finetune_fallbacks``). A fine-tuning that
still raised it, or that was given, is kept and marked
(``finetune_raised_certificate``, the note and a warning, :mod:`._neural`).
"""

import numpy as np

from ._calibration import calibrate, calibration_tol
from ._finetune_lr import FALLBACK_HALVINGS, choose_step, finite
from ._influence_step import full_gauss_newton_step, gauss_newton_step
from ._neural_backend import mean_loss

__all__ = ["neural_remove"]


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

    start = backend.params_vector(model)

    def finetune(lr):
        backend.finetune(
            model, Z[retained], Y[retained], n_steps=n_steps, lr=lr, weight_decay=weight_decay
        )

    search = {"lr_at_edge": None, "lr_tried": None}
    may_fall_back = n_steps > 0 and lr is None  # a step given is the user's to change
    if n_steps == 0:
        lr, lr_source = (None if lr is None else float(lr)), "no fine-tuning (n_steps=0)"
    elif lr is not None:
        lr, lr_source = float(lr), "given (lr=)"
    else:
        lr, lr_source, trials = backend.default_lr(model, Z[retained], weight_decay)
        if trials:

            def certificate_after(step):
                # the influence step unscaled, then the fine-tuning: what the step is for
                backend.set_params_vector(model, start)
                apply(1.0)
                finetune(step)
                return backend.gradient_norm(model, Z[retained], Y[retained], weight_decay)

            lr, lr_source, search = choose_step(lr, lr_source, certificate_after)
            backend.set_params_vector(model, start)

    target, source = None, None
    if crossfit is not None:
        target, source = crossfit
    elif holdout is not None:
        # What a model that never saw the rows scores on them: the loss on unseen rows.
        target, source = mean_loss(backend, model, holdout[0], holdout[1]), holdout[2]

    fallbacks, n_evals, tol = [], 0, None
    scale, reached = 1.0, True
    while True:
        if target is not None:
            losses = {}

            def forget_loss_at(t, lr=lr, losses=losses):
                # the loss the removal ends with: after the step *and* the fine-tuning
                backend.set_params_vector(model, start)
                apply(t)
                finetune(lr)
                losses[t] = mean_loss(backend, model, Z[forget], Y[forget])
                return losses[t]

            # a halved step starts from the scale found for the step before (its
            # tolerance kept): most often that scale is within it, one fine-tuning
            scale, reached, evals = calibrate(forget_loss_at, target, guess=scale, tol=tol)
            if tol is None and 0.0 in losses and losses[0.0] < target:
                tol = calibration_tol(losses[0.0], target)
            n_evals += evals
            backend.set_params_vector(model, start)
        apply(scale)
        # what the fine-tuning did to the certificate is measured, never assumed
        unrefined = backend.gradient_norm(model, Z[retained], Y[retained], weight_decay)
        if not n_steps:
            certificate = unrefined
            break
        finetune(lr)
        certificate = backend.gradient_norm(model, Z[retained], Y[retained], weight_decay)
        if certificate <= unrefined or not may_fall_back or len(fallbacks) == FALLBACK_HALVINGS:
            break
        fallbacks.append([lr, float(unrefined), finite(certificate)])
        backend.set_params_vector(model, start)
        lr /= 2
    if fallbacks:
        lr_source += (
            f"; its fine-tuning raised the certificate, so halved {len(fallbacks)} time(s) "
            f"to lr={lr:.4g}"
            + ("" if certificate <= unrefined else f" (at most {FALLBACK_HALVINGS})")
        )
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
        "lr_source": lr_source,
        **search,
        "certificate_before_finetune": float(unrefined),
        "finetune_raised_certificate": bool(certificate > unrefined),
        "finetune_fallbacks": fallbacks,
        "weight_decay": float(weight_decay),
    }
