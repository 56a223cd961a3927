"""A SQLite store commits with ``synchronous=FULL`` (each write on disk before the call
returns) in every journal mode, unless opened with ``durability="fast"``: then ``NORMAL``
in WAL mode only, never with a rollback journal (where ``NORMAL`` can corrupt the file).
The truth for the mode is the file's own header (bytes 18-19: 2 in WAL mode, 1 with a
rollback journal), read from its raw bytes; the level is read on the connection inside
each write transaction."""

import pickle
import sqlite3

import pytest

import sktraceprop as stp
from sktraceprop.stores import _sqlite_writer

NORMAL, FULL = 1, 2


def _switch(path, mode):
    con = sqlite3.connect(path, isolation_level=None)
    try:
        assert con.execute(f"PRAGMA journal_mode={mode}").fetchone()[0] == mode.lower()
    finally:
        con.close()


def _wal_in_header(path):
    header = path.read_bytes()[:100]
    assert header[18] == header[19] and header[18] in (1, 2)
    return header[18] == 2


@pytest.fixture
def levels(monkeypatch):
    """The ``synchronous`` level of each write transaction, read while it is open."""
    seen = []
    insert = _sqlite_writer.Writer.insert_event

    def spy(writer, row):
        seen.append(writer.con.execute("PRAGMA synchronous").fetchone()[0])
        return insert(writer, row)

    monkeypatch.setattr(_sqlite_writer.Writer, "insert_event", spy)
    return seen


@pytest.mark.parametrize("durability", ["full", "fast"])
@pytest.mark.parametrize("mode", ["WAL", "DELETE", "TRUNCATE", "PERSIST"])
def test_writes_commit_with_the_sync_level_of_the_journal_mode(tmp_path, levels, mode, durability):
    path = tmp_path / "s.db"
    stp.stores.SQLiteStore(path).close()
    _switch(path, mode)
    expected = NORMAL if _wal_in_header(path) and durability == "fast" else FULL
    assert expected == (NORMAL if (mode, durability) == ("WAL", "fast") else FULL)
    store = stp.stores.SQLiteStore(path, durability=durability)
    store.append_event("review", {"i": 1})
    store.append_event("review", {"i": 2})
    assert levels == [expected, expected]
    assert [e["payload"]["i"] for e in stp.stores.SQLiteStore(path, mode="ro").events()] == [1, 2]


def test_a_handle_follows_its_file_out_of_wal(tmp_path, levels):
    # the handle wrote in WAL mode; its file then went to a rollback journal (SQLite
    # refuses while a connection is open: the handle's is closed first)
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path, durability="fast")
    store.append_event("review", {})
    store.close()
    _switch(path, "DELETE")
    assert not _wal_in_header(path)
    store.append_event("review", {})
    # and back: a connection reads the mode anew at its next write (FULL is only slower)
    _switch(path, "WAL")
    store.append_event("review", {})
    store.close()
    store.append_event("review", {})
    assert levels[0] == NORMAL and levels[1] == FULL and levels[-1] == NORMAL
    assert levels[2] in (NORMAL, FULL)


def test_a_checkpoint_in_rollback_journal_mode_leaves_writes_at_full(tmp_path, levels):
    path = tmp_path / "s.db"
    stp.stores.SQLiteStore(path).close()
    _switch(path, "DELETE")
    store = stp.stores.SQLiteStore(path, durability="fast")
    store.append_event("review", {})
    store.checkpoint(stp.signing.generate_key())
    store.append_event("review", {})
    assert levels == [FULL, FULL]
    assert store._connection().execute("PRAGMA synchronous").fetchone()[0] == FULL


def test_a_fast_store_checkpoints_at_full_and_writes_at_normal_after(tmp_path, levels):
    store = stp.stores.SQLiteStore(tmp_path / "s.db", durability="fast")
    store.append_event("review", {})
    store.checkpoint(stp.signing.generate_key())
    store.append_event("review", {})
    assert levels == [NORMAL, NORMAL]
    assert store._connection().execute("PRAGMA synchronous").fetchone()[0] == NORMAL


def test_every_write_of_a_default_store_is_durable(tmp_path, levels):
    # the first write of a connection, the first of a connection opened again, and one
    # after a checkpoint (which sets FULL itself, then sets the handle's level back)
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    assert store.durability == "full" and "durability" not in repr(store)
    store.append_event("review", {})
    store.close()
    store.append_event("review", {})
    store.checkpoint(stp.signing.generate_key())
    store.append_event("review", {})
    assert levels == [FULL, FULL, FULL]
    assert store._connection().execute("PRAGMA synchronous").fetchone()[0] == FULL


def test_the_opt_out_is_visible_and_travels_with_the_handle(tmp_path, levels):
    store = stp.stores.SQLiteStore(tmp_path / "s.db", durability="fast")
    assert repr(store).endswith("durability='fast')")
    copy = pickle.loads(pickle.dumps(store))
    assert copy.durability == "fast" and repr(copy) == repr(store)
    copy.append_event("review", {})
    ro = stp.stores.SQLiteStore(tmp_path / "s.db", mode="ro", durability="fast")
    assert repr(ro).endswith("mode='ro', durability='fast')")
    assert levels == [NORMAL]


@pytest.mark.parametrize("durability", ["FULL", "normal", "", None, 1, True])
def test_an_unknown_durability_is_refused_before_any_file_is_made(tmp_path, durability):
    with pytest.raises(ValueError, match="durability must be 'full' or 'fast'"):
        stp.stores.SQLiteStore(tmp_path / "s.db", durability=durability)
    assert list(tmp_path.iterdir()) == []
