"""SQLiteStore.verify() finds physical damage to the file: pages found by walking the
index's b-tree in the file's raw bytes (SQLite's file format), not through SQLite."""

import hashlib
import sqlite3

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError, StoreBusyError

N_EVENTS = 2000


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "s.db"
    store = stp.stores.SQLiteStore(path)
    for i in range(N_EVENTS):
        store.append_event("review", {"i": i})
    store.close()
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
        root = con.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'events_run_id'"
        ).fetchone()[0]
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
    finally:
        con.close()
    return path, root, page_size


def _number(data, start, size):
    return int.from_bytes(data[start : start + size], "big")


def _index_pages(data, root, page_size):
    """The pages of the index b-tree rooted at ``root``: the root first, then its leaves
    in key order (an interior page's children are the first 4 bytes of each cell, then
    the right-most pointer in its header)."""
    start = (root - 1) * page_size
    if data[start] == 0x0A:  # a leaf root: the whole index is one page
        return [root]
    assert data[start] == 0x02  # interior index page
    cells = _number(data, start + 3, 2)
    pointers = [_number(data, start + 12 + 2 * i, 2) for i in range(cells)]
    children = [_number(data, start + p, 4) for p in pointers]
    leaves = [*children, _number(data, start + 8, 4)]
    assert all(data[(n - 1) * page_size] == 0x0A for n in leaves)
    return [root, *leaves]


def _damaged_copy(clean, tmp_path, edit):
    path, root, page_size = clean
    data = bytearray(path.read_bytes())
    edit(data, _index_pages(data, root, page_size), page_size)
    out = tmp_path / "damaged.db"
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize("which", [0, 1, -1], ids=["root", "first leaf", "last leaf"])
def test_verify_finds_a_zeroed_index_page(clean, tmp_path, which):
    def zero(data, pages, page_size):
        assert len(pages) >= 3  # a root and leaves: each position is a different page
        page = pages[which]
        data[(page - 1) * page_size : page * page_size] = bytes(page_size)

    path = _damaged_copy(clean, tmp_path, zero)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    store = stp.stores.SQLiteStore(path)
    # the table holds every event as written: what the audit reads checks out
    assert [e["payload"]["i"] for e in store.events()] == list(range(N_EVENTS))
    for handle in (store, stp.stores.SQLiteStore(path, mode="ro")):
        with pytest.raises(CorruptStoreError, match="events_run_id") as info:
            handle.verify()
        assert info.value.problems[0]["check"] == "integrity_check"
        assert "index events_run_id" in info.value.problems[0]["damaged"]
    with pytest.raises(CorruptStoreError, match="refuses writes"):
        store.append_event("review", {})
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def _repoint(data, pages, page_size):
    leaves = b"".join(data[(n - 1) * page_size : n * page_size] for n in pages[1:])
    entry = b"\x05\x03\x00\x02\x03\xe8"  # (NULL, rowid 1000): 5 bytes, NULL, 2-byte int
    assert leaves.count(entry) == 1 and data.count(entry) == 1
    data[data.index(entry) + 5] = 0xE9  # now names rowid 1001


def test_verify_matches_the_index_to_its_table(clean, tmp_path):
    # one index entry points at another row: every page is well formed, so only
    # matching the index to its table (integrity_check, not quick_check) shows it
    path = _damaged_copy(clean, tmp_path, _repoint)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    finally:
        con.close()
    with pytest.raises(CorruptStoreError, match="row 1000 missing from index events_run_id"):
        stp.stores.SQLiteStore(path).verify()


def test_the_quick_check_finds_an_index_entry_pointing_at_another_row(clean, tmp_path):
    # quick_check alone passes this file (above); the index read in full holds rowid
    # 1001 twice and 1000 never: 2000 entries whose rowids sum to one more
    path = _damaged_copy(clean, tmp_path, _repoint)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for handle in (stp.stores.SQLiteStore(path), stp.stores.SQLiteStore(path, mode="ro")):
        with pytest.raises(CorruptStoreError, match="index events_run_id does not match") as info:
            handle.check(full=False)
        problem = info.value.problems[0]
        assert problem["check"] == "index_sums" and problem["damaged"] == ["index events_run_id"]
        total = N_EVENTS * (N_EVENTS + 1) // 2
        assert (
            f"{N_EVENTS} rows with rowid sum {total + 1} through the index" in problem["message"]
        )
        assert f"{N_EVENTS} rows with rowid sum {total} in the table" in problem["message"]
    with pytest.raises(CorruptStoreError, match="index events_run_id"):
        stp.stores.SQLiteStore(path, check_on_open="quick")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_the_quick_check_matches_every_index_of_a_sound_store(clean, tmp_path, monkeypatch):
    from sktraceprop.stores import _sqlite_index_sums

    matched = []
    indexes = _sqlite_index_sums._indexes

    def spy(con):
        found = indexes(con)
        matched.extend(name for name, _ in found)
        return found

    monkeypatch.setattr(_sqlite_index_sums, "_indexes", spy)
    path = tmp_path / "s.db"
    path.write_bytes(clean[0].read_bytes())
    assert stp.stores.SQLiteStore(path).check(full=False)["events"] == N_EVENTS
    con = sqlite3.connect(path)
    try:
        every = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")]
    finally:
        con.close()
    assert "events_run_id" in every and sorted(matched) == sorted(every)


def test_verify_of_a_sound_store_runs_integrity_check(clean, tmp_path, monkeypatch):
    from sktraceprop.stores import _sqlite_pages

    ran = []
    run = _sqlite_pages._run

    def spy(con, pragma):
        ran.append(pragma)
        return run(con, pragma)

    monkeypatch.setattr(_sqlite_pages, "_run", spy)
    path = tmp_path / "s.db"
    path.write_bytes(clean[0].read_bytes())
    store = stp.stores.SQLiteStore(path)
    assert store.verify() is True
    assert store.check_integrity()["events"] == N_EVENTS
    assert ran == ["integrity_check", "integrity_check"]
    assert store.check(full=False)["sqlite_check"] == "quick_check"
    assert ran[-1] == "quick_check" and len(ran) == 3  # check() runs one pragma, not two


def test_a_lock_during_the_page_check_is_not_damage(clean, tmp_path, monkeypatch):
    # another connection takes an exclusive lock just as SQLite's check starts: it
    # cannot read the pages, which says nothing of them ("database is locked" was
    # listed as damage: verify() called a sound store corrupt, and it refused writes)
    path = tmp_path / "s.db"
    path.write_bytes(clean[0].read_bytes())
    con = sqlite3.connect(path, isolation_level=None)
    assert con.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    con.close()
    store = stp.stores.SQLiteStore(path, timeout=0.2)
    holder = sqlite3.connect(path, isolation_level=None)

    class LockedAtTheCheck(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.startswith("PRAGMA integrity_check") and not holder.in_transaction:
                holder.execute("BEGIN EXCLUSIVE")
            return super().execute(sql, *args)

    opened = store._open_readonly

    def open_readonly():
        con = opened()
        locked = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=0.2, factory=LockedAtTheCheck
        )
        con.close()
        return locked

    monkeypatch.setattr(store, "_open_readonly", open_readonly)
    try:
        with pytest.raises(StoreBusyError, match="busy"):
            store.verify()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    monkeypatch.undo()
    assert store.verify() is True
    assert store.append_event("review", {})["seq"] == N_EVENTS + 1


def test_the_quick_check_leaves_a_partial_index_alone(clean, tmp_path):
    # an index over some rows only (added outside sktraceprop) holds fewer rowids than
    # its table: that is no damage, and is not reported as such (the index is named as
    # added to the schema, in a note, not as damaged)
    path = tmp_path / "s.db"
    path.write_bytes(clean[0].read_bytes())
    con = sqlite3.connect(path)
    try:
        con.execute("CREATE INDEX some_events ON events (kind) WHERE seq > 10")
        con.commit()
    finally:
        con.close()
    (note,) = stp.stores.SQLiteStore(path, mode="ro").check(full=False)["notes"]
    assert note.startswith("index(es) some_events were added outside sktraceprop")


def test_a_table_that_cannot_be_read_is_named_not_its_index(clean, tmp_path):
    # a read of the table itself failing (damage a page check missed) was put on the
    # index ("unreadable (...) through the index, unreadable (None) in the table")
    from sktraceprop.stores._sqlite_index_sums import index_problems

    path = tmp_path / "s.db"
    path.write_bytes(clean[0].read_bytes())
    con = sqlite3.connect(path)

    class TableUnreadable:
        def execute(self, sql, *args):
            if sql.endswith('"events" NOT INDEXED'):
                raise sqlite3.DatabaseError("database disk image is malformed")
            return con.execute(sql, *args)

    try:
        problems = index_problems(TableUnreadable(), locked=lambda exc: False)
        on_events = [p for p in problems if "table events" in p["damaged"]]
        names = {
            n
            for n, t in con.execute(
                "SELECT i.name, t.name FROM sqlite_master AS t, pragma_index_list(t.name) AS i "
                "WHERE t.name = 'events' AND i.partial = 0"
            )
        }
    finally:
        con.close()
    assert names and {p["damaged"][0] for p in on_events} == {f"index {n}" for n in names}
    for problem in on_events:
        assert "unreadable (database disk image is malformed) in the table" in problem["message"]
        assert f"{N_EVENTS} rows with rowid sum" in problem["message"]  # the index was read
        assert "points at another row" not in problem["message"]
    assert all("table events" in p["damaged"] for p in problems)  # no other table's
