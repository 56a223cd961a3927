"""Unlearning models fitted on targets with several columns, against retrains."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


def test_a_multilabel_ridge_classifier_is_refused_by_name():
    # it failed with an IndexError (shape mismatch) in the targets' coding
    X, rng = _frame(40, 0)
    Y = (rng.normal(size=(40, 3)) > 0).astype(int)
    pipe = stp.make_traced_pipeline(RidgeClassifier())
    unl = stp.GradientCorrectionUnlearner(pipe, forget=stp.row_ids(X)[:3])
    with pytest.raises(NotImplementedError, match="RidgeClassifier.*multilabel target"):
        unl.fit(X, Y)
