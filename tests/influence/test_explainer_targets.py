"""Targets with several columns, and column vectors, given to the explainer."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeClassifier
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import InfluenceExplainer


def _frame(n=50, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    return stp.from_pandas(X, source_id="targets"), rng


@pytest.mark.parametrize("shape", ["array", "frame"])
def test_a_column_vector_target_is_explained_as_one_target(shape):
    # y of shape (n, 1) (a one-column DataFrame, y[:, None]) fits scikit-learn's
    # LogisticRegression as y itself; the explainer raised "all the input arrays must
    # have same number of dimensions" while checking stationarity
    X, rng = _frame()
    y = (X["a"] + rng.normal(size=len(X)) > 0).astype(int).to_numpy()
    column = y[:, None] if shape == "array" else pd.DataFrame({"label": y}, index=X.index)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(tol=1e-10))
    with pytest.warns(Warning, match="column-vector y"):
        pipe.fit(X, column)
    Xte = X.iloc[:6]
    scores = InfluenceExplainer(pipe).fit(X, column).explain(Xte, keep_scores=True).scores
    flat = clone(pipe).fit(X, y)
    expected = InfluenceExplainer(flat).fit(X, y).explain(Xte, keep_scores=True).scores
    np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-12)
    # the rows to explain take their classes in the same form (explain and score)
    yte = column[:6] if shape == "array" else column.iloc[:6]
    given = InfluenceExplainer(pipe).fit(X, column)
    np.testing.assert_allclose(
        given.explain(Xte, yte, keep_scores=True).scores,
        given.explain(Xte, y[:6], keep_scores=True).scores,
        rtol=1e-12,
    )
    # and they predict leave-one-out refits (the predicted class's margin)
    base = pipe.decision_function(Xte)
    sign = np.where(pipe.predict(Xte) == 1, 1.0, -1.0)
    keep = np.ones(len(X), dtype=bool)
    actual = np.empty_like(scores)
    for i in range(len(X)):
        keep[i] = False
        refit = clone(flat).fit(X[keep], y[keep])
        actual[:, i] = (refit.decision_function(Xte) - base) * sign
        keep[i] = True
    assert np.corrcoef(-scores.ravel(), actual.ravel())[0, 1] >= 0.95


def _several(kind, X, rng):
    n = len(X)
    if kind == "ridge":
        return Ridge(), rng.normal(size=(n, 2))
    if kind == "ols_frame":
        Y = pd.DataFrame(rng.normal(size=(n, 3)), index=X.index, columns=["u", "v", "w"])
        return LinearRegression(), Y
    return RidgeClassifier(), (rng.normal(size=(n, 3)) > 0).astype(int)  # multilabel


@pytest.mark.parametrize("kind", ["ridge", "ols_frame", "multilabel"])
@pytest.mark.parametrize("fitted", [True, False])
def test_a_target_with_several_columns_is_refused_naming_its_shape(kind, fitted):
    # Ridge and LinearRegression with a 2-D y were accepted at fit and failed only at
    # explain ("margins are defined for single-output regressors only"); RidgeClassifier
    # on a multilabel y failed with an IndexError (shape mismatch)
    X, rng = _frame()
    est, Y = _several(kind, X, rng)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), est, store=store)
    if fitted:
        pipe.fit(X, Y)
    with pytest.raises(ValueError, match=rf"y has shape \({len(X)}, {np.shape(Y)[1]}\)"):
        InfluenceExplainer(pipe).fit(X, Y)
    # refused before anything is fitted: no run of the explainer's clone is stored
    assert len(store.list_runs()) == (1 if fitted else 0)


def test_a_model_of_several_outputs_given_one_column_is_refused():
    X, rng = _frame()
    Y = rng.normal(size=(len(X), 2))
    pipe = stp.make_traced_pipeline(Ridge()).fit(X, Y)
    with pytest.raises(ValueError, match="predicts 2 outputs"):
        InfluenceExplainer(pipe).fit(X, Y[:, 0])


def test_a_multilabel_ridge_classifier_is_refused_by_name():
    X, rng = _frame()
    Y = (rng.normal(size=(len(X), 3)) > 0).astype(int)
    model = RidgeClassifier().fit(X.to_numpy(), Y)
    with pytest.raises(TypeError, match="RidgeClassifier.*multilabel target"):
        stp.gradients.linear_model_objective(model)
    # its first label column alone is not the target it was fitted on
    with pytest.raises(TypeError, match="multilabel target"):
        InfluenceExplainer(model).fit(X.to_numpy(), Y[:, 0])
