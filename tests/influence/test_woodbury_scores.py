"""Scores on the Woodbury route taken through the training rows, never as ``p``-sized rows.

The truth is the dense route (``solver="dense"``: the ``p x p`` Hessian, inverted, times
the dense per-row gradients), on the same fitted model: scores and subset sums must be
equal to 1e-8 of the largest score, over shapes with more parameters than rows and
fewer, dense and sparse features, one to four classes, softmax, squared and SGD losses,
balanced class weights, sample weights, without an intercept, and test rows taken a
few at a time. The memory of ``explain`` is measured (tracemalloc) on a vocabulary
where the former ``block x p`` gradient blocks were the peak.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier, SGDClassifier

import sktraceprop as stp
from sktraceprop.influence import _woodbury_scores

_MODELS = {
    "logistic": lambda: LogisticRegression(C=2.0, tol=1e-12, max_iter=10_000),
    "logistic_balanced": lambda: LogisticRegression(
        C=0.5, class_weight="balanced", tol=1e-12, max_iter=10_000
    ),
    "sgd": lambda: SGDClassifier(loss="log_loss", alpha=0.01, random_state=0),
    "ridge": lambda: Ridge(alpha=0.3),
    "ridge_classifier_balanced": lambda: RidgeClassifier(alpha=0.7, class_weight="balanced"),
}


def _data(n, d, n_classes, is_sparse, seed):
    rng = np.random.RandomState(seed)
    if is_sparse:
        X = sparse.random(n + 6, d, density=0.15, random_state=rng, format="csr")
        X.data = rng.exponential(size=X.nnz)
    else:
        X = rng.randn(n + 6, d)
    y = np.arange(n) % n_classes  # every class present
    rng.shuffle(y)
    return X[:n], y, X[n:], rng


def _explainers(model, X, y, sw, block_size):
    out = {}
    for solver in ("dense", "woodbury"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence, stationarity, cost
            out[solver] = stp.InfluenceExplainer(model, solver=solver, block_size=block_size).fit(
                X, y, sample_weight=sw
            )
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(_MODELS)),
    shape=st.sampled_from([(12, 40), (30, 8), (16, 16), (9, 60), (25, 90)]),
    n_classes=st.sampled_from([2, 3, 4]),
    is_sparse=st.booleans(),
    fit_intercept=st.booleans(),
    weighted=st.booleans(),
    block_size=st.sampled_from([3, 7, 2048]),
    work_rows=st.sampled_from([1, 2, None]),
    seed=st.integers(0, 10_000),
)
def test_woodbury_scores_are_the_dense_routes(
    name, shape, n_classes, is_sparse, fit_intercept, weighted, block_size, work_rows, seed
):
    n, d = shape
    if name == "sgd" and n_classes > 2 and weighted:
        n_classes = 2  # keep SGD's one-vs-rest few outputs: its fit is the slow part
    X, y, X_test, rng = _data(n, d, n_classes, is_sparse, seed)
    if name == "ridge":
        y = y + rng.normal(size=n)  # one regression target
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    model = _MODELS[name]().set_params(fit_intercept=fit_intercept)
    exps = _explainers(model, X, y, sw, block_size)
    dense, wood = exps["dense"], exps["woodbury"]
    assert wood.hessian_route_["route"] == "woodbury" and wood.hessian_ is None
    saved = _woodbury_scores.WORK_BYTES
    try:
        if work_rows is not None:  # test rows a few at a time
            m = wood._inv_hessian.m
            _woodbury_scores.WORK_BYTES = 5 * 8 * m * work_rows
            assert wood._woodbury_scores().chunk_rows() == work_rows
        y_test = None if name == "ridge" else np.arange(X_test.shape[0]) % n_classes
        a = dense.explain(X_test, y_test, keep_scores=True).scores
        b = wood.explain(X_test, y_test, keep_scores=True).scores
        masks = rng.random((4, n)) < 0.5
        sums_a = dense.influence_sums(X_test, y_test, masks)
        sums_b = wood.influence_sums(X_test, y_test, masks)
    finally:
        _woodbury_scores.WORK_BYTES = saved
    assert wood.stationarity_ == pytest.approx(dense.stationarity_, rel=1e-6, abs=1e-9)
    scale = np.abs(a).max()
    assert scale > 0
    assert_allclose(b, a, rtol=0, atol=1e-8 * scale)
    assert_allclose(sums_b, sums_a, rtol=0, atol=1e-8 * scale * n)


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(C=2.0, tol=1e-8, max_iter=2000),
        SGDClassifier(loss="log_loss", alpha=1e-3, class_weight="balanced", random_state=0),
    ],
)
def test_a_large_vocabulary_is_explained_without_blocks_of_p_sized_rows(model):
    # found measuring explain at 5,000 rows x 50,000 terms: each block of 2,048 training
    # rows' gradients and of test rows times H^-1 was a dense block_size x p array
    # (800 MB), so its peak grew with the vocabulary; now the largest array is a few
    # rows x rows, and a handful of p-vectors
    n, d = 60, 100_000
    rng = np.random.RandomState(0)
    X = sparse.random(n + 40, d, density=2e-4, random_state=rng, format="csr")
    y = np.arange(n) % 2
    X_train = X[:n]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_train, y)
        tracemalloc.start()
        try:
            explainer = stp.InfluenceExplainer(model).fit(X_train, y)
            fit_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert explainer.hessian_route_["route"] == "woodbury"
    tracemalloc.start()
    try:
        explanation = explainer.explain(X[n:], keep_scores=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    p_vector = 8 * explainer.objective_.n_params
    # the former route held 40 test rows x p and 60 training rows x p at once (220
    # p-sized vectors measured), its fit's stationarity check 60 rows x p (300)
    assert peak < 12 * p_vector, f"explain peaked at {peak / p_vector:.1f} p-sized vectors"
    assert fit_peak < 40 * p_vector, f"fit peaked at {fit_peak / p_vector:.1f} p-sized vectors"
    assert np.isfinite(explanation.scores).all() and np.abs(explanation.scores).max() > 0
