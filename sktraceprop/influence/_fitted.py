"""What a fitted model holds, seen through the wrappers around it.

An explainer may be given a model inside a ``FrozenEstimator``, a traced wrapper
(``TracedEstimator``, a ``TracedPipeline``'s run) or a ``GradientCorrectionUnlearner``
(whose corrected model holds its retained rows only). These functions find the final
estimator and the preprocessing before it, the run that names its training rows, the
rows an unlearner holds (with the features its final step was fitted on), and the
steps whose fitted state the scores hold fixed.
"""

import numbers
import warnings

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags

from .._trained import trained_rows
from ..exceptions import LineageWarning
from ..utils._stack import user_stacklevel

__all__ = [
    "innermost",
    "is_frozen",
    "learning_steps",
    "preprocessing_of",
    "refuse_untraced_samplers",
    "run_holder",
    "synthesising_samplers",
    "trained_row_ids",
    "unwrap",
    "warn_if_refitted",
]


def is_frozen(est):
    """Whether ``est`` is a ``FrozenEstimator`` (fitted elsewhere, never refitted)."""
    return type(est).__name__ == "FrozenEstimator"


def innermost(fitted):
    """``(estimator, lineage or None)``: the fitted estimator inside frozen and traced
    wrappers, and the first run found on the way."""
    lineage = getattr(fitted, "lineage_", None)
    est = fitted
    for _ in range(8):
        if hasattr(est, "frozen_estimator") or type(est).__name__ == "FrozenEstimator":
            est = est.estimator
        elif hasattr(est, "estimator_") and (
            hasattr(est, "lineage_") or hasattr(est, "retained_mask_")
        ):
            est = est.estimator_  # a traced wrapper, or an unlearner's corrected model
        else:
            break
        lineage = lineage if lineage is not None else getattr(est, "lineage_", None)
    return est, lineage


def unwrap(fitted):
    """(model, transformer or None, lineage or None) of a fitted estimator."""
    est, lineage = innermost(fitted)
    if isinstance(est, Pipeline):
        lineage = lineage if lineage is not None else getattr(est, "lineage_", None)
        return est[-1], preprocessing_of(est), lineage
    return est, None, lineage


def preprocessing_of(pipe):
    """The steps of a fitted pipeline that transform rows for its final step, or None.

    Samplers (``fit_resample``) change the rows at fit only: a pipeline's ``transform``
    and ``predict`` pass rows through them, so they are left out (imbalanced-learn's
    pipeline has no ``transform`` when a sampler is its last step).
    """
    steps = [
        (name, step)
        for name, step in pipe.steps[:-1]
        if step is not None and step != "passthrough" and not hasattr(step, "fit_resample")
    ]
    if not steps:
        return None
    if len(steps) == len(pipe.steps) - 1:
        return pipe[:-1]
    return Pipeline(steps)


def run_holder(fitted):
    """The traced estimator whose ``lineage_`` :func:`unwrap` reads, or None."""
    est = fitted
    for _ in range(8):
        # (a FrozenEstimator answers for its inner estimator's attributes)
        if hasattr(est, "frozen_estimator") or type(est).__name__ == "FrozenEstimator":
            est = est.estimator
        elif getattr(est, "lineage_", None) is not None:
            return est
        elif hasattr(est, "estimator_"):
            est = est.estimator_
        else:
            return None
    return None


def trained_row_ids(fitted):
    """The rows a model without a run holds, where this library knows them, and the
    features its final step was fitted on for them: an unlearner's retained rows (with
    what :func:`~sktraceprop.influence._fit_features.held_features` takes), or a model
    it recorded (:mod:`sktraceprop._trained`; features None). ``(None, None)`` if
    unknown."""
    est = fitted
    for _ in range(8):
        if hasattr(est, "retained_mask_") and hasattr(est, "train_row_ids_"):
            held = getattr(est, "_final_step_features", None)
            rows = np.asarray(est.train_row_ids_, dtype=np.int64)[est.retained_mask_]
            return rows, (held() if callable(held) else None)
        found = trained_rows(est)
        if found is not None:
            return found, None
        if hasattr(est, "frozen_estimator") or type(est).__name__ == "FrozenEstimator":
            est = est.estimator
        elif hasattr(est, "estimator_") and hasattr(est, "lineage_"):
            est = est.estimator_
        else:
            return None, None
    return None, None


def synthesising_samplers(fitted):
    """Names of fitted sampler steps that do not say which input rows they kept
    (no ``sample_indices_``: SMOTE and other samplers that make rows)."""
    est, _ = innermost(fitted)
    if not isinstance(est, Pipeline):
        return []
    return [
        f"{name} ({type(step).__name__})"
        for name, step in est.steps[:-1]
        if hasattr(step, "fit_resample") and not hasattr(step, "sample_indices_")
    ]


def refuse_untraced_samplers(fitted):
    """Refuse a pipeline with a sampler step that recorded no run: the final estimator
    was fitted on the rows the sampler drew (copies, or a subset), not on ``X``'s, and
    nothing says which, so scoring ``X``'s rows would score rows the model was not
    fitted on (an over-sampler's copies counted once, an under-sampler's dropped rows
    given scores)."""
    est, _ = innermost(fitted)
    if not isinstance(est, Pipeline):
        return
    samplers = [
        f"{name} ({type(step).__name__})"
        for name, step in est.steps[:-1]
        if hasattr(step, "fit_resample")
    ]
    if samplers:
        raise ValueError(
            f"sampler step {samplers[0]} resampled the rows at fit, so the final estimator "
            "was fitted on other rows than X's (copies, or a subset), and this pipeline "
            "recorded no run saying which: scores of X's rows would be of rows the model "
            "was not fitted on. Build the pipeline with sktraceprop.make_traced_pipeline "
            "(a TracedImbPipeline follows the sampler's sample_indices_) and explain that."
        )


def learning_steps(transformer):
    """Names of the preprocessing steps that learn from the rows they are fitted on
    (a FrozenEstimator was fitted elsewhere and is never refitted)."""
    if transformer is None:
        return []
    steps = (
        transformer.steps
        if isinstance(transformer, Pipeline)
        else [(type(transformer).__name__, transformer)]
    )
    return [
        name
        for name, step in steps
        if step is not None
        and step != "passthrough"
        and not is_frozen(step)
        and get_tags(step).requires_fit
    ]


def warn_if_refitted(net):
    """Warn when a fitted bare skorch net ran more epochs than one ``fit`` runs."""
    epochs, limit = len(getattr(net, "history_", None) or ()), getattr(net, "max_epochs", None)
    if isinstance(limit, numbers.Integral) and epochs > limit:
        warnings.warn(
            f"{type(net).__name__} ran {epochs} epochs, more than max_epochs={limit}: it "
            "was trained by more than one fit (warm_start=True or partial_fit), perhaps "
            "on other rows. The scores cover only the rows of X; rows of the earlier "
            "fits also shaped the model and are not scored.",
            LineageWarning,
            stacklevel=user_stacklevel(),
        )
