"""What a ``store.prediction_erasure`` event keeps of the calls it erased: no seqs.

Before: the event listed the erased calls' seqs beside the reason (an erasure request's
reference), under the chain for ever: whoever read the log could tie the request, and
so the person, to those calls' outputs (a score, a label, a time), the link the erasure
removes. Now it holds a commitment to every call erased so far under a key kept beside
the chain, deleted by the next erasure; ``verify()`` still tells a salt erased from one
deleted outside sktraceprop (checked by deleting and putting back salts with SQL, as
anyone who can write the database can), and an erasure refuses to commit over a salt
deleted outside sktraceprop (its commitment would hide the deletion).
"""

import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores._append import _Chain
from tests.stores._store_helpers import Backend
from tests.stores.test_erase_predictions import _found, _held_bytes, _model, _person

#: The wipe mark's id an erasure event names where the store keeps bytes to wipe
#: (a random id: it ties the event to nothing; stores/_wipe_marks.py).
_WIPE = {"memory": set(), "sqlite": {"wipe"}, "postgres": {"wipe"}}

_ERASURE = "store.prediction_erasure"


def _erasures(store):
    return store.events(kind=_ERASURE, include_store_events=True)


def _salts(backend, store):
    if backend.kind == "memory":
        return dict(store._salts)
    return dict(backend.sql("SELECT seq, salt FROM prediction_salts", fetch=True))


def _delete_salt(backend, store, seq):
    if backend.kind == "memory":
        del store._salts[seq]
    else:
        backend.sql("DELETE FROM prediction_salts WHERE seq = ?", (seq,))


def _put_salt(backend, store, seq, salt):
    if backend.kind == "memory":
        store._salts[seq] = salt
    else:
        backend.sql("INSERT INTO prediction_salts VALUES (?, ?)", (seq, salt))


def _problems(store):
    with pytest.raises(CorruptStoreError) as info:
        store.verify()
    return [p for p in info.value.problems if p["check"] == "prediction_salts"]


@pytest.fixture
def erased_twice(backend):
    """Person 0 scored twice and person 1 once, both erased (two requests); person 2
    scored once, not erased; then person 3 scored."""
    store = backend.make()
    model = _model(store)
    for i in (0, 2, 0, 1):
        model.predict(_person(i))
    calls = {i: _found(store, _person(i)) for i in range(3)}
    salts = _salts(backend, store)
    first = store.erase_predictions(_person(0), reason="GDPR Art. 17 request 118")
    first_key = _salts(backend, store)[first["event_seq"]]
    second = store.erase_predictions(_person(1), reason="GDPR Art. 17 request 131")
    model.predict(_person(3))
    return backend, backend.make(), calls, salts, first, first_key, second


def test_the_erasure_events_name_no_call(erased_twice):
    backend, store, calls, _, first, first_key, second = erased_twice
    assert first["calls"] == calls[0] and second["calls"] == calls[1]  # (told the caller)
    for event in _erasures(store):
        payload = event["payload"]
        assert set(payload) == {"reason", "erased_commitment", "key_sha256"} | _WIPE[backend.kind]
        assert not any(isinstance(v, (int, list)) for v in payload.values())
    # the last commitment is to every call erased so far, under the key held
    key = _salts(backend, store)[second["event_seq"]]
    erased = ",".join(map(str, sorted(calls[0] + calls[1])))
    text = f"sktraceprop-erased-1\n{key}\n{erased}".encode()
    assert _erasures(store)[-1]["payload"]["erased_commitment"] == hashlib.sha256(text).hexdigest()
    # the first request's key is gone (from the files too): its commitment, which
    # says which calls that request erased, can no longer be tested
    assert first["event_seq"] not in _salts(backend, store)
    assert first_key.encode() not in _held_bytes(backend, store)
    assert backend.make().verify()


def test_a_salt_deleted_outside_is_found_after_erasures(erased_twice):
    backend, store, calls, salts, *_ = erased_twice
    (kept,) = calls[2]  # logged before the last erasure, never erased
    _delete_salt(backend, store, kept)
    (problem,) = _problems(backend.make())
    assert problem["seq"] == _erasures(store)[-1]["seq"]
    assert "salt was deleted" in problem["message"] and str(kept) in problem["message"]
    _put_salt(backend, store, kept, salts[kept])
    assert backend.make().verify()
    # a call logged after the last erasure: named itself
    (later,) = _found(store, _person(3))
    later_salt = _salts(backend, store)[later]
    _delete_salt(backend, store, later)
    (problem,) = _problems(backend.make())
    assert problem["seq"] == later and "deleted outside sktraceprop" in problem["message"]
    _put_salt(backend, store, later, later_salt)
    assert backend.make().verify()


def test_an_erased_salt_put_back_is_found(erased_twice):
    backend, store, calls, salts, *_ = erased_twice
    seq = calls[0][0]
    _put_salt(backend, store, seq, salts[seq])  # from a backup: the call findable again
    assert _found(backend.make(), _person(0)) == [seq]
    (problem,) = _problems(backend.make())
    assert "put back" in problem["message"]


def test_the_keys_themselves_are_checked(erased_twice):
    backend, store, _, _, first, first_key, second = erased_twice
    key = _salts(backend, store)[second["event_seq"]]
    _delete_salt(backend, store, second["event_seq"])
    (problem,) = _problems(backend.make())
    assert problem["seq"] == second["event_seq"] and "its key is gone" in problem["message"]
    _put_salt(backend, store, second["event_seq"], "0" * 32)
    (problem,) = _problems(backend.make())
    assert "does not match its key_sha256" in problem["message"]
    _delete_salt(backend, store, second["event_seq"])
    _put_salt(backend, store, second["event_seq"], key)
    assert backend.make().verify()
    _put_salt(backend, store, first["event_seq"], first_key)  # put back: testable again
    (problem,) = _problems(backend.make())
    assert problem["seq"] == first["event_seq"] and "put back" in problem["message"]


def test_an_erasure_refuses_to_commit_over_a_salt_deleted_outside(erased_twice):
    backend, store, calls, *_ = erased_twice
    (kept,) = calls[2]
    _delete_salt(backend, store, kept)
    store = backend.make()
    before = store.events(include_store_events=True)
    salts = _salts(backend, store)
    with pytest.raises(CorruptStoreError, match="nothing was erased"):
        store.erase_predictions(_person(3), reason="r")
    assert store.events(include_store_events=True) == before
    assert _salts(backend, store) == salts


def test_an_event_of_the_first_salted_release_is_read_as_before(tmp_path, request):
    # its payload listed the calls; a later erasure commits to them too
    backend = Backend("sqlite", tmp_path, request)
    store = backend.make()
    model = _model(store)
    for i in range(3):
        model.predict(_person(i))
    (old,) = _found(store, _person(0))

    def write(writer):
        chain = _Chain(store, writer)
        chain.append(_ERASURE, {"calls": [old], "reason": "r"}, None)
        assert writer.delete_salts([old]) == 1
        chain.confirm()

    store._transact(write, lambda: None)
    assert store.verify() and _found(store, _person(0)) == []
    store.erase_predictions(_person(1), reason="r2")
    assert backend.make().verify()
    _put_salt(backend, store, old, "0" * 32)
    assert any("stored again" in p["message"] for p in _problems(backend.make()))


_STEP = st.tuples(st.sampled_from(["log", "erase", "delete"]), st.integers(0, 3))


@pytest.mark.parametrize(("kind", "examples"), [("memory", 30), ("sqlite", 8)])
def test_verify_fails_exactly_when_a_salt_was_deleted_outside(kind, examples, tmp_path, request):
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(steps=st.lists(_STEP, max_size=10))
    def check(steps):
        backend = Backend(kind, tmp_path, request)
        if kind == "sqlite" and backend.path.exists():
            backend.path.unlink()
        store = backend.make()
        model = _model(store)
        tampered = False
        for action, i in steps:
            if action == "log":
                try:
                    model.predict(_person(i))
                except CorruptStoreError:
                    assert tampered  # (a handle whose verify failed refuses writes)
            elif action == "erase":
                if tampered:  # refused, or nothing found to erase: nothing written
                    before = store.events(include_store_events=True)
                    try:
                        done = store.erase_predictions(_person(i), reason=f"request {i}")
                    except CorruptStoreError:
                        done = {"calls": []}
                    assert done["calls"] == []
                    assert store.events(include_store_events=True) == before
                else:
                    store.erase_predictions(_person(i), reason=f"request {i}")
            else:
                calls = _found(store, _person(i))
                if calls:
                    _delete_salt(backend, store, calls[0])
                    tampered = True
                    store = backend.make()
                    model.store = store
            for event in _erasures(store):
                assert "calls" not in json.dumps(event["payload"])
            if tampered:
                assert _problems(backend.make())
            else:
                assert backend.make().verify()

    check()


def test_memory_store_pickled_keeps_the_key(tmp_path):
    import pickle

    store = stp.stores.MemoryStore()
    model = _model(store)
    model.predict(_person(0))
    store.erase_predictions(_person(0), reason="r")
    assert pickle.loads(pickle.dumps(store)).verify()
