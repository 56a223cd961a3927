"""The class weights a fitted linear classifier's objective gives each row.

``class_weight="balanced"`` is computed by scikit-learn from the rows given to ``fit``:
each class weighs ``n / (n_classes * count)``. Whether ``count`` and ``n`` count rows or
sum their ``sample_weight`` depends on the estimator and the release (scikit-learn 1.9
weighs them for ``LogisticRegression``, not for ``SGDClassifier`` or
``RidgeClassifier``), so it is measured once per estimator class on three rows rather
than assumed from a version number.

The weights belong to a set of rows: the rows of one block of a training set get the
weights of the whole set, not weights balanced over the block (:func:`class_weights`
takes the whole set's per-class weights for that).
"""

import functools

import numpy as np

from ..utils._quiet import quiet

__all__ = ["balances_weighted_counts", "class_weights", "per_class_weights"]


@functools.cache
def balances_weighted_counts(cls):
    """Whether ``cls(class_weight="balanced")`` balances the classes' summed sample
    weights (True) or their row counts (False).

    Three rows with one constant feature, classes ``[0, 0, 1]`` weighted ``[1, 1, 4]``:
    balanced by summed weights both classes weigh 3 in all, and the decision value is 0;
    by counts class 1 weighs 6 against 1.5, and it is positive (1.39 for a logistic
    loss, 0.6 for a squared one).
    """
    X = np.zeros((3, 1))
    y = np.array([0, 0, 1])
    sw = np.array([1.0, 1.0, 4.0])
    try:
        model = cls(class_weight="balanced", fit_intercept=True)
        params = model.get_params()
        model.set_params(**{k: v for k, v in (("max_iter", 2000), ("tol", 1e-10)) if k in params})
        with quiet():  # (the probe's warnings, dropped in this thread alone)
            model.fit(X, y, sample_weight=sw)
        decision = float(np.ravel(model.decision_function(X[:1]))[0])
    except (TypeError, ValueError, Warning) as exc:  # (Warning: an "error" filter's)
        raise TypeError(
            f"cannot tell whether {cls.__name__}(class_weight='balanced') balances the "
            f"classes' summed sample weights or their row counts ({exc}); fit it without "
            "sample_weight or with a dict class_weight"
        ) from None
    return abs(decision) < 0.3


def per_class_weights(estimator, y, sample_weight=None):
    """``{class: weight}`` that ``estimator``'s ``class_weight`` gives the rows ``(y,
    sample_weight)`` when they are the whole training set; None without class weights."""
    class_weight = getattr(estimator, "class_weight", None)
    if class_weight is None:
        return None
    y = np.asarray(y)
    present = np.unique(y)
    if class_weight != "balanced":
        return {label: float(class_weight.get(label, 1.0)) for label in present.tolist()}
    weighted = sample_weight is not None and balances_weighted_counts(type(estimator))
    w = np.asarray(sample_weight, dtype=np.float64) if weighted else np.ones(y.shape[0])
    totals = np.array([w[y == label].sum() for label in present])
    if not np.all(totals > 0):
        # scikit-learn divides by 0: infinite weights, NaN sample weights, no fit at all
        raise ValueError(
            f"class_weight='balanced' with sample_weight: the rows of class(es) "
            f"{present[~(totals > 0)].tolist()} have sample weights summing to 0, so "
            f"{type(estimator).__name__} weighs them infinitely (scikit-learn fits with "
            "NaN weights). Drop those rows, or give them weight."
        )
    weights = totals.sum() / (present.size * totals)
    return dict(zip(present.tolist(), weights.tolist()))


def class_weights(estimator, y, sample_weight=None, of=None):
    """Each row's class weight (an array like ``y``), or None without class weights.

    Parameters
    ----------
    estimator : classifier
        The fitted model, for its ``class_weight`` and class.
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
    of : dict, default=None
        :func:`per_class_weights` of the whole training set, when ``y`` is only some of
        its rows; None takes ``(y, sample_weight)`` as the whole set.
    """
    if getattr(estimator, "class_weight", None) is None:
        return None
    if of is None:
        of = per_class_weights(estimator, y, sample_weight)
    y = np.asarray(y)
    out = np.ones(y.shape[0])
    for label, weight in of.items():
        out[y == label] = weight
    return out
