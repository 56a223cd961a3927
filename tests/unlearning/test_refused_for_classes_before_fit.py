"""Settings refused for the classes of the target (LogisticRegression(multi_class="ovr")
on more than two classes where scikit-learn still has it, SGDClassifier with class_weight
on more than two, RidgeClassifier with class_weight on a multilabel target) are refused
by the unlearner's ``fit`` before it fits or stores anything, not by the fitted model's
objective after the fit was spent (and the run stored)."""

import inspect
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests.unlearning.test_refused_before_fit import (
    _count_fits,
    _fit_refuses_as_the_fitted_objective,
)

RNG = np.random.default_rng(1)
X = RNG.normal(size=(60, 3))
Y3 = np.digitize(X[:, 0], [-0.4, 0.4])  # three classes
YML = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)  # multilabel indicator
HAS_MULTI_CLASS = "multi_class" in inspect.signature(LogisticRegression).parameters

REFUSED = [
    (SGDClassifier(loss="log_loss", class_weight="balanced", random_state=0), Y3, "class_weight"),
    (RidgeClassifier(class_weight={0: 1.0, 1: 2.0}), YML, "multilabel"),
]
if HAS_MULTI_CLASS:
    REFUSED.append((LogisticRegression(multi_class="ovr"), Y3, "multi_class='ovr'"))


@pytest.mark.parametrize(("model", "y", "why"), REFUSED, ids=[r[2] for r in REFUSED])
def test_refused_before_anything_is_fitted_or_stored(monkeypatch, model, y, why):
    # Before: the pipeline (and the model) were fitted, the run built, then the
    # objective of the fitted model refused it
    calls = _count_fits(monkeypatch, type(model))
    scaler_calls = _count_fits(monkeypatch, StandardScaler)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), clone(model), store=store)
    u = GradientCorrectionUnlearner(pipe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # (multi_class is deprecated)
        with pytest.raises(NotImplementedError, match="cannot unlearn from") as info:
            u.fit(stp.from_numpy(X, f"refused_{why}"), y)
    assert why in str(info.value)
    assert calls == [] and scaler_calls == []  # nothing was fitted
    assert not hasattr(u, "estimator_")
    assert store.list_runs().empty and store.events(include_store_events=True) == []


def _model(kind, class_weight, ovr):
    if kind == "sgd":
        return SGDClassifier(loss="log_loss", class_weight=class_weight, max_iter=30)
    if kind == "ridge":
        return RidgeClassifier(class_weight=class_weight)
    return LogisticRegression(class_weight=class_weight, max_iter=60, **ovr)


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["sgd", "ridge", "logistic"]),
    target=st.sampled_from(["binary", "three", "multilabel"]),
    class_weight=st.sampled_from([None, "balanced"]),
    ovr=st.sampled_from([{}, {"multi_class": "ovr"}] if HAS_MULTI_CLASS else [{}]),
)
@example(kind="sgd", target="three", class_weight="balanced", ovr={})
@example(kind="ridge", target="multilabel", class_weight="balanced", ovr={})
def test_fit_refuses_exactly_what_the_fitted_objective_refuses(kind, target, class_weight, ovr):
    """Truth: fit the model itself, then ask the objective of the fitted model."""
    y = {"binary": (X[:, 0] > 0).astype(int), "three": Y3, "multilabel": YML}[target]
    model = _model(kind, class_weight, ovr)
    _fit_refuses_as_the_fitted_objective(model, X, y)
