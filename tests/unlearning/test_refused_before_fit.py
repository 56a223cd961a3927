"""Settings the unlearner cannot correct are refused by ``fit`` before it fits anything
(an early-stopped SGDClassifier, LogisticRegressionCV, an L1 penalty...), not after the
fit is spent; the removal still refuses them (settings changed after the fit)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import (
    LogisticRegression,
    LogisticRegressionCV,
    Ridge,
    SGDClassifier,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktraceprop.exceptions import UnlearningError
from sktraceprop.gradients import linear_model_objective
from sktraceprop.unlearning import GradientCorrectionUnlearner

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y = (X[:, 0] + 0.3 * RNG.normal(size=40) > 0).astype(int)
Y2 = np.column_stack([X[:, 0], X[:, 1]])

REFUSED = [
    (SGDClassifier(loss="log_loss", early_stopping=True, random_state=0), Y, "early_stopping"),
    (SGDClassifier(loss="log_loss", penalty="l1", random_state=0), Y, "penalty='l1'"),
    (LogisticRegressionCV(cv=2), Y, "LogisticRegressionCV"),
    (LogisticRegression(solver="liblinear"), Y, "liblinear"),
    (LogisticRegression(solver="saga", l1_ratio=1.0, C=1.0), Y, "L1 penalty"),
    (Ridge(alpha=[1.0, 2.0]), Y2, "one alpha per target"),
]


def _count_fits(monkeypatch, cls):
    calls = []
    original = cls.fit

    def fit(self, *args, **kwargs):
        calls.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "fit", fit)
    return calls


def _fit_refuses_as_the_fitted_objective(model, X, y):
    """Fit ``model`` itself and ask its fitted objective; the unlearner's ``fit`` must
    refuse ``model`` before fitting exactly when that objective refuses it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitted = clone(model).fit(X, y)
        except ValueError:
            return  # scikit-learn itself refuses these settings (a multilabel target...)
        try:
            linear_model_objective(fitted)
            refused = False
        except TypeError:
            refused = True
        u = GradientCorrectionUnlearner(clone(model))
        if refused:
            with pytest.raises(NotImplementedError, match="cannot unlearn from"):
                u.fit(X, y)
            assert not hasattr(u, "estimator_")
        else:
            u.fit(X, y)
            assert hasattr(u, "estimator_")


@pytest.mark.parametrize("pipeline", [False, True])
@pytest.mark.parametrize(("model", "y", "why"), REFUSED, ids=[r[2] for r in REFUSED])
def test_refused_before_the_fit(monkeypatch, model, y, why, pipeline):
    calls = _count_fits(monkeypatch, type(model))
    est = make_pipeline(StandardScaler(), clone(model)) if pipeline else clone(model)
    u = GradientCorrectionUnlearner(est)
    with pytest.raises(NotImplementedError, match="cannot unlearn from") as info:
        u.fit(X, y)
    assert why in str(info.value)
    assert calls == []  # nothing was fitted
    assert not hasattr(u, "estimator_")


def test_removal_still_refuses_settings_changed_after_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = GradientCorrectionUnlearner(
            SGDClassifier(loss="log_loss", random_state=0, max_iter=50)
        ).fit(X, Y)
    coef = u.estimator_.coef_.copy()
    u.estimator_.set_params(early_stopping=True)
    with pytest.raises((NotImplementedError, UnlearningError)):
        u.unlearn(mask=np.arange(40) < 2)
    np.testing.assert_array_equal(u.estimator_.coef_, coef)
    # the objective of a fitted model (what a removal asks for) still refuses it
    with pytest.raises(TypeError, match="early_stopping"):
        linear_model_objective(u.estimator_)


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["sgd", "logistic"]),
    penalty=st.sampled_from(["l2", None, "l1", "elasticnet"]),
    early_stopping=st.booleans(),
    solver=st.sampled_from(["lbfgs", "saga", "liblinear"]),
    l1_ratio=st.sampled_from([0.0, 0.5, 1.0]),
)
@example(kind="sgd", penalty="l2", early_stopping=True, solver="lbfgs", l1_ratio=0.0)
def test_fit_refuses_exactly_what_the_fitted_objective_refuses(
    kind, penalty, early_stopping, solver, l1_ratio
):
    """Truth: fit the model itself, then ask the objective of the fitted model."""
    if kind == "sgd":
        model = SGDClassifier(
            loss="log_loss",
            penalty=penalty,
            early_stopping=early_stopping,
            max_iter=20,
            random_state=0,
        )
    else:
        model = LogisticRegression(solver=solver, l1_ratio=l1_ratio, max_iter=50)
    _fit_refuses_as_the_fitted_objective(model, X, Y)
