"""A store's check names what was done to its indexes outside sktraceprop: a dropped
``events_kind`` (the index schema 5 adds) and one redefined are failures; an index a
DBA added is a note in the report, never a refusal (SQLite and PostgreSQL); a store of
schema 4, which has no ``events_kind``, checks clean. The truth is the database's
catalog, read raw, and the indexes are made with the raw sqlite3 module / psycopg."""

import io
import shutil
import sqlite3
from pathlib import Path

import pytest

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.exceptions import CorruptStoreError
from tests.stores._store_helpers import Backend

DATA = Path(__file__).parent / "data"
_DB = ["sqlite", "postgres"]


def _indexes(backend):
    """The named indexes of the store's events table, read from the catalog."""
    if backend.kind == "sqlite":
        rows = backend.sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
            "AND sql IS NOT NULL",
            fetch=True,
        )
    else:
        rows = backend.sql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = ? AND tablename = 'events' "
            "AND indexname <> 'events_pkey'",
            (backend.schema,),
            fetch=True,
        )
    return sorted(name for (name,) in rows)


def _said(backend):
    """The index problems a fresh read-only handle's check raises ([] where none)."""
    try:
        backend.make(mode="ro").check()
    except CorruptStoreError as exc:
        return [p["message"] for p in exc.problems if "index(es)" in p["message"]]
    return []


@pytest.fixture(params=_DB)
def db(request, tmp_path):
    if request.param == "postgres":
        request.getfixturevalue("pg_dsn")
    backend = Backend(request.param, tmp_path, request)
    backend.make().append_event("review", {})
    return backend


def test_a_new_store_has_its_indexes(db):
    run_id = "events_run_id" if db.kind == "sqlite" else "events_run_id_idx"
    assert _indexes(db) == sorted(["events_kind", run_id])
    assert _said(db) == []


def test_a_dropped_index_is_named(db):
    db.sql("DROP INDEX events_kind")
    assert "events_kind" not in _indexes(db)
    (said,) = _said(db)
    assert said.startswith("index(es) events_kind were dropped outside sktraceprop")
    # the handle that found it refuses writes, as for a dropped trigger
    store = db.make()
    with pytest.raises(CorruptStoreError):
        store.check()
    with pytest.raises(CorruptStoreError):
        store.append_event("review", {})


def _as_a_dba(backend, statement):
    """Run ``statement`` as a DBA would: a plain connection, the store's guards left on."""
    if backend.kind == "sqlite":
        con = sqlite3.connect(backend.path)
        try:
            con.execute(statement)
            con.commit()
        finally:
            con.close()
        return
    import psycopg

    with psycopg.connect(backend.dsn, autocommit=True) as con:
        con.execute(f"SET search_path = {backend.schema}")
        con.execute(statement)


@pytest.mark.parametrize("unique", ["", "UNIQUE "])
def test_an_added_index_is_a_note_not_a_refusal(db, unique):
    before = db.make(mode="ro").check()
    _as_a_dba(db, f"CREATE {unique}INDEX events_when ON events (created_at)")
    assert "events_when" in _indexes(db)
    assert _said(db) == []
    report = db.make(mode="ro").check()
    (note,) = report["notes"]
    assert note.startswith("index(es) events_when were added outside sktraceprop")
    assert "created_at" in note and ("UNIQUE" in note) == bool(unique)
    # the index changed no record: the same chain, and the store still takes writes
    assert report["chain_head"] == before["chain_head"] and before["notes"] == []
    store = db.make()
    seq = store.append_event("review", {"n": 1})["seq"]
    assert store.check()["last_seq"] == seq and store.verify() is True


@pytest.mark.parametrize("check_on_open", ["quick", "full"])
def test_a_store_with_an_added_index_opens_when_checked_on_open(tmp_path, request, check_on_open):
    backend = Backend("sqlite", tmp_path, request)
    backend.make().append_event("review", {})
    _as_a_dba(backend, "CREATE INDEX events_time ON events (created_at)")
    store = stp.stores.SQLiteStore(backend.path, check_on_open=check_on_open)
    assert store.append_event("review", {})["seq"] == 2
    # and ``sktraceprop check`` passes and prints the note
    out = io.StringIO()
    assert main(["check", str(backend.path)], out=out) == 0
    assert "note: index(es) events_time were added outside sktraceprop" in out.getvalue()
    # a dropped one is still refused on open
    backend.sql("DROP INDEX events_kind")
    with pytest.raises(CorruptStoreError, match="events_kind were dropped"):
        stp.stores.SQLiteStore(backend.path, check_on_open=check_on_open)


def test_an_index_made_again_as_it_was_typed_otherwise_is_not_redefined(tmp_path, request):
    # SQLite keeps an index's text as typed: the same index in lower case, without the
    # space before its columns, is the one sktraceprop made
    backend = Backend("sqlite", tmp_path, request)
    backend.make().append_event("review", {})
    _as_a_dba(backend, "DROP INDEX events_kind")
    _as_a_dba(backend, "create index events_kind on EVENTS( KIND )")
    assert _said(backend) == [] and backend.make(mode="ro").check()["notes"] == []


def test_unique_added_to_an_index_of_the_schema_is_a_failure(db):
    name = "events_run_id" if db.kind == "sqlite" else "events_run_id_idx"
    db.sql(f"DROP INDEX {name}")
    db.sql(f"CREATE UNIQUE INDEX {name} ON events (run_id)")
    (said,) = _said(db)
    assert said.startswith(f"index(es) {name} were redefined outside sktraceprop")
    assert "UNIQUE" in said


def test_a_primary_key_made_not_unique_is_a_failure(pg_dsn, tmp_path, request):
    backend = Backend("postgres", tmp_path, request)
    backend.make().append_event("review", {})
    backend.sql("ALTER TABLE events DROP CONSTRAINT events_pkey")
    backend.sql("CREATE INDEX events_pkey ON events (seq)")
    (said,) = _said(backend)
    assert said.startswith("index(es) events_pkey were redefined outside sktraceprop")


def test_a_redefined_index_is_named(db):
    db.sql("DROP INDEX events_kind")
    db.sql("CREATE INDEX events_kind ON events (run_id)")
    assert "events_kind" in _indexes(db)
    (said,) = _said(db)
    assert said.startswith("index(es) events_kind were redefined outside sktraceprop")
    assert "(run_id)" in said and "expected" in said


def test_a_schema_4_store_has_no_kind_index_and_checks_clean(tmp_path, request):
    backend = Backend("sqlite", tmp_path, request)
    shutil.copyfile(DATA / "schema4" / "store.db", backend.path)
    assert backend.make(mode="ro").schema_version == 4
    assert _indexes(backend) == ["events_run_id"]
    assert _said(backend) == []
    backend.sql("DROP INDEX events_run_id")
    (said,) = _said(backend)
    assert said.startswith("index(es) events_run_id were dropped")


def test_a_postgresql_schema_4_store_checks_clean(pg_dsn, tmp_path, request):
    backend = Backend("postgres", tmp_path, request)
    backend.make().append_event("review", {})
    # as a store created at version 4: one row, of 4, and no index on the kind
    backend.sql("UPDATE schema_version SET version = 4 WHERE version = 5")
    backend.sql("UPDATE stp_meta SET value = '4' WHERE key = 'schema_version'")
    backend.sql("DROP INDEX events_kind")
    assert backend.make(mode="ro").schema_version == 4
    assert _said(backend) == []
    # and its upgrade makes the index a check expects
    backend.make().append_event("review", {})
    assert backend.make(mode="ro").schema_version == 5
    assert "events_kind" in _indexes(backend) and _said(backend) == []


def test_the_kind_index_made_by_an_upgrade_is_the_one_a_new_store_has(tmp_path, request):
    backend = Backend("sqlite", tmp_path, request)
    shutil.copyfile(DATA / "schema4" / "store.db", backend.path)
    backend.make().append_event("review", {})
    assert backend.make(mode="ro").schema_version == 5
    assert _indexes(backend) == ["events_kind", "events_run_id"] and _said(backend) == []
    assert stp.stores.SQLiteStore(backend.path, mode="ro").check()["events"] > 0
