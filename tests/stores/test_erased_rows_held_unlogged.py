"""A traced model whose calls are not logged says, at its first call, that it holds rows
erased at request since it was fitted.

A TracedPipeline pickled before an erasure of some of its training rows, loaded after,
predicted with no word unless ``log_predictions`` was set: yet its steps still hold what
they learnt from the erased rows (an erasure changes no fitted object; only a removal
by an unlearner, or a refit on the rows kept, takes them out). Its first call now warns
(ErasedRowsHeldWarning, naming the erasure and what to do), once per object: later
calls read nothing. The truth: the store's erasure record, the loaded run's rows, and
the model refitted on the rows kept, which answers otherwise.
"""

import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import ErasedRowsHeldWarning, ErasuresUnknownWarning
from sktraceprop.stores import MemoryStore, SQLiteStore
from sktraceprop.unlearning import GradientCorrectionUnlearner

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

_CALLS = ("predict", "predict_proba", "predict_log_proba", "decision_function")


def _data(tmp_path, n=30):
    rng = np.random.default_rng(11)
    lines = ["a,b,label"] + [
        f"{a:.6f},{b:.6f},{int(a + b > 0)}" for a, b in rng.normal(size=(n, 2))
    ]
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n")
    return stp.read_csv(tmp_path / "rows.csv", source_id="scored_rows")


def _pipe(store):
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression(C=100.0), store=store)


def _caught(call, category=ErasedRowsHeldWarning):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if w.category is category]


def _erase(store, df, positions):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (it names the pipeline of this process)
        store.erase_rows(sample_id=stp.row_ids(df.iloc[positions]), reason="art. 17")
    (event,) = store.events(kind="store.erasure", include_store_events=True)
    return event


@pytest.mark.parametrize("erased", [[3], [0, 4, 9, 29]])
def test_a_pipeline_loaded_after_an_erasure_says_so_at_its_first_call(tmp_path, erased):
    store = SQLiteStore(tmp_path / "audit.db")
    df = _data(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    pipe = _pipe(store).fit(X, y)
    blob = pickle.dumps(pipe)
    event = _erase(store, df, erased)
    loaded = pickle.loads(blob)
    # the truth: the loaded run holds the rows the request named, and its steps answer
    # as the model fitted on them does, not as one fitted on the rows kept
    ids = stp.row_ids(df.iloc[erased])
    assert np.isin(loaded.lineage_.row_ids, ids).sum() == len(erased)
    kept = np.setdiff1d(np.arange(len(df)), erased)
    refit = _pipe(None).fit(X.iloc[kept], y.iloc[kept])
    proba, first = _caught(lambda: loaded.predict_proba(X))
    np.testing.assert_array_equal(proba, pipe.predict_proba(X))
    assert np.abs(proba - refit.predict_proba(X)).max() > 1e-6
    (message,) = first
    assert f"holds {len(erased)} training row(s)" in message
    assert f"source(s) 'scored_rows' ({len(erased)} row(s))" in message
    assert f"erasure event(s) seq {event['seq']}." in message
    assert f"that {store!r} records as erased" in message
    assert "Refit it on the rows kept" in message and ".unlearn)" in message
    # once per object: no later call says it again, nor reads the store
    for method in _CALLS:
        _, said = _caught(lambda method=method: getattr(loaded, method)(X))
        assert said == [], method
    # another load is another object: said again
    _, again = _caught(lambda: pickle.loads(blob).predict(X))
    assert again == first


def test_no_word_without_an_erasure_of_its_rows(tmp_path):
    store = SQLiteStore(tmp_path / "audit.db")
    df = _data(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    loaded = pickle.loads(pickle.dumps(_pipe(store).fit(X, y)))
    for method in _CALLS:
        _, said = _caught(lambda method=method: getattr(loaded, method)(X))
        assert said == [], method


def test_a_model_of_this_process_says_so_after_an_erasure_made_since_its_first_call(tmp_path):
    store = SQLiteStore(tmp_path / "audit.db")
    df = _data(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    pipe = _pipe(store).fit(X, y)
    _, said = _caught(lambda: pipe.predict(X))
    assert said == []
    event = _erase(store, df, [5, 6])
    _, said = _caught(lambda: pipe.predict(X))
    (message,) = said
    assert "holds 2 training row(s)" in message and f"seq {event['seq']}." in message
    _, said = _caught(lambda: pipe.predict(X))
    assert said == []


def test_a_model_without_a_store_names_the_request_made_in_this_process(tmp_path):
    store = SQLiteStore(tmp_path / "audit.db")  # (the model knows no store)
    df = _data(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    blob = pickle.dumps(_pipe(None).fit(X, y))
    _pipe(store).fit(X, y)  # (another model, whose run the store holds)
    event = _erase(store, df, [1, 2, 3])
    _, said = _caught(lambda: pickle.loads(blob).predict(X))
    (message,) = said
    assert "holds 3 training row(s) that an erasure request made in this process" in message
    assert "this model has no store" in message
    assert f"erasure event {event['seq']} in {store!r} at " in message


def test_a_removal_takes_the_rows_out_and_nothing_is_said(tmp_path):
    store = SQLiteStore(tmp_path / "audit.db")
    df = _data(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    unlearner = GradientCorrectionUnlearner(_pipe(store)).fit(X, y)
    ids = stp.row_ids(df.iloc[[2, 7]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unlearner.unlearn(sample_id=ids)
    blob = pickle.dumps(unlearner)
    _erase(store, df, [2, 7])
    loaded = pickle.loads(blob)
    # the truth: the corrected model's run no longer lists the rows
    assert not np.isin(loaded.estimator_.lineage_.row_ids, ids).any()
    _, said = _caught(lambda: loaded.predict(X))
    assert said == []


@pytest.mark.parametrize("how", ["moved", "replaced"])
def test_a_model_whose_store_cannot_be_read_says_erasures_are_not_known(tmp_path, how):
    store = SQLiteStore(tmp_path / "audit.db")
    df = _data(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    pipe = _pipe(store).fit(X, y)
    blob = pickle.dumps(pipe)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{tmp_path / 'audit.db'}{suffix}").exists():
            shutil.move(f"{tmp_path / 'audit.db'}{suffix}", f"{tmp_path / 'moved.db'}{suffix}")
    if how == "replaced":
        SQLiteStore(tmp_path / "audit.db")
    loaded = pickle.loads(blob)
    predicted, said = _caught(lambda: loaded.predict(X), ErasuresUnknownWarning)
    np.testing.assert_array_equal(predicted, pipe.predict(X))  # (answered all the same)
    (message,) = said
    assert f"SQLiteStore('{tmp_path / 'audit.db'}'), cannot be read" in message
    assert "is not known here" in message
    _, said = _caught(lambda: loaded.predict(X), ErasuresUnknownWarning)
    assert said == []


def test_a_model_pickled_with_a_memory_store_that_records_the_erasure_says_so(tmp_path):
    store = MemoryStore()
    df = _data(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    pipe = _pipe(store).fit(X, y)
    event = _erase(store, df, [8, 9])
    # pickled with its store after the erasure: the copy records it
    blob = pickle.dumps(pipe)
    _, said = _caught(lambda: pickle.loads(blob).predict(X))
    (message,) = [m for m in said if "records as erased" in m]
    assert "holds 2 training row(s)" in message and f"seq {event['seq']}." in message
    # what the copy cannot know is said by trace()'s column, not at each call
    _, unknown = _caught(lambda: pickle.loads(blob).predict(X), ErasuresUnknownWarning)
    assert unknown == []


@pytest.mark.parametrize("kind", ["pipeline", "wrapper"])
def test_score_says_so_too_and_once(tmp_path, kind):
    """score() is no logged call: it used the erased rows' model with no word."""
    store = SQLiteStore(tmp_path / "audit.db")
    df = _data(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    if kind == "pipeline":
        model = _pipe(store)
    else:
        model = stp.TracedEstimator(LogisticRegression(C=100.0), store=store)
    blob = pickle.dumps(model.fit(X, y))
    event = _erase(store, df, [10, 11, 12])
    loaded = pickle.loads(blob)
    score, said = _caught(lambda: loaded.score(X, y))
    assert score == model.score(X, y)
    (message,) = said
    assert "holds 3 training row(s)" in message and f"seq {event['seq']}." in message
    _, said = _caught(lambda: loaded.predict(X))
    assert said == []
