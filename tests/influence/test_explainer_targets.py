"""Targets with several columns, and column vectors, given to the explainer."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
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
    Y = pd.DataFrame(rng.normal(size=(n, 3)), index=X.index, columns=["u", "v", "w"])
    return LinearRegression(), Y


# (a multilabel RidgeClassifier, refused here before, is explained label by label:
# test_a_multilabel_ridge_classifier_is_explained_label_by_label)
@pytest.mark.parametrize("kind", ["ridge", "ols_frame"])
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


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_labels=st.integers(2, 4),
    alpha=st.floats(0.05, 10.0),
    intercept=st.booleans(),
    weighted=st.booleans(),
    solver=st.sampled_from(["dense", "woodbury", "matrix_free"]),
)
@example(seed=0, n_labels=2, alpha=0.05, intercept=True, weighted=False, solver="dense")
def test_a_multilabel_ridge_classifier_is_explained_label_by_label(
    seed, n_labels, alpha, intercept, weighted, solver
):
    # ridge regression on the {-1, 1} codes of each label column: a refit without row i
    # moves label j's decision value by exactly its score over (1 - leverage)
    rng = np.random.default_rng(seed)
    n = 24
    X = rng.normal(size=(n, 4))
    Y = (X @ rng.normal(size=(4, n_labels)) + rng.normal(size=(n, n_labels)) > 0).astype(int)
    Y[:2] = np.arange(2)[:, None]  # both values in every column
    w = rng.uniform(0.3, 3.0, size=n) if weighted else None
    model = RidgeClassifier(alpha=alpha, fit_intercept=intercept).fit(X, Y, sample_weight=w)
    explainer = InfluenceExplainer(model, solver=solver).fit(X, Y, sample_weight=w)
    labels = np.arange(6) % n_labels
    scores = explainer.explain(X[:6], labels).scores
    truth = InfluenceExplainer(model, solver="dense").fit(X, Y, sample_weight=w)
    leverage = truth.leverage_
    base = model.decision_function(X[:6])[np.arange(6), labels]
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        keep[:] = True
        keep[i] = False
        refit = clone(model).fit(X[keep], Y[keep], sample_weight=None if w is None else w[keep])
        moved = refit.decision_function(X[:6])[np.arange(6), labels] - base
        np.testing.assert_allclose(
            scores[:, i], -moved * (1.0 - leverage[i]), rtol=1e-7, atol=1e-9
        )


def test_a_multilabel_explanation_names_its_labels():
    X, rng = _frame()
    Y = (rng.normal(size=(len(X), 3)) > 0).astype(int)
    pipe = stp.make_traced_pipeline(StandardScaler(), RidgeClassifier()).fit(X, Y)
    explainer = InfluenceExplainer(pipe).fit(X, Y)
    # a row's prediction is several labels: the label explained must be named
    with pytest.raises(ValueError, match=r"multilabel target.*Pass y, the label"):
        explainer.explain(X.iloc[:3])
    with pytest.raises(ValueError, match="classes the model does not have"):
        explainer.explain(X.iloc[:3], [0, 1, 5])
    explanation = explainer.explain(X.iloc[:3], [0, 2, 1])
    expected = pipe.decision_function(X.iloc[:3])[np.arange(3), [0, 2, 1]]
    np.testing.assert_allclose(explanation.margins, expected, rtol=1e-12)
    # its first label column alone is not the target it was fitted on
    Xn = rng.normal(size=Y.shape)
    model = RidgeClassifier().fit(Xn, Y)
    with pytest.raises(ValueError, match=r"multilabel target \(3 label columns"):
        InfluenceExplainer(model).fit(Xn, Y[:, 0])
    # class weights on a multilabel target are not the objective's one weight per row
    weighted = RidgeClassifier(class_weight="balanced").fit(Xn, Y)
    with pytest.raises(TypeError, match="class_weight on a multilabel target"):
        InfluenceExplainer(weighted).fit(Xn, Y)
