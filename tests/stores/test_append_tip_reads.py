"""An append reads no stored payload out of the database where its handle knows the
log's last row: the row it appended last is compared with the stored one by the
database (``_append._Chain``, the writers' ``last_event(known)``), where it was read out
whole twice per append (to confirm it, then by the next append to link to it: some
hundred kilobytes for a logged ``predict_proba``). What the whole read found is still
found: an edited last event refuses the next append and fails ``verify()``, a row
changed as it is inserted is refused before the transaction commits."""

import re
import sqlite3

import pytest

from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores import _postgres_writer, _sqlite_writer

#: A statement that reads the events' payload column out (not one comparing it).
_READS_PAYLOAD = re.compile(r"\bpayload\s*,\s*prev_hash\b")

_BIG = {"values": "x" * 200_000}


class _Spy:
    """A writer's connection that records the SQL it is given."""

    def __init__(self, con, seen):
        self._con, self._seen = con, seen

    def execute(self, statement, *args, **kwargs):
        text = statement if isinstance(statement, str) else statement.as_string(self._con)
        self._seen.append(text)
        return self._con.execute(statement, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


def _spy_on_writers(monkeypatch, seen):
    sqlite_init, postgres_init = _sqlite_writer.Writer.__init__, _postgres_writer._Writer.__init__

    def sqlite_spied(self, con):
        sqlite_init(self, _Spy(con, seen))

    def postgres_spied(self, store, con):
        postgres_init(self, store, _Spy(con, seen))

    monkeypatch.setattr(_sqlite_writer.Writer, "__init__", sqlite_spied)
    monkeypatch.setattr(_postgres_writer._Writer, "__init__", postgres_spied)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_an_append_reads_no_payload_its_handle_appended(backend, monkeypatch):
    store = backend.make()
    store.append_event("review", _BIG)  # the handle's first append reads the tip whole
    seen = []
    _spy_on_writers(monkeypatch, seen)
    for n in range(4):
        store.append_event("review", {**_BIG, "n": n})
    reads = [s for s in seen if _READS_PAYLOAD.search(s)]
    # without the comparison: 2 whole reads per append (8)
    assert reads == []
    assert sum("ORDER BY seq DESC" in s for s in seen) == 8  # the tip still asked for, twice
    assert store.verify() is True
    assert [e["payload"].get("n") for e in store.events()] == [None, 0, 1, 2, 3]


def _edit_tip(backend, store, how):
    last = backend.events(store)[-1]
    payload = last[4]
    if how == "one character":
        edited = payload.replace("x", "y", 1)
    elif how == "a space added":
        edited = payload + " "
    if backend.kind == "memory":
        store._events[-1] = (*last[:4], edited, *last[5:])
    elif how == "the same bytes as a blob":
        backend.sql("UPDATE events SET payload = CAST(payload AS BLOB) WHERE seq = ?", (last[0],))
    else:
        backend.sql("UPDATE events SET payload = ? WHERE seq = ?", (edited, last[0]))


@pytest.mark.parametrize("how", ["one character", "a space added", "the same bytes as a blob"])
def test_the_last_event_edited_between_two_appends_refuses_the_next(backend, how):
    if how == "the same bytes as a blob" and backend.kind != "sqlite":
        pytest.skip("a stored type other than text: SQLite's alone")
    store = backend.make()
    store.append_event("review", _BIG)
    store.append_event("review", {**_BIG, "n": 1})
    _edit_tip(backend, store, how)
    with pytest.raises(CorruptStoreError, match=r"last audit event \(2\) does not match its hash"):
        store.append_event("review", {"n": 2})
    assert [row[0] for row in backend.events(store)] == [1, 2]
    with pytest.raises(CorruptStoreError, match="2"):
        backend.reopen(store).verify()


def test_a_payload_changed_as_it_is_inserted_is_refused(tmp_path):
    # a handle open before an AFTER INSERT trigger (and the append-only guard dropped)
    # rewrote each payload in its own case: the same length, other bytes
    import sktraceprop as stp

    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {"by": "auditor"})
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TRIGGER events_append_only_update")
    con.execute(
        "CREATE TRIGGER upper_payload AFTER INSERT ON events BEGIN "
        "UPDATE events SET payload = upper(payload) WHERE seq = NEW.seq; END"
    )
    con.close()
    with pytest.raises(CorruptStoreError, match="audit event 2 was not stored as written"):
        store.append_event("review", {"by": "auditor"})
    con = sqlite3.connect(path)
    assert [r[0] for r in con.execute("SELECT seq FROM events")] == [1]
    con.close()
