"""A traced pipeline pickled before an erasure of some of its training rows keeps them
in its ``lineage_`` (row ids, so files and lines, and source statistics) and its steps;
loaded and used with the store that records the erasure (logged calls, a compliance
report), it now says so (``ErasedRowsHeldWarning``, naming the source, the rows and the
erasure event). Before, it was used with no word."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import ErasedRowsHeldWarning
from sktraceprop.stores import SQLiteStore
from tests.compliance.conftest import DEPLOYER


def _fitted(tmp_path, n=24):
    rng = np.random.default_rng(3)
    lines = ["a,b,label"] + [
        f"{a:.6f},{b:.6f},{i % 2}" for i, (a, b) in enumerate(rng.normal(size=(n, 2)))
    ]
    (tmp_path / "held.csv").write_text("\n".join(lines) + "\n")
    df = stp.read_csv(tmp_path / "held.csv", source_id="held_rows")
    store = SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    )
    pipe.fit(df[["a", "b"]], df["label"])
    return pipe, store, df


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if w.category is ErasedRowsHeldWarning]


@pytest.mark.parametrize("erased", [[1, 2], [0, 5, 7, 23]])
def test_a_pipeline_pickled_before_an_erasure_says_it_holds_the_rows(tmp_path, erased):
    pipe, store, df = _fitted(tmp_path)
    data = pickle.dumps(pipe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (it names the pipeline of this process)
        store.erase_rows(sample_id=stp.row_ids(df.iloc[erased]), reason="art. 17 request")
    (event,) = store.events(kind="store.erasure", include_store_events=True)
    loaded = pickle.loads(data)
    # the truth: the loaded run holds the rows the request named, by file line
    held = np.isin(loaded.lineage_.row_ids, stp.row_ids(df.iloc[erased])).sum()
    assert held == len(erased)
    X = df[["a", "b"]]
    _, first = _caught(lambda: loaded.predict(X))
    _, second = _caught(lambda: loaded.predict(X))
    assert len(first) == 1 and second == []  # (once per model and store)
    _, said = _caught(lambda: compliance_report(loaded, store=store, **DEPLOYER))
    assert said == first
    (message,) = said
    assert f"holds {len(erased)} training row(s)" in message
    assert f"source(s) 'held_rows' ({len(erased)} row(s))" in message
    assert f"erasure event(s) seq {event['seq']}." in message
    assert f"that {store!r} records as erased" in message  # (which store, not its class)


def test_no_word_without_an_erasure_of_its_rows(tmp_path):
    pipe, store, df = _fitted(tmp_path)
    loaded = pickle.loads(pickle.dumps(pipe))
    _, said = _caught(lambda: loaded.predict(df[["a", "b"]]))
    assert said == []
    _, said = _caught(lambda: compliance_report(loaded, store=store, **DEPLOYER))
    assert said == []


@pytest.mark.parametrize("erased", [[1, 2], [0, 5, 7, 23]])
def test_trace_of_a_pipeline_pickled_before_an_erasure_warns(tmp_path, erased):
    """trace() named the erased rows' files and lines with no word."""
    pipe, store, df = _fitted(tmp_path)
    pipe.predict(df[["a", "b"]])  # (a use logged, for the report)
    data = pickle.dumps(pipe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(df.iloc[erased]), reason="art. 17 request")
    (event,) = store.events(kind="store.erasure", include_store_events=True)
    loaded = pickle.loads(data)
    traced, said = _caught(lambda: loaded.trace(erased))
    # the truth: the file's lines of the erased rows (header on line 1)
    assert traced["line"].tolist() == [i + 2 for i in erased]
    (message,) = said
    assert f"holds {len(erased)} training row(s)" in message
    assert f"erasure event(s) seq {event['seq']}." in message
    # the store given only to the report: said there too
    loaded.set_params(store=None)
    _, said = _caught(lambda: compliance_report(loaded, store=store, **DEPLOYER))
    assert said == [message]


def test_no_word_from_trace_without_an_erasure_of_its_rows(tmp_path):
    pipe, _, _ = _fitted(tmp_path)
    loaded = pickle.loads(pickle.dumps(pipe))
    _, said = _caught(lambda: loaded.trace([0, 1]))
    assert said == []


def test_an_explanation_pickled_before_an_erasure_withholds_the_rows_values(tmp_path):
    """Explanation.trace() handed out the raw values of a row erased since at request."""
    pipe, store, df = _fitted(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    explanation = stp.InfluenceExplainer(pipe).fit(X, y).explain(X.iloc[:2])
    first = explanation.trace(0, 0)
    train_index = first["train_index"]
    # the truth: the values of that line of the file
    assert first["values"] == X.iloc[train_index].to_dict()
    data = pickle.dumps(explanation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(df.iloc[[train_index]]), reason="art. 17")
    events = store.events(kind="store.erasure", include_store_events=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErasedRowsHeldWarning)
        loaded = pickle.loads(data)
        traced = loaded.trace(0, 0)
    assert traced["line"] == train_index + 2 and traced["values"] is None
    assert traced["removed"].startswith(
        f"erased at request by the store's erasure event {events[0]['seq']}"
    )
    other = loaded.trace(0, 1)  # a row not erased: its values, as before
    assert other["values"] == X.iloc[other["train_index"]].to_dict()


@pytest.mark.parametrize("frozen", [False, True])
def test_an_explanation_of_an_unlearner_pickled_before_an_erasure_withholds_values(
    tmp_path, frozen
):
    """An unlearner has no ``lineage_`` nor (by default) ``store`` of its own: the
    explanation read neither, handed out an erased row's values and said ``removed``
    None, and ``top()`` marked every row ``<NA>`` ("the explained model has no store")."""
    _, store, df = _fitted(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    ).fit(X, y)
    explained = FrozenEstimator(unl) if frozen else unl
    explanation = stp.InfluenceExplainer(explained).fit(X, y).explain(X.iloc[:2], top_k=4)
    first = explanation.trace(0, 0)
    train_index = first["train_index"]
    # the truth: the file's line of that row (header on line 1), as fitted
    line = (tmp_path / "held.csv").read_text().splitlines()[train_index + 1]
    assert [f"{v:.6f}" for v in first["values"].values()] == line.split(",")[:2]
    data = pickle.dumps(explanation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(df.iloc[[train_index]]), reason="art. 17")
    (event,) = store.events(kind="store.erasure", include_store_events=True)
    loaded = pickle.loads(data)
    traced, said = _caught(lambda: loaded.trace(0, 0))
    assert traced["line"] == train_index + 2 and traced["values"] is None
    assert traced["removed"].startswith(
        f"erased at request by the store's erasure event {event['seq']}"
    )
    top, said = _caught(lambda: loaded.top(4))
    assert top.loc[top["train_index"] == train_index, "erased"].tolist() == [True] * 2
    assert top.loc[top["train_index"] != train_index, "erased"].eq(False).all()
    assert len(said) == 1 and f"seq {event['seq']}" in said[0]
    other = loaded.trace(0, 1)  # a row not erased: its values, as before
    assert other["values"] == X.iloc[other["train_index"]].to_dict()


@pytest.mark.parametrize("inner", [False, True])
def test_an_explanation_pickled_before_a_removal_withholds_the_removed_rows_values(
    tmp_path, inner
):
    """A copy of an unlearner (or of its model) unpickled after its removal keeps the
    log it had then: Explanation.trace() handed out the removed row's raw values with
    ``removed`` None, though the store records the removal of that row from that run."""
    pipe, store, df = _fitted(tmp_path)  # another model: a removal from unl is not its
    X, y = df[["a", "b"]], df["label"]
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    ).fit(X, y)
    explanations = [
        stp.InfluenceExplainer(m).fit(X, y).explain(X.iloc[:2], top_k=len(X))
        for m in (unl.estimator_ if inner else unl, FrozenEstimator(pipe))
    ]
    first = explanations[0].trace(0, 0)
    train_index = first["train_index"]
    # the truth: the file's line of that row (header on line 1), as fitted
    line = (tmp_path / "held.csv").read_text().splitlines()[train_index + 1]
    assert [f"{v:.6f}" for v in first["values"].values()] == line.split(",")[:2]
    data = pickle.dumps(explanations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (it names the explainers of this process)
        unl.unlearn(sample_id=stp.row_ids(df.iloc[[train_index]]))
    (event,) = store.events(kind="unlearning")
    mine, others = pickle.loads(data)
    traced = mine.trace(0, 0)
    assert traced["line"] == train_index + 2 and traced["values"] is None
    assert traced["removed"].startswith(
        f"removed from the model by unlearning event {event['seq']} of run "
        f"{unl.estimator_.lineage_.run_id}"
    )
    kept = mine.trace(0, 1)  # a row not removed: its values, as before
    assert kept["values"] == X.iloc[kept["train_index"]].to_dict()
    assert kept["removed"] is None
    # the row is still in the other model, which no removal reached: its values stay
    (rank,) = np.flatnonzero(others.top_indices[0] == train_index)
    theirs = others.trace(0, int(rank))
    assert theirs["line"] == train_index + 2 and theirs["removed"] is None
    assert theirs["values"] == first["values"]


@pytest.mark.parametrize("second", ["erase", "unlearn"])
def test_an_explanation_pickled_after_a_first_removal_withholds_later_removed_values(
    tmp_path, second
):
    """Pickled after the unlearner's first removal (its ``lineage_`` already rewritten
    without that row, same run id), loaded after a second removal or erasure: the row
    removed second is withheld too, and the rows kept are not. A pin (found checked
    already, session 67): the store's events of the run are read, not the pickle's."""
    _, store, df = _fitted(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.unlearn(sample_id=stp.row_ids(df.iloc[[3]]))
    kept = np.flatnonzero(unl.retained_mask_)
    assert 3 not in kept and len(unl.estimator_.lineage_.row_ids) == len(df) - 1
    explanation = stp.InfluenceExplainer(unl).fit(X.iloc[kept], y.iloc[kept])
    explanation = explanation.explain(X.iloc[:2], top_k=4)
    first = explanation.trace(0, 0)
    position = int(kept[first["train_index"]])  # (its row in the file: header on line 1)
    line = (tmp_path / "held.csv").read_text().splitlines()[position + 1]
    assert [f"{v:.6f}" for v in first["values"].values()] == line.split(",")[:2]
    data = pickle.dumps(explanation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if second == "erase":
            store.erase_rows(sample_id=np.array([first["row_id"]]), reason="art. 17")
        else:
            unl.unlearn(sample_id=np.array([first["row_id"]]))
    kind = "store.erasure" if second == "erase" else "unlearning"
    (event,) = store.events(kind=kind, include_store_events=True)[-1:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErasedRowsHeldWarning)
        loaded = pickle.loads(data)
        traced = loaded.trace(0, 0)
    assert traced["line"] == position + 2 and traced["values"] is None
    words = (
        "erased at request by the store's erasure event"
        if second == "erase"
        else ("removed from the model by unlearning event")
    )
    assert traced["removed"].startswith(f"{words} {event['seq']}"), traced["removed"]
    other = loaded.trace(0, 1)  # a row neither removal named: its values, as before
    assert other["row_id"] != first["row_id"] and other["removed"] is None
    assert other["values"] == X.iloc[int(kept[other["train_index"]])].to_dict()


def test_an_erasure_of_a_model_never_pickled_is_not_said_to_follow_a_pickle(tmp_path):
    """Erased in this process after the fit, explained after the erasure, never pickled:
    trace() said the row was erased "after this object was pickled" (and the warning
    "pickled before it, or loaded in another process"), neither of which happened."""
    pipe, store, df = _fitted(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(df.iloc[[12]]), reason="art. 17")
    (event,) = store.events(kind="store.erasure", include_store_events=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (its refit warning: the model holds the row)
        explanation = stp.InfluenceExplainer(pipe).fit(X, y).explain(X.iloc[:2], top_k=len(X))
        (rank,) = np.flatnonzero(explanation.top_indices[0] == 12)
        traced = explanation.trace(0, int(rank))
    assert traced["line"] == 14 and traced["values"] is None  # (header on line 1)
    assert traced["removed"] == (
        f"erased at request by the store's erasure event {event['seq']} "
        f"({event['created_at']}), which redacted the store's copy of this model's run but "
        "could not reach this object (fitted, or pickled, before it): it still holds the "
        "row until refitted or discarded"
    )
    _, held = _caught(lambda: pipe.trace([12]))  # (the model's own trace warns)
    assert held and not [m for m in held if "pickled before it, or loaded" in m]
    assert all("this one was fitted, or pickled, before it" in m for m in held)
