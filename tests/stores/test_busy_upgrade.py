"""A writable handle's first write to a busy store of schema version 4 waits for the
write lock once for the upgrade and, before, once more for the write: 2.02 s with
``timeout=1.0`` (SQLite). The upgrade's wait now counts against the write's: the call
waits about ``timeout`` in all, and its error says what it waited for. Two connections:
the other holds the write lock (raw sqlite3 / psycopg) through the call."""

import shutil
import sqlite3
import time
import warnings
from pathlib import Path

import pytest

from sktraceprop.exceptions import StoreBusyError
from tests.stores._store_helpers import Backend

DATA = Path(__file__).parent / "data"
TIMEOUT = 1.0


def _schema_4(kind, tmp_path, request):
    backend = Backend(kind, tmp_path, request)
    if kind == "sqlite":
        shutil.copyfile(DATA / "schema4" / "store.db", backend.path)
    else:
        backend.make().append_event("review", {})
        # as a store created at version 4: one row, of 4, and no index on the kind
        backend.sql("UPDATE schema_version SET version = 4 WHERE version = 5")
        backend.sql("UPDATE stp_meta SET value = '4' WHERE key = 'schema_version'")
        backend.sql("DROP INDEX events_kind")
    return backend


def _held(backend):
    """A connection holding the store's write lock (a transaction left open)."""
    if backend.kind == "sqlite":
        con = sqlite3.connect(backend.path, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        return con, lambda: (con.execute("ROLLBACK"), con.close())
    import psycopg

    con = psycopg.connect(backend.dsn)
    con.execute(f'LOCK TABLE "{backend.schema}".events IN SHARE ROW EXCLUSIVE MODE')
    return con, lambda: (con.rollback(), con.close())


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_busy_schema_4_store_waits_one_timeout_in_all(kind, tmp_path, request):
    backend = _schema_4(kind, tmp_path, request)
    store = backend.make(timeout=TIMEOUT)
    assert store.schema_version == 4
    count = len(backend.sql("SELECT seq FROM events", fetch=True))
    _, release = _held(backend)
    try:
        started = time.monotonic()
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            with pytest.raises(StoreBusyError) as info:
                store.append_event("review", {})
        took = time.monotonic() - started
    finally:
        release()
    # waited for the upgrade, then for the rest of timeout only (2 timeouts without: at
    # least 2.0 s, so 1.9 keeps the test failing without the fix and leaves a loaded CI
    # machine 0.9 s of slack)
    assert TIMEOUT * 0.9 < took < TIMEOUT * 1.9, took
    message = str(info.value)
    assert "to upgrade its schema first (not upgraded" in message
    assert f"of timeout={TIMEOUT} s" in message and "in all, at most timeout" in message
    assert any("could not be upgraded" in str(w.message) for w in said)
    # nothing written; the lock released, the next write waits in full and writes
    assert len(backend.sql("SELECT seq FROM events", fetch=True)) == count
    assert store.append_event("review", {})["seq"] == count + 1
    upgraded = backend.make()
    upgraded.append_event("review", {})
    assert backend.make(mode="ro").schema_version == 5
