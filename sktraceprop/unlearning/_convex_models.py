"""Which convex models the unlearner certifies, and the error naming them for one it does
not; the sum-form objective of a supported model (:mod:`sktraceprop.gradients`)."""

from sklearn.pipeline import Pipeline

__all__ = ["SUPPORTED_MODELS", "check_convex", "final_step", "objective_of", "unsupported"]

#: Models whose removal is certified.
SUPPORTED_MODELS = (
    "LogisticRegression (L2 or no penalty; binary or multinomial; not liblinear)",
    "SGDClassifier(loss='log_loss', penalty='l2')",
    "Ridge (not positive=True)",
    "RidgeClassifier (not positive=True)",
    "LinearRegression (not positive=True)",
)


def unsupported(estimator, why=""):
    """The error naming what can be unlearned from, for an estimator that cannot."""
    from ..gradients._linear_models import NESTED_PIPELINE
    from ._neural_backend import NEURAL_MODELS

    if isinstance(estimator, Pipeline) and not why:
        why = NESTED_PIPELINE
    return NotImplementedError(
        f"GradientCorrectionUnlearner cannot unlearn from {type(estimator).__name__}{why}. "
        f"Supported (convex, exact Newton correction): {'; '.join(SUPPORTED_MODELS)}, alone "
        "or as the final step of a Pipeline/TracedPipeline. Neural models (influence step "
        f"plus fine-tuning, not certified): {'; '.join(NEURAL_MODELS)}."
    )


def check_convex(final, y=None):
    """Raise before fitting unless ``final`` is one of ``SUPPORTED_MODELS``, with settings
    it can be unlearned with for the target ``y`` (None: not checked)."""
    from sklearn.linear_model import (
        LinearRegression,
        LogisticRegression,
        Ridge,
        RidgeClassifier,
        SGDClassifier,
    )

    supported = (LinearRegression, LogisticRegression, Ridge, RidgeClassifier, SGDClassifier)
    if not isinstance(final, supported):
        raise unsupported(final)
    if isinstance(final, SGDClassifier) and final.loss != "log_loss":
        raise unsupported(final, f" with loss={final.loss!r}")
    if getattr(final, "positive", False):
        raise unsupported(final, " with positive=True (coefficients constrained to >= 0)")
    from ..gradients._linear_models import settings_refusal

    # what the objective of the fitted model would refuse for these settings alone
    # (early_stopping, an L1 penalty, LogisticRegressionCV...): refused before the fit
    refusal = settings_refusal(final)
    if refusal is None and y is not None:
        from ..gradients._linear_models import target_refusal

        # and for the classes of this target (multi_class="ovr", class_weight on more
        # than two classes...): refused before the fit, not by the fitted model's objective
        refusal = target_refusal(final, y)
    if refusal is not None:
        raise unsupported(final, f" as configured ({refusal})")


def objective_of(final):
    """The sum-form objective of a fitted supported model."""
    from ..gradients import linear_model_objective

    try:
        return linear_model_objective(final)
    except TypeError as exc:
        raise unsupported(final, f" as configured ({exc})") from None


def final_step(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator
