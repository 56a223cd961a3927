"""An erasure committed whose deleted values a PostgreSQL store had not yet rewritten out
of its table's files (``VACUUM FULL``): the writer killed between the commit and the
rewrite, or another transaction holding the table.

Before: the dead row versions stayed in the table's heap file (raw bytes of the
server's data directory, after a ``CHECKPOINT``) through a new process opening the
store, verifying it and writing to it, with no word from any of them. Now the
erasure's transaction marks the store, the next writable opening (or write) rewrites
the table, and until then opening, ``check()`` and ``verify()`` say so. The server's
write-ahead log (``pg_wal``) still holds the values as inserted: no client can wipe it
(doc/stores.rst says so), and these tests count the table files only.
"""

import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import psycopg
import pytest

import sktraceprop as stp
from tests.stores._store_helpers import new_schema, user_warnings

KILLED = 77

_CHILD = """
import os, sys, warnings
warnings.simplefilter("ignore")
import sktraceprop as stp
import sktraceprop.stores._postgres_scrub as scrub
folder, dsn, schema, secret = sys.argv[1:5]
lines = ["name,x,y"] + [f"{secret}{i:03d},{i},{i % 2}" for i in range(40)]
open(f"{folder}/a.csv", "w").write("\\n".join(lines) + "\\n")
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder
store = stp.stores.PostgresStore(dsn, schema=schema)
df = stp.read_csv(f"{folder}/a.csv", source_id="a")
pre = stp.make_traced_column_transformer(
    (OneHotEncoder(handle_unknown="ignore"), ["name"]), ("passthrough", ["x"])
)
pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
pipe.fit(df[["name", "x"]], df["y"])
(feature,) = [f for f in pipe.lineage_.feature_lineage if f"{secret}007" in f]
# killed once the erasure is committed, before the table is rewritten
scrub.retry = scrub.scrub = lambda *a: os._exit(77)
store.erase_rows(sample_id=df.index[[7]].to_numpy(), reason="request 7", features=[feature])
"""


@pytest.fixture
def killed_after_commit(postgres_server, tmp_path):
    secret = f"Q{uuid.uuid4().hex[:10]}"
    schema = new_schema()
    code = textwrap.dedent(_CHILD)
    args = [str(tmp_path), postgres_server.dsn, schema, secret]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert done.returncode == KILLED, done.stderr[-3000:]

    def held(row="007"):
        """The erased category's copies in the table files (not the write-ahead log)."""
        with psycopg.connect(postgres_server.dsn, autocommit=True) as con:
            con.execute("CHECKPOINT")  # the server's buffers written to its files
        base = Path(postgres_server.folder)
        return sum(
            p.read_bytes().count(f"{secret}{row}".encode())
            for p in base.rglob("*")
            if p.is_file() and "pg_wal" not in p.parts
        )

    held.secret = secret
    return postgres_server.dsn, schema, held


def test_the_next_open_rewrites_what_a_writer_killed_after_the_commit_left(killed_after_commit):
    dsn, schema, held = killed_after_commit
    assert held()  # committed, not rewritten: the dead row version is in the heap
    store, messages = user_warnings(lambda: stp.stores.PostgresStore(dsn, schema=schema))
    assert held() == 0
    assert not any("still in" in m for m in messages), messages
    assert store.check()["erased_bytes_left"] == []
    assert store.verify()


def test_until_it_is_rewritten_opening_check_and_verify_say_so(killed_after_commit):
    dsn, schema, held = killed_after_commit
    reader = psycopg.connect(dsn)
    # a transaction holding the table (reading its pages would prune them by chance)
    reader.execute(f'LOCK TABLE "{schema}".run_leaves IN ACCESS SHARE MODE')
    try:
        store, messages = user_warnings(lambda: stp.stores.PostgresStore(dsn, schema=schema))
        assert held()
        assert any("still in" in m and "run_leaves" in m for m in messages), messages
        (left,) = store.check()["erased_bytes_left"]
        assert "run_leaves" in left
        ok, messages = user_warnings(store.verify)
        assert ok and any("dead row versions" in m for m in messages), messages
        store.append_event("review", {"n": 1})  # does not wait for the reader
        # (verify's reads may have pruned the page by chance: the store cannot know)
        assert store.check()["erased_bytes_left"]
    finally:
        reader.rollback()
        reader.close()
    store.append_event("review", {"n": 2})
    assert held() == 0
    assert store.check()["erased_bytes_left"] == []
    ro, messages = user_warnings(lambda: stp.stores.PostgresStore(dsn, schema=schema, mode="ro"))
    assert not messages and ro.verify()


def test_a_read_only_opening_says_so_and_how_to_finish(killed_after_commit):
    dsn, schema, held = killed_after_commit
    _, messages = user_warnings(lambda: stp.stores.PostgresStore(dsn, schema=schema, mode="ro"))
    assert any("read-only" in m and "writable" in m for m in messages), messages
    assert held()
    stp.stores.PostgresStore(dsn, schema=schema)
    assert held() == 0


def test_an_erasure_under_a_reader_warns_within_seconds_naming_it(killed_after_commit):
    dsn, schema, held = killed_after_commit
    store = stp.stores.PostgresStore(dsn, schema=schema, timeout=60)
    (run_id,) = store.list_runs()["run_id"]
    run = store.load_run(run_id)
    (feature,) = [f for f in run.feature_lineage if f"{held.secret}008" in f]
    reader = psycopg.connect(dsn)
    reader.execute("SET application_name = 'the-auditors-notebook'")
    reader.execute(f'LOCK TABLE "{schema}".run_leaves IN ACCESS SHARE MODE')
    try:
        started = time.monotonic()
        _, messages = user_warnings(
            lambda: store.erase_rows(
                sample_id=run.row_ids[[8]], reason="request 8", features=[feature]
            )
        )
        assert time.monotonic() - started < 30
        (message,) = [m for m in messages if "VACUUM FULL" in m]
        assert "the-auditors-notebook" in message and "tries again" in message
        assert store.check()["erased_bytes_left"]
    finally:
        reader.rollback()
        reader.close()
    store.append_event("review", {"n": 1})
    assert store.check()["erased_bytes_left"] == []
    assert held("008") == 0


def test_a_snapshot_older_than_the_erasure_keeps_it_pending_naming_it(killed_after_commit):
    # VACUUM FULL copies every row version a snapshot still open may read: a repeatable
    # read transaction begun before the erasure, which never read run_leaves (so it holds
    # no lock on it), kept the erased value in the rewritten table, and the wipe was
    # marked done with check() saying nothing was left
    dsn, schema, held = killed_after_commit
    store = stp.stores.PostgresStore(dsn, schema=schema)
    assert held() == 0  # the killed writer's erasure finished by this opening
    (run_id,) = store.list_runs()["run_id"]
    run = store.load_run(run_id)
    (feature,) = [f for f in run.feature_lineage if f"{held.secret}008" in f]
    holder = psycopg.connect(dsn)
    holder.execute("SET application_name = 'the-old-report'")
    holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    holder.execute("SELECT count(*) FROM pg_class").fetchone()  # its snapshot taken
    (pid,) = holder.execute("SELECT pg_backend_pid()").fetchone()
    try:
        _, messages = user_warnings(
            lambda: store.erase_rows(
                sample_id=run.row_ids[[8]], reason="request 8", features=[feature]
            )
        )
        assert held("008")  # the raw bytes: still in the table's files
        (message,) = [m for m in messages if "VACUUM FULL" in m]
        assert f"pid {pid}" in message and "the-old-report" in message, message
        assert store.check()["erased_bytes_left"]
        store.append_event("review", {"n": 1})  # tries again: the snapshot is still open
        assert held("008") and store.check()["erased_bytes_left"]
    finally:
        holder.rollback()
        holder.close()
    _, messages = user_warnings(lambda: stp.stores.PostgresStore(dsn, schema=schema))
    assert not any("still in" in m for m in messages), messages
    assert held("008") == 0
    assert store.check()["erased_bytes_left"] == []


def test_a_marker_written_before_the_erasure_id_was_recorded_is_read_off_its_row(
    killed_after_commit,
):
    # an earlier sktraceprop's marker names no transaction: its row's xmin does
    from sktraceprop.stores._postgres_scrub_snapshots import _erasure_xid, _next_xid

    dsn, schema, _ = killed_after_commit
    store, _ = user_warnings(lambda: stp.stores.PostgresStore(dsn, schema=schema, mode="ro"))
    key = f"vacuum_scrub:{uuid.uuid4()}"
    with psycopg.connect(dsn) as con:
        con.execute(
            f'INSERT INTO "{schema}".stp_meta VALUES (%s, %s)',
            (key, "erased values' dead row versions"),
        )
        (xid,) = con.execute("SELECT pg_current_xact_id()::text").fetchone()
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("SELECT pg_current_xact_id()")  # a later transaction
        assert _erasure_xid(store, con, [key], _next_xid(con)) == int(xid)
        (tagged,) = con.execute(
            f'SELECT key FROM "{schema}".stp_meta WHERE key LIKE %s AND key <> %s '
            "AND key NOT LIKE %s",
            ("vacuum_scrub:%", key, "%:done"),
        ).fetchone()
        assert _erasure_xid(store, con, [tagged], _next_xid(con)) < int(xid)


def test_a_pending_rewrite_whose_mark_was_deleted_is_named(killed_after_commit):
    """Before: the pending mark deleted from ``stp_meta`` (its guard off), check() and
    verify() said nothing while the dead row versions stayed. Now the erasure event names
    its mark (under the hash chain) and the audit names the event whose mark is gone."""
    from sktraceprop.exceptions import CorruptStoreError

    dsn, schema, _ = killed_after_commit
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("SET session_replication_role = replica")  # the guard off
        deleted = con.execute(
            f'DELETE FROM "{schema}".stp_meta WHERE key LIKE %s', ("vacuum_scrub:%",)
        )
        assert deleted.rowcount == 1
    store, _ = user_warnings(lambda: stp.stores.PostgresStore(dsn, schema=schema, mode="ro"))
    (event,) = store.events(kind="store.redaction", include_store_events=True)
    for audit in (store.verify, store.check):
        with pytest.raises(CorruptStoreError) as raised:
            user_warnings(audit)
        (problem,) = raised.value.problems
        assert problem["check"] == "erasure_wipe" and problem["seq"] == event["seq"]
        assert "vacuum_scrub:" in problem["message"] and "not known" in problem["message"]
    store.close()
