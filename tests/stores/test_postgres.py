"""PostgresStore against a real PostgreSQL server: concurrency, lost connections, restarts."""

import multiprocessing
import threading
import time

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import (
    CorruptStoreError,
    StoreBusyError,
    StoreConnectionError,
    StoreError,
    StorePermissionError,
    UnknownRunError,
)
from tests.stores._store_helpers import fit_run, new_schema

psycopg = pytest.importorskip("psycopg")


def _admin(dsn):
    return psycopg.connect(dsn, autocommit=True)


def test_the_database_enforces_append_only(pg_dsn):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    fit_run(store)
    store.checkpoint(stp.signing.generate_key())
    columns = {
        "runs": "record",
        "sources": "record",
        "events": "payload",
        "checkpoints": "record",
        "stp_meta": "value",
        "schema_version": "applied_at",
    }
    with _admin(pg_dsn) as con:
        for table, column in columns.items():
            for statement in (
                f'UPDATE "{schema}".{table} SET {column} = {column}',
                f'DELETE FROM "{schema}".{table}',
                f'TRUNCATE "{schema}".{table}',
            ):
                with pytest.raises(psycopg.Error, match="append-only"):
                    con.execute(statement)
    assert store.verify()


def _writer(dsn, schema, seed, n_runs, queue):
    try:
        store = stp.stores.PostgresStore(dsn, schema=schema)
        ids = []
        for k in range(n_runs):
            ids.append(fit_run(store, seed=seed * 100 + k, n=30).run_id)
            store.append_event("review", {"writer": seed, "k": k}, run_id=ids[-1])
        queue.put(ids)
    except Exception as exc:  # report to the parent rather than hang
        queue.put(repr(exc))


def test_eight_processes_write_at_once(pg_dsn):
    schema = new_schema()  # created by whichever process gets there first
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(pg_dsn, schema, s, 4, queue)) for s in range(8)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(isinstance(r, list) for r in results), results
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    expected = {run_id for ids in results for run_id in ids}
    assert set(store.list_runs()["run_id"]) == expected and len(expected) == 32
    report = store.check_integrity()
    assert report["runs"] == 32 and report["sources"] == 32
    assert report["events"] == 32 * 3  # a source, a run and a review event per fit
    reviews = store.events(kind="review")
    assert sorted((e["payload"]["writer"], e["payload"]["k"]) for e in reviews) == sorted(
        (w, k) for w in range(8) for k in range(4)
    )


def _waiting_writer(dsn):
    with _admin(dsn) as con:
        for _ in range(600):
            row = con.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO%runs%'"
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
    raise AssertionError("the writer never reached the runs table")


def test_a_connection_killed_mid_write_leaves_no_half_written_run(pg_dsn):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    run = fit_run(None, seed=4)
    blocker = _admin(pg_dsn)
    blocker.execute("BEGIN")
    blocker.execute(f'LOCK TABLE "{schema}".runs IN SHARE MODE')  # blocks INSERT only
    outcome = {}

    def save():
        try:
            outcome["run_id"] = store.save_run(run)
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=save)
    thread.start()
    try:
        # The writer has locked the chain and written the source and its event, and
        # waits to insert the run: kill its connection there.
        pid = _waiting_writer(pg_dsn)
        with _admin(pg_dsn) as con:
            assert con.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
            while con.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                time.sleep(0.05)
        # Nothing of the killed transaction is left: no source, no event, no run.
        for table in ("runs", "sources", "events"):
            count = blocker.execute(f'SELECT count(*) FROM "{schema}".{table}').fetchone()[0]
            assert count == 0, table
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    thread.join(timeout=120)
    # The store saw the connection drop, found the run not stored, and wrote it again.
    assert outcome == {"run_id": run.run_id}
    assert store.list_runs()["run_id"].tolist() == [run.run_id]
    assert store.load_run(run.run_id) == run
    kinds = [e["kind"] for e in store.events(include_store_events=True)]
    assert kinds == ["store.source", "store.run"]
    assert store.verify()


def test_a_server_restart_between_writes_is_survived(pg_dsn, postgres_server):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    first = fit_run(store, seed=0)
    postgres_server.restart()
    assert store.load_run(first.run_id) == first  # reads reconnect
    postgres_server.restart()
    second = fit_run(store, seed=1)  # so do writes
    store.append_event("review", {"after": "restart"})
    assert store.list_runs()["run_id"].tolist() == [first.run_id, second.run_id]
    assert store.verify()
    # With the server down, a write says so, and that nothing was written.
    postgres_server.stop_server()
    try:
        with pytest.raises(StoreConnectionError, match="nothing was written") as info:
            store.append_event("review", {"during": "outage"})
        assert info.value.retryable
    finally:
        postgres_server.start_server()
    assert [e["payload"] for e in store.events()] == [{"after": "restart"}]
    assert store.verify()


def test_opening_never_recreates_a_dropped_table(pg_dsn):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    fit_run(store)
    store.close()
    with _admin(pg_dsn) as con:
        con.execute(f'DROP TABLE "{schema}".events')

        def tables():
            return sorted(
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema,),
                )
            )

        before = tables()
        with pytest.raises(CorruptStoreError, match="missing table\\(s\\) events"):
            stp.stores.PostgresStore(pg_dsn, schema=schema)
        assert (
            tables()
            == before
            == sorted(
                [
                    "checkpoints",
                    "prediction_salts",
                    "run_leaves",
                    "runs",
                    "schema_version",
                    "sources",
                    "stp_meta",
                ]
            )
        )
        empty = new_schema()
        con.execute(f'CREATE SCHEMA "{empty}"')
        with pytest.raises(CorruptStoreError, match="holds no tables"):
            stp.stores.PostgresStore(pg_dsn, schema=empty)


def test_disabled_triggers_refuse_writes(pg_dsn):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    fit_run(store)
    with _admin(pg_dsn) as con:
        con.execute(f'ALTER TABLE "{schema}".events DISABLE TRIGGER events_append_only')
    reopened = stp.stores.PostgresStore(pg_dsn, schema=schema)
    assert reopened.verify()
    with pytest.raises(CorruptStoreError, match="refuses writes.*events_append_only"):
        reopened.append_event("review", {})


def test_hostile_names_are_parameters_not_sql(pg_dsn):
    schema = 'odd"; DROP SCHEMA public; --'
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    hostile = "x'); DELETE FROM events; --"
    # the run lookup takes the name as a parameter too: refused as unknown, nothing run
    with pytest.raises(UnknownRunError, match="no run"):
        store.append_event("review", {"note": hostile}, run_id=hostile)
    event = store.append_event(hostile, {"note": hostile})
    assert store.events(kind=hostile) == [event]
    with pytest.raises(Exception, match="no run"):
        store.load_run(hostile)
    assert store.verify()
    with _admin(pg_dsn) as con:
        assert con.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = 'public'"
        ).fetchone()  # still there


def test_ro_mode(pg_dsn):
    schema = new_schema()
    run = fit_run(stp.stores.PostgresStore(pg_dsn, schema=schema))
    ro = stp.stores.PostgresStore(pg_dsn, schema=schema, mode="ro")
    assert ro.load_run(run.run_id) == run and ro.verify()
    with pytest.raises(StorePermissionError, match="read-only"):
        ro.append_event("review", {})
    with pytest.raises(StorePermissionError, match="read-only"):
        fit_run(ro)
    # the session itself is read-only: even SQL on its connection cannot write
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        ro._connection().execute(f'CREATE TABLE "{schema}".x (a int)')
    with pytest.raises(Exception, match="does not exist"):
        stp.stores.PostgresStore(pg_dsn, schema=new_schema(), mode="ro")


_GUARD_NOOP = "BEGIN RETURN COALESCE(NEW, OLD); END"
#: What an owner can do to the append-only guards without dropping a trigger by name.
_GUARD_TAMPERING = {
    "function made a no-op": (
        [
            'CREATE OR REPLACE FUNCTION "{s}".stp_append_only() RETURNS trigger '
            f"LANGUAGE plpgsql AS $$ {_GUARD_NOOP} $$"
        ],
        "trigger function .*stp_append_only\\(\\) was redefined",
    ),
    "trigger narrowed to one column": (
        [
            'DROP TRIGGER events_append_only ON "{s}".events',
            'CREATE TRIGGER events_append_only BEFORE UPDATE OF hash OR DELETE ON "{s}".events '
            'FOR EACH ROW EXECUTE FUNCTION "{s}".stp_append_only()',
        ],
        "events_append_only were redefined",
    ),
    "trigger firing for no row": (
        [
            'DROP TRIGGER runs_append_only ON "{s}".runs',
            'CREATE TRIGGER runs_append_only BEFORE UPDATE OR DELETE ON "{s}".runs FOR EACH ROW '
            'WHEN (false) EXECUTE FUNCTION "{s}".stp_append_only()',
        ],
        "runs_append_only were redefined",
    ),
    "trigger pointed at another function": (
        [
            'CREATE FUNCTION "{s}".keep() RETURNS trigger LANGUAGE plpgsql '
            f"AS $$ {_GUARD_NOOP} $$",
            'DROP TRIGGER events_append_only ON "{s}".events',
            'CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON "{s}".events '
            'FOR EACH ROW EXECUTE FUNCTION "{s}".keep()',
        ],
        "events_append_only were redefined",
    ),
    "trigger set to fire for replication only": (
        ['ALTER TABLE "{s}".events ENABLE REPLICA TRIGGER events_append_only'],
        "events_append_only were disabled",
    ),
    "row-level security hiding rows": (
        [
            'ALTER TABLE "{s}".events ENABLE ROW LEVEL SECURITY',
            'ALTER TABLE "{s}".events FORCE ROW LEVEL SECURITY',
            'CREATE POLICY hide ON "{s}".events USING (seq < 2)',
        ],
        "row-level security was enabled on events",
    ),
    "table made unlogged": (
        ['ALTER TABLE "{s}".runs SET UNLOGGED'],
        "runs were made UNLOGGED",
    ),
    "a child table adding rows": (
        ['CREATE TABLE "{s}".extra () INHERITS ("{s}".events)'],
        "a table inheriting from events was created",
    ),
}


@pytest.mark.parametrize("tampering", sorted(_GUARD_TAMPERING))
def test_altered_guards_refuse_writes_and_fail_check(pg_dsn, tampering):
    statements, message = _GUARD_TAMPERING[tampering]
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)
    fit_run(store)
    assert store.check()["events"] == 2  # the guards as installed pass
    with _admin(pg_dsn) as con:
        for statement in statements:
            con.execute(statement.format(s=schema))
        # (independent truth: no longer refused, rows hidden from an ordinary reader, or
        # rows no trigger guards read as the store's)
        if tampering.startswith("a child"):
            with con.transaction():
                con.execute(f'INSERT INTO "{schema}".extra SELECT * FROM "{schema}".events')
                assert con.execute(f'SELECT count(*) FROM "{schema}".events').fetchone()[0] == 4
                con.execute(f'UPDATE "{schema}".extra SET payload = payload')  # unguarded
                raise psycopg.Rollback()
        elif tampering.startswith("row-level"):
            con.execute(f'CREATE ROLE "{schema}_r"')
            con.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{schema}_r"')
            con.execute(f'GRANT SELECT ON "{schema}".events TO "{schema}_r"')
            con.execute(f'SET ROLE "{schema}_r"')
            assert con.execute(f'SELECT count(*) FROM "{schema}".events').fetchone()[0] == 1
            con.execute("RESET ROLE")
        elif tampering != "table made unlogged":
            with con.transaction():
                table = "runs" if "no row" in tampering else "events"
                con.execute(f'UPDATE "{schema}".{table} SET created_at = created_at')
                raise psycopg.Rollback()
    reopened = stp.stores.PostgresStore(pg_dsn, schema=schema)
    with pytest.raises(CorruptStoreError, match=f"refuses writes.*{message}"):
        reopened.append_event("review", {})
    # a handle opened before the change finds it with check(), and refuses writes after
    with pytest.raises(CorruptStoreError, match=message) as info:
        store.check()
    assert [p["check"] for p in info.value.problems] == ["schema"]
    with pytest.raises(CorruptStoreError, match="refuses writes"):
        store.append_event("review", {})


def test_guards_are_compared_whatever_the_search_path(pg_dsn):
    # with the store's schema on the search path, the server renders names unqualified
    schema = new_schema()
    dsn = f"{pg_dsn}?options=-csearch_path%3D{schema}%2Cpublic"
    store = stp.stores.PostgresStore(dsn, schema=schema)
    fit_run(store)
    store.append_event("review", {})
    assert store.check()["events"] == 3
    assert stp.stores.PostgresStore(dsn, schema=schema).check()["events"] == 3


def test_sessions_where_triggers_do_not_fire_refuse_writes(pg_dsn):
    # what ALTER DATABASE/ROLE ... SET session_replication_role = replica gives a session
    schema = new_schema()
    fit_run(stp.stores.PostgresStore(pg_dsn, schema=schema))
    dsn = f"{pg_dsn}?options=-csession_replication_role%3Dreplica"
    with _admin(dsn) as con, con.transaction():  # (the guard does not fire there)
        con.execute(f'UPDATE "{schema}".events SET created_at = created_at')
        raise psycopg.Rollback()
    store = stp.stores.PostgresStore(dsn, schema=schema)
    with pytest.raises(CorruptStoreError, match="refuses writes.*session_replication_role"):
        store.append_event("review", {})
    with pytest.raises(CorruptStoreError, match="replica") as info:
        store.check()
    assert [p["check"] for p in info.value.problems] == ["schema"]


def test_a_checkpoint_reads_the_guards_again(pg_dsn):
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema)  # opened intact
    fit_run(store)
    key = stp.signing.generate_key()
    assert store.checkpoint(key)["checkpoint"] == 1
    statements, message = _GUARD_TAMPERING["function made a no-op"]
    with _admin(pg_dsn) as con:
        con.execute(statements[0].format(s=schema))
    with pytest.raises(CorruptStoreError, match=f"refuses writes.*{message}"):
        store.checkpoint(key)
    assert len(store.checkpoints()) == 1  # nothing signed


def test_a_handle_never_writes_to_a_store_created_again_or_upgraded_since(pg_dsn):
    # A schema dropped and created again by another client under an open handle: the
    # handle wrote its events into the new store, and signed a checkpoint there with its
    # own store_id, after which the new store failed verify() ("made for another store").
    schema = new_schema()
    old = stp.stores.PostgresStore(pg_dsn, schema=schema)
    old.append_event("review", {"i": 1})
    with _admin(pg_dsn) as con:
        con.execute(f'DROP SCHEMA "{schema}" CASCADE')
    new = stp.stores.PostgresStore(pg_dsn, schema=schema)
    with pytest.raises(StoreError, match="was replaced: schema .* was dropped and created again"):
        old.append_event("review", {"i": 2})
    with pytest.raises(StoreError, match="was replaced: schema .* was dropped and created again"):
        old.checkpoint(stp.signing.generate_key())
    assert new.events() == [] and new.verify() and new.checkpoints() == []
    # a newer sktraceprop upgrading the store while a handle is open
    upgrade = f"UPDATE \"{schema}\".stp_meta SET value = %s WHERE key = 'schema_version'"
    with _admin(pg_dsn) as con:
        con.execute("SET session_replication_role = replica")
        con.execute(upgrade, ("6",))
    upgraded = "now has schema version 6; this handle opened version 5: it was upgraded"
    with pytest.raises(StoreError, match=upgraded):
        new.append_event("review", {})
    with pytest.raises(StoreError, match=upgraded):  # nor read as version 5
        new.events()
    with _admin(pg_dsn) as con:
        con.execute("SET session_replication_role = replica")
        con.execute(upgrade, ("5",))
    assert new.events() == []


def test_timeout_0_does_not_wait_for_ever(pg_dsn):
    # timeout=0 became lock_timeout '0ms', which PostgreSQL reads as no timeout at all:
    # a write behind another writer's lock waited for ever instead of raising at once
    schema = new_schema()
    store = stp.stores.PostgresStore(pg_dsn, schema=schema, timeout=0)
    got = []

    def write():
        try:
            got.append(store.append_event("review", {}))
        except StoreBusyError as exc:
            got.append(exc)

    with _admin(pg_dsn) as con:
        with con.transaction():
            con.execute(f'LOCK TABLE "{schema}".events IN SHARE ROW EXCLUSIVE MODE')
            thread = threading.Thread(target=write)
            thread.start()
            thread.join(timeout=20)
            waited = thread.is_alive()
        thread.join()
    assert not waited and isinstance(got[0], StoreBusyError)
    with pytest.raises(ValueError, match="timeout must be"):
        stp.stores.PostgresStore(pg_dsn, schema=schema, timeout=-1)
