"""A copy of a store file keeps its store_id: two copies written apart (a fork) each
check out alone, and every check says that it cannot show a fork; a checkpoint kept
outside the store, signed on one copy after they diverged, shows the other's events.

The truth is the files themselves: the copy is made with ``shutil.copy`` of the closed
store, and each copy's events are read back by a fresh handle.
"""

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores._audit import FORK


def _fork(tmp_path, shared, own_a, own_b):
    a_path, b_path = tmp_path / "a.db", tmp_path / "b.db"
    store = stp.stores.SQLiteStore(a_path)
    for i in range(shared):
        store.append_event("review", {"shared": i})
    store.close()
    shutil.copy(a_path, b_path)
    a, b = stp.stores.SQLiteStore(a_path), stp.stores.SQLiteStore(b_path)
    for i in range(own_a):
        a.append_event("review", {"a": i})
    for i in range(own_b):
        b.append_event("review", {"b": i})
    return a, b


@settings(deadline=None, max_examples=6)
@given(shared=st.integers(0, 3), own_a=st.integers(1, 3), own_b=st.integers(1, 3))
def test_a_fork_checks_out_alone_and_says_it_cannot_be_seen(
    tmp_path_factory, shared, own_a, own_b
):
    a, b = _fork(tmp_path_factory.mktemp("fork"), shared, own_a, own_b)
    assert a.store_id == b.store_id  # the limit: one id, two histories
    a_events = [e["payload"] for e in stp.stores.SQLiteStore(a.path).events()]
    b_events = [e["payload"] for e in stp.stores.SQLiteStore(b.path).events()]
    assert a_events[shared:] != b_events[shared:]
    key = stp.signing.generate_key()
    for store in (a, b):
        store.checkpoint(key)  # each signed: a copy holds the key's signatures too
        for report in (store.check_integrity(), store.check_integrity(key.public_key())):
            assert report["not_shown"][-1] == FORK


def test_a_checkpoint_kept_elsewhere_shows_the_other_copy(tmp_path):
    a, b = _fork(tmp_path, shared=2, own_a=2, own_b=1)
    key = stp.signing.generate_key()
    kept = a.checkpoint(key, path=tmp_path / "a-checkpoint.json")
    a.verify(key.public_key(), checkpoint=kept)
    with pytest.raises(CorruptStoreError, match=r"checkpoint 1 \(kept elsewhere\)"):
        b.verify(key.public_key(), checkpoint=kept)


def test_a_checkpoint_signed_before_the_copies_diverged_shows_neither(tmp_path):
    # what the statement says: only a checkpoint signed after they diverged shows it
    store = stp.stores.SQLiteStore(tmp_path / "a.db")
    store.append_event("review", {})
    key = stp.signing.generate_key()
    kept = store.checkpoint(key, path=tmp_path / "early.json")
    store.close()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    for name in ("a.db", "b.db"):
        copy = stp.stores.SQLiteStore(tmp_path / name)
        copy.append_event("review", {"written to": name})
        copy.checkpoint(key)
        copy.verify(key.public_key(), checkpoint=kept)  # both pass: the fork is unseen
