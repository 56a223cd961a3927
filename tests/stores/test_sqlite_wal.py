"""A store file overwritten in place while the write-ahead log of the file it replaced stays.

SQLite replays a ``-wal`` file onto whatever file is next to it: another store's file
(or an older backup) copied over ``store.db`` read as a mix of the two stores (the store_id
of one, the runs of the other; ``verify()`` passed), and the last connection to close
folded the log into the copied file for good. The store must refuse, naming the log,
before SQLite reads either file, and leave both as they are.
"""

import gc
import multiprocessing
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError
from tests.stores._store_helpers import fit_run

_MISMATCH = "the write-ahead log next to the store's file, was not written on that file"


def _bytes(path):
    wal = Path(f"{path}-wal")
    return Path(path).read_bytes(), wal.read_bytes() if wal.exists() else None


def _overwrite(path, data):
    """Write ``data`` over the file in place, as ``cp`` does (same inode)."""
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)


def _replayed(data, wal):
    """Every row SQLite reads from a file holding ``data`` with the log ``wal`` next to
    it (read in a folder of its own, read-only: what a store opened there would read),
    or the error it raises: the truth to compare with."""
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "x.db"
        path.write_bytes(data)
        Path(f"{path}-wal").write_bytes(wal)
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = [
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            return {n: sorted(map(repr, con.execute(f"SELECT * FROM {n}"))) for n in names}
        except sqlite3.DatabaseError as exc:
            return f"error: {exc}"
        finally:
            con.close()
    finally:
        shutil.rmtree(folder)


def _run_ids(store):
    return store.list_runs()["run_id"].tolist()


def test_another_store_copied_over_a_store_with_a_live_log_is_refused(tmp_path):
    path, other_path = tmp_path / "store.db", tmp_path / "other.db"
    other = stp.stores.SQLiteStore(other_path)
    fit_run(other, seed=5)
    other.close()
    store = stp.stores.SQLiteStore(path)
    fit_run(store, seed=1)
    fit_run(store, seed=2)  # in the log: the handle's connection keeps it
    assert Path(f"{path}-wal").stat().st_size > 0
    shutil.copyfile(other_path, path)  # in place
    before = _bytes(path)
    with pytest.raises(CorruptStoreError, match=_MISMATCH) as info:
        stp.stores.SQLiteStore(path)
    message = str(info.value)
    assert f"{path}-wal" in message and "Nothing was read or written" in message
    for call in (store.list_runs, store.verify, store.events, lambda: fit_run(store, seed=3)):
        with pytest.raises(CorruptStoreError, match=_MISMATCH):
            call()
    with pytest.raises(CorruptStoreError, match=_MISMATCH):
        stp.stores.SQLiteStore(path, mode="ro").list_runs()
    # the handle's connection is set aside unclosed: closed last, it would fold the log
    # into the copied file
    store.close()
    store = None
    gc.collect()
    assert _bytes(path) == before
    # the file is the other store, whole (read from a copy: this process still holds
    # the set-aside connection, so the log cannot be moved away from under it here)
    assert Path(path).read_bytes() == other_path.read_bytes()
    copy = tmp_path / "copy" / "store.db"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)
    again = stp.stores.SQLiteStore(copy)
    assert again.store_id == other.store_id and again.verify()
    assert _run_ids(again) == _run_ids(other)


def _make_scenario(folder, writes, checkpoint_midway):
    """Store B (closed), an older backup of store A, and A open with ``writes`` events in
    its log (a checkpoint after the first one if ``checkpoint_midway``)."""
    other = stp.stores.SQLiteStore(folder / "other.db")
    fit_run(other, seed=5)
    other.append_event("review", {"store": "other"})
    other.close()
    path = folder / "store.db"
    store = stp.stores.SQLiteStore(path)
    fit_run(store, seed=1)
    store.close()
    backup = path.read_bytes()
    store = stp.stores.SQLiteStore(path)
    for k in range(writes):
        store.append_event("review", {"k": k})
        if k == 0 and checkpoint_midway:
            con = sqlite3.connect(path)  # not the last connection: leaves the log
            con.execute("PRAGMA wal_checkpoint(PASSIVE)")
            con.close()
    return store, other, backup


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    copied=st.sampled_from(["another store", "older backup", "the same bytes"]),
    handle_open=st.booleans(),
    writes=st.integers(1, 3),
    checkpoint_midway=st.booleans(),
)
def test_a_file_copied_over_a_store_is_never_read_with_the_log_of_another(
    copied, handle_open, writes, checkpoint_midway
):
    folder = Path(tempfile.mkdtemp())
    try:
        store, other, backup = _make_scenario(folder, writes, checkpoint_midway)
        path = folder / "store.db"
        runs, n_events = _run_ids(store), len(store.events())
        if not handle_open:
            # the store's program ended without closing it (a crash): the log stays
            crashed = folder / "crashed"
            crashed.mkdir()
            for name in ("store.db", "store.db-wal"):
                shutil.copyfile(folder / name, crashed / name)
            store.close()
            store, path = None, crashed / "store.db"
        assert Path(f"{path}-wal").stat().st_size > 0
        now = path.read_bytes()
        data = {
            "another store": (folder / "other.db").read_bytes(),
            "older backup": backup,
            "the same bytes": now,
        }[copied]
        wal = Path(f"{path}-wal").read_bytes()
        # what SQLite would read: a mix (or an error), or by chance the store as it is
        # (an older backup can be the file the log began on, or the log can hold every
        # page changed since the backup)
        mixed = _replayed(data, wal) != _replayed(now, wal)
        _overwrite(path, data)
        before = _bytes(path)
        handles = [lambda: stp.stores.SQLiteStore(path)]
        if store is not None:
            handles.append(lambda: store)
        for handle in handles:
            try:
                fresh = handle()
                read = _run_ids(fresh), len(fresh.events()), fresh.verify()
            except CorruptStoreError as exc:
                assert _MISMATCH in str(exc)
                assert data != now  # the log and the file it was written on: read
                read = None
            else:
                assert not mixed  # never a mix read as the store
                assert read == (runs, n_events, True)
            if read is None:
                assert _bytes(path) == before  # neither file touched
    finally:
        shutil.rmtree(folder)


def _busy_worker(path, k, n, queue):
    """Append ``n`` events, checkpoint now and then, and open read-only handles: what
    other processes do to one store; report every error."""
    errors = []
    try:
        store = stp.stores.SQLiteStore(path)
        for i in range(n):
            try:
                store.append_event("review", {"worker": k, "i": i})
                if i % 11 == 0:
                    con = sqlite3.connect(path)
                    con.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    con.close()
                if i % 13 == 0:
                    with stp.stores.SQLiteStore(path, mode="ro") as reader:
                        reader.list_runs()
            except Exception as exc:
                errors.append(repr(exc))
        store.close()
    except Exception as exc:  # report to the parent rather than hang
        errors.append(repr(exc))
    queue.put(errors)


def test_processes_writing_checkpointing_and_reading_one_store_are_never_refused():
    # The check reads the store's files beside SQLite. Closing a descriptor of a file
    # drops every POSIX lock the process holds on it, SQLite's too: with the files read
    # by open() and closed (also the header check on opening, before this test), other
    # processes' writes failed with disk I/O errors, lost events, and the check refused
    # a store whose log was its own.
    folder = Path(tempfile.mkdtemp())
    try:
        path = str(folder / "store.db")
        stp.stores.SQLiteStore(path).close()
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_busy_worker, args=(path, k, 100, queue)) for k in range(4)]
        for p in procs:
            p.start()
        errors = [e for _ in procs for e in queue.get(timeout=240)]
        for p in procs:
            p.join(timeout=60)
        assert errors == []
        store = stp.stores.SQLiteStore(path)
        assert len(store.events()) == 400 and store.verify()
    finally:
        shutil.rmtree(folder)
