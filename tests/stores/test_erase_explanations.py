"""Explanation events (``explain(..., log=True)``) are salted and erased like calls.

Before: an ``"explanation"`` event held the plain SHA-256 of the rows it explained under
the hash chain, so an erased person's explanation stayed findable from their row after
``erase_predictions`` had erased the calls that scored them. The truths: the raw bytes
of the store, the salts held, and ``verify()``.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.compliance import hash_rows
from sktraceprop.stores._prediction_salts import input_was
from tests.stores.test_erase_predictions import _held_bytes

_X = pd.DataFrame(
    {"age": [31.0, 47.0, 52.0, 29.0, 64.0, 38.0], "income": [2.5, 4.0, 1.2, 3.3, 5.1, 2.2]}
)
_Y = np.array([0, 1, 0, 1, 1, 0])


def _explained(store, X=_X):
    pipe = stp.TracedPipeline(
        [("lr", LogisticRegression())], store=store, log_predictions=True
    ).fit(X, _Y)
    explainer = stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(X, _Y)
    return pipe, explainer


def _event(store, kind, seq=None):
    events = [e for e in store.events(kind=kind) if seq is None or e["seq"] == seq]
    return events[-1]


def test_an_explanation_is_salted_and_erased_with_the_calls(backend):
    store = backend.make()
    pipe, explainer = _explained(store)
    pipe.predict(_X.iloc[[2]])
    explainer.explain(_X.iloc[[2]], top_k=2, log=True)
    explainer.explain(_X.iloc[[4]], top_k=2, log=True)  # another person: kept
    mine = _event(store, "explanation")["seq"] - 1
    other = mine + 1
    digest = hash_rows(_X.iloc[[2]])
    event = _event(store, "explanation", mine)
    assert "input_sha256" not in event["payload"] and input_was(store, event, digest)
    salts = store._raw_prediction_salts()
    assert set(salts) >= {mine, other}
    held = _held_bytes(backend, store)
    assert salts[mine].encode() in held and digest.encode() not in held
    store = backend.make()
    erased = store.erase_predictions(_X.iloc[[2]], reason="GDPR Art. 17 request 9")
    prediction = _event(store, "prediction")["seq"]
    assert erased["calls"] == [prediction, mine] and erased["wiped"]
    store = backend.make()
    assert not input_was(store, _event(store, "explanation", mine), digest)
    assert input_was(store, _event(store, "explanation", other), hash_rows(_X.iloc[[4]]))
    assert store.verify()
    held = _held_bytes(backend, backend.make())
    assert salts[mine].encode() not in held and salts[other].encode() in held
    assert digest.encode() not in held


def test_erase_rows_does_not_warn_of_salted_explanations(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    X = stp.from_pandas(_X, "people")
    _, explainer = _explained(store, X)
    explainer.explain(X.iloc[[1]], log=True)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        store.erase_rows(source_id="people", reason="r")
    assert not [w for w in said if "plain SHA-256" in str(w.message)], [
        str(w.message) for w in said
    ]
