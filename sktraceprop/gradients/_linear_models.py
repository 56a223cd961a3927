"""The fitted scikit-learn linear models taken, and the objective each minimises.

:func:`linear_model_objective` reads a fitted model's class and settings and returns the
:class:`~._linear.LinearObjective` it minimises (the table in :mod:`._linear`), or
refuses it with an error naming why (:data:`SUPPORTED_ESTIMATORS` lists what is taken).
"""

import numpy as np
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    LogisticRegressionCV,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._linear import LinearObjective

__all__ = ["SUPPORTED_ESTIMATORS", "linear_model_objective"]

SUPPORTED_ESTIMATORS = (
    "LogisticRegression (L2 or no penalty; not liblinear)",
    "SGDClassifier(loss='log_loss', penalty='l2')",
    "Ridge",
    "RidgeClassifier",
    "LinearRegression",
)


#: What the errors add for a pipeline given where its final step was expected.
NESTED_PIPELINE = (
    " (a Pipeline as the final step of a pipeline: put its steps in the outer one, "
    "make_traced_pipeline(*outer_steps, *inner.steps), so that its last step is the model)"
)


#: What the errors add for a sampler given where the model was expected.
FINAL_SAMPLER = (
    " (an over/under-sampler as the final step: it changes the training rows but makes "
    "no predictions, so there is nothing to explain; end the pipeline with the model)"
)


_SEARCH = (
    " (a hyperparameter search: its cross-validation fits are no model's objective; "
    "explain search.best_estimator_, the model it refit on all the rows, with the same "
    "X, y, and the scores hold the chosen parameters fixed; with refit=False it fitted "
    "no final model to explain)"
)
_CV_ALPHA = (
    " (alpha_ was chosen by cross-validation on the same rows; refit "
    "{model}(alpha=cv.alpha_) on the training rows and explain that: the scores then "
    "hold alpha fixed)"
)
_NOT_TWICE = " ({} is not twice differentiable, so it has no Hessian to invert)"

#: Why a model often given in place of a supported one is refused, by class name.
_WHY = {
    "GridSearchCV": _SEARCH,
    "RandomizedSearchCV": _SEARCH,
    "HalvingGridSearchCV": _SEARCH,
    "HalvingRandomSearchCV": _SEARCH,
    "RidgeCV": _CV_ALPHA.format(model="Ridge"),
    "RidgeClassifierCV": _CV_ALPHA.format(model="RidgeClassifier"),
    "CalibratedClassifierCV": (
        " (its probabilities come from classifiers fitted on cross-validation folds, "
        "recalibrated on the other folds: no one objective over the rows; explain the "
        "uncalibrated classifier fitted on the training rows)"
    ),
    "OneVsRestClassifier": (
        " (one binary model per class, each minimising its own objective; explain one "
        "of its estimators_[k] with X and y == classes_[k], or a multinomial "
        "LogisticRegression)"
    ),
    "OneVsOneClassifier": " (one binary model per pair of classes, fitted on that pair's rows)",
    "TransformedTargetRegressor": (
        " (its regressor_ was fitted on the transformed target, and its predictions are "
        "transformed back: explain regressor_ with X and the transformed y, "
        "ttr.transformer_.transform(y) or func(y), whose predictions the scores are of)"
    ),
    "LinearSVC": _NOT_TWICE.format("the (squared) hinge loss"),
    "LinearSVR": _NOT_TWICE.format("the epsilon-insensitive loss"),
    "HuberRegressor": _NOT_TWICE.format("the Huber loss"),
    "QuantileRegressor": _NOT_TWICE.format("the pinball loss"),
    "Lasso": _NOT_TWICE.format("the L1 penalty"),
    "LassoCV": _NOT_TWICE.format("the L1 penalty"),
    "ElasticNet": _NOT_TWICE.format("the L1 penalty"),
    "ElasticNetCV": _NOT_TWICE.format("the L1 penalty"),
    "FrozenEstimator": (
        " as a pipeline's final step (the model inside was fitted elsewhere, on rows the "
        "pipeline's fit does not see; explain that model itself, with the rows it was "
        "fitted on as the steps before it transform them)"
    ),
    "SGDRegressor": (
        " (no closed form of its losses is implemented; for squared error fit a Ridge)"
    ),
}


def _unsupported(estimator, why=""):
    if isinstance(estimator, Pipeline) and not why:
        why = NESTED_PIPELINE
    elif hasattr(estimator, "fit_resample") and not why:
        why = FINAL_SAMPLER
    elif not why:
        why = _WHY.get(type(estimator).__name__, "")
    return TypeError(
        f"{type(estimator).__name__} is not supported by the closed-form linear "
        f"gradients{why}. Supported: {', '.join(SUPPORTED_ESTIMATORS)}. Neural "
        "classifiers (skorch NeuralNetClassifier / NeuralNetBinaryClassifier, "
        "sktraceprop.adapters.JaxClassifier) are explained by Gauss-Newton influence; "
        "neural regressors (JaxRegressor, NeuralNetRegressor) are not supported."
    )


def settings_refusal(est):
    """The error refusing ``est`` for its class or settings alone, or None.

    Fitted or not: what needs the fitted model (its classes, its target) is checked by
    :func:`linear_model_objective`. An unlearner calls this before it fits anything.
    """
    if isinstance(est, LogisticRegressionCV):
        # its C_ was chosen on folds (and with refit=False its coef_ is a mean of the
        # folds' coefficients, the minimiser of no objective)
        return _unsupported(
            est,
            "; refit a LogisticRegression(C=cv.C_[0], l1_ratio=cv.l1_ratio_[0]) on the "
            "training rows and explain that",
        )
    if isinstance(est, LogisticRegression):
        penalty = getattr(est, "penalty", "deprecated")
        if est.solver == "liblinear":
            return _unsupported(est, " with solver='liblinear' (it penalises the intercept)")
        # (an elastic net of l1_ratio=0 is the L2 penalty: the same objective)
        if penalty == "l1" or (
            penalty in ("deprecated", "l2", "elasticnet") and est.l1_ratio not in (0, 0.0, None)
        ):
            return _unsupported(est, " with an L1 penalty (not twice differentiable)")
    if isinstance(est, SGDClassifier):
        if est.loss != "log_loss":
            return _unsupported(est, f" with loss={est.loss!r}")
        if est.penalty not in ("l2", None):
            return _unsupported(est, f" with penalty={est.penalty!r}")
        if est.early_stopping:
            # it trained on a random split of the rows it was given and records not
            # which: the objective over all of them is not the one it minimised
            return _unsupported(
                est, " with early_stopping=True (it trains on a split it does not record)"
            )
    if isinstance(est, Ridge | RidgeClassifier):
        try:
            alpha = np.asarray(est.alpha, dtype=np.float64)
        except (TypeError, ValueError):
            return None  # not a number: the model's own fit says so
        if alpha.ndim and alpha.size and np.ptp(alpha) != 0:
            return _unsupported(est, " with one alpha per target")
    return None


def classes_refusal(est, n_classes, multilabel=False):
    """The error refusing ``est`` for its settings with a target of ``n_classes`` classes
    (``multilabel``: an indicator matrix), or None. Called on the fitted model's classes
    and, by an unlearner, on the target before it fits anything."""
    if isinstance(est, LogisticRegression):
        if n_classes > 2 and getattr(est, "multi_class", "auto") == "ovr":
            # (releases with multi_class) one binary problem per class, not the softmax
            return _unsupported(est, " with multi_class='ovr' (one-vs-rest problems)")
        if n_classes == 2 and getattr(est, "multi_class", "auto") == "multinomial":
            # (releases with multi_class) a two-class softmax: coef_ is one class's
            # weights, half the log-odds, under a penalty on both classes' weights; the
            # binomial objective's derivatives at it are not this fit's (scores ~2x off)
            return _unsupported(
                est,
                " with multi_class='multinomial' on two classes (a two-class softmax: "
                "coef_ is half the log-odds, penalised as two classes' weights); refit "
                "it with multi_class left at its default, which fits the binomial model",
            )
    if isinstance(est, SGDClassifier):
        if est.class_weight is not None and n_classes > 2:
            # scikit-learn weighs the positive rows of one-vs-rest problem k by class k's
            # weight and all others by 1: not one weight per row, as the objective has
            return _unsupported(
                est, " with class_weight on more than two classes (one weight per row and class)"
            )
    if isinstance(est, RidgeClassifier) and multilabel and est.class_weight is not None:
        # scikit-learn weighs each row by the product of its labels' class weights
        # (compute_sample_weight over the columns): not handled here
        return _unsupported(
            est, " with class_weight on a multilabel target (one weight per row and label)"
        )
    return None


def target_refusal(est, y):
    """:func:`classes_refusal` of ``est`` for the target ``y`` it is about to be fitted
    on (classifiers only), or None."""
    if not isinstance(est, LogisticRegression | SGDClassifier | RidgeClassifier):
        return None
    from sklearn.utils.multiclass import type_of_target

    try:
        kind = type_of_target(y)
        arr = np.asarray(y)
    except (TypeError, ValueError):
        return None  # (the model's own fit says what is wrong with it)
    if kind.startswith("multilabel"):
        return classes_refusal(est, arr.shape[1], multilabel=True)
    try:
        n_classes = len(np.unique(arr[~_missing(arr)]))
    except TypeError:
        return None
    return classes_refusal(est, n_classes)


def _missing(arr):
    """Missing labels (which the model's own fit refuses), not counted as a class."""
    import pandas as pd

    return np.asarray(pd.isna(arr), dtype=bool).reshape(arr.shape)


def linear_model_objective(estimator):
    """Objective that a fitted scikit-learn linear model minimises, in closed form.

    Parameters
    ----------
    estimator : estimator
        A fitted ``LogisticRegression`` (L2 or no penalty, any solver but liblinear),
        ``SGDClassifier(loss="log_loss", penalty="l2")``, ``Ridge``, ``RidgeClassifier``
        or ``LinearRegression``. The model itself, not a pipeline: pass
        ``pipe[-1]`` and the transformed features ``pipe[:-1].transform(X)``.

    Returns
    -------
    objective : LinearObjective
        Gradients and Hessians of the objective with respect to the flattened
        parameters ``[coef_.ravel(), intercept_]``.

    Raises
    ------
    TypeError
        If the estimator or its configuration is not supported.
    """
    check_is_fitted(estimator)
    est = estimator
    refusal = settings_refusal(est)
    if refusal is not None:
        raise refusal
    if isinstance(est, LogisticRegression):
        penalty = getattr(est, "penalty", "deprecated")
        no_penalty = penalty is None or not np.isfinite(est.C)
        n_classes = len(est.classes_)
        refusal = classes_refusal(est, n_classes)
        if refusal is not None:
            raise refusal
        loss = "binomial" if n_classes == 2 else "multinomial"
        return LinearObjective(
            est,
            loss,
            scale=1.0 if no_penalty else float(est.C),
            penalty=0.0 if no_penalty else 1.0,
            penalty_per_sample=0.0,
        )
    if isinstance(est, SGDClassifier):
        refusal = classes_refusal(est, len(est.classes_))
        if refusal is not None:
            raise refusal
        alpha = 0.0 if est.penalty is None else float(est.alpha)
        return LinearObjective(est, "log_ovr", scale=1.0, penalty=0.0, penalty_per_sample=alpha)
    if isinstance(est, Ridge | RidgeClassifier):
        target = getattr(getattr(est, "_label_binarizer", None), "y_type_", "")
        multilabel = isinstance(est, RidgeClassifier) and target.startswith("multilabel")
        refusal = classes_refusal(est, 0, multilabel) if multilabel else None
        if refusal is not None:
            raise refusal
        alpha = np.asarray(est.alpha, dtype=np.float64)
        if alpha.ndim:
            alpha = alpha.ravel()[0]
        loss = "squared_classifier" if isinstance(est, RidgeClassifier) else "squared"
        objective = LinearObjective(
            est, loss, scale=1.0, penalty=2.0 * float(alpha), penalty_per_sample=0.0
        )
        objective.multilabel = multilabel
        return objective
    if isinstance(est, LinearRegression):
        return LinearObjective(est, "squared", scale=1.0, penalty=0.0, penalty_per_sample=0.0)
    raise _unsupported(est)
