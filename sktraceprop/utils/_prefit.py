"""Fitted estimators given as parameters: used as they are, and kept by ``clone``.

scikit-learn's ``clone`` replaces every estimator parameter with an unfitted copy, so
a meta-estimator given a fitted model would, once cloned (by ``GridSearchCV``,
``cross_validate`` or a user), fit a new model in its ``fit``: silently not the model
the user gave. The meta-estimators here use a fitted parameter as it is, and
:class:`KeepFittedParamsMixin` makes ``clone`` keep it, as ``FrozenEstimator`` does.
An unfitted parameter is cloned and fitted as usual: that is how a user asks for a fit.
"""

from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["KeepFittedParamsMixin", "is_fitted", "unfrozen"]


def is_fitted(estimator):
    """Whether ``estimator`` is fitted; an object without ``fit`` has nothing to fit."""
    if not hasattr(estimator, "fit"):
        return True
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def unfrozen(estimator):
    """The estimator inside (nested) ``FrozenEstimator`` wrappers."""
    while isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    return estimator


class KeepFittedParamsMixin:
    """``clone`` keeps the fitted estimators among the parameters ``_prefit_params``.

    The clone holds the same fitted object (not a copy), so cloning never refits it
    and never duplicates its memory; unfitted parameters are cloned as usual.
    """

    _prefit_params = ()

    def __sklearn_clone__(self):
        new = super().__sklearn_clone__()
        for name in self._prefit_params:
            value = getattr(self, name)
            if value is not None and is_fitted(value):
                setattr(new, name, value)
        return new
