"""Certified removal above ``MAX_NEWTON_PARAMS`` parameters: matrix-free Newton steps
(conjugate gradients on Hessian-vector products through the rows).

The limit is lowered so that small problems take the matrix-free steps; the truth is a
retrain (its solver converged far below the unlearner's ``tol``) and the dense Newton
correction the same removal gets below the limit.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    ids = stp.row_ids(stp.from_numpy(np.arange(X.shape[0])[:, None], source_id="newton_cg"))
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
def test_matrix_free_newton_removal_is_the_retrain(
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
    # (this sparse wide model is routed matrix-free by cost: the dense route forced)
    monkeypatch.setattr(_convex, "DENSE_PER_MATRIX_FREE", float("inf"))
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


def test_more_rows_than_parameters_above_the_limit_still_newton(monkeypatch):
    # the Woodbury route refitted here (its m x m system of 56 rows was larger than the
    # 31 parameters' Hessian); the matrix-free steps form no such system, so the
    # removal is certified by Newton steps, and is the retrain
    X, y, sw = _data(60, 30, 2, seed=5)
    model = _MODELS["logistic"][0]
    monkeypatch.setattr(_convex, "MAX_NEWTON_PARAMS", 20)
    removed = np.zeros(60, dtype=bool)
    removed[:4] = True
    unl = _unlearn(model, X, y, sw, removed)
    assert unl._method.hessian is None
    event = unl.unlearning_log_[-1]
    assert event["method"] == "newton" and event["certificate"] <= 1e-12
    retrained = clone(model).fit(X[~removed], y[~removed], sample_weight=sw[~removed])
    assert_allclose(unl.estimator_.coef_, retrained.coef_, atol=1e-8)
    assert_allclose(unl.estimator_.intercept_, retrained.intercept_, atol=1e-8)


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


_LOSSES = {
    "binomial": (LogisticRegression(C=3.0), 2),
    "multinomial": (LogisticRegression(C=3.0), 3),
    "log_ovr": (SGDClassifier(loss="log_loss", alpha=1e-2, random_state=0, max_iter=20), 3),
    "squared": (Ridge(alpha=0.5), 0),
    "squared_classifier": (RidgeClassifier(alpha=0.5), 3),
}


@pytest.mark.parametrize("name", sorted(_LOSSES))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_hessian_vector_products_are_the_dense_hessians(name, fit_intercept, damping):
    # truth: the dense p x p Hessian the route below the limit builds, row by row
    from sktraceprop.gradients._hessian_operator import HessianOperator

    model, n_classes = _LOSSES[name]
    X, y, sw = _data(30, 12, max(n_classes, 2), seed=7)
    if not n_classes:
        y = np.random.RandomState(1).normal(size=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = clone(model).set_params(fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    objective = stp.gradients.linear_model_objective(fitted)
    theta = objective.params() + np.random.RandomState(2).normal(size=objective.n_params)
    dense = objective.hessian(X, y, sw, theta=theta) + damping * np.eye(objective.n_params)
    op = HessianOperator(objective, X, y, sw, theta, damping)
    V = np.random.RandomState(3).normal(size=(4, objective.n_params))
    for v in V:
        # softmax with intercepts: the products are taken off the intercepts' null vector
        assert_allclose(op(v.copy()), op.project(dense @ v), rtol=1e-10, atol=1e-10)
    assert_allclose(op.diagonal(), np.diag(dense), rtol=1e-12)
    assert_allclose(
        op(V[0].copy()),
        HessianOperator(objective, X.toarray(), y, sw, theta, damping)(V[0].copy()),
        rtol=1e-12,
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(12, 40),
    d=st.integers(41, 90),
    density=st.floats(0.03, 0.3),
    share=st.floats(0.02, 0.4),
    C=st.sampled_from([0.3, 1.0, 10.0, 100.0]),
    n_classes=st.sampled_from([2, 3]),
    fit_intercept=st.booleans(),
)
def test_removal_from_random_sparse_wide_problems_is_the_retrain(
    seed, n, d, density, share, C, n_classes, fit_intercept
):
    # Independent truth: newton-cg retrained from scratch on the retained rows. With
    # the L2 penalty lambda (1 in this objective, whose loss is scaled by C) the
    # Hessian is at least lambda I in the coefficients, so without an intercept
    # ||theta - theta*|| <= ||grad J_R(theta)|| / lambda for any theta: the distance of
    # the unlearned model to the retrain is bounded by the two certificates.
    rng = np.random.RandomState(seed)
    X = sparse.random(n, d, density=density, random_state=rng, format="csr")
    y = np.arange(n) % n_classes
    rng.shuffle(y)
    removed = np.zeros(n, dtype=bool)
    removed[rng.choice(n, max(1, int(share * n)), replace=False)] = True
    keep = ~removed
    if np.unique(y[keep]).size < n_classes:
        removed[:] = False
        removed[0] = True
        keep = ~removed
    model = LogisticRegression(
        C=C, solver="newton-cg", tol=1e-13, max_iter=10_000, fit_intercept=fit_intercept
    )
    old = _convex.MAX_NEWTON_PARAMS
    _convex.MAX_NEWTON_PARAMS = 20  # no monkeypatch in a hypothesis test: restored below
    try:
        unl = _unlearn(model, X, y, None, removed, tol=1e-10)
    finally:
        _convex.MAX_NEWTON_PARAMS = old
    assert unl._method.hessian is None
    event = unl.unlearning_log_[-1]
    assert event["method"] == "newton" and event["certificate"] <= 1e-10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        retrained = clone(model).fit(X[keep], y[keep])
    objective = stp.gradients.linear_model_objective(unl.estimator_)
    theta = objective.params()
    gradient = np.linalg.norm(objective.objective_gradient(X[keep], y[keep]))
    # the logged certificate is the gradient at the parameters the model holds
    assert gradient / keep.sum() == pytest.approx(event["certificate"], rel=1e-6, abs=1e-15)
    truth = stp.gradients.linear_model_objective(retrained)
    theta_star = truth.params()
    if n_classes > 2 and fit_intercept:
        # softmax with unpenalised intercepts: adding one constant to every class's
        # intercept changes no probability and no loss, so the optimum is a line; the
        # two solvers may stop anywhere on it (seen: 1.1e-5 apart). Compare the
        # parameters off that null vector (the intercepts centred).
        theta, theta_star = theta.copy(), theta_star.copy()
        theta[-n_classes:] -= theta[-n_classes:].mean()
        theta_star[-n_classes:] -= theta_star[-n_classes:].mean()
    distance = np.linalg.norm(theta - theta_star)
    if not fit_intercept:
        lam = objective.penalty_strength(keep.sum())
        retrain_gradient = np.linalg.norm(truth.objective_gradient(X[keep], y[keep]))
        assert distance <= (gradient + retrain_gradient) / lam + 1e-12
    assert distance <= 1e-6 * max(1.0, np.linalg.norm(theta_star))
    decisions = [m.decision_function(X) for m in (unl.estimator_, retrained)]
    if n_classes > 2:  # (the same null vector: one constant per row)
        decisions = [z - z.mean(axis=1, keepdims=True) for z in decisions]
    assert_allclose(decisions[0], decisions[1], atol=1e-6)
    assert_allclose(unl.estimator_.predict_proba(X), retrained.predict_proba(X), atol=1e-7)
