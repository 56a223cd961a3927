"""The explainer's Woodbury route: the dense route's scores without a ``p x p`` matrix.

On text pipelines with more vocabulary terms than training rows, every number the
explainer keeps (scores, leverages, stationarity, null space, damping) is checked
against the dense route on the same model, and the scores of a ridge model against
leave-one-out refits (exact for squared error, with the leverage). The automatic choice
is checked both ways, and so is each case where the Woodbury route would not be the
dense route's inverse (no penalty, a bound, a penalty too small to prove no eigenvalue
is dropped): there the dense route is taken and ``hessian_route_`` says why.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier

import sktraceprop as stp
from sktraceprop.gradients import _dense_size
from tests._text_data import tfidf_pipeline, zipf_notes

_TIGHT = {"tol": 1e-12, "max_iter": 10_000}


def _fit_both(pipe, X, y, sample_weight=None, damping="auto"):
    out = {}
    for solver in ("dense", "woodbury"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the dense route's cost warning
            out[solver] = stp.InfluenceExplainer(pipe, solver=solver, damping=damping).fit(
                X, y, sample_weight=sample_weight
            )
    return out


@pytest.mark.parametrize(
    "final, n_classes, weighted, damping",
    [
        (LogisticRegression(C=3.0, **_TIGHT), 2, False, "auto"),
        (LogisticRegression(C=3.0, **_TIGHT), 3, True, "auto"),
        (LogisticRegression(C=3.0, class_weight="balanced", **_TIGHT), 3, False, 0.1),
        (LogisticRegression(C=3.0, fit_intercept=False, **_TIGHT), 2, True, "auto"),
        (SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0), 3, False, "auto"),
        (Ridge(alpha=0.5, solver="sparse_cg", tol=1e-14), 2, True, "auto"),
    ],
)
def test_woodbury_route_gives_the_dense_routes_numbers(final, n_classes, weighted, damping):
    X, y = zipf_notes(60, 400, n_classes, seed=n_classes)
    sw = np.random.default_rng(1).uniform(0.3, 2.0, 60) if weighted else None
    pipe = tfidf_pipeline(final)
    pipe.fit(X, y, **({} if sw is None else {f"{pipe.steps[-1][0]}__sample_weight": sw}))
    exps = _fit_both(pipe, X, y, sw, damping)
    dense, wood = exps["dense"], exps["woodbury"]
    n_params = dense.objective_.n_params
    assert n_params > 60 * max(1, dense.objective_.n_outputs)  # more parameters than rows
    assert wood.hessian_route_["route"] == "woodbury" and wood.hessian_ is None
    assert dense.hessian_route_["route"] == "dense" and dense.hessian_.shape == (n_params,) * 2
    X_test, y_test = zipf_notes(9, 400, n_classes, seed=99)
    a = dense.explain(X_test, y_test if n_classes > 2 else None).scores
    b = wood.explain(X_test, y_test if n_classes > 2 else None).scores
    assert_allclose(b, a, rtol=0, atol=1e-8 * np.abs(a).max())
    assert_allclose(wood.leverage_, dense.leverage_, rtol=0, atol=1e-8)
    assert wood.stationarity_ == pytest.approx(dense.stationarity_, rel=1e-6, abs=1e-12)
    assert wood.n_null_ == dense.n_null_
    assert wood.damping_ == pytest.approx(dense.damping_, rel=1e-10, abs=0)
    masks = np.random.default_rng(2).random((5, 60)) < 0.5
    a, b = dense.influence_sums(X_test, None, masks), wood.influence_sums(X_test, None, masks)
    assert_allclose(b, a, rtol=0, atol=1e-8 * np.abs(a).max())


def test_woodbury_scores_are_what_leave_one_out_refits_do():
    # for squared error a refit without row i moves the margins by exactly its score
    # over (1 - leverage): the independent truth is the refits themselves
    X, y = zipf_notes(30, 300, seed=4)
    target = y + np.random.default_rng(5).normal(size=30)
    pipe = tfidf_pipeline(Ridge(alpha=0.7, solver="sparse_cg", tol=1e-14)).fit(X, target)
    explainer = stp.InfluenceExplainer(pipe).fit(X, target)
    assert explainer.hessian_route_["route"] == "woodbury"
    X_test, _ = zipf_notes(5, 300, seed=6)
    scores = explainer.explain(X_test).scores
    Z, Zt = pipe[:-1].transform(X), pipe[:-1].transform(X_test)
    base = pipe[-1].predict(Zt)
    keep = np.ones(30, dtype=bool)
    for i in range(30):
        keep[:] = True
        keep[i] = False
        refit = clone(pipe[-1]).fit(Z[keep], target[keep]).predict(Zt)
        expected = (base - refit) * (1.0 - explainer.leverage_[i])
        assert_allclose(scores[:, i], expected, rtol=1e-8, atol=1e-10 * np.abs(base).max())


def test_woodbury_logistic_scores_agree_with_leave_one_out_refits():
    X, y = zipf_notes(40, 300, seed=7)
    pipe = tfidf_pipeline(LogisticRegression(C=5.0, **_TIGHT)).fit(X, y)
    explainer = stp.InfluenceExplainer(pipe).fit(X, y)
    assert explainer.hessian_route_["route"] == "woodbury"
    X_test, y_test = zipf_notes(6, 300, seed=8)
    scores = explainer.explain(X_test, y_test).scores
    Z, Zt = pipe[:-1].transform(X), pipe[:-1].transform(X_test)
    sign = 2 * y_test - 1
    base = pipe[-1].decision_function(Zt) * sign
    loo = np.empty_like(scores)
    keep = np.ones(40, dtype=bool)
    for i in range(40):
        keep[:] = True
        keep[i] = False
        loo[:, i] = base - clone(pipe[-1]).fit(Z[keep], y[keep]).decision_function(Zt) * sign
    assert np.corrcoef(loo.ravel(), scores.ravel())[0, 1] > 0.99


def test_auto_takes_the_cheaper_route_and_says_so(capsys):
    X, y = zipf_notes(40, 400, seed=9)
    pipe = tfidf_pipeline(LogisticRegression(C=2.0, **_TIGHT)).fit(X, y)
    wide = stp.InfluenceExplainer(pipe, verbose=1).fit(X, y)
    route = wide.hessian_route_
    assert route["route"] == "woodbury" and route["reason"] == "fewer estimated flops"
    assert route["woodbury_flops"] < route["dense_flops"]
    assert route["system_size"] == 40 and route["n_params"] == wide.objective_.n_params
    assert "woodbury route (fewer estimated flops)" in capsys.readouterr().err
    # many rows, few terms: the dense route is cheaper
    X, y = zipf_notes(300, 12, seed=10)
    pipe = tfidf_pipeline(LogisticRegression(C=2.0, **_TIGHT)).fit(X, y)
    tall = stp.InfluenceExplainer(pipe).fit(X, y)
    assert tall.hessian_route_["route"] == "dense"
    assert tall.hessian_route_["dense_flops"] < tall.hessian_route_["woodbury_flops"]


@pytest.mark.parametrize(
    "final, why",
    [
        (LogisticRegression(C=np.inf, **_TIGHT), "no L2 penalty"),
        (Ridge(alpha=0.5, positive=True), "positive=True"),
        # a penalty 1e-13 of the data's curvature: the dense route drops those
        # eigenvalues as null space, which no Woodbury inverse does
        (Ridge(alpha=1e-13), "eigenvalue bounds"),
    ],
)
def test_where_woodbury_is_not_the_dense_inverse_the_dense_route_is_taken(final, why):
    X, y = zipf_notes(25, 200, seed=11)
    pipe = tfidf_pipeline(final).fit(X, y.astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = stp.InfluenceExplainer(pipe).fit(X, y.astype(float))
        dense = stp.InfluenceExplainer(pipe, solver="dense").fit(X, y.astype(float))
    assert auto.hessian_route_["route"] == "dense"
    assert why in auto.hessian_route_["reason"]
    X_test, _ = zipf_notes(4, 200, seed=12)
    assert_allclose(auto.explain(X_test).scores, dense.explain(X_test).scores)
    with pytest.raises(ValueError, match=f"solver='woodbury' cannot.*{why}"):
        stp.InfluenceExplainer(pipe, solver="woodbury").fit(X, y.astype(float))


def test_woodbury_route_needs_no_memory_for_a_dense_hessian(monkeypatch):
    # a vocabulary whose dense Hessian exceeds the machine is refused on the dense route
    # before allocating; the Woodbury route needs no p x p matrix and explains it
    X, y = zipf_notes(40, 500, seed=13)
    pipe = tfidf_pipeline(LogisticRegression(C=2.0, **_TIGHT)).fit(X, y)
    n_params = pipe[-1].coef_.size + 1
    monkeypatch.setattr(_dense_size, "physical_memory", lambda: 2 * 8 * n_params**2)
    with pytest.raises(MemoryError, match=f"{n_params} x {n_params}"):
        stp.InfluenceExplainer(pipe, solver="dense").fit(X, y)
    explainer = stp.InfluenceExplainer(pipe).fit(X, y)
    assert explainer.hessian_route_["route"] == "woodbury"
    assert np.isfinite(explainer.explain(X.iloc[:3]).scores).all()
