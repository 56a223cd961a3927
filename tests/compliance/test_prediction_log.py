"""The prediction log: one hash-chained event per call, matching what was returned."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV

import sktraceprop as stp
from sktraceprop._prediction_outputs import decode_array
from sktraceprop.compliance import hash_rows
from sktraceprop.stores._prediction_salts import input_was

from .conftest import logged_pipeline, traced_frames


def _predictions(store):
    return [e for e in store.events() if e["kind"] == "prediction"]


def test_every_call_is_one_event_with_what_was_returned(fitted):
    pipe, store, X, _ = fitted
    events = _predictions(store)
    assert [e["payload"]["method"] for e in events] == [
        "predict",
        "predict_proba",
        "decision_function",
    ]
    assert all(e["run_id"] == pipe.lineage_.run_id for e in events)
    assert store.verify()
    predict, proba, decision = (e["payload"] for e in events)
    assert predict["n_rows"] == 7 and proba["n_rows"] == 4 and decision["n_rows"] == 3
    assert input_was(store, events[0], hash_rows(X.iloc[:7]))
    assert input_was(store, events[1], hash_rows(X.iloc[5:9]))
    assert not input_was(store, events[1], hash_rows(X.iloc[:7]))
    assert "input_sha256" not in predict  # salted: see stores/_prediction_salts.py
    assert predict["model_fingerprint"] == pipe.lineage_.model_fingerprint
    labels = predict["outputs"]
    index = decode_array(labels["labels"])
    classes = np.array([int(c) for c in labels["classes"]])
    np.testing.assert_array_equal(classes[index], pipe.predict(X.iloc[:7]))
    assert labels["counts"] == np.bincount(index, minlength=classes.size).tolist()
    np.testing.assert_array_equal(
        decode_array(proba["outputs"]["values"]), pipe.predict_proba(X.iloc[5:9])
    )
    np.testing.assert_array_equal(
        decode_array(decision["outputs"]["values"]), pipe.decision_function(X.iloc[:3])
    )
    assert decision["outputs"]["summary"]["max"] == [pipe.decision_function(X.iloc[:3]).max()]
    assert "replaced_since_fit" not in predict
    # the checks above called the pipeline again: each call logged, nothing else
    assert len(_predictions(store)) == 7


def test_no_log_without_the_option_and_score_is_not_logged(hospitals, tmp_path):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    pipe = logged_pipeline(store, X, y, log=False)
    pipe.predict(X)
    pipe.score(X, y)
    assert store.events() == []
    pipe.set_params(log_predictions=True).predict(X)
    assert len(store.events()) == 1


def test_refused_before_fit_without_store_or_with_a_bad_value(hospitals):
    _, _, X, y = traced_frames(hospitals)
    pipe = stp.make_traced_pipeline(LogisticRegression(), log_predictions=True)
    with pytest.raises(ValueError, match="log_predictions=True but no store"):
        pipe.fit(X[["age"]], y)
    assert not hasattr(pipe, "lineage_")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=stp.stores.MemoryStore())
    with pytest.raises(ValueError, match="must be True or False"):
        pipe.set_params(log_predictions="yes").fit(X[["age"]], y)
    assert pipe.store.list_runs().empty


def test_clone_pickle_and_grid_search_keep_the_option(fitted, tmp_path):
    pipe, store, X, y = fitted
    assert clone(pipe).get_params()["log_predictions"] is True
    again = pickle.loads(pickle.dumps(pipe))
    before = len(store.events())
    again.predict(X.iloc[:2])
    events = store.events()
    assert len(events) == before + 1 and "replaced_since_fit" not in events[-1]["payload"]
    search = GridSearchCV(clone(pipe), {"logisticregression__C": [0.1, 1.0]}, cv=2)
    search.fit(X, y)
    search.predict(X.iloc[:3])
    last = store.events()[-1]
    assert last["run_id"] == search.best_estimator_.lineage_.run_id
    assert last["payload"]["n_rows"] == 3


def test_traced_estimator_and_nested_calls_log_once(hospitals):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.MemoryStore()
    inner = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    outer = stp.TracedEstimator(inner, store=store, log_predictions=True)
    outer.fit(X[["age"]], y)
    outer.predict(X[["age"]].iloc[:4])
    (event,) = store.events()
    assert event["run_id"] == outer.lineage_.run_id
    assert event["payload"]["estimator"] == "sktraceprop.wrappers.TracedEstimator"
    reg = stp.TracedEstimator(LinearRegression(), store=store, log_predictions=True)
    reg.fit(X[["age"]], y.astype(float))
    out = reg.predict(X[["age"]].iloc[:5])
    values = store.events()[-1]["payload"]["outputs"]
    np.testing.assert_array_equal(decode_array(values["values"]), out)
    assert values["summary"]["mean"] == [pytest.approx(out.mean())]


def test_a_model_changed_after_fit_is_said_in_each_event(fitted):
    pipe, store, X, y = fitted
    unlearner = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    logged = unlearner.estimator_
    logged.predict(X.iloc[:2])
    assert "replaced_since_fit" not in store.events()[-1]["payload"]
    unlearner.unlearn(source_id="hospital_b")
    unlearner.predict(X.iloc[:2])
    event = store.events()[-1]
    assert event["kind"] == "prediction" and event["run_id"] == logged.lineage_.run_id
    assert event["payload"]["replaced_since_fit"]  # the run no longer describes the model


def test_explanations_are_logged_with_their_rows(fitted):
    pipe, store, X, y = fitted
    explainer = stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(X, y)
    n = len(store.events())
    explanation = explainer.explain(X.iloc[:3], top_k=4)
    assert len(store.events()) == n  # log=False: nothing appended
    explanation = explainer.explain(X.iloc[:3], top_k=4, log=True)
    event = store.events()[-1]
    assert event["kind"] == "explanation" and event["run_id"] == pipe.lineage_.run_id
    p = event["payload"]
    assert p["n_rows"] == 3 and p["top_k"] == 4 and "input_sha256" not in p  # salted
    assert input_was(store, event, hash_rows(X.iloc[:3]))
    ids = explainer.train_row_ids_
    np.testing.assert_array_equal(decode_array(p["top_row_ids"]), ids[explanation.top_indices])
    np.testing.assert_array_equal(decode_array(p["top_scores"]), explanation.top_scores)
    explained = p["explained"]
    classes = np.array([int(c) for c in explained["classes"]])
    np.testing.assert_array_equal(classes[decode_array(explained["labels"])], explanation.y)
    np.testing.assert_array_equal(
        decode_array(p["source_scores"]["sums"]), explanation.source_scores.to_numpy()
    )
    assert store.verify()


def test_logged_inputs_are_the_rows_as_given_when_a_step_writes_into_them():
    # SimpleImputer(copy=False) fills the NaNs of the rows it transforms, in place: the
    # logged SHA-256 must be of the rows the caller gave, so the call can be found again
    import pandas as pd
    from sklearn.impute import SimpleImputer

    rng = np.random.default_rng(0)
    values = rng.normal(size=(50, 3))
    values[::6, 1] = np.nan
    y = np.arange(50) % 2
    store = stp.stores.MemoryStore()
    train = stp.from_numpy(values[:35], "copy_false_train")
    pipe = stp.make_traced_pipeline(
        SimpleImputer(copy=False), LogisticRegression(), store=store, log_predictions=True
    ).fit(train, y[:35])
    explainer = stp.InfluenceExplainer(pipe).fit(train, y[:35])
    for call in ("explain", "predict"):
        rows = pd.DataFrame(values[35:].copy(), columns=["x0", "x1", "x2"])
        given = hash_rows(rows.copy())
        if call == "explain":
            explainer.explain(rows, log=True)
        else:
            pipe.predict(rows)
        assert rows.notna().all().all()  # the step did write into them
        assert input_was(store, store.events()[-1], given), call


def test_explain_log_without_store_is_refused_before_any_work(hospitals):
    _, _, X, y = traced_frames(hospitals)
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X[["age"]], y)
    explainer = stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(X[["age"]], y)
    with pytest.raises(ValueError, match="needs a store"):
        explainer.explain(X[["age"]].iloc[:2], log=True)
