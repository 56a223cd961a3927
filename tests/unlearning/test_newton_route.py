"""The Newton route of a removal is chosen by estimated cost, not by parameter count.

Every model of at most ``MAX_NEWTON_PARAMS`` parameters took the dense route: its
``p x p`` Hessian built at fit (``O(n p^2)``, as dense blocks however sparse the rows),
downdated and factorised at each removal. On sparse wide data that is a product
failure: 2,000 TF-IDF rows x 3,000 terms took 2.45 s to unlearn and 1.8 s to fit the
unlearner against a 0.02 s refit (benchmarks/bench_unlearn_woodbury.py). Now such a
model takes the matrix-free steps, a dense one of few features stays dense, and either
removal is certified the same way. The truth is an exact retrain (newton-cg, tol
1e-12) and the gradient of the retained objective measured here.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.gradients import linear_model_objective
from sktraceprop.gradients._linear import LinearObjective
from sktraceprop.unlearning import _convex

MODEL = LogisticRegression(C=2.0, solver="newton-cg", tol=1e-12, max_iter=5000)


def _unlearn(X, y, removed, model=MODEL, tol=1e-10):
    ids = stp.row_ids(stp.from_numpy(np.arange(X.shape[0])[:, None], source_id="route"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(clone(model), tol=tol).fit(X, y, sample_id=ids)
        holds = unl._method.hessian is not None
        unl.unlearn(sample_id=ids[removed])
    return unl, holds


def _check_is_the_retrain(unl, X, y, removed, model=MODEL, tol=1e-10):
    keep = ~removed
    event = unl.unlearning_log_[-1]
    assert event["method"] == "newton" and event["certificate"] <= tol
    # the certificate is the gradient norm of the retained objective, measured here
    objective = linear_model_objective(unl.estimator_)
    measured = np.linalg.norm(objective.objective_gradient(X[keep], y[keep])) / keep.sum()
    assert_allclose(event["certificate"], measured, rtol=1e-6, atol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        retrained = clone(model).fit(X[keep], y[keep])
    assert_allclose(unl.estimator_.coef_, retrained.coef_, atol=1e-6)
    assert_allclose(unl.estimator_.decision_function(X), retrained.decision_function(X), atol=1e-6)


def _sparse_wide(n, d, seed):
    rng = np.random.RandomState(seed)
    X = sparse.random(n, d, density=0.01, random_state=rng, format="csr")
    s = np.asarray(X[:, : d // 2].sum(axis=1)).ravel() + rng.normal(scale=0.05, size=n)
    y = (s > np.median(s)).astype(int)
    return X, y


def test_a_sparse_wide_model_below_the_limit_takes_the_matrix_free_route(monkeypatch):
    X, y = _sparse_wide(300, 1500, seed=0)
    assert 1501 <= _convex.MAX_NEWTON_PARAMS  # the limit alone sent it to the dense route

    def no_dense_hessian(*args, **kwargs):
        raise AssertionError("a dense Hessian was built for a sparse wide model")

    monkeypatch.setattr(LinearObjective, "hessian", no_dense_hessian)
    removed = np.zeros(300, dtype=bool)
    removed[::25] = True
    unl, holds = _unlearn(X, y, removed)
    assert not holds and unl._method.hessian is None
    monkeypatch.undo()
    _check_is_the_retrain(unl, X, y, removed)


def test_a_dense_model_of_few_features_stays_on_the_dense_route():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 10))
    y = (X[:, 0] + rng.normal(size=600) > 0).astype(int)
    removed = np.zeros(600, dtype=bool)
    removed[::40] = True
    unl, holds = _unlearn(X, y, removed)
    assert holds and unl._method.hessian is not None  # and kept for the next removal
    _check_is_the_retrain(unl, X, y, removed)


def test_without_an_l2_penalty_a_sparse_wide_model_stays_dense():
    # no penalty: the matrix-free steps do not apply (the Hessian can be singular), and
    # below the limit the dense route (least-norm steps) still certifies the removal
    X, y = _sparse_wide(200, 400, seed=2)
    model = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=5000)
    objective = linear_model_objective(clone(model).fit(X, y))
    assert _convex.newton_route(objective, X, y, None) == "dense"
    assert _convex.newton_route(linear_model_objective(clone(MODEL).fit(X, y)), X, y, None) == (
        "matrix_free"
    )


def test_a_refitted_pipeline_routes_its_wide_sparse_features_matrix_free(monkeypatch):
    from tests._text_data import text_pipeline

    rng = np.random.default_rng(3)
    words = np.array([f"w{j}" for j in range(1200)])
    texts = [" ".join(rng.choice(words, 8)) for _ in range(150)]
    frame = pd.DataFrame({"text": texts, "x": rng.normal(size=150)})
    frame["label"] = (np.char.find(np.array(texts), "w1") >= 0) | (rng.random(150) < 0.3)
    frame = stp.from_pandas(frame.astype({"label": int}), source_id="route_pipe")
    X, y = frame[["text", "x"]], frame["label"]
    pipe = text_pipeline(CountVectorizer(), clone(MODEL))

    def no_dense_hessian(*args, **kwargs):
        raise AssertionError("a dense Hessian was built for a sparse wide model")

    monkeypatch.setattr(LinearObjective, "hessian", no_dense_hessian)
    removed = np.zeros(150, dtype=bool)
    removed[::10] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(pipe, preprocessing="refit", tol=1e-10)
        unl.fit(X, y)
        unl.unlearn(sample_id=stp.row_ids(frame)[removed])
    monkeypatch.undo()
    event = unl.unlearning_log_[-1]
    assert event["method"] == "newton" and event["certificate"] <= 1e-10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        retrained = clone(pipe).fit(X[~removed], y[~removed])
    assert_allclose(unl.estimator_.decision_function(X), retrained.decision_function(X), atol=1e-6)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(40, 200),
    d=st.integers(2, 600),
    dense=st.booleans(),
    share=st.floats(0.01, 0.2),
    seed=st.integers(0, 1000),
)
def test_either_route_is_the_retrain(n, d, dense, share, seed):
    rng = np.random.RandomState(seed)
    X = sparse.random(n, d, density=0.05, random_state=rng, format="csr")
    X = X.toarray() if dense else X
    y = np.arange(n) % 2
    rng.shuffle(y)
    removed = np.zeros(n, dtype=bool)
    removed[rng.choice(n, max(1, int(share * n)), replace=False)] = True
    if np.unique(y[~removed]).size < 2:
        removed[:] = False
        removed[0] = True
    unl, holds = _unlearn(X, y, removed)
    objective = linear_model_objective(unl.estimator_)
    route = _convex.newton_route(objective, X, y, None)
    assert holds == (route == "dense")
    _check_is_the_retrain(unl, X, y, removed)


@pytest.mark.parametrize("limit", [0, 10**9])
def test_the_limit_still_sends_a_model_above_it_matrix_free(monkeypatch, limit):
    # above MAX_NEWTON_PARAMS the dense Hessian is never built, whatever the cost says
    X, y = _sparse_wide(100, 30, seed=4)
    objective = linear_model_objective(clone(MODEL).fit(X, y))
    monkeypatch.setattr(_convex, "DENSE_PER_MATRIX_FREE", float("inf"))
    monkeypatch.setattr(_convex, "MAX_NEWTON_PARAMS", limit)
    expected = "matrix_free" if limit == 0 else "dense"
    assert _convex.newton_route(objective, X, y, None) == expected


def test_a_removal_whose_retained_rows_route_dense_builds_the_hessian(monkeypatch):
    # matrix-free at fit, dense for the retained rows (the estimate set so here; in use,
    # their weights or their non-zeros): the removal builds the Hessian on the retained
    # rows, takes dense steps from it and keeps it, and is the retrain
    X, y = _sparse_wide(300, 1500, seed=5)
    monkeypatch.setattr(_convex, "DENSE_PER_MATRIX_FREE", 0.0)
    ids = stp.row_ids(stp.from_numpy(np.arange(300)[:, None], source_id="route_flip"))
    removed = np.zeros(300, dtype=bool)
    removed[5::30] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(clone(MODEL), tol=1e-10).fit(X, y, sample_id=ids)
        assert unl._method.hessian is None
        monkeypatch.setattr(_convex, "DENSE_PER_MATRIX_FREE", float("inf"))
        unl.unlearn(sample_id=ids[removed])
    assert unl._method.hessian is not None
    # the Hessian kept is the retained objective's at the corrected parameters
    objective = linear_model_objective(unl.estimator_)
    keep = ~removed
    assert_allclose(unl._method.hessian, objective.hessian(X[keep], y[keep]), rtol=1e-10)
    _check_is_the_retrain(unl, X, y, removed)
