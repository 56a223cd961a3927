"""SQLiteStore when the file system fails it: a full disk, a file-size limit, a file
removed or replaced under an open handle, a store of a newer schema.

Each must raise an error that names the problem, and lose nothing stored before: the
truth is the list of event hashes each call returned, read back from the file by a
fresh handle and checked with ``check()``.
"""

import json
import os
import pickle
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError, StoreError, StoreNotFoundError
from tests.stores._store_helpers import fit_run

_LIMITED = """
import json, resource, signal, sys
import sktraceprop as stp
path, limit, when = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = stp.stores.SQLiteStore(path) if when == "opened" else None
# past the limit a write fails with EFBIG, as on a full disk, instead of killing us
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
out = {"written": []}
try:
    store = store or stp.stores.SQLiteStore(path)
    for i in range(10_000):
        out["written"].append(store.append_event("review", {"i": i, "pad": "x" * 2000})["hash"])
except Exception as exc:
    out["error"] = [type(exc).__name__, str(exc)]
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
if store is not None:
    out["after"] = store.append_event("review", {"i": "after"})["hash"]
print(json.dumps(out))
"""


def _run_limited(path, limit, when):
    out = subprocess.run(
        [sys.executable, "-c", _LIMITED, str(path), str(limit), when],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(stp.__file__).parents[1])},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_a_write_past_a_file_size_limit_names_it_and_loses_nothing(tmp_path):
    # SQLite reports EFBIG as "disk I/O error": the message said only that, as if the
    # file were damaged, not that the disk or a limit was full
    path = tmp_path / "s.db"
    out = _run_limited(path, 200_000, "opened")
    kind, message = out["error"]
    # (more than 5: from schema 5 the index on the events' kind takes pages too)
    assert kind == "StoreError" and len(out["written"]) > 5
    assert "size limit" in message and "disk may be full" in message
    assert "Nothing of this call was stored" in message
    store = stp.stores.SQLiteStore(path)
    assert store.check()["events"] == len(out["written"]) + 1
    assert [e["hash"] for e in store.events()] == [*out["written"], out["after"]]


@pytest.mark.parametrize("limit", [1_000, 40_000])
def test_creating_a_store_past_a_file_size_limit_names_it(tmp_path, limit):
    # the failed creation's own ROLLBACK failed ("cannot rollback - no transaction is
    # active": SQLite had rolled back already), and that error hid the cause
    path = tmp_path / "s.db"
    out = _run_limited(path, limit, "created")
    kind, message = out["error"]
    assert (kind, out["written"]) == ("StoreError", [])
    assert "size limit" in message and "no transaction" not in message
    if path.stat().st_size == 0:  # nothing written: the next open creates the store
        assert stp.stores.SQLiteStore(path).check()["events"] == 0
    else:
        with pytest.raises(StoreError, match="creation failed.*remove the file"):
            stp.stores.SQLiteStore(path)


class _FailingCheckpoint:
    """A connection whose WAL checkpoint fails as on a full disk; all else passes through."""

    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def execute(self, sql, *args):
        if "wal_checkpoint" in sql:
            raise sqlite3.OperationalError("disk I/O error")
        return self._con.execute(sql, *args)


def test_an_erasure_whose_log_cannot_be_folded_says_it_is_stored(tmp_path, monkeypatch):
    # after a redaction commits, the store folds its write-ahead log into the file; a
    # failure there was reported as a plain I/O error, as if the erasure had not happened
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    run = fit_run(store)
    connection = store._connection
    monkeypatch.setattr(store, "_connection", lambda: _FailingCheckpoint(connection()))
    with pytest.raises(StoreError, match=r"the erasure is stored.*s\.db-wal still holds"):
        store.redact(run.run_id, sources=["s0"], reason="request 1")
    monkeypatch.undo()
    (event,) = stp.stores.SQLiteStore(tmp_path / "s.db").events(
        kind="store.redaction", include_store_events=True
    )
    assert event["payload"]["reason"] == "request 1"


def _remove(path):
    for name in (path, f"{path}-wal", f"{path}-shm"):
        Path(name).unlink(missing_ok=True)


def test_a_handle_on_a_removed_or_replaced_file_refuses_to_write(tmp_path):
    # the handle's connection kept the removed file open: its writes returned events
    # that no file at the path held, and they were lost when the process ended
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {"i": 1})
    _remove(path)
    with pytest.raises(StoreNotFoundError, match="removed or moved since this handle opened"):
        store.append_event("review", {"i": 2})  # it said 'not writable (file permissions)'
    with pytest.raises(StoreNotFoundError, match="removed or moved"):
        fit_run(store)
    assert not path.exists()  # nothing created in its place
    other = stp.stores.SQLiteStore(path)  # another process starts a new store there
    with pytest.raises(
        StoreError, match="opened on .* was replaced: .* is not the file this handle opened"
    ):
        store.append_event("review", {"i": 3})
    assert other.events() == [] and other.check()["events"] == 0
    assert stp.stores.SQLiteStore(path).append_event("review", {})["seq"] == 1


def test_a_moved_store_is_written_where_it_is_opened_now(tmp_path):
    path, moved = tmp_path / "s.db", tmp_path / "archive.db"
    store = stp.stores.SQLiteStore(path)
    first = store.append_event("review", {"i": 1})
    store.close()
    path.rename(moved)
    with pytest.raises(StoreNotFoundError, match="removed or moved"):
        store.append_event("review", {"i": 2})
    assert not path.exists()
    assert [e["hash"] for e in stp.stores.SQLiteStore(moved).events()] == [first["hash"]]


def test_a_new_thread_never_reads_another_store_under_the_handle_s_name(tmp_path):
    # a thread opens its own connection: it read whatever store was at the path now,
    # under the handle that names the store it opened (checkpoints sign that store_id)
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {"i": 1})
    _remove(path)
    stp.stores.SQLiteStore(path).append_event("other store", {})
    got = []

    def read():
        try:
            got.append(store.events())
        except StoreError as exc:
            got.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert isinstance(got[0], StoreError) and "was replaced" in str(got[0])


def _set_meta(path, key, value):
    """Set (or with ``value=None`` delete) a stp_meta entry, as software other than this
    sktraceprop would: a newer release, or an edit."""
    con = sqlite3.connect(path)
    guards = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'stp_meta'"
    ).fetchall()
    for name, _ in guards:
        con.execute(f"DROP TRIGGER {name}")
    if value is None:
        con.execute("DELETE FROM stp_meta WHERE key = ?", (key,))
    else:
        con.execute("UPDATE stp_meta SET value = ? WHERE key = ?", (value, key))
    for _, sql in guards:
        con.execute(sql)
    con.commit()
    con.close()


def _closed(tmp_path):
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {})
    store.close()
    return path


@pytest.mark.parametrize("mode", ["rw", "ro"])
def test_a_store_of_a_newer_schema_is_refused_untouched(tmp_path, mode):
    path = _closed(tmp_path)
    _set_meta(path, "schema_version", "6")
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"schema version 6; this sktraceprop reads up to 5"):
        stp.stores.SQLiteStore(path, mode=mode)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("stored", "said"),
    [("abc", "schema version 'abc'"), ("3.0", "schema version '3.0'"), (None, "no schema")],
)
def test_a_schema_version_no_release_wrote_is_named_as_stored(tmp_path, stored, said):
    # the message named version 0 for each of these
    path = _closed(tmp_path)
    _set_meta(path, "schema_version", stored)
    with pytest.raises(CorruptStoreError, match=f"has {said}.*altered outside sktraceprop"):
        stp.stores.SQLiteStore(path)


def test_a_store_upgraded_under_an_open_handle_is_not_written(tmp_path):
    # a newer sktraceprop upgrading the file while this handle is open: the handle went
    # on writing rows as version 4 describes them into a version 5 store (now 5 into 6)
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    first = store.append_event("review", {"i": 1})
    _set_meta(path, "schema_version", "6")
    with pytest.raises(
        StoreError,
        match="now has schema version 6; this handle opened version 5.*Nothing was read",
    ):
        store.append_event("review", {"i": 2})
    with pytest.raises(StoreError, match="now has schema version 6"):  # nor read as 5
        store.events()
    _set_meta(path, "schema_version", "5")
    assert [e["hash"] for e in stp.stores.SQLiteStore(path).events()] == [first["hash"]]


@pytest.mark.parametrize(
    ("timeout", "error"),
    [("60", TypeError), (None, TypeError), (True, TypeError), (-5, ValueError)]
    + [(float("nan"), ValueError), (float("inf"), ValueError)],
)
def test_a_timeout_that_is_no_number_of_seconds_is_refused_first(tmp_path, timeout, error):
    # '60' and None raised sqlite3's "must be real number, not str" when the file was
    # opened, naming no argument; -5, nan and inf were taken
    with pytest.raises(error, match="timeout must be"):
        stp.stores.SQLiteStore(tmp_path / "s.db", timeout=timeout)
    assert not (tmp_path / "s.db").exists()


def test_a_folder_given_as_the_path_is_named(tmp_path):
    # it raised "[Errno 21] Is a directory: '.'" for "", from deep inside opening
    with pytest.raises(IsADirectoryError, match="is a folder: give the store's file"):
        stp.stores.SQLiteStore(tmp_path)
    with pytest.raises(TypeError, match="path must be a file path"):
        stp.stores.SQLiteStore(None)
    assert stp.stores.SQLiteStore(os.fsencode(tmp_path / "s.db")).path == str(tmp_path / "s.db")


def test_after_close_a_handle_writes_to_its_store_copied_back(tmp_path):
    # a backup of the store put back while the handle was closed is the same store
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    first = store.append_event("review", {"i": 1})
    store.close()
    backup = tmp_path / "backup.db"
    backup.write_bytes(path.read_bytes())
    _remove(path)
    backup.rename(path)
    second = store.append_event("review", {"i": 2})
    hashes = [e["hash"] for e in stp.stores.SQLiteStore(path).events()]
    assert hashes == [first["hash"], second["hash"]]


def test_a_store_opened_by_a_relative_path_stays_where_it_was_opened(tmp_path, monkeypatch):
    # the handle kept the relative path: after os.chdir its writes (and any new thread's
    # or process's connection) looked for the file in the new folder and were refused
    # ('removed or moved'), or would have gone to another store of that name there
    first, elsewhere = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(first)
    store = stp.stores.SQLiteStore("s.db")
    event = store.append_event("review", {"i": 1})
    monkeypatch.chdir(elsewhere)
    stp.stores.SQLiteStore("s.db").append_event("another store", {})
    later = store.append_event("review", {"i": 2})
    assert store.path == str(first / "s.db")
    assert store.events() == [event, later]
    copy = pickle.loads(pickle.dumps(store))  # as a worker process gets it
    assert copy.events() == [event, later]
    assert [e["kind"] for e in stp.stores.SQLiteStore(elsewhere / "s.db").events()] == [
        "another store"
    ]


def test_a_checkpoint_is_synced_to_disk_before_it_is_signed_out(tmp_path, monkeypatch):
    # durability="fast" writes commit with synchronous=NORMAL (WAL): the last ones can
    # roll back on a power loss. A checkpoint committed so, and its copy written to
    # path=, could cover events the store then lost: verify(checkpoint=...) would report
    # them cut from the log (a default, durable store commits everything with FULL)
    from sktraceprop.stores import _sqlite_writer

    store = stp.stores.SQLiteStore(tmp_path / "s.db", durability="fast")
    store.append_event("review", {})
    seen = []
    insert = _sqlite_writer.Writer.insert_checkpoint

    def spy(writer, number, text):
        seen.append(writer.con.execute("PRAGMA synchronous").fetchone()[0])
        return insert(writer, number, text)

    monkeypatch.setattr(_sqlite_writer.Writer, "insert_checkpoint", spy)
    store.checkpoint(stp.signing.generate_key(), path=tmp_path / "c.json")
    assert seen == [2]  # FULL: the log is synced when the checkpoint commits
    assert store._connection().execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
