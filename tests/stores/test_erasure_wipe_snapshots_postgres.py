"""Which server processes hold a snapshot an erasure's ``VACUUM FULL`` must keep rows for.

Before: a plain ``VACUUM`` of any other table (autovacuum, or a manual one) was counted
as a snapshot older than the erasure (its ``backend_xmin``): the erasure waited, then
warned that the erased values were still in the files, and left the wipe pending,
though the server leaves a lazy vacuum out of ``VACUUM FULL``'s horizon. The
independent truth: the bytes of the table files after the rewrite. A role without
``pg_read_all_stats`` sees other roles' snapshots (``backend_xmin`` is shown to every
role): a snapshot it cannot read the query of is still named.
"""

import threading
import time
import uuid

import psycopg
import pytest

import sktraceprop as stp
from sktraceprop.stores._postgres_scrub_snapshots import older_holders
from tests.stores._store_helpers import Backend, user_warnings
from tests.stores.test_erase_predictions import _held_bytes, _model, _person


@pytest.fixture
def lazy_vacuum(pg_dsn):
    """A plain VACUUM of another table, made slow, running in another session."""
    table = f"big_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(
            f"CREATE TABLE {table} AS SELECT g, repeat('x', 200) AS t "
            "FROM generate_series(1, 200000) AS g"
        )
        con.execute(f"DELETE FROM {table} WHERE g % 2 = 0")
    vacuum = psycopg.connect(pg_dsn, autocommit=True)
    pid = vacuum.info.backend_pid

    def run():
        vacuum.execute("SET vacuum_cost_delay = '50ms'")
        vacuum.execute("SET vacuum_cost_limit = 1")
        try:
            vacuum.execute(f"VACUUM {table}")
        except psycopg.Error:
            pass  # (cancelled at the end of the test)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        deadline = time.monotonic() + 30
        while not con.execute(
            "SELECT 1 FROM pg_stat_progress_vacuum WHERE pid = %s", (pid,)
        ).fetchone():
            assert time.monotonic() < deadline, "the VACUUM never started"
            time.sleep(0.05)
        yield pid
        con.execute("SELECT pg_cancel_backend(%s)", (pid,))
        thread.join(30)
        con.execute(f"DROP TABLE {table}")
    vacuum.close()


def test_a_plain_vacuum_running_is_no_old_snapshot(pg_dsn, request, tmp_path, lazy_vacuum):
    backend = Backend("postgres", tmp_path, request)
    store = backend.make()
    model = _model(store)
    model.predict(_person(2))
    (seq,) = store.events(kind="prediction")[-1:]
    seq = seq["seq"]
    (salt,) = backend.sql("SELECT salt FROM prediction_salts WHERE seq = ?", (seq,), fetch=True)[0]
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        # it holds an xmin, as an old snapshot would
        (xmin,) = con.execute(
            "SELECT backend_xmin FROM pg_stat_activity WHERE pid = %s", (lazy_vacuum,)
        ).fetchone()
        assert xmin is not None
    started = time.monotonic()
    done, said = user_warnings(lambda: store.erase_predictions(_person(2), reason="r"))
    assert done["calls"] == [seq]
    assert not [m for m in said if "older than the erasure" in m], said
    assert done["wiped"] is True and time.monotonic() - started < 4.5  # no wait
    # the truth: the rewrite kept no copy of the salt while the VACUUM ran
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        assert con.execute(
            "SELECT 1 FROM pg_stat_progress_vacuum WHERE pid = %s", (lazy_vacuum,)
        ).fetchone()
    assert salt.encode() not in _held_bytes(backend, store)
    assert backend.make().check()["erased_bytes_left"] == []


@pytest.fixture
def restricted(postgres_server):
    """A role that may log in, without pg_read_all_stats nor any other role's rights."""
    role = f"r_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.dsn, autocommit=True) as con:
        con.execute(f'CREATE ROLE "{role}" LOGIN')
        (member,) = con.execute(
            "SELECT pg_has_role(%s, 'pg_read_all_stats', 'USAGE')", (role,)
        ).fetchone()
        assert member is False
    return postgres_server.dsn.replace("postgres@", f"{role}@")


def _readable(dsn, restricted):
    """A store whose tables the restricted role may read (what the check reads)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    store = stp.stores.PostgresStore(dsn, schema=schema)
    role = restricted.split("://")[1].split("@")[0]
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        con.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    return store


def test_a_restricted_role_sees_another_roles_old_snapshot(pg_dsn, restricted):
    store = _readable(pg_dsn, restricted)
    with psycopg.connect(restricted, autocommit=True) as mine:
        assert older_holders(store, mine, []) == []
        with psycopg.connect(pg_dsn) as other:  # the server owner's session
            other.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            other.execute("SELECT 1")
            pid = other.info.backend_pid
            # what the role cannot read of it: its query
            (query,) = mine.execute(
                "SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            assert query == "<insufficient privilege>"
            (said,) = older_holders(store, mine, [])
            assert said.startswith(f"pid {pid} (postgres, ") and "state hidden" in said
            other.rollback()
        assert older_holders(store, mine, []) == []


def test_a_restricted_role_does_not_count_a_plain_vacuum(pg_dsn, restricted, lazy_vacuum):
    store = _readable(pg_dsn, restricted)
    with psycopg.connect(restricted, autocommit=True) as mine:
        (seen,) = mine.execute(
            "SELECT count(*) FROM pg_stat_progress_vacuum WHERE pid = %s", (lazy_vacuum,)
        ).fetchone()
        assert seen == 1
        assert older_holders(store, mine, []) == []
