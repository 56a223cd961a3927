"""Odd text and numbers given to a store: each store keeps them, or all refuse them alike.

A NUL character or a lone surrogate (``os.fsdecode`` of a file name's undecodable
bytes) in an event's kind, a run id or a source id: a MemoryStore kept them, SQLite kept
the NUL and raised a bare UnicodeEncodeError for the surrogate, PostgreSQL raised a
plain StoreError for the NUL. Every store now refuses both with a ValueError naming
the value, before writing anything, so that what one store holds can be copied into
another. Payloads are JSON and keep any text; what they keep is checked against a fresh
handle's ``verify()``.
"""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import UnknownRunError
from tests.stores._store_helpers import fit_run

ODD = [("a\x00b", "NUL character"), ("caf\udce9", "lone surrogate")]


@pytest.mark.parametrize(("text", "problem"), ODD)
def test_text_no_store_can_hold_is_refused_alike_before_writing(backend, store, text, problem):
    run = fit_run(store)
    with pytest.raises(ValueError, match=f"kind .* holds a {problem}.*nothing was written"):
        store.append_event(text, {})
    with pytest.raises(ValueError, match=f"run_id .* holds a {problem}"):
        store.append_event("review", {}, run_id=text)
    # a source id no store can keep is refused when the data is loaded, before any fit
    with pytest.raises(ValueError, match=f"source_id .* holds a {problem}"):
        stp.from_numpy(np.random.default_rng(0).normal(size=(30, 2)), text)
    with pytest.raises(UnknownRunError, match="no run"):
        store.load_run(text)
    assert store.events(run_id=text) == []
    store = backend.reopen(store)
    assert store.list_runs()["run_id"].tolist() == [run.run_id]
    assert store.events(include_store_events=True)[-1]["kind"] == "store.run"
    assert store.verify()


def test_unicode_source_ids_kinds_and_payloads_round_trip(backend, store):
    name = "données/é€😀 ünïcødé"
    X = stp.from_numpy(np.random.default_rng(1).normal(size=(30, 2)), name)
    model = stp.make_traced_pipeline(LogisticRegression(), store=store)
    model.fit(X, (X["x0"] > 0).astype(int))
    event = store.append_event(
        "revue ✓", {"qui": "Zoë 😀", "nul": "a\x00b"}, model.lineage_.run_id
    )
    store = backend.reopen(store)
    assert store.list_runs()["sources"].tolist() == [[name]]
    assert [s.source_id for s in store.load_run(model.lineage_.run_id).sources.values()] == [name]
    assert store.events() == [event]
    assert store.check()["events"] == 3


def test_a_payload_nested_too_deeply_is_refused_before_writing(backend, store):
    deep = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(TypeError, match="nested too deeply"):
        store.append_event("review", {"deep": deep})
    assert backend.reopen(store).events() == []


_KEYS = st.one_of(
    st.text(max_size=4), st.integers(-(10**20), 10**20), st.floats(allow_nan=False), st.none()
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),  # any code point: NUL and lone surrogates included
)
_PAYLOADS = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(payload=_PAYLOADS)
def test_any_payload_is_stored_as_json_reads_it_or_refused(backend, store, payload):
    # (hypothesis reuses the store: each example appends after the ones before)
    before = backend.reopen(store).events()
    try:
        event = store.append_event("review", payload)
    except TypeError as exc:
        # what JSON cannot hold: NaN/inf, keys of several kinds in one dict
        assert "audit event payload must be JSON-serialisable" in str(exc)
        assert backend.reopen(store).events() == before
        return
    expected = json.loads(json.dumps(payload, allow_nan=False))
    assert event["payload"] == expected
    fresh = backend.reopen(store)
    assert fresh.events() == [*before, event]
    assert fresh.verify()


def test_keys_of_several_types_in_one_dict_are_named(store):
    # the error said only "'<' not supported between instances of 'str' and 'int'"
    payload = {"counts": [{0: 10, "total": 10}]}
    with pytest.raises(TypeError, match=r"payload\['counts'\]\[0\] has keys of several types"):
        store.append_event("review", payload)
    event = store.append_event("review", {"counts": [{0: 10, 1: 5}]})
    assert event["payload"] == {"counts": [{"0": 10, "1": 5}]}
    assert [e["seq"] for e in store.events()] == [event["seq"]]
