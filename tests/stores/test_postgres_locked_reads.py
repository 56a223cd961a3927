"""A PostgreSQL store audited while another client holds a table locked (a transaction
left open by a migration, a ``LOCK TABLE``, a long ``ALTER``).

Before, a read that waited past the store's timeout was listed as a problem found:
``verify()`` and ``check()`` raised ``CorruptStoreError`` ("events unreadable from the
start: ... lock timeout") on a store nothing had touched, and the handle then refused
every write ("it failed an integrity check") after the lock was gone. The truth is the
same handle once the other client let go: it verifies, and writes.
"""

import threading
import time

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import StoreBusyError, StoreConnectionError, StoreError
from tests.stores._store_helpers import fit_run, new_schema

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize("table", ["events", "runs", "sources", "prediction_salts"])
def test_a_table_locked_by_another_client_is_busy_not_corrupt(pg_dsn, table):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema, timeout=0.2)
    fit_run(store)
    with psycopg.connect(pg_dsn, autocommit=True) as other, other.transaction():
        other.execute(f'LOCK TABLE "{schema}".{table} IN ACCESS EXCLUSIVE MODE')
        for audit in (store.verify, store.check):
            with pytest.raises(StoreBusyError, match="past timeout=0.2 s"):
                audit()
    # the other client let go: nothing was found, and the handle writes as before
    assert store.verify() and store.check()["runs"] == 1
    event = store.append_event("review", {"after": "the lock"})
    assert event["seq"] == len(store.events(include_store_events=True))
    assert store.verify()


def test_a_connection_dropped_during_verify_is_lost_not_corrupt(pg_dsn):
    # The server ends verify()'s connection while it waits on the lock (an admin's
    # pg_terminate_backend, a failover): the connection is lost, the store is intact.
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema, timeout=30)
    fit_run(store)
    got = []

    def audit():
        try:
            got.append(store.verify())
        except StoreError as exc:
            got.append(exc)

    # (a third connection watches: pg_stat_activity read inside a transaction is a
    # snapshot taken at its first read)
    with (
        psycopg.connect(pg_dsn, autocommit=True) as other,
        psycopg.connect(pg_dsn, autocommit=True) as admin,
    ):
        with other.transaction():
            other.execute(f'LOCK TABLE "{schema}".runs IN ACCESS EXCLUSIVE MODE')
            thread = threading.Thread(target=audit)
            thread.start()
            waiting = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            deadline = time.monotonic() + 20
            while not (pids := admin.execute(waiting).fetchall()):
                assert time.monotonic() < deadline, "verify() never waited on the lock"
                time.sleep(0.02)
            for (pid,) in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            thread.join(20)
    assert isinstance(got[0], StoreConnectionError), got
    assert store.verify()
    assert store.append_event("review", {})["seq"] == len(store.events(include_store_events=True))


def test_a_read_on_after_the_snapshot_s_connection_was_lost_raises(pg_dsn):
    # A caller inside one snapshot that reads on after a read lost the connection (the
    # integrity checks did, listing the loss as a problem): the next read found the new
    # connection idle, opened a "nested" snapshot that started nothing, and called
    # itself again: RecursionError ("maximum recursion depth exceeded", then listed as
    # "prediction_salts: unreadable" by verify()).
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    fit_run(store)
    before = store.events(include_store_events=True)
    with store._snapshot():
        store._raw_run_list()
        pid = store._connection().info.backend_pid
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for read in (store._raw_run_list, store._raw_prediction_salts, store._raw_events):
            with pytest.raises(StoreConnectionError):
                read()
    assert store.events(include_store_events=True) == before and store.verify()
