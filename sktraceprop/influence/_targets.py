"""The target an explainer is given: one value per row, or a clear refusal.

Influence scores the margin of one output per test row (the true class's, or the
prediction of a single-output regressor). A target with several columns (multilabel,
multi-output classes, several regression targets) has no such margin: refused at ``fit``
naming its shape, never explained by its first column or a flattened copy.

The one exception is a ``RidgeClassifier`` fitted on a multilabel target (a 0/1
indicator matrix): it is ridge regression on the ``{-1, 1}`` codes of each label column,
and ``explain`` names, per test row, the label whose decision value it explains.
"""

import numpy as np
from sklearn.linear_model import RidgeClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import type_of_target

from ..utils._prefit import unfrozen


def one_target(y, model):
    """``y`` as an array of shape (n_samples,); a column vector is taken as one.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, 1)
        The targets given to the explainer's ``fit``.
    model : estimator
        The final estimator (named in the error).

    Returns
    -------
    y : ndarray of shape (n_samples,)
        A copy (the caller's array may change after ``fit``).

    Raises
    ------
    ValueError
        If ``y`` has more than one column.
    """
    y = np.array(y, copy=True)
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]  # a column vector: one target, as scikit-learn takes it
    if y.ndim == 2 and is_multilabel_ridge(model, y):
        return y
    if y.ndim != 1:
        raise ValueError(
            f"InfluenceExplainer explains models of one target, but y has shape {y.shape} "
            f"(several target columns: multilabel, multi-output classes or several "
            f"regression targets) for {type(model).__name__}. Their outputs have no single "
            "margin to attribute; fit one model per target column (y[:, j]) and explain "
            "each."
        )
    return y


def is_multilabel_ridge(model, y):
    """Whether ``model`` (or its final step) is a ``RidgeClassifier`` and ``y`` a 0/1
    indicator matrix of several columns, as it takes for a multilabel target."""
    final = unfrozen(model)
    if isinstance(final, Pipeline):
        final = unfrozen(final[-1])
    return isinstance(final, RidgeClassifier) and type_of_target(y) == "multilabel-indicator"


def check_one_output(objective, model):
    """Refuse a linear regressor that predicts several outputs (fitted on a 2-D ``y``)."""
    if objective is None or objective.loss != "squared" or objective.n_outputs == 1:
        return
    raise ValueError(
        f"InfluenceExplainer explains models of one target, but this "
        f"{type(model).__name__} predicts {objective.n_outputs} outputs (it was fitted on "
        "a target with several columns). Their outputs have no single margin to "
        "attribute; fit one model per target column (y[:, j]) and explain each."
    )
