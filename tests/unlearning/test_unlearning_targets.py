"""Unlearning models fitted on targets with several columns, against retrains."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge, RidgeClassifier
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    return stp.from_pandas(X, source_id=f"targets{seed}"), rng


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_targets=st.integers(1, 3),
    weighted=st.booleans(),
    penalised=st.booleans(),
    as_frame=st.booleans(),
    n_removed=st.integers(1, 8),
)
def test_several_regression_targets_unlearn_to_the_retrain(
    seed, n_targets, weighted, penalised, as_frame, n_removed
):
    # Ridge and LinearRegression fit every column of a 2-D y at once: the correction
    # must equal a retrain of the whole pipeline on the retained rows, for every output,
    # with the weights (which reach the scaler too) of the retained rows
    X, rng = _frame(40, seed)
    Y = X.to_numpy() @ rng.normal(size=(3, n_targets)) + rng.normal(size=(40, n_targets))
    if as_frame:
        Y = pd.DataFrame(Y, index=X.index, columns=[f"t{j}" for j in range(n_targets)])
    w = rng.uniform(0.2, 3.0, size=40) if weighted else None
    est = Ridge(alpha=2.0) if penalised else LinearRegression()
    pipe = stp.make_traced_pipeline(StandardScaler(), est)
    removed = rng.choice(40, size=n_removed, replace=False)
    unl = stp.GradientCorrectionUnlearner(pipe, forget=stp.row_ids(X)[removed])
    unl.fit(X, Y, sample_weight=w)
    keep = np.ones(40, dtype=bool)
    keep[removed] = False
    params = {}
    if weighted:
        name = pipe.steps[-1][0]
        params = {"standardscaler__sample_weight": w[keep], f"{name}__sample_weight": w[keep]}
    Yk = Y[keep] if not as_frame else Y.iloc[keep]
    retrain = clone(pipe).fit(X[keep], Yk, **params)
    np.testing.assert_allclose(unl.predict(X), retrain.predict(X), rtol=1e-8, atol=1e-8)
    assert unl.unlearning_log_[-1]["n_removed"] == n_removed


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_labels=st.integers(2, 4),
    alpha=st.floats(0.05, 10.0),
    weighted=st.booleans(),
    n_removed=st.integers(1, 8),
    wide=st.booleans(),
)
@example(seed=0, n_labels=2, alpha=0.05, weighted=False, n_removed=8, wide=True)
def test_a_multilabel_ridge_classifier_unlearns_to_the_retrain(
    seed, n_labels, alpha, weighted, n_removed, wide
):
    # ridge regression on the {-1, 1} codes of each label column (it raised
    # NotImplementedError before): the correction equals a retrain on the retained
    # rows, every label's decision value; wide sparse features take the matrix-free
    # Newton steps, few dense ones the dense route
    rng = np.random.default_rng(seed)
    n = 40
    if wide:
        X = sparse.random(n, 300, density=0.05, random_state=seed, format="csr")
    else:
        X = rng.normal(size=(n, 4))
    Y = (rng.random((n, n_labels)) < 0.5).astype(int)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else None
    removed = rng.choice(n, size=n_removed, replace=False)
    ids = stp.row_ids(stp.from_numpy(np.arange(n)[:, None], source_id=f"ml{seed}"))
    model = RidgeClassifier(alpha=alpha, solver="sparse_cg" if wide else "auto", tol=1e-14)
    unl = stp.GradientCorrectionUnlearner(model, forget=ids[removed], tol=1e-12)
    unl.fit(X, Y, sample_weight=w, sample_id=ids)
    keep = np.ones(n, dtype=bool)
    keep[removed] = False
    # the truth: an exact (Cholesky) retrain on the retained rows, made dense
    dense = X.toarray() if wide else X
    retrain = RidgeClassifier(alpha=alpha, solver="cholesky").fit(
        dense[keep], Y[keep], sample_weight=None if w is None else w[keep]
    )
    np.testing.assert_allclose(
        unl.decision_function(X), retrain.decision_function(dense), rtol=0, atol=1e-8
    )
    assert unl.certificate_ <= 1e-12
    assert unl.unlearning_log_[-1]["n_removed"] == n_removed


def test_a_multilabel_pipeline_forgets_in_turn():
    X, rng = _frame(40, 0)
    Y = (rng.normal(size=(40, 3)) > 0).astype(int)
    pipe = stp.make_traced_pipeline(StandardScaler(), RidgeClassifier(alpha=0.5))
    unl = stp.GradientCorrectionUnlearner(pipe).fit(X, Y)
    ids = stp.row_ids(X)
    unl.unlearn(sample_id=ids[:3])
    unl.unlearn(sample_id=ids[10:12])
    keep = np.ones(40, dtype=bool)
    keep[[0, 1, 2, 10, 11]] = False
    retrain = clone(pipe).fit(X[keep], Y[keep])
    np.testing.assert_allclose(
        unl.decision_function(X), retrain.decision_function(X), rtol=0, atol=1e-8
    )


@pytest.mark.parametrize(
    "model, match",
    [
        (RidgeClassifier(positive=True, solver="lbfgs"), "positive=True"),
        (RidgeClassifier(class_weight="balanced"), "class_weight on a multilabel target"),
    ],
)
def test_what_a_multilabel_ridge_classifier_cannot_unlearn_is_refused_by_name(model, match):
    X, rng = _frame(40, 0)
    Y = (rng.normal(size=(40, 3)) > 0).astype(int)
    pipe = stp.make_traced_pipeline(model)
    unl = stp.GradientCorrectionUnlearner(pipe, forget=stp.row_ids(X)[:3])
    with pytest.raises(NotImplementedError, match=f"RidgeClassifier.*{match}"):
        unl.fit(X, Y)
