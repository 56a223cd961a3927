"""A PostgreSQL store audited while another client holds a table locked (a transaction
left open by a migration, a ``LOCK TABLE``, a long ``ALTER``).

Before, a read that waited past the store's timeout was listed as a problem found:
``verify()`` and ``check()`` raised ``CorruptStoreError`` ("events unreadable from the
start: ... lock timeout") on a store nothing had touched, and the handle then refused
every write ("it failed an integrity check") after the lock was gone. The truth is the
same handle once the other client let go: it verifies, and writes.
"""

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import StoreBusyError
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
            with pytest.raises(StoreBusyError, match="longer than 0.2 s"):
                audit()
    # the other client let go: nothing was found, and the handle writes as before
    assert store.verify() and store.check()["runs"] == 1
    event = store.append_event("review", {"after": "the lock"})
    assert event["seq"] == len(store.events(include_store_events=True))
    assert store.verify()
