"""Events removed from a log's start, the chain re-computed: the check that finds it
(a checkpoint signs an event the shorter log no longer reaches) must not say they were
removed from its end. What it says is what its checkpoints show: a checkpoint of an
event the log still holds tells whether the log through it is intact."""

import json

import pytest

from sktraceprop import signing
from sktraceprop.exceptions import CorruptStoreError
from tests.stores._store_helpers import rechained


@pytest.fixture(scope="module")
def key():
    return signing.generate_key()


def _logged(store, key, tmp_path):
    """Eight events, a stored checkpoint after the fourth and one after the eighth (also
    kept elsewhere): ``(store checkpoints, the one kept elsewhere)``."""
    for k in range(4):
        store.append_event("review", {"k": k})
    store.checkpoint(key)
    for k in range(4, 8):
        store.append_event("review", {"k": k})
    kept = store.checkpoint(key, path=tmp_path / "kept.json")
    return store.checkpoints(), kept


def _messages(info):
    return [p["message"] for p in info.value.problems if "log ends at event" in p["message"]]


@pytest.mark.parametrize("keep_first_checkpoint", [True, False])
def test_events_removed_from_the_start_are_not_said_removed_from_the_end(
    backend, store, key, tmp_path, keep_first_checkpoint
):
    stored, kept = _logged(store, key, tmp_path)
    rows = backend.events(store)
    assert [r[0] for r in rows] == list(range(1, 9))
    backend.replace_events(store, rechained(rows[3:]))  # the oldest three deleted
    backend.delete_checkpoints(store)
    for n, cp in enumerate(stored if keep_first_checkpoint else stored[1:], 1):
        backend.insert_checkpoint(store, n, json.dumps({**cp, "checkpoint": n}))
    store = backend.reopen(store)
    for check in (
        lambda: store.verify(),  # (a stored checkpoint's seq is checked without a key)
        lambda: store.verify(key.public_key()),
        lambda: store.verify(key.public_key(), checkpoint=kept),
        lambda: store.verify(key.public_key(), checkpoint=tmp_path / "kept.json"),
    ):
        with pytest.raises(CorruptStoreError) as info:
            check()
        said = _messages(info)
        assert said, info.value.problems
        for message in said:
            assert "signs event 8, but the log ends at event 5" in message
            assert "removed from its end" not in message
            if keep_first_checkpoint:  # event 4's signed head is not the log's there
                assert "through event 4 differs" in message
                assert "removed from its start or middle" in message
            else:  # nothing signed at events 1..5: the evidence cannot tell
                assert "does not show whether they were removed from its start" in message


def test_events_cut_from_the_end_are_said_removed_after_the_last_intact_checkpoint(
    backend, store, key, tmp_path
):
    stored, kept = _logged(store, key, tmp_path)
    backend.replace_events(store, backend.events(store)[:4])  # the newest four cut
    backend.delete_checkpoints(store)
    backend.insert_checkpoint(store, 1, json.dumps(stored[0]))
    store = backend.reopen(store)
    assert store.verify(key.public_key())  # a consistent, signed, shorter store...
    with pytest.raises(CorruptStoreError) as info:
        store.verify(key.public_key(), checkpoint=kept)  # ...that was longer
    (message,) = _messages(info)
    assert "signs event 8, but the log ends at event 4: the checkpoint shows" in message
    assert "held 8 event(s) when it was signed and it holds 4 now" in message
    assert "so at least 4 event(s) were removed; how many more" in message
    assert "through event 4 matches a checkpoint" in message
    assert "removed after event 4: from its end" in message


def test_the_count_removed_is_said_a_lower_bound(backend, store, key, tmp_path):
    """The oldest three of eight events deleted, the chain re-computed, two appended: the
    log ends at event 7, one short of the checkpoint of event 8, though three are gone.
    The check says what the checkpoint proves (at least one), never that one was."""
    _, kept = _logged(store, key, tmp_path)
    backend.replace_events(store, rechained(backend.events(store)[3:]))
    backend.delete_checkpoints(store)
    store = backend.reopen(store)
    for k in range(2):
        store.append_event("review", {"k": 8 + k})
    with pytest.raises(CorruptStoreError) as info:
        store.verify(key.public_key(), checkpoint=kept)
    (message,) = _messages(info)
    assert "signs event 8, but the log ends at event 7" in message
    assert "so at least 1 event(s) were removed" in message  # 3 were, by construction
    assert "how many more" in message and "no checkpoint shows" in message
    assert "1 or more" not in message
