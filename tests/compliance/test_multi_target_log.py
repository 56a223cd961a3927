"""The prediction log of models fitted on targets with several columns."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.neural_network import MLPClassifier

import sktraceprop as stp
from sktraceprop.compliance import find_predictions
from sktraceprop.compliance._find import logged_outputs


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    return stp.from_pandas(X, source_id=f"multi{seed}"), rng


def _last(store):
    return list(store.events(kind="prediction"))[-1]["payload"]


@pytest.mark.parametrize("same_classes", [True, False])
def test_one_array_per_target_is_logged_rows_first(same_classes):
    # predict_proba of a multi-output classifier is a list, one array per target. Logged
    # as np.asarray(list): (targets, rows, classes), so find_predictions(row=1) gave
    # target 1's probabilities of every row; with targets of 2 and 3 classes the logged
    # call raised "inhomogeneous shape" after the model had answered
    X, rng = _data()
    Y = np.c_[rng.integers(0, 2, 40), rng.integers(0, 2 if same_classes else 3, 40) * 10]
    store = stp.stores.MemoryStore()
    model = MultiOutputClassifier(LogisticRegression())
    pipe = stp.make_traced_pipeline(model, store=store, log_predictions=True).fit(X, Y)
    proba = pipe.predict_proba(X.iloc[:5])
    expected = np.concatenate(proba, axis=1)
    payload = _last(store)
    outputs = payload["outputs"]
    assert outputs["shape"] == [5, expected.shape[1]]
    assert outputs["per_target_columns"] == [p.shape[1] for p in proba]
    second = ["0", "10"] if same_classes else ["0", "10", "20"]
    assert outputs["per_target_classes"] == [["0", "1"], second]
    assert "classes" not in outputs
    np.testing.assert_array_equal(logged_outputs(payload), expected)
    found = find_predictions(store, X.iloc[:5], row=1)
    np.testing.assert_array_equal(found["output"].iloc[0], expected[1])


@pytest.mark.parametrize(
    "model,method",
    [
        (RidgeClassifier(), "decision_function"),
        (MLPClassifier((4,), max_iter=30, random_state=0), "predict_proba"),
        (ClassifierChain(LogisticRegression(), random_state=0), "predict_proba"),
    ],
    ids=["ridge", "mlp", "chain"],
)
def test_multilabel_scores_are_not_called_classes(model, method):
    # RidgeClassifier and MLPClassifier on a 0/1 target of k columns have classes_
    # 0..k-1 (the label columns); their k score columns were logged as the scores of
    # "classes" ["0", "1", ...]: for two labels, read as a binary model's P(0), P(1)
    X, rng = _data()
    Y = (rng.normal(size=(40, 2)) > 0).astype(int)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(model, store=store, log_predictions=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # (the MLP's 30 iterations)
        pipe.fit(X, Y)
    scores = getattr(pipe, method)(X.iloc[:4])
    outputs = _last(store)["outputs"]
    assert "classes" not in outputs
    assert outputs["n_targets"] == 2
    np.testing.assert_array_equal(logged_outputs(_last(store)), scores)


def test_a_single_target_keeps_its_classes():
    X, rng = _data()
    y = rng.integers(0, 2, 40)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(X, y)
    pipe.predict_proba(X.iloc[:3])
    outputs = _last(store)["outputs"]
    assert outputs["classes"] == ["0", "1"] and "n_targets" not in outputs


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_classes=st.lists(st.integers(2, 4), min_size=1, max_size=3),
    n_rows=st.integers(1, 6),
)
def test_per_target_outputs_read_back_row_by_row(seed, n_classes, n_rows):
    X, rng = _data(60, seed)
    Y = np.column_stack([np.arange(60) % k for k in n_classes])
    rng.shuffle(Y)
    Y = Y if Y.shape[1] > 1 else Y[:, 0]
    store = stp.stores.MemoryStore()
    forest = RandomForestClassifier(3, random_state=0)
    pipe = stp.make_traced_pipeline(forest, store=store, log_predictions=True).fit(X, Y)
    proba = pipe.predict_proba(X.iloc[:n_rows])
    proba = proba if isinstance(proba, list) else [proba]
    logged = logged_outputs(_last(store))
    assert logged.shape == (n_rows, sum(n_classes))
    starts = np.cumsum([0, *n_classes])
    for j, p in enumerate(proba):
        np.testing.assert_array_equal(logged[:, starts[j] : starts[j + 1]], p)
