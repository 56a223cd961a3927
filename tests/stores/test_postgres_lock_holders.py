"""A PostgreSQL store's lock timeout names who holds the lock, as the server lists it
(pg_locks, pg_stat_activity): pid, application name, since when, the statement. The
truth is the holding connection itself: its backend pid and its transaction's now()."""

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import StoreBusyError
from sktraceprop.stores._postgres_lock_holders import lock_holders
from tests.stores._store_helpers import new_schema

psycopg = pytest.importorskip("psycopg")


def _holder(dsn, name):
    return psycopg.connect(dsn, autocommit=True, application_name=name)


def test_a_lock_timeout_names_the_session_holding_the_lock(pg_dsn):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema, timeout=0.2)
    store.append_event("review", {})
    with _holder(pg_dsn, "nightly-report") as con:
        with con.transaction():
            (since,) = con.execute("SELECT now()").fetchone()
            con.execute(f'LOCK TABLE "{schema}".events IN SHARE MODE')
            with pytest.raises(StoreBusyError) as info:
                store.append_event("review", {})
            pid = con.info.backend_pid
    said = str(info.value)
    assert "timeout=0.2 s" in said and "Nothing was written" in said
    assert "lists 1 session(s) holding locks on the store's tables" in said
    assert f"[pid {pid}, application_name 'nightly-report', role 'postgres'" in said
    assert "from 127.0.0.1" in said and "state 'idle in transaction'" in said
    assert f"in a transaction since {since.isoformat()}" in said
    assert f"statement 'LOCK TABLE \"{schema}\".events IN SHARE MODE'" in said
    assert "holding events ShareLock" in said
    # nothing was written; once the lock is let go the store writes
    assert [e["seq"] for e in store.events()] == [1]
    assert store.append_event("review", {})["seq"] == 2


def test_two_holders_and_the_advisory_lock_are_named(pg_dsn):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema, timeout=0.2)
    with _holder(pg_dsn, "first") as a, _holder(pg_dsn, "second") as b:
        with a.transaction(), b.transaction():
            a.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"sktraceprop:{schema}",))
            b.execute(f'LOCK TABLE "{schema}".runs IN ROW EXCLUSIVE MODE')
            said = lock_holders(store)
            pids = a.info.backend_pid, b.info.backend_pid
            # a lock of another schema's store is not this store's
            other = new_schema()
            stp.stores.PostgresStore(pg_dsn, schema=other).close()
            b.execute(f'LOCK TABLE "{other}".events IN SHARE MODE')
            again = lock_holders(store)
            assert again.endswith("holding runs RowExclusiveLock]") and "ShareLock" not in again
    assert "lists 2 session(s) holding locks" in said
    assert f"[pid {pids[0]}, application_name 'first'" in said
    assert f"[pid {pids[1]}, application_name 'second'" in said
    assert "holding advisory lock" in said and "holding runs RowExclusiveLock" in said


def test_readers_only_and_no_holder_are_said_as_such(pg_dsn):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema, timeout=0.2)
    assert lock_holders(store) == (
        "the server lists no session holding a lock on the store's tables now "
        "(the holder let go after this call gave up)"
    )
    with _holder(pg_dsn, "reader") as con:
        with con.transaction():
            con.execute(f'SELECT count(*) FROM "{schema}".events').fetchone()
            said = lock_holders(store)
            # the store's own session that gave up is not its own holder
            assert "no session" in lock_holders(store, own=con.info.backend_pid)
    assert "reading the store's tables (ACCESS SHARE locks only)" in said
    assert "application_name 'reader'" in said and "events AccessShareLock" in said
