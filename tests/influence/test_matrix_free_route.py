"""The explainer's matrix-free route: the dense route's scores by conjugate gradients.

Every number it keeps (scores, influence sums, stationarity, null space, damping) is
checked against the dense route on the same model, over hand-written text pipelines and
random sparse problems (hypothesis), and a ridge model's scores against leave-one-out
refits (exact for squared error, with the dense route's leverage). The automatic choice,
the refusals (no penalty, a bound) and a solve that cannot converge are checked too.
"""

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier, SGDClassifier

import sktraceprop as stp
from sktraceprop.influence import _hessian_route, _matrix_free, _stationarity
from tests._text_data import tfidf_pipeline, zipf_notes

_TIGHT = {"tol": 1e-12, "max_iter": 10_000}


#: The stated tolerance: scores within this fraction of the largest of the dense ones.
SCORE_RTOL = 1e-8


def _fit(model, X, y, solver, sample_weight=None, damping="auto"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the dense route's cost warning
        return stp.InfluenceExplainer(model, solver=solver, damping=damping).fit(
            X, y, sample_weight=sample_weight
        )


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
def test_matrix_free_route_gives_the_dense_routes_numbers(
    final, n_classes, weighted, damping, monkeypatch
):
    # the dense route's stationarity check on the 32 rows the matrix-free one samples
    monkeypatch.setattr(_stationarity, "_MAX_ROWS", _stationarity._MAX_ROWS_MATRIX_FREE)
    X, y = zipf_notes(60, 400, n_classes, seed=n_classes)
    sw = np.random.default_rng(1).uniform(0.3, 2.0, 60) if weighted else None
    pipe = tfidf_pipeline(final)
    pipe.fit(X, y, **({} if sw is None else {f"{pipe.steps[-1][0]}__sample_weight": sw}))
    dense = _fit(pipe, X, y, "dense", sw, damping)
    free = _fit(pipe, X, y, "matrix_free", sw, damping)
    assert free.hessian_route_["route"] == "matrix_free"
    assert free.hessian_ is None and free.hessian_eigenvalues_ is None
    assert free.leverage_ is None
    X_test, y_test = zipf_notes(9, 400, n_classes, seed=99)
    y_test = y_test if n_classes > 2 else None
    a = dense.explain(X_test, y_test).scores
    explanation = free.explain(X_test, y_test)
    assert_allclose(explanation.scores, a, rtol=0, atol=SCORE_RTOL * np.abs(a).max())
    assert any("leverage not computed" in note for note in explanation.notes)
    assert free.n_null_ == dense.n_null_
    assert free.damping_ == pytest.approx(dense.damping_, rel=1e-10, abs=0)
    assert free.stationarity_ == pytest.approx(dense.stationarity_, rel=1e-6, abs=1e-12)
    masks = np.random.default_rng(2).random((5, 60)) < 0.5
    a, b = dense.influence_sums(X_test, y_test, masks), free.influence_sums(X_test, y_test, masks)
    assert_allclose(b, a, rtol=0, atol=SCORE_RTOL * np.abs(a).max())


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(8, 40),
    d=st.integers(20, 120),
    density=st.floats(0.02, 0.3),
    kind=st.sampled_from(["binary", "multinomial", "ridge", "multilabel"]),
    strength=st.floats(0.05, 20.0),
    intercept=st.booleans(),
)
@example(seed=0, n=8, d=20, density=0.02, kind="multinomial", strength=20.0, intercept=True)
def test_random_sparse_problems_score_as_the_dense_inverse(
    seed, n, d, density, kind, strength, intercept
):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, d, density=density, random_state=seed, format="csr")
    X.data = rng.normal(size=X.nnz)
    if kind == "ridge":
        model, y = Ridge(alpha=strength, fit_intercept=intercept), rng.normal(size=n)
    elif kind == "multilabel":
        y = (rng.random((n, 3)) < 0.5).astype(int)
        y[:2] = [[1, 0, 1], [0, 1, 0]]  # both values in every column
        model = RidgeClassifier(alpha=strength, fit_intercept=intercept)
    else:
        n_classes = 2 if kind == "binary" else 3
        y = np.arange(n) % n_classes
        rng.shuffle(y)
        model = LogisticRegression(C=strength, fit_intercept=intercept, tol=1e-12, max_iter=5000)
    model.fit(X, y)
    dense, free = _fit(model, X, y, "dense"), _fit(model, X, y, "matrix_free")
    X_test = X[: min(n, 6)]
    y_test = np.arange(X_test.shape[0]) % 3 if kind == "multilabel" else None
    a = dense.explain(X_test, y_test).scores
    b = free.explain(X_test, y_test).scores
    assert_allclose(b, a, rtol=0, atol=SCORE_RTOL * max(np.abs(a).max(), 1e-300))


def test_matrix_free_scores_are_what_leave_one_out_refits_do():
    # squared error: a refit without row i moves the prediction by exactly its score
    # over (1 - leverage), the leverage from the dense route
    X, y = zipf_notes(30, 300, seed=4)
    target = y + np.random.default_rng(5).normal(size=30)
    pipe = tfidf_pipeline(Ridge(alpha=0.7, solver="sparse_cg", tol=1e-14)).fit(X, target)
    free = _fit(pipe, X, target, "matrix_free")
    leverage = _fit(pipe, X, target, "dense").leverage_
    X_test, _ = zipf_notes(5, 300, seed=6)
    scores = free.explain(X_test).scores
    Z, Zt = pipe[:-1].transform(X), pipe[:-1].transform(X_test)
    base = pipe[-1].predict(Zt)
    keep = np.ones(30, dtype=bool)
    for i in range(30):
        keep[:] = True
        keep[i] = False
        refit = clone(pipe[-1]).fit(Z[keep], target[keep]).predict(Zt)
        expected = (base - refit) * (1.0 - leverage[i])
        assert_allclose(scores[:, i], expected, rtol=1e-7, atol=1e-9 * np.abs(base).max())


def test_auto_takes_the_matrix_free_route_where_it_is_cheaper(monkeypatch, capsys):
    X, y = zipf_notes(40, 400, seed=9)
    pipe = tfidf_pipeline(LogisticRegression(C=2.0, **_TIGHT)).fit(X, y)
    assert stp.InfluenceExplainer(pipe).fit(X, y).hessian_route_["route"] == "woodbury"
    # a sparse product as cheap as a dense flop: the few solves win
    monkeypatch.setattr(_hessian_route, "SPARSE_FLOP_COST", 1e-6)
    free = stp.InfluenceExplainer(pipe, verbose=1).fit(X, y)
    route = free.hessian_route_
    assert route["route"] == "matrix_free" and route["reason"] == "fewer estimated flops"
    assert "matrix_free route" in capsys.readouterr().err


@pytest.mark.parametrize(
    "final, why",
    [
        (LogisticRegression(C=np.inf, **_TIGHT), "no L2 penalty"),
        (Ridge(alpha=0.5, positive=True), "positive=True"),
    ],
)
def test_matrix_free_is_refused_where_it_is_not_the_dense_inverse(final, why):
    X, y = zipf_notes(25, 200, seed=11)
    pipe = tfidf_pipeline(final).fit(X, y.astype(float))
    with pytest.raises(ValueError, match=f"solver='matrix_free' cannot.*{why}"):
        stp.InfluenceExplainer(pipe, solver="matrix_free").fit(X, y.astype(float))


def test_a_solve_that_does_not_converge_raises(monkeypatch):
    X, y = zipf_notes(40, 300, seed=3)
    pipe = tfidf_pipeline(LogisticRegression(C=5.0, **_TIGHT)).fit(X, y)
    monkeypatch.setattr(_matrix_free, "MAX_ITER", 2)
    with pytest.raises(ArithmeticError, match="did not reach the relative residual"):
        stp.InfluenceExplainer(pipe, solver="matrix_free").fit(X, y)


def test_blocks_of_right_hand_sides_give_the_same_scores(monkeypatch):
    # test rows solved one at a time (a tiny work budget) or together: same scores
    X, y = zipf_notes(40, 300, seed=5)
    pipe = tfidf_pipeline(LogisticRegression(C=5.0, **_TIGHT)).fit(X, y)
    X_test, _ = zipf_notes(7, 300, seed=6)
    together = _fit(pipe, X, y, "matrix_free").explain(X_test).scores
    monkeypatch.setattr(_matrix_free, "WORK_BYTES", 1)
    alone = _fit(pipe, X, y, "matrix_free").explain(X_test).scores
    assert_allclose(alone, together, rtol=0, atol=1e-9 * np.abs(together).max())
