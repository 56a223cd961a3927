"""The event fields of a neural correction (:mod:`._neural`): its method, certificate
and calibration, and a note that says what was done, what the fine-tuning did to the
certificate (warned about where it raised it) and what the removal is not."""

import warnings

from ..utils._stack import user_stacklevel

__all__ = ["AUTO_AT_REFIT", "correction_fields"]

#: Said where ``calibration="auto"`` was resolved at a fit with ``neural_method="refit"``.
AUTO_AT_REFIT = (
    "calibration='auto' was resolved at fit, with neural_method='refit', which fits no "
    "crossfit clones"
)


def _auto_at_refit(info):
    """What the calibration of a correction whose ``"auto"`` was resolved at a refit's
    fit was (see :data:`AUTO_AT_REFIT`)."""
    if info["calibration"] == "holdout":
        done = f"calibrated on the {info['calibration_source']} rows (calibration='holdout')"
    else:
        done = (
            "not calibrated: the unlearner has no rows the model never trained on "
            "(X_holdout given to unlearn, or a skorch validation split)"
        )
    return f"{AUTO_AT_REFIT}: {done}"


def correction_fields(info, params, *, auto_at_refit, notes):
    """The event fields of a correction whose :func:`~._neural_step.neural_remove`
    returned ``info`` (its ``certificate`` taken out of it); ``auto_at_refit``: whether
    ``calibration="auto"`` was resolved at a refit's fit; ``notes``: sentences added to
    the note (the decay not checked, the validation split's classes)."""
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
    if auto_at_refit and params["calibration"] == "auto":
        said = _auto_at_refit(info)
        note += f"; {said}"
        # not the crossfit calibration "auto" gives a correction fitted as one: said
        warnings.warn(
            f"Removal: {said}. Set calibration explicitly, or fit the unlearner again with "
            "neural_method='correct' for the crossfit calibration.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if info.get("lr_at_edge") and not info["finetune_raised_certificate"]:
        # a measured step at the edge of those tried: said, with what to do
        note += f"; the fine-tuning's step: {info['lr_source']}"
    if info["finetune_raised_certificate"]:
        raised = (
            f"the fine-tuning ({info['n_steps']} steps of lr={info['lr']:.4g}, "
            f"{info['lr_source']}) raised the certificate from "
            f"{info['certificate_before_finetune']:.4g} to {info['certificate']:.4g}: "
            "pass a smaller lr= or n_steps=0"
        )
        note += f"; {raised}"
        # a removal less stationary than its influence step left it: never silent
        warnings.warn(
            f"Removal: {raised} (the event's finetune_raised_certificate is True: the "
            "corrected model is further from a stationary point of the retained "
            "objective than the influence step alone left it).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    for extra in notes:
        if extra is not None:
            note += f"; {extra}"
    return {
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
