"""The loss of each row under a fitted model, as the unlearning metrics compare it.

Log loss for probabilistic classifiers (a label the model does not know has
probability 0), squared error of ``+-1`` codes for other classifiers, squared error
for regressors.
"""

import numpy as np
import pandas as pd
from sklearn.base import is_classifier
from sklearn.utils import column_or_1d

from .._lineage._paired import check_paired
from ..utils._labels import check_label_kinds

__all__ = ["per_sample_loss"]


def _class_positions(estimator, y):
    """Position of each label of ``y`` in ``estimator.classes_`` (-1: not a class of it)."""
    classes = np.asarray(estimator.classes_)
    y = np.asarray(y)
    check_label_kinds(y, classes, type(estimator).__name__)
    order = np.argsort(classes, kind="stable")
    at = np.searchsorted(classes[order], y).clip(0, max(classes.size - 1, 0))
    found = classes.size > 0
    pos = order[at] if found else np.zeros(y.shape, dtype=np.intp)
    return np.where(found & (classes[pos] == y), pos, -1)


def _rows_of(y, out):
    """``out``, the model's outputs on X, if it has a row per label of ``y``: else rows
    would be paired by truncation or broadcasting, each with another row's label."""
    if out.shape[0] != y.shape[0]:
        raise ValueError(f"y has {y.shape[0]} rows, X {out.shape[0]}: a loss needs each row's y")
    return out


def per_sample_loss(estimator, X, y):
    """Loss of each row: log loss for probabilistic classifiers, else squared error.

    Classifiers without ``predict_proba`` get the squared error of the decision value
    against ``+-1`` codes of the classes (the loss ``RidgeClassifier`` fits).
    Probabilities are clipped below at float64's machine epsilon (a loss of at most
    36.04) whatever their dtype: float32 probabilities, from a torch or JAX model,
    represent much smaller values, and clipping them at float32's epsilon would cap
    every loss at 15.9. A label that is not among the classifier's ``classes_`` (a
    class only the removed rows had, which a retrain never saw) has probability 0, so
    its loss is that cap; without ``predict_proba`` such a label is refused, and so is
    a missing one (NaN, None or NA) and a ``y`` not paired row for row with ``X``.

    Parameters
    ----------
    estimator : fitted estimator
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)

    Returns
    -------
    loss : ndarray of shape (n_samples,)
    """
    check_paired(X, y, call="per_sample_loss")  # traced rows sorted apart from their y
    y = np.asarray(y)
    if pd.isna(y).any():  # else a NaN label reads as a class the model never saw
        raise ValueError(f"y holds {int(pd.isna(y).sum())} missing labels or targets: no loss")
    if is_classifier(estimator):
        y = column_or_1d(y)
        idx = _class_positions(estimator, y)
        unknown = idx < 0
        if hasattr(estimator, "predict_proba"):
            proba = _rows_of(y, np.asarray(estimator.predict_proba(X), dtype=np.float64))
            eps = np.finfo(np.float64).eps
            p = np.where(unknown, 0.0, proba[np.arange(y.shape[0]), np.maximum(idx, 0)])
            return -np.log(np.clip(p, eps, None))
        if unknown.any():
            raise ValueError(
                f"labels {sorted(set(y[unknown].tolist()))} are not classes of "
                f"{type(estimator).__name__} ({np.asarray(estimator.classes_).tolist()}): "
                "without predict_proba there is no loss for a class the model does not know"
            )
        scores = _rows_of(y, np.asarray(estimator.decision_function(X), dtype=np.float64))
        if scores.ndim == 1:
            return (scores - (2.0 * idx - 1.0)) ** 2
        codes = -np.ones_like(scores)
        codes[np.arange(y.shape[0]), idx] = 1.0
        return ((scores - codes) ** 2).sum(axis=1)
    pred = _rows_of(y, np.asarray(estimator.predict(X), dtype=np.float64)).reshape(y.shape[0], -1)
    y = y.reshape(y.shape[0], -1)
    if pred.shape != y.shape:
        raise ValueError(f"y has {y.shape[1]} outputs per row, the predictions {pred.shape[1]}")
    return ((pred - y) ** 2).sum(axis=1)
