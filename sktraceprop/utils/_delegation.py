"""Mixins shared by the meta-estimators that wrap one fitted ``estimator_``."""

from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._lineage._source import REGISTRY


def inner_has(attr):
    """``available_if`` check: the fitted (or, before fit, the given) estimator has ``attr``."""

    def check(self):
        target = self.estimator_ if hasattr(self, "estimator_") else self.estimator
        return hasattr(target, attr)

    return check


class PredictDelegationMixin:
    """``predict``, ``predict_proba``, ``predict_log_proba`` and ``decision_function``
    of the fitted ``estimator_``, available when it has them."""

    @available_if(inner_has("predict"))
    def predict(self, X, **params):
        """Predict with the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict(X, **params)

    @available_if(inner_has("predict_proba"))
    def predict_proba(self, X, **params):
        """Class probabilities from the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X, **params)

    @available_if(inner_has("predict_log_proba"))
    def predict_log_proba(self, X, **params):
        """Log class probabilities from the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X, **params)

    @available_if(inner_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.decision_function(X)


class ScoreDelegationMixin:
    """``score`` of the fitted ``estimator_`` (accuracy or R^2), when it has one."""

    @available_if(inner_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the fitted estimator (accuracy or R^2)."""
        check_is_fitted(self)
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)


class SourcesTravelMixin:
    """Pickles carry light records of the sources users loaded in this process.

    A joblib worker (``GridSearchCV(n_jobs=2)``) unpickling the estimator then knows
    the sources, so it can resolve the row ids of the frames it is sent and the source
    ids named in parameters. The records leave merge and aggregate parents behind (a
    fitted estimator's run carries the ones it needs), so a pickle stays small, unless
    :meth:`_parents_travel` says the other process needs them.
    """

    def _parents_travel(self):
        """Whether the pickle carries the row-level parents of merges and aggregates."""
        return False

    def __getstate__(self):
        # a copy: BaseEstimator.__getstate__ may return the live ``__dict__``
        state = dict(super().__getstate__())
        state["_stp_sources"] = REGISTRY.snapshot(parents=self._parents_travel())
        state["_stp_read_lines"] = REGISTRY.read_lines_snapshot()
        return state

    def __setstate__(self, state):
        for source in state.pop("_stp_sources", ()):
            REGISTRY.adopt(source)
        REGISTRY.adopt_read_lines(state.pop("_stp_read_lines", {}))
        super().__setstate__(state)


class InnerTagsMixin:
    """Tags taken from the wrapped ``estimator``: its type, targets and accepted input."""

    _inner_tags = (
        "estimator_type",
        "classifier_tags",
        "regressor_tags",
        "target_tags",
        "input_tags",
    )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        for field in self._inner_tags:
            setattr(tags, field, getattr(inner, field))
        return tags
