"""A busy store's error says what is known (busy, which store, the timeout) and names no
holder the database did not name: the lock below is held by a reader, not a writer."""

import sqlite3

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import StoreBusyError
from tests.stores._store_helpers import new_schema


def test_sqlite_busy_behind_a_reader_names_no_writer(tmp_path):
    path = tmp_path / "s.db"
    stp.stores.SQLiteStore(path).close()
    con = sqlite3.connect(path, isolation_level=None)
    assert con.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    store = stp.stores.SQLiteStore(path, timeout=0.2)
    # a read transaction left open holds a shared lock: a commit cannot write the file
    con.execute("BEGIN")
    con.execute("SELECT count(*) FROM events").fetchone()
    try:
        with pytest.raises(StoreBusyError) as info:
            store.append_event("review", {})
    finally:
        con.execute("ROLLBACK")
        con.close()
    message = str(info.value)
    assert str(path) in message and "timeout=0.2 s" in message
    assert "busy" in message and "Nothing was written" in message
    assert "another writer" not in message and "SQLITE_BUSY" in message
    assert store.events() == []
    assert store.append_event("review", {})["seq"] == 1


def test_postgres_busy_behind_a_reader_names_no_writer(pg_dsn):
    psycopg = pytest.importorskip("psycopg")
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema, timeout=0.2)
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        with con.transaction():
            # a reader's lock: SHARE mode lets others read, and keeps writers out
            con.execute(f'LOCK TABLE "{schema}".events IN SHARE MODE')
            with pytest.raises(StoreBusyError) as info:
                store.append_event("review", {})
    message = str(info.value)
    assert schema in message and "timeout=0.2 s" in message
    assert "Nothing was written" in message and "another writer" not in message
    assert store.events() == []
