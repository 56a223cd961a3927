"""Tamper evidence, fuzzed: any edit of a stored record is found, or changes nothing.

The truth is independent of the checks under test: the record as its API returns it
(runs listed and loaded, row ids, events, checkpoints) before and after an edit made
with sqlite3 on the file (or with psycopg on a PostgreSQL store, triggers off). An edit
is either found by ``check()`` with the signing key (and by the CLI's ``check``), or
the record reads back exactly as before. A run that loads never carries an altered
value. PostgreSQL cases skip where its server cannot be started (see conftest.py).
"""

import json
import os
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.exceptions import CorruptStoreError, StoreError
from tests.stores._tamper_record import (
    build_record,
    copy_store,
    rechain,
    rowid_alias,
    settle,
    tables,
    tamper,
    view,
)

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    folder = tmp_path_factory.mktemp("record")
    store, key, report, checkpoint = build_record(folder)
    store.close()
    settle(store.path)
    pristine = copy_store(folder / "audit.db", folder)
    reader = stp.stores.SQLiteStore(pristine, mode="ro")
    before = view(reader)
    reader.close()
    return {
        "pristine": pristine,
        "key": key,
        "tables": tables(pristine),
        "view": before,
        "checkpoint": checkpoint,
    }


def _changed(value, how, where):
    """``value`` with one change: ``how`` picks the kind, ``where`` the place."""
    if how == "null":
        return None
    if how == "retype":  # the same content as another SQLite type (it keeps what it gets)
        if isinstance(value, str):
            return value.encode()
        if isinstance(value, bytes):
            return value.decode("latin-1")
        if isinstance(value, int):
            return value + 0.5
        return None
    if isinstance(value, int):
        return value + (1 if where % 2 else -1)
    if isinstance(value, str):
        if not value:
            return "x"
        i = where % len(value)
        return value[:i] + ("x" if value[i] != "x" else "y") + value[i + 1 :]
    if isinstance(value, bytes):
        if not value:
            return b"\0"
        flipped = bytearray(value)
        flipped[where % len(value)] ^= 1 << (where % 8)
        return bytes(flipped)
    return None


def _outcome(path, record):
    """(problems found by check(), what the API reads back)."""
    try:  # opening may refuse the file already (a broken schema or metadata)
        stp.stores.SQLiteStore(path, mode="ro").check(public_key=record["key"].public_key())
        found = None
    except CorruptStoreError as exc:
        found = exc
    try:
        seen = view(stp.stores.SQLiteStore(path, mode="ro"))
    except StoreError as exc:
        seen = exc
    return found, seen


def _assert_found_or_empty(path, record, what):
    found, seen = _outcome(path, record)
    if found is None:
        assert seen == record["view"], f"{what}: not found, and the record reads differently"
        return
    # named: each problem says which check, and where
    problems = getattr(found, "problems", None) or [{"check": "open", "message": str(found)}]
    assert all(p["check"] and p["message"] for p in problems), what
    if isinstance(seen, dict):
        # what still loads is the record as it was: never an altered value
        for run_id, run in seen["runs"].items():
            assert run in ("refused", record["view"]["runs"].get(run_id)), what
    code = main(["check", str(path), "--public-key", _public_pem(record, path.parent)])
    assert code == 1, what


def _public_pem(record, folder):
    pem = folder / "public.pem"
    if not pem.exists():
        stp.signing.save_key(record["key"].public_key(), pem)
    return str(pem)


@FUZZ
@given(
    data=st.data(),
    how=st.sampled_from(["null", "change", "retype"]),
    where=st.integers(0, 10**6),
)
def test_any_cell_edited_in_the_file_is_found_or_changes_nothing(
    record, tmp_path, data, how, where
):
    table = data.draw(st.sampled_from(sorted(record["tables"])), label="table")
    columns, rows = record["tables"][table]
    if not rows:
        return
    row = data.draw(st.sampled_from(rows), label="row")
    column = data.draw(st.integers(0, len(columns) - 1), label="column")
    value = _changed(row[column + 1], how, where)
    path = copy_store(record["pristine"], tmp_path)
    statement = f"UPDATE {table} SET {columns[column]} = ? WHERE rowid = ?"
    if tamper(path, [(statement, (value, row[0]))]):
        _assert_found_or_empty(path, record, f"{table}.{columns[column]} = {value!r:.60}")


@pytest.mark.parametrize("version", [6, 99])
def test_a_newer_version_edited_into_the_schema_version_table_is_found(record, tmp_path, version):
    # drawn by the fuzz above in session 57's CI (as 5, then newer): opening refused the
    # store as one written by a newer release (a StoreError: `check` exit code 2) rather
    # than as an altered one, though every release writes both records of the version
    # together
    path = copy_store(record["pristine"], tmp_path)
    assert tamper(path, [("UPDATE schema_version SET version = ?", (version,))])
    with pytest.raises(CorruptStoreError, match=f"{version} in its schema_version .*altered"):
        stp.stores.SQLiteStore(path, mode="ro")
    _assert_found_or_empty(path, record, f"schema_version.version = {version}")


@FUZZ
@given(data=st.data(), delete=st.booleans())
def test_any_row_deleted_or_swapped_is_found_or_changes_nothing(record, tmp_path, data, delete):
    table = data.draw(st.sampled_from(sorted(record["tables"])), label="table")
    columns, rows = record["tables"][table]
    if len(rows) < (1 if delete else 2):
        return
    path = copy_store(record["pristine"], tmp_path)
    if delete:
        row = data.draw(st.sampled_from(rows), label="row")
        statements = [(f"DELETE FROM {table} WHERE rowid = ?", (row[0],))]
    else:
        a, b = data.draw(st.permutations(rows), label="rows")[:2]
        # the two rows trade their content; the rowid (and its alias) stays: a reorder
        alias = rowid_alias(path, table)
        keep = [i for i, c in enumerate(columns) if c != alias]
        holders = ", ".join("?" * (len(columns) + 1))
        statements = [(f"DELETE FROM {table} WHERE rowid IN (?, ?)", (a[0], b[0]))]
        for to, frm in ((a, b), (b, a)):
            values = [frm[i + 1] if i in keep else to[i + 1] for i in range(len(columns))]
            insert = f"INSERT INTO {table} (rowid, {', '.join(columns)}) VALUES ({holders})"
            statements.append((insert, (to[0], *values)))
    if tamper(path, statements):
        _assert_found_or_empty(path, record, f"{'delete' if delete else 'swap'} in {table}")


def test_runs_renumbered_in_the_file_are_listed_in_the_chains_order(record, tmp_path):
    # Found by this fuzz: the runs table's autoincrement seq is outside the chain, and
    # list_runs ordered by it, so swapping two runs' seq reordered list_runs unnoticed.
    path = copy_store(record["pristine"], tmp_path)
    ((n,),) = sqlite3.connect(path).execute("SELECT max(seq) FROM runs").fetchall()
    assert n == 2
    assert tamper(
        path,
        [
            ("UPDATE runs SET seq = 100 WHERE seq = 1", ()),
            ("UPDATE runs SET seq = 1 WHERE seq = 2", ()),
            ("UPDATE runs SET seq = 2 WHERE seq = 100", ()),
        ],
    )
    store = stp.stores.SQLiteStore(path, mode="ro")
    assert view(store) == record["view"]
    store.check(public_key=record["key"].public_key())


def test_a_runs_time_column_edited_in_the_file_is_named(record, tmp_path):
    # Found by this fuzz: runs.created_at was never compared with the run's record.
    path = copy_store(record["pristine"], tmp_path)
    run_id = record["view"]["list_runs"][0]["run_id"]
    edit = "UPDATE runs SET created_at = '2020-01-01T00:00:00+00:00' WHERE run_id = ?"
    assert tamper(path, [(edit, (run_id,))])
    with pytest.raises(CorruptStoreError, match=f"run {run_id} has created_at '2020-01-01"):
        stp.stores.SQLiteStore(path, mode="ro").check()


def test_runs_reordered_in_a_memory_store_are_named(tmp_path):
    store, *_ = build_record(tmp_path, store=stp.stores.MemoryStore())
    first, second = list(store._runs)
    store._runs = {second: store._runs[second], first: store._runs[first]}
    with pytest.raises(CorruptStoreError, match=f"run {first} is listed after run {second}"):
        store.verify()


@settings(FUZZ, max_examples=15)
@given(
    cut=st.floats(0.0, 0.99),
    garbage=st.binary(min_size=1, max_size=64),
    mode=st.sampled_from(["truncate", "overwrite"]),
)
def test_a_truncated_or_overwritten_file_is_refused_and_left_as_it_was(
    record, tmp_path, cut, garbage, mode
):
    path = copy_store(record["pristine"], tmp_path)
    data = path.read_bytes()
    at = max(1, int(cut * len(data)))  # a 0-byte file is a new store (documented)
    if mode == "truncate":
        broken = data[:at]
    else:
        broken = data[:at] + garbage + data[at + len(garbage) :]
    if broken == data:
        return
    path.write_bytes(broken)
    try:
        store = stp.stores.SQLiteStore(path, mode="ro")
        found, seen = _outcome(path, record)
        assert found is not None or seen == record["view"]
        del store
    except StoreError as exc:  # refused at opening: says what it is
        assert str(path) in str(exc)
    for opening in ("rw", "ro"):
        try:
            stp.stores.SQLiteStore(path, mode=opening)
        except StoreError:
            pass
    assert path.read_bytes() == broken  # never repaired, recreated or overwritten


def test_an_exclusive_lock_is_a_clear_error_and_nothing_is_lost(record, tmp_path):
    path = copy_store(record["pristine"], tmp_path)
    store = stp.stores.SQLiteStore(path, timeout=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(stp.exceptions.StoreBusyError, match="locked"):
            store.append_event("review", {"by": "auditor"})
        with pytest.raises(StoreError):
            stp.stores.SQLiteStore(path, mode="ro", timeout=0.2).check()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert view(stp.stores.SQLiteStore(path, mode="ro")) == record["view"]
    assert os.path.getsize(path) > 0


def test_a_checkpoint_removed_from_the_middle_is_named_without_the_key(record, tmp_path):
    # Found by this fuzz: stored checkpoints were only checked against the chain, so
    # deleting one of several passed check() without a key. The last one removed (or
    # its signature edited) can only be shown with the key, or a copy kept elsewhere.
    path = copy_store(record["pristine"], tmp_path)
    stp.stores.SQLiteStore(path).checkpoint(record["key"])
    assert tamper(path, [("DELETE FROM checkpoints WHERE seq = 1", ())])
    with pytest.raises(CorruptStoreError, match="is numbered 2 but is the store's checkpoint 1"):
        stp.stores.SQLiteStore(path, mode="ro").check()
    path = copy_store(record["pristine"], tmp_path)
    assert tamper(path, [("DELETE FROM checkpoints", ())])
    stp.stores.SQLiteStore(path, mode="ro").check()  # nothing shows it without the key
    with pytest.raises(CorruptStoreError, match="no checkpoint signed by key"):
        stp.stores.SQLiteStore(path, mode="ro").check(public_key=record["key"].public_key())


@pytest.fixture(scope="module")
def pg_record(postgres_server, tmp_path_factory):
    from tests.stores._store_helpers import new_schema

    schema = new_schema()
    store = stp.stores.PostgresStore(postgres_server.dsn, schema=schema)
    _, key, _, _ = build_record(tmp_path_factory.mktemp("pg"), store=store)
    store.close()
    reader = stp.stores.PostgresStore(postgres_server.dsn, schema=schema, mode="ro")
    before = view(reader)
    reader.close()
    return {"dsn": postgres_server.dsn, "schema": schema, "key": key, "view": before}


def _pg(record, write):
    """Run ``write(connection)`` with the append-only triggers off, committed."""
    import psycopg

    with psycopg.connect(record["dsn"], autocommit=True) as con:
        con.execute(f"SET search_path = {record['schema']}")
        con.execute("SET session_replication_role = replica")
        return write(con)


@settings(FUZZ, max_examples=20)
@given(
    data=st.data(), how=st.sampled_from(["null", "change", "delete"]), where=st.integers(0, 10**6)
)
def test_any_cell_edited_in_a_postgresql_store_is_found_or_changes_nothing(
    pg_record, data, how, where
):
    import psycopg

    table = data.draw(
        st.sampled_from(["stp_meta", "sources", "runs", "events", "checkpoints", "run_leaves"]),
        label="table",
    )

    def rows(con):
        cur = con.execute(f"SELECT * FROM {table}")
        return [d.name for d in cur.description], cur.fetchall()

    columns, before = _pg(pg_record, rows)
    row = data.draw(st.sampled_from(before), label="row")
    column = data.draw(st.integers(0, len(columns) - 1), label="column")
    match = " AND ".join(f"{c} IS NOT DISTINCT FROM %s" for c in columns)
    if how == "delete":
        edit = (f"DELETE FROM {table} WHERE {match}", row)
        what = f"delete from {table}"
    else:
        value = _changed(
            bytes(row[column]) if isinstance(row[column], memoryview) else row[column], how, where
        )
        edit = (f"UPDATE {table} SET {columns[column]} = %s WHERE {match}", (value, *row))
        what = f"{table}.{columns[column]} = {value!r:.60}"

    def restore(con):
        con.execute(f"DELETE FROM {table}")
        with con.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                before,
            )

    try:
        _pg(pg_record, lambda con: con.execute(*edit))
    except psycopg.Error:  # a constraint refused the edit
        return
    try:
        found = None
        try:
            stp.stores.PostgresStore(
                pg_record["dsn"], schema=pg_record["schema"], mode="ro"
            ).check(public_key=pg_record["key"].public_key())
        except CorruptStoreError as exc:
            found = exc
        try:
            seen = view(
                stp.stores.PostgresStore(pg_record["dsn"], schema=pg_record["schema"], mode="ro")
            )
        except StoreError as exc:
            seen = exc
        if found is None:
            assert seen == pg_record["view"], f"{what}: not found, and reads differently"
        elif isinstance(seen, dict):
            for run_id, run in seen["runs"].items():
                assert run in ("refused", pg_record["view"]["runs"].get(run_id)), what
    finally:
        _pg(pg_record, restore)


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE stp_meta SET value = 'x' WHERE key = 'schema_version'",
        "UPDATE stp_meta SET key = 'schema_versionx' WHERE key = 'schema_version'",
    ],
)
def test_a_postgresql_store_whose_schema_version_was_edited_is_corrupt(pg_record, edit):
    # Found by this fuzz: a non-integer version raised a bare ValueError, and a missing
    # one "has store schema version 0; this sktraceprop reads 2" (a StoreError, so
    # the CLI's check exited 2, not 1).
    _pg(pg_record, lambda con: con.execute(edit))
    try:
        with pytest.raises(CorruptStoreError, match="unknown store schema version"):
            stp.stores.PostgresStore(pg_record["dsn"], schema=pg_record["schema"], mode="ro")
    finally:
        _pg(
            pg_record,
            lambda con: con.execute(
                "UPDATE stp_meta SET key = 'schema_version', value = '5' "
                "WHERE key IN ('schema_version', 'schema_versionx')"
            ),
        )
    view(stp.stores.PostgresStore(pg_record["dsn"], schema=pg_record["schema"], mode="ro"))


def test_a_checkpoint_to_an_existing_file_stores_nothing(record, tmp_path):
    # Found while building the record: checkpoint(key, path=) stored the checkpoint,
    # then failed to write an existing file, so the store held a checkpoint the
    # caller was told (by FileExistsError) had not been made.
    path = copy_store(record["pristine"], tmp_path)
    store = stp.stores.SQLiteStore(path)
    kept = tmp_path / "checkpoint.json"
    kept.write_text("kept elsewhere")
    with pytest.raises(FileExistsError, match="nothing was signed or stored"):
        store.checkpoint(record["key"], path=kept)
    assert store.checkpoints() == record["view"]["checkpoints"]
    assert kept.read_text() == "kept elsewhere"


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        # found by an audit: a value of another type than sktraceprop writes (SQLite
        # keeps what it is given) made check() raise TypeError or AttributeError
        ("UPDATE events SET created_at = CAST(created_at AS BLOB) WHERE seq = 4", "event 4"),
        ("UPDATE events SET kind = CAST(kind AS BLOB) WHERE seq = 2", "event 2"),
        ("UPDATE events SET run_id = CAST(run_id AS BLOB) WHERE seq = 5", "event 5"),
        ("UPDATE events SET prev_hash = CAST(prev_hash AS BLOB) WHERE seq = 6", "event 6"),
        ("UPDATE events SET payload = '0' WHERE seq = 3", "event 3"),
        # nested deeper than Python's JSON reader goes: RecursionError
        (
            "UPDATE events SET payload = printf('%.*c', 100000, '[') || "
            "printf('%.*c', 100000, ']') WHERE seq = 4",
            "event 4 payload is not JSON as sktraceprop writes it",
        ),
        ("UPDATE runs SET row_ids = 1.5 WHERE seq = 1", "row ids of run"),
        ("UPDATE runs SET row_ids = 'text' WHERE seq = 1", "row ids of run"),
        # an integer: bytes(n) allocated n bytes before the blob was looked at
        ("UPDATE runs SET row_ids = 4611686018427387904 WHERE seq = 1", "row ids of run"),
    ],
)
def test_a_value_of_another_type_in_the_file_is_named(record, tmp_path, edit, named):
    path = copy_store(record["pristine"], tmp_path)
    assert tamper(path, [(edit, ())])
    with pytest.raises(CorruptStoreError, match=named):
        stp.stores.SQLiteStore(path, mode="ro").check(public_key=record["key"].public_key())
    code = main(["check", str(path), "--public-key", _public_pem(record, tmp_path)])
    assert code == 1


def test_a_key_twice_in_an_event_payload_is_named(record, tmp_path):
    # Found by an audit: the hash is over the payload as Python reads it (the last of
    # two equal keys), so a first key added before the real one verified, while
    # SQLite's json_extract (an auditor's query) reads the added one.
    path = copy_store(record["pristine"], tmp_path)
    con = sqlite3.connect(path)
    ((text,),) = con.execute("SELECT payload FROM events WHERE seq = 4").fetchall()
    con.close()
    forged = text.replace(
        '"input_commitment"', f'"input_commitment":"{"f" * 64}","input_commitment"', 1
    )
    assert forged != text
    assert tamper(path, [("UPDATE events SET payload = ? WHERE seq = 4", (forged,))])
    con = sqlite3.connect(path)
    query = "SELECT json_extract(payload, '$.input_commitment') FROM events WHERE seq = 4"
    assert con.execute(query).fetchall() == [("f" * 64,)]  # what SQL reads
    con.close()
    with pytest.raises(
        CorruptStoreError, match="event 4 payload .*'input_commitment' appears twice"
    ):
        stp.stores.SQLiteStore(path, mode="ro").check(public_key=record["key"].public_key())


@pytest.mark.parametrize("how", ["digits", "spaces"])
def test_a_payload_rewritten_to_the_same_python_value_is_named(record, tmp_path, how):
    """Found by an audit: the hash is over the payload as Python reads it, so its text
    rewritten to the same value verified: a probability with digits past a double's
    (another number to PostgreSQL's jsonb or any decimal reader), or spaces added."""
    path = copy_store(record["pristine"], tmp_path)
    con = sqlite3.connect(path)
    rows = con.execute("SELECT seq, payload FROM events ORDER BY seq").fetchall()
    con.close()
    seq, text = next((q, t) for q, t in rows if '"mean":[' in t)  # a predict_proba event
    if how == "digits":
        start = text.index('"mean":[') + len('"mean":[')
        number = text[start : text.index(",", start)]
        forged = text[:start] + number + "00001" + text[start + len(number) :]
        assert float(number + "00001") == float(number)  # one double, two decimal numbers
    else:
        forged = json.dumps(json.loads(text), sort_keys=True, indent=1)
    assert forged != text and json.loads(forged) == json.loads(text)
    assert tamper(path, [("UPDATE events SET payload = ? WHERE seq = ?", (forged, seq))])
    with pytest.raises(CorruptStoreError, match=f"event {seq} payload is not JSON as") as info:
        stp.stores.SQLiteStore(path, mode="ro").check(public_key=record["key"].public_key())
    assert len(info.value.problems) == 1  # (the checkpoint over it still matches its hash)


@pytest.mark.parametrize("exists", [True, False])
def test_a_stored_checkpoint_edited_into_a_path_is_named_and_no_file_is_read(
    record, tmp_path, exists
):
    # Found by an audit: a stored checkpoint whose record is a JSON string was read as
    # the path of a checkpoint file (read from the auditor's disk), then check() failed
    # with FileNotFoundError or AttributeError.
    path = copy_store(record["pristine"], tmp_path)
    kept = record["checkpoint"] if exists else tmp_path / "no-such-file.json"
    assert tamper(path, [("UPDATE checkpoints SET record = ?", (json.dumps(str(kept)),))])
    named = "checkpoint 1 is not readable: it holds a JSON str"
    with pytest.raises(CorruptStoreError, match=named):
        stp.stores.SQLiteStore(path, mode="ro").check()


def test_a_rehashed_run_event_whose_payload_is_no_object_is_named(record, tmp_path):
    # Found by an audit: an attacker re-computing the chain (no key needed) after
    # replacing a run's event payload with a list made load_run and check() raise
    # AttributeError instead of naming the run and its event.
    path = copy_store(record["pristine"], tmp_path)
    con = sqlite3.connect(path)
    rows = con.execute("SELECT * FROM events ORDER BY seq").fetchall()
    con.close()
    run_id = record["view"]["list_runs"][0]["run_id"]
    (first,) = [r[0] for r in rows if r[3] == "store.run" and r[1] == run_id]
    assert rechain(path, first, [])
    store = stp.stores.SQLiteStore(path, mode="ro")
    with pytest.raises(CorruptStoreError, match=f"run {run_id}: audit event {first} is not its"):
        store.load_run(run_id)
    with pytest.raises(CorruptStoreError, match=f"event {first} is a store.run event whose"):
        stp.stores.SQLiteStore(path, mode="ro").check()


@pytest.mark.parametrize(
    ("inside", "offset"),
    [
        # found by an audit: SQLite's message about a damaged schema then holds bytes
        # that are not UTF-8, and Python raised UnicodeDecodeError from opening
        (b"CREATE TRIGGER stp_meta_append_only_update", 3),
        # the events' seq no longer the rowid: every seq read NULL, and check() raised
        # TypeError comparing None with an int
        (b"seq INTEGER PRIMARY KEY, run_id", 11),
    ],
)
def test_a_schema_damaged_in_the_file_is_a_corrupt_store_left_as_it_was(
    record, tmp_path, inside, offset
):
    path = copy_store(record["pristine"], tmp_path)
    data = path.read_bytes()
    at = data.index(inside) + offset
    broken = data[:at] + b"\x80" + data[at + 1 :]
    path.write_bytes(broken)
    with pytest.raises(CorruptStoreError, match=str(path)):
        stp.stores.SQLiteStore(path, mode="ro").check()
    with pytest.raises(CorruptStoreError):
        stp.stores.SQLiteStore(path).append_event("review", {"by": "auditor"})
    assert main(["check", str(path)]) == 1
    assert path.read_bytes() == broken


def test_a_store_whose_version_was_lowered_to_1_is_refused(record, tmp_path):
    # Found by an audit: version 1 runs are outside the chain, so setting stp_meta's
    # schema_version to '1' turned off every run and source check: a run record edited
    # with it loaded and was listed as edited (check() only said "version 1").
    path = copy_store(record["pristine"], tmp_path)
    run_id = record["view"]["list_runs"][0]["run_id"]
    con = sqlite3.connect(path)
    ((text,),) = con.execute("SELECT record FROM runs WHERE run_id = ?", (run_id,)).fetchall()
    con.close()
    edited = text.replace('"purpose":"fit"', '"purpose":"review"')
    assert edited != text
    assert tamper(
        path,
        [
            ("UPDATE stp_meta SET value = '1' WHERE key = 'schema_version'", ()),
            ("UPDATE runs SET record = ? WHERE run_id = ?", (edited, run_id)),
        ],
    )
    with pytest.raises(CorruptStoreError, match="says it has schema version 1, but it has"):
        stp.stores.SQLiteStore(path, mode="ro")
    assert main(["check", str(path)]) == 1
    # the tables rewritten as version 1's too: the chain holds the runs' events
    con = sqlite3.connect(path, isolation_level=None)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        con.execute(f"DROP TRIGGER {name}")
    con.execute("DROP TABLE checkpoints")
    con.execute("DROP TABLE run_leaves")  # (what schema version 3 added)
    con.execute("DROP TABLE prediction_salts")  # (and 4)
    con.execute("ALTER TABLE runs DROP COLUMN event_seq")
    con.execute("UPDATE schema_version SET version = 1")  # (both records of the version)
    con.close()
    store = stp.stores.SQLiteStore(path, mode="ro")
    assert store.schema_version == 1
    with pytest.raises(CorruptStoreError, match="store.run audit event, which only schema"):
        store.load_run(run_id)
    with pytest.raises(CorruptStoreError, match="only schema version 2 writes"):
        stp.stores.SQLiteStore(path, mode="ro").check()
    assert main(["check", str(path)]) == 1


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        # found by an audit: int(event_seq) raised ValueError, TypeError or
        # OverflowError from check(), with or without the key
        ("event_seq", "8", "event_seq '8' is not an event number"),
        ("event_seq", None, "event_seq None is not an event number"),
        ("event_seq", [8], "event_seq \\[8\\] is not an event number"),
        ("event_seq", 1e308 * 10, "event_seq inf is not an event number"),
        # passed check() without the key (int(8.5) is 8): no checkpoint holds one
        ("event_seq", 8.5, "event_seq 8.5 is not an event number"),
        # what can be told without the key: not a signature, not a key's fingerprint
        ("signature", None, "signature is not an Ed25519 signature"),
        ("signature", "c2lnbmVk", "signature is not an Ed25519 signature"),
        ("key_fingerprint", None, "key_fingerprint 'None' is not a SHA-256"),
    ],
)
def test_a_checkpoint_field_of_another_type_is_named(record, tmp_path, field, value, named):
    path = copy_store(record["pristine"], tmp_path)
    (made,) = record["view"]["checkpoints"]
    assert isinstance(made[field], str | int) and made[field] != value
    text = json.dumps({**made, field: value})  # (writes inf as Infinity)
    assert tamper(path, [("UPDATE checkpoints SET record = ?", (text,))])
    with pytest.raises(CorruptStoreError, match=f"checkpoint 1 is not readable: .*{named}"):
        stp.stores.SQLiteStore(path, mode="ro").check()
    kept = tmp_path / "kept.json"
    kept.write_text(text)
    with pytest.raises(ValueError, match=f"not a checkpoint sktraceprop made: {named}"):
        stp.stores.SQLiteStore(record["pristine"], mode="ro").check(
            public_key=record["key"].public_key(), checkpoint=kept
        )


_DROP_REVIEWS = "BEFORE INSERT ON events WHEN NEW.kind = 'review' BEGIN SELECT RAISE(IGNORE); END"


def _count(path, table):
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("statements", "named"),
    [
        ([f"CREATE TRIGGER drop_reviews {_DROP_REVIEWS}"], "drop_reviews were added outside"),
        (
            [
                "DROP TRIGGER events_append_only_update",
                f"CREATE TRIGGER events_append_only_update {_DROP_REVIEWS}",
            ],
            "events_append_only_update were redefined outside",
        ),
    ],
)
def test_a_trigger_added_to_the_file_is_named_and_refuses_writes(
    record, tmp_path, statements, named
):
    # Found by an audit: a trigger added to the file (or an append-only one redefined)
    # silently dropped the events it matched: append_event returned an event that was
    # never stored, and check() with the key passed, also after a new checkpoint.
    path = copy_store(record["pristine"], tmp_path)
    con = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        con.execute(statement)
    con.close()
    n_events = _count(path, "events")
    with pytest.raises(CorruptStoreError, match=named):
        stp.stores.SQLiteStore(path).append_event("review", {"by": "auditor"})
    with pytest.raises(CorruptStoreError, match=named):
        stp.stores.SQLiteStore(path, mode="ro").check(public_key=record["key"].public_key())
    assert main(["check", str(path)]) == 1
    assert _count(path, "events") == n_events


def test_an_event_or_run_dropped_as_it_is_written_is_refused(record, tmp_path):
    # The same trigger added while a handle is open (it checked the schema when it
    # opened): the write is read back before it commits, and refused.
    path = copy_store(record["pristine"], tmp_path)
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {"by": "auditor"})
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(f"CREATE TRIGGER drop_reviews {_DROP_REVIEWS}")
    con.close()
    n_events = _count(path, "events")
    with pytest.raises(CorruptStoreError, match="audit event 10 was not stored as written"):
        store.append_event("review", {"by": "auditor"})
    with pytest.raises(CorruptStoreError, match="refuses writes"):
        store.append_event("note", {})
    assert _count(path, "events") == n_events
    # a run
    run = stp.stores.SQLiteStore(record["pristine"], mode="ro").load_run(
        record["view"]["list_runs"][0]["run_id"]
    )
    fresh = tmp_path / "fresh.db"
    store = stp.stores.SQLiteStore(fresh)
    con = sqlite3.connect(fresh, isolation_level=None)
    con.execute("CREATE TRIGGER drop_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(IGNORE); END")
    con.close()
    with pytest.raises(CorruptStoreError, match=f"run {run.run_id} was not stored as written"):
        store.save_run(run)
    assert (_count(fresh, "runs"), _count(fresh, "events"), _count(fresh, "sources")) == (0, 0, 0)


@pytest.mark.parametrize(
    ("statements", "named"),
    [
        (
            [
                "CREATE FUNCTION drop_row() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RETURN NULL; END $$",
                "CREATE TRIGGER drop_reviews BEFORE INSERT ON events FOR EACH ROW "
                "WHEN (NEW.kind = 'review') EXECUTE FUNCTION drop_row()",
            ],
            "drop_reviews were added outside",
        ),
        (
            [
                "CREATE RULE drop_reviews AS ON INSERT TO events "
                "WHERE NEW.kind = 'review' DO INSTEAD NOTHING"
            ],
            "drop_reviews were added outside",
        ),
    ],
)
def test_a_postgresql_store_with_a_trigger_or_rule_added_refuses_writes(
    postgres_server, statements, named
):
    # As in SQLite: a trigger (or rule) added silently dropped the events it matched.
    from tests.stores._store_helpers import new_schema

    schema = new_schema()
    where = {"dsn": postgres_server.dsn, "schema": schema}
    store = stp.stores.PostgresStore(postgres_server.dsn, schema=schema)
    store.append_event("review", {"by": "auditor"})
    for statement in statements:
        _pg(where, lambda con, statement=statement: con.execute(statement))
    # the handle already open: the write is read back before it commits
    with pytest.raises(CorruptStoreError, match="audit event 2 was not stored as written"):
        store.append_event("review", {"by": "auditor"})
    # a new handle refuses writes when it opens
    with pytest.raises(CorruptStoreError, match=named):
        stp.stores.PostgresStore(postgres_server.dsn, schema=schema).append_event("note", {})
    reader = stp.stores.PostgresStore(postgres_server.dsn, schema=schema, mode="ro")
    assert [e["seq"] for e in reader.events()] == [1]


def test_a_checkpoint_file_holding_a_field_twice_is_refused(record, tmp_path):
    # Found by an audit: a checkpoint kept elsewhere was read by json.loads, which keeps
    # the last of two equal keys: a file whose first event_seq claims another event
    # verified, while a reader keeping the first key sees that claim.
    text = record["checkpoint"].read_text()
    forged = text.replace('"event_seq"', '"event_seq": 3,\n  "event_seq"', 1)
    assert json.loads(forged) == json.loads(text)
    kept = tmp_path / "kept.json"
    kept.write_text(forged)
    with pytest.raises(ValueError, match="'event_seq' appears twice"):
        stp.stores.SQLiteStore(record["pristine"], mode="ro").check(
            public_key=record["key"].public_key(), checkpoint=kept
        )


@pytest.mark.parametrize("field", ["source_id", "sha256"])
def test_a_rehashed_source_event_naming_no_source_is_named(record, tmp_path, field):
    # Found by an audit: a chain re-computed (no key needed) after a store.source
    # event's source_id or sha256 was made a list made check() raise TypeError
    # (unhashable), instead of naming the event.
    path = copy_store(record["pristine"], tmp_path)
    con = sqlite3.connect(path)
    rows = con.execute("SELECT * FROM events ORDER BY seq").fetchall()
    con.close()
    assert rows[0][3] == "store.source"
    payload = {**json.loads(rows[0][4]), field: [1]}
    assert rechain(path, 1, payload)
    with pytest.raises(CorruptStoreError, match="event 1 is a store.source event whose"):
        stp.stores.SQLiteStore(path, mode="ro").check()


def _objects(value, path=()):
    """Paths to the JSON objects inside a JSON value."""
    if isinstance(value, dict):
        yield path
        for key, item in value.items():
            yield from _objects(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _objects(item, (*path, i))


def _json_cells(tables):
    """``(table, column, rowid, value)`` of every cell holding a JSON object."""
    out = []
    for table, (columns, rows) in sorted(tables.items()):
        for row in rows:
            for column, cell in zip(columns, row[1:], strict=True):
                if isinstance(cell, str) and cell.startswith("{"):
                    out.append((table, column, row[0], json.loads(cell)))
    return out


@FUZZ
@given(data=st.data(), value=st.sampled_from([1, "x", None, True, {"by": "auditor"}]))
def test_a_field_added_to_any_stored_json_is_found_or_changes_nothing(
    record, tmp_path, data, value
):
    # Found by this fuzz: the signature of a checkpoint covers its fields only, and a
    # field added to a stored checkpoint ("approved_by": ...) passed check() with the
    # key and was copied into compliance reports as part of the signed checkpoint.
    table, column, rowid, cell = data.draw(
        st.sampled_from(_json_cells(record["tables"])), label="cell"
    )
    where = data.draw(st.sampled_from(list(_objects(cell))), label="object")
    holder = cell
    for key in where:
        holder = holder[key]
    name = data.draw(st.sampled_from(["added", "approved_by", "zz"]), label="name")
    if name in holder:
        return
    holder[name] = value
    path = copy_store(record["pristine"], tmp_path)
    text = json.dumps(cell, sort_keys=True, separators=(",", ":"))
    statement = f"UPDATE {table} SET {column} = ? WHERE rowid = ?"
    if tamper(path, [(statement, (text, rowid))]):
        _assert_found_or_empty(path, record, f"{table}.{column} {where} + {name}")


def test_a_field_added_to_a_stored_or_kept_checkpoint_is_named(record, tmp_path):
    path = copy_store(record["pristine"], tmp_path)
    con = sqlite3.connect(path)
    seq, text = con.execute("SELECT seq, record FROM checkpoints").fetchone()
    con.close()
    checkpoint = dict(json.loads(text), approved_by="Chief Compliance Officer")
    edit = json.dumps(checkpoint, sort_keys=True, separators=(",", ":"))
    assert tamper(path, [("UPDATE checkpoints SET record = ? WHERE seq = ?", (edit, seq))])
    named = "field\\(s\\) approved_by are in no checkpoint and not under its signature"
    store = stp.stores.SQLiteStore(path, mode="ro")
    with pytest.raises(CorruptStoreError, match=f"checkpoint 1 is not readable: .*{named}"):
        store.verify()
    with pytest.raises(CorruptStoreError, match=named):
        store.check(public_key=record["key"].public_key())
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps(checkpoint))
    with pytest.raises(ValueError, match=named):
        stp.stores.SQLiteStore(record["pristine"], mode="ro").verify(
            record["key"].public_key(), checkpoint=kept
        )


def _respelled(value, how):
    """``value`` (a text cell) spelled otherwise, by ``how``; None where it is the same."""
    if how == "upper":
        out = value.upper()
    elif how == "lower":
        out = value.lower()
    elif how == "spaces":
        out = f" {value} "
    elif how == "newline":
        out = value + "\n"
    elif how == "utc_z":
        out = value.replace("+00:00", "Z")
    else:  # JSON text: the same value written otherwise
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        if how == "json_spaced":  # how the first stores wrote payloads (still accepted)
            out = json.dumps(parsed, sort_keys=True)
        elif how == "json_indented":
            out = json.dumps(parsed, sort_keys=True, indent=1)
        elif how == "json_unsorted":
            items = list(parsed.items())[::-1] if isinstance(parsed, dict) else None
            out = None if items is None else json.dumps(dict(items), separators=(",", ":"))
        else:  # "json_escaped": a letter of a member name as a \u escape
            at = value.find('"') + 1
            letter = value[at : at + 1]
            out = value[:at] + f"\\u{ord(letter):04x}" + value[at + 1 :] if letter else None
    return None if out == value else out


_HOW = ["upper", "lower", "spaces", "newline", "utc_z"]
_HOW += ["json_spaced", "json_indented", "json_unsorted", "json_escaped"]


@FUZZ
@given(data=st.data(), how=st.sampled_from(_HOW))
def test_any_text_cell_respelled_is_found_or_changes_nothing(record, tmp_path, data, how):
    """A text written otherwise (case, whitespace, a UTC time as ``Z``, JSON spaced,
    reordered or escaped) is found, or nothing reads it otherwise. The edits found
    harmless by an exhaustive run of this over every cell (session 66), and why:
    ``stp_meta.created_at``, ``schema_version.applied_at`` and ``sqlite_sequence`` are
    read by nothing; ``stp_meta.schema_version`` is read as an integer (``' 5 '`` is
    5); a stored checkpoint is read as JSON (its signature covers its fields, and a
    field added is named: see above), so its spacing and order change nothing; an
    event payload in the first stores' spacing (``json.dumps(payload,
    sort_keys=True)``) is accepted as theirs: only whitespace between tokens differs
    from the canonical text, which every JSON reader (``json_extract``, ``jsonb``)
    reads as the same value, so it is hashed as the same value. Every other edit is
    found, each with the record it names."""
    table = data.draw(st.sampled_from(sorted(record["tables"])), label="table")
    columns, rows = record["tables"][table]
    cells = [
        (row[0], column, cell)
        for row in rows
        for column, cell in zip(columns, row[1:], strict=True)
        if isinstance(cell, str)
    ]
    if not cells:
        return
    rowid, column, cell = data.draw(st.sampled_from(cells), label="cell")
    value = _respelled(cell, how)
    if value is None:
        return
    path = copy_store(record["pristine"], tmp_path)
    statement = f"UPDATE {table} SET {column} = ? WHERE rowid = ?"
    if tamper(path, [(statement, (value, rowid))]):
        _assert_found_or_empty(path, record, f"{table}.{column} {how}")


def _copied_row(columns, row, change):
    """The values of ``row`` for an INSERT of a copy: ``change`` None keeps them (a new
    rowid only), else the key column ``change`` is made another (an int + 100, a text
    with a letter appended)."""
    values = list(row[1:])
    if change is not None:
        i = columns.index(change)
        values[i] = values[i] + 100 if isinstance(values[i], int) else f"{values[i]}0"
    return values


_KEYS = ("seq", "leaf", "version", "run_id", "source_id", "sha256", "key")


@FUZZ
@given(data=st.data())
def test_any_row_copied_into_its_table_is_found_or_changes_nothing(record, tmp_path, data):
    """A row inserted as a copy of a stored one, under a new rowid or with one key
    column changed (a crafted row of that table), is found or read by nothing
    (a second ``sqlite_sequence`` row, an ``stp_meta`` key sktraceprop never reads)."""
    table = data.draw(st.sampled_from(sorted(record["tables"])), label="table")
    columns, rows = record["tables"][table]
    if not rows:
        return
    row = data.draw(st.sampled_from(rows), label="row")
    keys = [c for c in columns if c in _KEYS and isinstance(row[1 + columns.index(c)], int | str)]
    change = data.draw(st.sampled_from([None, *keys]), label="change")
    values = _copied_row(columns, row, change)
    holders = ", ".join("?" * (len(columns) + 1))
    insert = f"INSERT INTO {table} (rowid, {', '.join(columns)}) VALUES ({holders})"
    path = copy_store(record["pristine"], tmp_path)
    if tamper(path, [(insert, (10**6 + row[0], *values))]):
        _assert_found_or_empty(path, record, f"copy of {table} row {row[0]} ({change})")


def test_values_of_a_run_copied_under_another_run_id_are_named(record, tmp_path):
    # Found by the fuzz above: run_leaves rows under a run id the store does not hold
    # were read by nothing and checked by nothing (an erased value can be kept so).
    path = copy_store(record["pristine"], tmp_path)
    columns, rows = record["tables"]["run_leaves"]
    values = _copied_row(columns, rows[0], "run_id")
    insert = f"INSERT INTO run_leaves ({', '.join(columns)}) VALUES (?, ?, ?, ?)"
    assert tamper(path, [(insert, values)])
    with pytest.raises(CorruptStoreError, match=f"run {values[0]} has 1 value"):
        stp.stores.SQLiteStore(path, mode="ro").check(public_key=record["key"].public_key())
    _assert_found_or_empty(path, record, "run_leaves under another run id")
