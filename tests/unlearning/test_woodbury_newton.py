"""Certified removal above ``MAX_NEWTON_PARAMS`` parameters: Newton steps through the rows.

The limit is lowered so that small problems take the Woodbury steps; the truth is a
retrain (its solver converged far below the unlearner's ``tol``) and the dense Newton
correction the same removal gets below the limit.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier, SGDClassifier

import sktraceprop as stp
from sktraceprop.gradients._linear import LinearObjective
from sktraceprop.unlearning import _convex

_MODELS = {
    "logistic": (LogisticRegression(C=2.0, solver="newton-cg", tol=1e-12, max_iter=5000), True),
    "ridge": (Ridge(alpha=0.5, solver="sparse_cg", tol=1e-14), True),
    "ridge_classifier": (RidgeClassifier(alpha=0.5, solver="sparse_cg", tol=1e-14), True),
    # SGD's own solver is no exact retrain: the dense correction is the truth
    "sgd": (SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0, max_iter=50), False),
}


def _data(n, d, n_classes, seed):
    rng = np.random.RandomState(seed)
    X = sparse.random(n, d, density=0.1, random_state=rng, format="csr")
    y = np.arange(n) % n_classes
    rng.shuffle(y)
    return X, y, rng.uniform(0.5, 2.0, n)


def _unlearn(model, X, y, sw, removed, tol=1e-12):
    ids = stp.row_ids(stp.from_numpy(np.arange(X.shape[0])[:, None], source_id="woodbury"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(clone(model), tol=tol)
        unl.fit(X, y, sample_id=ids, sample_weight=sw)
        unl.unlearn(sample_id=ids[removed])
    return unl


@pytest.mark.parametrize("name", sorted(_MODELS))
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_woodbury_newton_removal_is_the_retrain(
    monkeypatch, name, n_classes, fit_intercept, weighted
):
    model, exact_retrain = _MODELS[name]
    model = clone(model).set_params(fit_intercept=fit_intercept)
    X, y, sw = _data(40, 120, n_classes, seed=n_classes + 2 * fit_intercept)
    if name == "ridge":
        if n_classes == 3:
            pytest.skip("one regression target")
        y = y + np.random.RandomState(0).normal(size=40)
    sw = sw if weighted else None
    removed = np.zeros(40, dtype=bool)
    removed[::6] = True
    dense = _unlearn(model, X, y, sw, removed)
    assert dense._method.hessian is not None
    monkeypatch.setattr(_convex, "MAX_NEWTON_PARAMS", 20)
    wood = _unlearn(model, X, y, sw, removed)
    assert wood._method.hessian is None  # no p x p matrix held
    event = wood.unlearning_log_[-1]
    assert event["method"] == "newton" and event["certificate"] <= 1e-12
    keep = ~removed
    objective = stp.gradients.linear_model_objective(wood.estimator_)
    gradient = objective.objective_gradient(X[keep], y[keep], None if sw is None else sw[keep])
    assert np.linalg.norm(gradient) / keep.sum() <= 1e-12
    truth = dense.estimator_
    if exact_retrain:
        truth = clone(model).fit(X[keep], y[keep], sample_weight=None if sw is None else sw[keep])
    assert_allclose(wood.estimator_.coef_, truth.coef_, atol=1e-8)
    outputs = "predict" if name == "ridge" else "decision_function"
    assert_allclose(getattr(wood.estimator_, outputs)(X), getattr(truth, outputs)(X), atol=1e-8)


def test_more_rows_than_parameters_above_the_limit_refit_and_say_why(monkeypatch):
    # the m x m system of 60 rows is larger than the 31 parameters' Hessian: no gain,
    # and at scale (10^5 rows) a matrix that cannot fit, so the removal refits
    X, y, sw = _data(60, 30, 2, seed=5)
    model = _MODELS["logistic"][0]
    monkeypatch.setattr(_convex, "MAX_NEWTON_PARAMS", 20)
    removed = np.zeros(60, dtype=bool)
    removed[:4] = True
    unl = _unlearn(model, X, y, sw, removed)
    event = unl.unlearning_log_[-1]
    assert event["method"] == "refit"
    assert "system of 56 rows x outputs is not smaller than the 31 parameters" in event["note"]
    retrained = clone(model).fit(X[~removed], y[~removed], sample_weight=sw[~removed])
    assert_allclose(unl.estimator_.coef_, retrained.coef_, atol=1e-8)


def test_the_limit_set_on_convex_is_the_one_a_refitted_pipeline_sees(monkeypatch):
    # found reading _pipeline_refit: it imported MAX_NEWTON_PARAMS by value, so a limit
    # set on _convex (as the unlearner's own fit reads it) left a pipeline whose features
    # are refitted building the dense p x p Hessian; one limit now holds for both
    from tests._text_data import text_pipeline

    rng = np.random.default_rng(3)
    words = np.array([f"w{j}" for j in range(150)])
    texts = [" ".join(rng.choice(words, 12)) for _ in range(40)]
    frame = pd.DataFrame({"text": texts, "x": rng.normal(size=40)})
    frame["label"] = (np.char.find(np.array(texts), "w1 ") >= 0) | (rng.random(40) < 0.4)
    frame = stp.from_pandas(frame.astype({"label": int}), source_id="limit")
    X, y = frame[["text", "x"]], frame["label"]
    pipe = text_pipeline(
        CountVectorizer(), LogisticRegression(C=0.5, solver="newton-cg", tol=1e-12)
    )
    monkeypatch.setattr(_convex, "MAX_NEWTON_PARAMS", 20)

    def no_dense_hessian(*args, **kwargs):
        raise AssertionError("a dense Hessian was built above MAX_NEWTON_PARAMS")

    monkeypatch.setattr(LinearObjective, "hessian", no_dense_hessian)
    removed = np.zeros(40, dtype=bool)
    removed[::5] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(clone(pipe), tol=1e-12).fit(X, y)
        unl.unlearn(sample_id=stp.row_ids(X)[removed])
        retrained = clone(pipe).fit(X[~removed], y[~removed])
    assert unl.unlearning_log_[-1]["method"] == "newton"
    assert_allclose(unl.estimator_[-1].coef_, retrained[-1].coef_, atol=1e-7)
