"""An error of the operating system in the middle of a store's write (a full disk, an
I/O error) raises a :class:`StoreError` that names the store and what failed, and
loses nothing stored before.

The truth is the file read back by a fresh handle: its events (kinds and hashes as the
calls returned them), its checkpoints, and ``check_integrity()``; and the folder the
checkpoint's copy was to be written to, listed.
"""

import errno
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import StoreError
from sktraceprop.stores import _checkpoint, _sqlite_files, _sqlite_writer


def _store(kind, tmp_path):
    if kind == "sqlite":
        return stp.stores.SQLiteStore(tmp_path / "s.db")
    return stp.stores.MemoryStore()


def _reopened(store):
    if isinstance(store, stp.stores.SQLiteStore):
        return stp.stores.SQLiteStore(store.path)
    return store


def _state(store):
    report = store.check_integrity()
    events = [(e["seq"], e["kind"], e["hash"]) for e in store.events(include_store_events=True)]
    return report["last_seq"], report["chain_head"], events, store.checkpoints()


class _CutShort:
    """``os.fdopen`` whose file takes the first ``keep`` characters of a write, then
    fails as a full disk does."""

    def __init__(self, keep):
        self.keep = keep
        self.real = os.fdopen

    def __call__(self, fd, mode):
        fh = self.real(fd, mode)
        keep = self.keep

        class File:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                fh.close()

            def write(self, text):
                fh.write(text[:keep])
                fh.flush()
                raise OSError(errno.ENOSPC, "No space left on device")

        return File()


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
@settings(deadline=None, max_examples=8)
@given(keep=st.integers(0, 300))
def test_a_checkpoint_whose_copy_cannot_be_written_is_not_stored(kind, tmp_path_factory, keep):
    tmp_path = tmp_path_factory.mktemp("ck")
    store = _store(kind, tmp_path)
    store.append_event("review", {"i": 1})
    key = stp.signing.generate_key()
    store.checkpoint(key)
    before = _state(store)
    target = tmp_path / "out" / "c.json"
    target.parent.mkdir()
    real = _checkpoint.os.fdopen
    _checkpoint.os.fdopen = _CutShort(keep)
    try:
        with pytest.raises(StoreError, match="nothing was signed or stored") as info:
            store.checkpoint(key, path=target)
    finally:
        _checkpoint.os.fdopen = real
    assert repr(store) in str(info.value) and str(target) in str(info.value)
    assert "No space left" in str(info.value)
    assert os.listdir(target.parent) == []  # no copy, no draft, nothing cut short
    assert _state(_reopened(store)) == before
    # a retry succeeds, and its copy is the checkpoint stored
    made = store.checkpoint(key, path=target)
    assert json.loads(target.read_text()) == made == store.checkpoints()[-1]
    assert os.listdir(target.parent) == ["c.json"]
    store.verify(key.public_key(), checkpoint=target)


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_a_checkpoint_stored_whose_copy_then_fails_says_so(kind, tmp_path, monkeypatch):
    # after the commit only the copy's link can fail: the error says the checkpoint is
    # stored, and where to find it, and leaves nothing at the path
    store = _store(kind, tmp_path)
    store.append_event("review", {})
    key = stp.signing.generate_key()

    write = _checkpoint.write_checkpoint

    def fail(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    def fail_but_drafts(made, path):
        (write if os.fspath(path).endswith(".draft") else fail)(made, path)

    monkeypatch.setattr(_checkpoint.os, "link", fail)
    monkeypatch.setattr(_checkpoint, "write_checkpoint", fail_but_drafts)
    with pytest.raises(StoreError, match="is signed and stored in the store") as info:
        store.checkpoint(key, path=tmp_path / "c.json")
    assert "store.checkpoints()[-1]" in str(info.value)
    assert not (tmp_path / "c.json").exists()
    assert [n for n in os.listdir(tmp_path) if n.endswith(".draft")] == []
    assert len(_reopened(store).checkpoints()) == 1


def test_a_checkpoint_copy_never_overwrites_a_file_made_meanwhile(tmp_path, monkeypatch):
    store = _store("sqlite", tmp_path)
    store.append_event("review", {})
    target = tmp_path / "c.json"
    draft = _checkpoint._draft

    def and_then_someone_writes(made, path):
        out = draft(made, path)
        target.write_text("theirs")
        return out

    monkeypatch.setattr(_checkpoint, "_draft", and_then_someone_writes)
    with pytest.raises(StoreError, match="is signed and stored"):
        store.checkpoint(stp.signing.generate_key(), path=target)
    assert target.read_text() == "theirs"


@pytest.mark.parametrize("method", ["insert_event", "insert_run", "insert_leaves"])
def test_an_os_error_mid_transaction_is_a_store_error_and_loses_nothing(
    tmp_path, monkeypatch, method
):
    from tests.stores._store_helpers import fit_run

    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    fit_run(store)
    store.append_event("review", {"i": 1})
    before = _state(store)
    real = getattr(_sqlite_writer.Writer, method)

    def half(writer, *args):
        real(writer, *args)  # the row is written, then the disk fails
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(_sqlite_writer.Writer, method, half)
    with pytest.raises(StoreError, match="nothing of this call was stored") as info:
        fit_run(store)
        store.append_event("review", {"i": 2})
    assert str(store.path) in str(info.value) and "Input/output error" in str(info.value)
    monkeypatch.undo()
    assert _state(_reopened(store)) == before
    assert _state(store) == before
    store.append_event("review", {"i": 3})  # the handle writes on
    stp.stores.SQLiteStore(store.path).check()


def test_a_store_file_that_cannot_be_looked_up_is_a_store_error(tmp_path, monkeypatch):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    store.append_event("review", {})
    before = _state(store)
    stat = os.stat

    def broken(name, *args, **kwargs):
        if os.fspath(name) == os.fspath(store.path):
            raise OSError(errno.EIO, "Input/output error")
        return stat(name, *args, **kwargs)

    monkeypatch.setattr(_sqlite_files.os, "stat", broken)
    with pytest.raises(StoreError, match="could not look up the store's file") as info:
        store.append_event("review", {})
    assert str(store.path) in str(info.value)
    monkeypatch.undo()
    assert _state(_reopened(store)) == before


def test_an_os_error_after_the_commit_says_the_write_is_stored(tmp_path, monkeypatch):
    from sktraceprop.stores import _sqlite_scrub

    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    store.append_event("review", {"i": 1})

    def fail(con):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(_sqlite_scrub, "retry", fail)
    with pytest.raises(StoreError, match="the write is stored"):
        store.append_event("review", {"i": 2})
    monkeypatch.undo()
    events = stp.stores.SQLiteStore(store.path).events()
    assert [e["payload"] for e in events] == [{"i": 1}, {"i": 2}]
