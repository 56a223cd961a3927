"""``SQLiteStore.fold_wal()`` folds the write-ahead log into the file between writes, so
that no write pays SQLite's automatic checkpoint. The truth is the database file's own
bytes: in WAL mode SQLite writes the file only when it checkpoints, so a write that
changes them paid a checkpoint."""

import hashlib
import shutil
import sqlite3

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import StorePermissionError

# about 300 KB an append (as a 10,000-row logged call): SQLite's automatic checkpoint
# (at 1,000 pages, about 4 MB of log) falls inside about every 14th append
_PAYLOAD = {"rows": "x" * 300_000}


def _file_bytes(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _appends_that_wrote_the_file(store, path, n, fold_every=None):
    """Indices of the appends during which the database file changed."""
    wrote = []
    for i in range(n):
        before = _file_bytes(path)
        store.append_event("call", {**_PAYLOAD, "i": i})
        if _file_bytes(path) != before:
            wrote.append(i)
        if fold_every and i % fold_every == fold_every - 1:
            result = store.fold_wal()
            assert result["folded_frames"] == result["wal_frames"] > 0
    return wrote


@pytest.mark.parametrize("durability", ["full", "fast"])
def test_folding_between_appends_keeps_the_checkpoint_out_of_them(tmp_path, durability):
    plain_path, folded_path = tmp_path / "plain.db", tmp_path / "folded.db"
    plain = stp.stores.SQLiteStore(plain_path, durability=durability)
    folded = stp.stores.SQLiteStore(folded_path, durability=durability)
    # without folds, SQLite checkpoints inside some appends (this test's control)
    assert len(_appends_that_wrote_the_file(plain, plain_path, 40)) >= 2
    assert _appends_that_wrote_the_file(folded, folded_path, 40, fold_every=5) == []
    # nothing stored changed: the same events, and the file alone (its log folded)
    # holds every one of them
    assert [e["payload"]["i"] for e in folded.events()] == list(range(40))
    assert folded.verify()
    folded.fold_wal()
    copy = tmp_path / "copy.db"
    shutil.copyfile(folded_path, copy)  # the file without its -wal
    con = sqlite3.connect(copy)
    assert con.execute("SELECT count(*) FROM events WHERE kind = 'call'").fetchone() == (40,)
    con.close()


def test_fold_wal_is_refused_read_only_and_says_no_log_without_wal(tmp_path):
    path = tmp_path / "store.db"
    store = stp.stores.SQLiteStore(path)
    store.append_event("call", {})
    reader = stp.stores.SQLiteStore(path, mode="ro")
    with pytest.raises(StorePermissionError, match="read-only"):
        reader.fold_wal()
    reader.close()
    store.close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    store = stp.stores.SQLiteStore(path)
    assert store.fold_wal() == {"wal_frames": None, "folded_frames": None}
    store.append_event("call", {})
    assert store.verify() and len(store.events()) == 2
