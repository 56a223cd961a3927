"""A handle whose store was dropped, or replaced by another store under its name.

A PostgreSQL schema dropped and created again by another client, a SQLite file removed
and created again: the old handle read the new store under its own name (its runs,
events and checkpoints; ``verify()`` passed, or failed with 'checkpoint made for another
store'). Every read, write and check must refuse, naming the problem, before reading or
writing anything, and leave what the new store holds as it was. (A MemoryStore lives in
its handle: it cannot be dropped under it.)
"""

import threading

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import StoreError, StoreNotFoundError
from tests.stores._store_helpers import Backend, fit_run

KINDS = ["sqlite", "postgres"]


def _calls(store, run_ids, key):
    """Every public call of a store handle that reads, writes or checks it."""
    calls = {
        "events": lambda: store.events(),
        "events of a run": lambda: store.events(run_ids[0], include_store_events=True),
        "list_runs": lambda: store.list_runs(),
        "checkpoints": lambda: store.checkpoints(),
        "verify": lambda: store.verify(),
        "verify signed": lambda: store.verify(key.public_key(), allow_unsigned_tail=True),
        "check": lambda: store.check(),
        "check_integrity": lambda: store.check_integrity(),
        "append_event": lambda: store.append_event("review", {"after": True}),
        "append_event about a run": lambda: store.append_event("review", {}, run_ids[0]),
        "save_run": lambda: fit_run(store, seed=7),
        "checkpoint": lambda: store.checkpoint(key),
        "redact": lambda: store.redact(run_ids[-1], sources=["s1"], reason="request"),
        "erase_rows": lambda: store.erase_rows(source_id="s1", reason="request", dry_run=True),
    }
    for run_id in run_ids:
        calls[f"load_run {run_id}"] = lambda run_id=run_id: store.load_run(run_id)
    return calls


@pytest.mark.parametrize("kind", KINDS)
def test_a_handle_on_a_store_replaced_by_another_refuses_everything(kind, tmp_path, request):
    backend = Backend(kind, tmp_path, request)
    old = backend.make()
    key = stp.signing.generate_key()
    old_run = fit_run(old)
    old.checkpoint(key)
    old.append_event("review", {"i": 1})
    backend.drop_store()
    new = backend.make()  # another store under the same name
    new_run = fit_run(new, seed=1)
    new.checkpoint(stp.signing.generate_key())
    before = backend.events(new), new.checkpoints()
    for name, call in _calls(old, [old_run.run_id, new_run.run_id], key).items():
        with pytest.raises(StoreError) as info:
            call()
        message = str(info.value)
        assert type(info.value) is StoreError, name
        assert f"the store this handle was opened on (store_id {old.store_id}) was replaced" in (
            message
        ), name
        assert f"it now holds another store (store_id {new.store_id}" in message, name
        assert "Nothing was read or written" in message, name
    got = []  # a thread of its own opens a new connection: refused too
    thread = threading.Thread(target=lambda: got.append(_error_of(old.events)))
    thread.start()
    thread.join()
    assert "was replaced" in got[0]
    # the new store is as it was, and checks out
    fresh = backend.make()
    assert (backend.events(fresh), fresh.checkpoints()) == before
    assert fresh.store_id == new.store_id and fresh.verify()
    assert fresh.list_runs()["run_id"].tolist() == [new_run.run_id]


@pytest.mark.parametrize("kind", KINDS)
def test_a_handle_on_a_dropped_store_refuses_everything_and_creates_nothing(
    kind, tmp_path, request
):
    backend = Backend(kind, tmp_path, request)
    old = backend.make()
    key = stp.signing.generate_key()
    run = fit_run(old, seed=1)
    old.checkpoint(key)
    backend.drop_store()
    for name, call in _calls(old, [run.run_id], key).items():
        with pytest.raises(StoreNotFoundError) as info:
            call()
        message = str(info.value)
        assert f"the store this handle was opened on (store_id {old.store_id}) is gone" in (
            message
        ), name
        assert "Nothing was read or written" in message, name
    assert not backend.store_exists()  # nothing created where the store was


def _error_of(call):
    try:
        call()
    except StoreError as exc:
        return str(exc)
    return "no error"


@pytest.mark.parametrize("kind", KINDS)
def test_a_store_upgraded_under_a_handle_is_neither_read_nor_written(kind, tmp_path, request):
    # a newer sktraceprop upgrading the store while a handle is open: rows read or
    # written as this version describes them could be wrong there
    backend = Backend(kind, tmp_path, request)
    store = backend.make()
    key = stp.signing.generate_key()
    run = fit_run(store)
    store.checkpoint(key)
    before = backend.events(store)
    backend.sql("UPDATE stp_meta SET value = ? WHERE key = 'schema_version'", ("6",))
    for name, call in _calls(store, [run.run_id], key).items():
        with pytest.raises(
            StoreError,
            match="now has schema version 6; this handle opened version 5: it was upgraded since",
        ) as info:
            call()
        assert "Nothing was read or written" in str(info.value), name
    backend.sql("UPDATE stp_meta SET value = ? WHERE key = 'schema_version'", ("5",))
    assert backend.events(store) == before
    assert store.verify() and store.list_runs()["run_id"].tolist() == [run.run_id]


@pytest.mark.parametrize("kind", KINDS)
def test_a_store_whose_store_id_was_deleted_is_not_taken_for_the_one_opened(
    kind, tmp_path, request
):
    backend = Backend(kind, tmp_path, request)
    store = backend.make()
    key = stp.signing.generate_key()
    run = fit_run(store)
    backend.sql("DELETE FROM stp_meta WHERE key = 'store_id'")
    for call in _calls(store, [run.run_id], key).values():
        with pytest.raises(StoreError, match="was replaced: .*has no store_id in its metadata"):
            call()
