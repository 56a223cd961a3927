"""SQLiteStore on real files: corruption, tampering, opening, modes, permissions, schema 1."""

import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._fingerprint import SCHEME
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop.exceptions import (
    CorruptStoreError,
    StoreBusyError,
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
)
from sktraceprop.stores._chain import GENESIS, make_event
from sktraceprop.stores._codec import encode_ids
from tests.stores._store_helpers import fit_run


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _stamp(path):
    """The file's bytes and mtime, and its WAL's (a write lands there first; none = empty)."""
    wal = Path(f"{path}-wal")
    return _digest(path), Path(path).stat().st_mtime_ns, wal.read_bytes() if wal.exists() else b""


def _closed_store(tmp_path, name="audit.db"):
    """A store file with 3 runs and 3 events, every connection closed (no WAL left)."""
    path = tmp_path / name
    store = stp.stores.SQLiteStore(path)
    runs = [fit_run(store, seed=k) for k in range(3)]
    for k, run in enumerate(runs):
        store.append_event("unlearn", {"marker": f"EVENT-MARKER-{k}"}, run_id=run.run_id)
    store.close()
    assert not Path(f"{path}-wal").exists()  # everything is in the main file
    return path, runs


def _raw(path, *statements, keep_triggers_off=False):
    """Run statements as an attacker with write access: drop the triggers, write, and put
    the triggers back (unless ``keep_triggers_off``)."""
    con = sqlite3.connect(path)
    try:
        triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = triggers.fetchall()
        for name, _ in triggers:
            con.execute(f"DROP TRIGGER {name}")
        for statement, *args in statements:
            con.execute(statement, *args)
        if not keep_triggers_off:
            for _, definition in triggers:
                con.execute(definition)
        con.commit()
    finally:
        con.close()


def test_the_database_refuses_updates_and_deletes(tmp_path):
    path, runs = _closed_store(tmp_path)
    stp.stores.SQLiteStore(path).checkpoint(stp.signing.generate_key())
    con = sqlite3.connect(path)
    try:
        for statement in (
            "UPDATE events SET payload = '{}' WHERE seq = 1",
            "DELETE FROM events WHERE seq = 1",
            "UPDATE runs SET record = '{}'",
            "DELETE FROM runs",
            "UPDATE sources SET record = '{}'",
            "DELETE FROM checkpoints",
            "UPDATE stp_meta SET value = 'x' WHERE key = 'store_id'",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(statement)
    finally:
        con.close()
    assert stp.stores.SQLiteStore(path).verify()


def test_corrupt_and_foreign_files_are_refused_untouched(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 100)
    before = _digest(garbage)
    with pytest.raises(CorruptStoreError, match="not a SQLite database"):
        stp.stores.SQLiteStore(garbage)
    assert _digest(garbage) == before

    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE users (name TEXT)")
    con.execute("INSERT INTO users VALUES ('ada')")
    con.commit()
    con.close()
    before = _digest(foreign)
    with pytest.raises(CorruptStoreError, match="another application"):
        stp.stores.SQLiteStore(foreign)
    assert _digest(foreign) == before

    path, _ = _closed_store(tmp_path, "good.db")
    broken = tmp_path / "broken.db"
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page after the header
    broken.write_bytes(bytes(data))
    before = _digest(broken)
    with pytest.raises(CorruptStoreError):
        stp.stores.SQLiteStore(broken).list_runs()
    assert _digest(broken) == before


# -- opening never repairs ----------------------------------------------------------------------


@pytest.mark.parametrize("table", ["events", "runs", "sources", "checkpoints", "schema_version"])
def test_a_missing_table_is_corruption_and_the_file_is_left_alone(tmp_path, table):
    path, _ = _closed_store(tmp_path)
    _raw(path, (f"DROP TABLE {table}",), keep_triggers_off=True)
    before = _stamp(path)
    with pytest.raises(CorruptStoreError, match=f"missing table\\(s\\) {table}") as info:
        stp.stores.SQLiteStore(path)
    assert info.value.problems[0]["check"] == "schema"
    with pytest.raises(CorruptStoreError, match="missing table"):
        stp.stores.SQLiteStore(path, mode="ro")
    assert _stamp(path) == before  # byte for byte, and not even touched


def test_a_store_whose_tables_were_all_dropped_is_not_recreated(tmp_path):
    path, _ = _closed_store(tmp_path)
    con = sqlite3.connect(path)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        if name != "sqlite_sequence":
            con.execute(f"DROP TABLE {name}")
    con.commit()
    con.execute("VACUUM")
    con.close()
    before = _stamp(path)
    with pytest.raises(CorruptStoreError):
        stp.stores.SQLiteStore(path)
    assert _stamp(path) == before


def test_dropped_triggers_open_for_reading_but_refuse_writes(tmp_path):
    path, runs = _closed_store(tmp_path)
    _raw(path, keep_triggers_off=True)
    before = _stamp(path)
    store = stp.stores.SQLiteStore(path)
    assert store.load_run(runs[0].run_id) == runs[0]
    assert store.verify()  # the data is intact: only the guard is gone
    with pytest.raises(CorruptStoreError, match="trigger") as info:
        store.check(full=True)
    assert {p["check"] for p in info.value.problems} == {"schema"}
    with pytest.raises(CorruptStoreError, match="refuses writes.*append-only trigger"):
        store.append_event("review", {})
    with pytest.raises(CorruptStoreError, match="refuses writes"):
        fit_run(store)
    store.close()
    assert _stamp(path) == before


def test_a_new_store_in_a_missing_folder_or_a_missing_read_only_store(tmp_path):
    with pytest.raises(StoreNotFoundError, match="Create the folder first"):
        stp.stores.SQLiteStore(tmp_path / "no" / "such" / "folder.db")
    assert not (tmp_path / "no").exists()
    with pytest.raises(StoreNotFoundError, match="never creates"):
        stp.stores.SQLiteStore(tmp_path / "absent.db", mode="ro")
    assert not (tmp_path / "absent.db").exists()
    with pytest.raises(ValueError, match="mode must be"):
        stp.stores.SQLiteStore(tmp_path / "x.db", mode="w")


# -- bounded reads --------------------------------------------------------------------------------


_BOMB_SCRIPT = """
import resource, sys, time
import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError
store = stp.stores.SQLiteStore(sys.argv[1])
run_id = store.list_runs()["run_id"][0]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = []
for call in (lambda: store.load_run(run_id), lambda: store.check(full=True)):
    try:
        call()
        results.append("loaded")
    except CorruptStoreError as exc:
        results.append(str(exc)[:400])
grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(repr((results, grown_mb)))
"""


def test_a_decompression_bomb_is_refused_within_the_declared_size(tmp_path):
    path = tmp_path / "bomb.db"
    store = stp.stores.SQLiteStore(path)
    run = fit_run(store, n=200)
    store.close()
    # 2 GB of zero deltas in ~2 MB, in the encoding of the first store version
    deflate = zlib.compressobj(9)
    chunk = bytes(1 << 24)
    bomb = b"STPI1" + b"".join(deflate.compress(chunk) for _ in range(128)) + deflate.flush()
    assert len(bomb) < 3_000_000
    _raw(path, ("UPDATE runs SET row_ids = ? WHERE run_id = ?", (bomb, run.run_id)))
    out = subprocess.run(
        [sys.executable, "-c", _BOMB_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(stp.__file__).parents[1])},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    results, grown_mb = eval(out.stdout.strip())
    assert all("declared 200 ids" in r for r in results), results
    assert grown_mb < 64  # not the 2 GB the blob inflates to


def test_row_counts_that_disagree_are_corruption(tmp_path):
    path, runs = _closed_store(tmp_path)
    _raw(path, ("UPDATE runs SET n_samples = 1 WHERE run_id = ?", (runs[0].run_id,)))
    store = stp.stores.SQLiteStore(path)
    with pytest.raises(CorruptStoreError, match="its row says"):
        store.load_run(runs[0].run_id)
    with pytest.raises(CorruptStoreError) as info:
        stp.stores.SQLiteStore(path).check(full=False)
    assert [(p["check"], p.get("run_id")) for p in info.value.problems] == [
        ("runs", runs[0].run_id)
    ]


# -- SQLiteStore.check: real corruption, judged against the file's own bytes ------------------


def _schema(path):
    con = sqlite3.connect(path)
    try:
        roots = dict(con.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0"))
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
    finally:
        con.close()
    return roots, page_size


def _copy_with(path, name, edit):
    data = bytearray(path.read_bytes())
    edit(data)
    out = path.with_name(name)
    out.write_bytes(bytes(data))
    return out


def _wreck_page_holding(path, needle, name):
    """Overwrite the whole page that holds ``needle`` with a byte pattern."""
    roots, page_size = _schema(path)
    data = path.read_bytes()
    assert data.count(needle) == 1
    page = data.index(needle) // page_size  # 0-based
    # Not a page that the header-only open reads: page 1 (header and schema) and the meta
    # table that the open checks.
    opened = {roots[t] - 1 for t in ("stp_meta", "sqlite_autoindex_stp_meta_1")}
    assert page > 0 and page not in opened

    def edit(buf):
        buf[page * page_size : (page + 1) * page_size] = bytes(range(256)) * (page_size // 256)

    return _copy_with(path, name, edit)


def test_sqlite_check_sound_store_reports_and_leaves_file_alone(tmp_path):
    path, runs = _closed_store(tmp_path)
    store = stp.stores.SQLiteStore(path)
    before = _stamp(path)
    for full, pragma in ((True, "integrity_check"), (False, "quick_check")):
        report = store.check(full=full)
        assert report == {
            "path": str(path),
            "sqlite_check": pragma,
            "runs": 3,
            "sources": 3,
            "events": 9,  # a source and a run event per fit, and 3 unlearning events
            "checkpoints": 0,
            "chain_head": store.events()[-1]["hash"],
            "last_seq": 9,
            "signed_through": None,
            "key_fingerprint": None,
            "not_shown": store.check_integrity()["not_shown"],
            "erased_bytes_left": [],
            "times_set_back": [],
            "upgrades": [],  # created at this schema version
            "notes": [],
        }
    assert _stamp(path) == before
    # The store is still usable, and a run still in the WAL is checked too.
    extra = fit_run(store, seed=9)
    assert store.check()["runs"] == 4
    assert store.load_run(extra.run_id) == extra
    empty = stp.stores.SQLiteStore(tmp_path / "empty.db")
    assert empty.check()["chain_head"] == GENESIS
    assert empty.check()["runs"] == empty.check()["events"] == 0


def test_sqlite_check_finds_a_wrecked_data_page(tmp_path):
    path, _ = _closed_store(tmp_path)
    broken = _wreck_page_holding(path, b"EVENT-MARKER-1", "broken.db")
    before = _stamp(broken)

    # Opening with a full (or quick) check refuses the file and leaves it untouched.
    for level in ("full", "quick"):
        with pytest.raises(CorruptStoreError, match="not modified") as info:
            stp.stores.SQLiteStore(broken, check_on_open=level)
        pragma = "integrity_check" if level == "full" else "quick_check"
        assert pragma in {p["check"] for p in info.value.problems}
        assert _stamp(broken) == before

    # The default open reads only the header, schema and meta: it succeeds, and the runs
    # (on other pages) are still listed. The explicit check finds the damage.
    store = stp.stores.SQLiteStore(broken)
    assert len(store.list_runs()) == 3
    with pytest.raises(CorruptStoreError, match="integrity_check") as info:
        store.check(full=True)
    checks = {p["check"] for p in info.value.problems}
    assert "integrity_check" in checks and "hash_chain" in checks  # events live there
    with pytest.raises(CorruptStoreError, match="quick_check"):
        store.check(full=False)
    with pytest.raises(CorruptStoreError, match="refuses writes"):
        store.append_event("review", {})
    assert _digest(broken) == before[0]


def test_sqlite_check_full_matches_indexes_quick_does_not(tmp_path):
    path, runs = _closed_store(tmp_path)
    roots, page_size = _schema(path)
    index_page = roots["sqlite_autoindex_runs_1"] - 1
    needle = runs[1].run_id.encode()

    def edit(buf):  # change the last character of the run id in its index entry only
        start = buf.index(needle, index_page * page_size, (index_page + 1) * page_size)
        last = start + len(needle) - 1
        buf[last] = ord("0") if buf[last] != ord("0") else ord("1")

    broken = _copy_with(path, "index.db", edit)
    store = stp.stores.SQLiteStore(broken)
    with pytest.raises(CorruptStoreError) as info:
        store.check(full=True)
    integrity = [p for p in info.value.problems if p["check"] == "integrity_check"]
    assert integrity and "sqlite_autoindex_runs_1" in integrity[0]["message"]
    # quick_check does not match an index to its table; the run lookup still fails.
    with pytest.raises(CorruptStoreError) as info:
        stp.stores.SQLiteStore(broken).check(full=False)
    assert [(p["check"], p.get("run_id")) for p in info.value.problems] == [
        ("runs", runs[1].run_id)
    ]


def test_sqlite_check_names_a_run_whose_row_ids_were_edited_in_the_file(tmp_path):
    path, runs = _closed_store(tmp_path)
    blob = encode_ids(runs[2].row_ids)
    assert blob[5] == 0  # one run of consecutive lines: (start, length)

    def edit(buf):  # same length, so SQLite's own structures stay intact
        assert buf.count(blob) == 1
        start = buf.index(blob) + len(blob) - 16  # the run's first id
        buf[start] += 1

    broken = _copy_with(path, "blob.db", edit)
    before = _digest(broken)
    store = stp.stores.SQLiteStore(broken)
    assert store.load_run(runs[0].run_id) == runs[0]
    with pytest.raises(CorruptStoreError, match=f"run {runs[2].run_id} was altered"):
        store.load_run(runs[2].run_id)
    with pytest.raises(CorruptStoreError, match=runs[2].run_id) as info:
        stp.stores.SQLiteStore(broken).check(full=True)
    assert [(p["check"], p.get("run_id")) for p in info.value.problems] == [
        ("runs", runs[2].run_id)
    ]
    with pytest.raises(CorruptStoreError, match="altered"):
        stp.stores.SQLiteStore(broken).verify()  # the chain holds the run's digest
    assert _digest(broken) == before


@pytest.mark.parametrize(
    "tamper, seq, message",
    [
        ("""UPDATE events SET payload = '{"marker": "forged"}' WHERE seq = 6""", 6, "altered"),
        ("DELETE FROM events WHERE seq = 6", 7, "not linked"),
        ("UPDATE events SET payload = 'not json' WHERE seq = 6", 6, "not JSON"),
        ("UPDATE events SET kind = 'explain' WHERE seq = 7", 7, "altered"),
    ],
)
def test_sqlite_check_names_tampered_events(tmp_path, tamper, seq, message):
    path, _ = _closed_store(tmp_path)
    _raw(path, (tamper,))
    before = _stamp(path)
    with pytest.raises(CorruptStoreError, match=f"audit event {seq}"):
        stp.stores.SQLiteStore(path, check_on_open="quick")
    assert _stamp(path) == before
    store = stp.stores.SQLiteStore(path)
    with pytest.raises(CorruptStoreError, match=f"hash_chain: audit event {seq} ") as info:
        store.check(full=True)
    chain = [p for p in info.value.problems if p["check"] == "hash_chain"]
    assert {p["seq"] for p in chain} == {seq}
    assert any(message in p["message"] for p in chain)
    with pytest.raises(CorruptStoreError, match=f"event {seq}"):
        stp.stores.SQLiteStore(path).verify()


def test_sqlite_check_on_open_argument(tmp_path):
    path = tmp_path / "never.db"
    for bad in ("deep", "FULL", True, None, 1):
        with pytest.raises(ValueError, match="check_on_open must be one of 'header', 'quick'"):
            stp.stores.SQLiteStore(path, check_on_open=bad)
    assert not path.exists()  # refused before the file was touched
    store = stp.stores.SQLiteStore(path, check_on_open="full")  # a new file: nothing to check
    fit_run(store)
    assert len(stp.stores.SQLiteStore(path, check_on_open="full").list_runs()) == 1
    import pickle

    assert pickle.loads(pickle.dumps(store)).check_on_open == "full"
    path.unlink()
    with pytest.raises(StoreNotFoundError, match="is gone: .*never.db was removed"):
        store.check()


def test_sqlite_close_and_context_manager(tmp_path):
    path = tmp_path / "closing.db"
    with stp.stores.SQLiteStore(path) as store:
        run = fit_run(store, seed=0)
        assert Path(f"{path}-wal").exists()
    # leaving the block closed the connection: the WAL was checkpointed into the file
    assert not Path(f"{path}-wal").exists()
    # the store still works afterwards (a new connection is opened)
    assert store.load_run(run.run_id).run_id == run.run_id
    store.close()
    store.close()  # closing twice is harmless


def test_list_runs_names_a_corrupt_run_record(tmp_path):
    path, runs = _closed_store(tmp_path)
    _raw(path, ("UPDATE runs SET record = '{}' WHERE run_id = ?", (runs[1].run_id,)))
    store = stp.stores.SQLiteStore(path)
    with pytest.raises(CorruptStoreError, match=runs[1].run_id):
        store.list_runs()
    store.close()


# -- processes, pickles -------------------------------------------------------------------------


def _worker(path, seed, n_runs, queue):
    try:
        store = stp.stores.SQLiteStore(path)
        ids = [fit_run(store, seed=seed * 100 + k, n=30).run_id for k in range(n_runs)]
        queue.put(ids)
    except Exception as exc:  # report to the parent rather than hang
        queue.put(repr(exc))


def test_two_processes_create_and_write_one_sqlite_file(tmp_path):
    path = str(tmp_path / "shared.db")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(path, s, 8, queue)) for s in (1, 2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(isinstance(r, list) for r in results), results
    store = stp.stores.SQLiteStore(path)
    stored = set(store.list_runs()["run_id"])
    assert stored == set(results[0]) | set(results[1])
    assert len(stored) == 16
    assert store.check()["events"] == 32


def test_store_is_shared_by_clones_and_pickles(tmp_path):
    import copy
    import pickle

    sq = stp.stores.SQLiteStore(tmp_path / "p.db")
    assert copy.deepcopy(sq) is sq
    fit_run(sq)
    again = pickle.loads(pickle.dumps(sq))
    assert again.list_runs().equals(sq.list_runs())
    assert again.store_id == sq.store_id
    assert repr(sq).startswith("SQLiteStore(")


def test_a_busy_store_says_so_and_nothing_is_written(tmp_path):
    path = tmp_path / "busy.db"
    store = stp.stores.SQLiteStore(path, timeout=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError, match="is busy: .*timeout=0.2 s.*Retry") as info:
            store.append_event("review", {})
        assert info.value.retryable
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.events() == []
    assert store.append_event("review", {})["seq"] == 1


# -- read-only files, folders and mode ------------------------------------------------------------

_READONLY_SCRIPT = """
import json, os, sys
import sktraceprop as stp
path, warm_path, run_id = sys.argv[1:4]
# Load every module these calls use, then (as root) drop privileges so that file
# permissions apply.
warm = stp.stores.SQLiteStore(warm_path)
warm.load_run(run_id); warm.verify(); warm.check(); warm.list_runs(); warm.events()
warm.close()
try:
    stp.stores.SQLiteStore(warm_path, mode="ro").append_event("x", {})
except Exception:
    pass
if os.geteuid() == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
out = {}
ro = stp.stores.SQLiteStore(path, mode="ro")
out["runs"] = ro.list_runs()["run_id"].tolist()
out["loaded"] = ro.load_run(ro.list_runs()["run_id"][0]).run_id
out["files"] = sorted(os.listdir(os.path.dirname(path)))
out["verify"] = ro.verify()
out["check"] = ro.check()["runs"]
for label, call in (
    ("ro_write", lambda: ro.append_event("x", {})),
    ("rw_write", lambda: stp.stores.SQLiteStore(path).append_event("x", {})),
):
    try:
        call()
        out[label] = "written"
    except Exception as exc:
        out[label] = [type(exc).__name__, str(exc)]
print(json.dumps(out))
"""


def test_a_store_on_a_read_only_folder_is_audited_in_ro_mode(tmp_path):
    # A folder every user can reach (pytest's own are private to their owner): the
    # check runs as an unprivileged user when the tests run as root.
    base = Path(tempfile.mkdtemp())
    os.chmod(base, 0o755)
    folder = base / "media"
    folder.mkdir()
    path, runs = _closed_store(folder)
    warm, _ = _closed_store(tmp_path, "warm.db")
    warm_run = stp.stores.SQLiteStore(warm).list_runs()["run_id"][0]
    before = _digest(path)
    os.chmod(path, 0o444)
    os.chmod(folder, 0o555)
    try:
        out = subprocess.run(
            [sys.executable, "-c", _READONLY_SCRIPT, str(path), str(warm), warm_run],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(stp.__file__).parents[1])},
            timeout=300,
        )
        assert _digest(path) == before
    finally:
        os.chmod(folder, 0o755)
        os.chmod(path, 0o644)
        shutil.rmtree(base)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["runs"] == [r.run_id for r in runs]
    assert result["loaded"] == runs[0].run_id and result["verify"] and result["check"] == 3
    assert result["files"] == ["audit.db"]  # no -wal or -shm could be, or was, created
    assert result["ro_write"][0] == "StorePermissionError"
    assert "mode='ro'" in result["ro_write"][1]
    assert result["rw_write"][0] == "StorePermissionError"
    assert "mode='ro'" in result["rw_write"][1]


_LIVE_READER_SCRIPT = """
import json, os, sys
import sktraceprop as stp
path, warm_path = sys.argv[1:3]
warm = stp.stores.SQLiteStore(warm_path)
warm.events(); warm.verify(); warm.check(); warm.list_runs(); warm.close()
if os.geteuid() == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
ro = stp.stores.SQLiteStore(path, mode="ro")
print(json.dumps({"events": len(ro.events())}), flush=True)
sys.stdin.readline()  # the writer appends
out = {}
for name, call in (
    ("events", lambda: len(ro.events())),
    ("verify", lambda: ro.verify()),
    ("check", lambda: ro.check()["events"]),
    ("runs", lambda: len(ro.list_runs())),
):
    try:
        out[name] = call()
    except Exception as exc:
        out[name] = [type(exc).__name__, str(exc)]
print(json.dumps(out), flush=True)
"""


def test_a_read_only_handle_sees_what_another_process_writes_since(tmp_path):
    # In a folder the reader cannot write, no -shm file can be made: mode='ro' opened
    # the file immutable (SQLite then assumes it never changes), and went on answering
    # from the file as it was when another process wrote to it (3 events and verify()
    # True while the store held 6; check() said 3 too).
    if os.geteuid() != 0:
        pytest.skip("needs root, to write where the reader cannot")
    base = Path(tempfile.mkdtemp())
    os.chmod(base, 0o755)
    folder = base / "media"
    folder.mkdir()
    path, runs = _closed_store(folder)
    warm, _ = _closed_store(tmp_path, "warm.db")
    os.chmod(folder, 0o555)
    try:
        reader = subprocess.Popen(
            [sys.executable, "-c", _LIVE_READER_SCRIPT, str(path), str(warm)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(stp.__file__).parents[1])},
        )
        first = json.loads(reader.stdout.readline() or "null")
        writer = stp.stores.SQLiteStore(path)  # root writes in the folder all the same
        for k in range(3):
            writer.append_event("review", {"k": k})
        out, err = reader.communicate("\n", timeout=300)
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(base)
    assert first == {"events": 3}, err
    assert json.loads(out) == {"events": 6, "verify": True, "check": 12, "runs": len(runs)}


def test_ro_mode_refuses_writes_and_fits_before_fitting(tmp_path):
    path, runs = _closed_store(tmp_path)
    store = stp.stores.SQLiteStore(path, mode="ro")
    assert repr(store).endswith("mode='ro')")
    assert store.load_run(runs[0].run_id) == runs[0]
    with pytest.raises(StorePermissionError, match="read-only"):
        store.append_event("review", {})
    with pytest.raises(StorePermissionError, match="read-only"):
        fit_run(store)
    with pytest.raises(StorePermissionError):
        store.checkpoint(stp.signing.generate_key())
    assert len(stp.stores.SQLiteStore(path).list_runs()) == 3


# -- stores of schema version 1 (sktraceprop 0.1) ----------------------------------------------

_V1_SCHEMA = [
    "CREATE TABLE stp_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    """CREATE TABLE sources (source_id TEXT NOT NULL, sha256 TEXT NOT NULL, record TEXT NOT NULL,
        parents BLOB, PRIMARY KEY (source_id, sha256))""",
    """CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT UNIQUE NOT NULL,
        created_at TEXT NOT NULL, estimator TEXT NOT NULL, n_samples INTEGER NOT NULL,
        record TEXT NOT NULL, row_ids BLOB NOT NULL, input_row_ids BLOB)""",
    """CREATE TABLE events (seq INTEGER PRIMARY KEY, run_id TEXT, created_at TEXT NOT NULL,
        kind TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
]


def _v1_ids(ids):
    """Version 1's encoding: zlib over int64 deltas."""
    ids = np.asarray(ids, dtype=np.int64)
    return b"STPI1" + zlib.compress(np.diff(ids, prepend=np.int64(0)).astype("<i8").tobytes(), 1)


def _v1_store(path, runs, old_layout, parents_as_pairs=None):
    """Write ``runs`` as sktraceprop 0.1 did (old layout: ``code << 40``, small codes)."""
    con = sqlite3.connect(path)
    for ddl in _V1_SCHEMA:
        con.execute(ddl)
    con.executemany(
        "INSERT INTO stp_meta VALUES (?, ?)", [("app", "sktraceprop"), ("schema_version", "1")]
    )
    con.execute("INSERT INTO schema_version VALUES (1, '2025-01-01T00:00:00+00:00')")
    bits = 40 if old_layout else 36
    for run in runs:
        codes = {c: (k + 5 if old_layout else c) for k, c in enumerate(sorted(run.sources))}

        def repack(ids, codes=codes):
            ids = np.asarray(ids, dtype=np.int64)
            new = np.array([codes.get(int(c), 0) for c in codes_of(ids)], dtype=np.int64)
            return np.where(ids == 0, 0, (new << np.int64(bits)) | lines_of(ids))

        record = run.to_dict()
        for key in ("purpose", "name", "tags", "parent_run_id", "fingerprint_scheme"):
            record.pop(key)  # (0.1 recorded none of these)
        for entry in record["sources"]:
            entry["code"] = codes[entry["code"]]
        for source in run.sources.values():
            if source.parents is None:
                continue
            if old_layout:
                flat = np.column_stack(
                    parents_as_pairs(source.parents) if parents_as_pairs else _pairs(source)
                )
                blob = _v1_ids(repack(flat.ravel()))
            else:
                flat = source.parents.to_flat()
                n = source.n_rows + 1
                blob = _v1_ids(np.concatenate([flat[:n], repack(flat[n:])]))
            con.execute(
                "INSERT OR IGNORE INTO sources VALUES (?, ?, ?, ?)",
                (source.source_id, source.sha256, json.dumps(source.to_dict()), blob),
            )
        con.execute(
            "INSERT INTO runs (run_id, created_at, estimator, n_samples, record, row_ids, "
            "input_row_ids) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                run.run_id,
                run.created_at,
                run.estimator,
                run.n_samples,
                json.dumps(record),
                _v1_ids(repack(run.row_ids)),
                None,
            ),
        )
    prev = GENESIS
    for seq in (1, 2):
        event = make_event(prev, "unlearning", {"n": seq}, runs[0].run_id, seq)
        con.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq, event["run_id"], event["created_at"], event["kind"], f'{{"n": {seq}}}', prev)
            + (event["hash"],),
        )
        prev = event["hash"]
    con.commit()
    con.close()


def _pairs(source):
    """A merge source's (left, right) parent columns (one parent per side per row)."""
    counts = np.diff(source.parents.indptr)
    assert (counts == 2).all()
    ids = source.parents.ids.reshape(-1, 2)
    return ids[:, 0], ids[:, 1]


def _merged_run():
    left = stp.from_pandas(pd.DataFrame({"k": [1, 2, 3], "a": [0.1, 0.5, 0.9]}), "left")
    right = stp.from_pandas(pd.DataFrame({"k": [2, 3, 1], "b": [1.0, 2.0, 3.0]}), "right")
    merged = stp.merge(left, right, on="k")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    return pipe.fit(merged[["a", "b"]], [0, 1, 0]).lineage_


def _where(frame):
    return frame[["source_id", "line"]].to_numpy().tolist()


@pytest.mark.parametrize("old_layout", [True, False])
def test_schema_1_stores_are_read_with_their_ids_repacked(tmp_path, old_layout):
    plain = fit_run(None, n=50, seed=3)
    merged = _merged_run()
    path = tmp_path / "v1.db"
    _v1_store(path, [plain, merged], old_layout)
    before = _stamp(path)
    store = stp.stores.SQLiteStore(path)
    assert store.schema_version == 1
    for run in (plain, merged):
        loaded = store.load_run(run.run_id)
        assert _where(loaded.rows()) == _where(run.rows())  # same files, same lines
        assert loaded.n_samples == run.n_samples
        if not old_layout:
            np.testing.assert_array_equal(loaded.row_ids, run.row_ids)
        # 0.1 predates fingerprint scheme 2 (and its stores take no new runs): scheme 1
        assert run.fingerprint_scheme == SCHEME and loaded.fingerprint_scheme == 1
        assert store._fingerprint_scheme(run.run_id) == 1  # (read alone, the same)
    assert store.list_runs()["run_id"].tolist() == [plain.run_id, merged.run_id]
    assert [e["payload"] for e in store.events()] == [{"n": 1}, {"n": 2}]
    with pytest.raises(StoreError, match="not under the chain") as info:
        store.verify()
    assert not isinstance(info.value, CorruptStoreError)
    with pytest.raises(StoreError, match="schema version 1"):
        store.append_event("review", {})
    with pytest.raises(StoreError, match="schema version 1"):
        fit_run(store)
    assert store.checkpoints() == []
    assert stp.stores.SQLiteStore(path, check_on_open="full").schema_version == 1
    # the runs can be copied into a current store, which puts them under its chain
    new = stp.stores.SQLiteStore(tmp_path / "v2.db")
    for run_id in store.list_runs()["run_id"]:
        new.save_run(store.load_run(run_id))
    assert new.verify() and len(new.list_runs()) == 2
    # ... and keep the scheme they were read with, now in their records under the chain
    assert {new.load_run(r).fingerprint_scheme for r in new.list_runs()["run_id"]} == {1}
    store.close()
    assert _stamp(path) == before


def test_schema_1_runs_valid_in_both_layouts_are_refused(tmp_path):
    path = tmp_path / "ambiguous.db"
    _v1_store(path, [fit_run(None, n=10)], old_layout=False)
    con = sqlite3.connect(path)
    (record,) = con.execute("SELECT record FROM runs").fetchone()
    record = json.loads(record)
    source = record["sources"][0]
    # code 16 << 36 is code 1 << 40: give the run sources with both codes
    record["sources"] = [dict(source, code=1), dict(source, code=16, source_id="other")]
    ids = (np.int64(16) << np.int64(36)) | np.arange(1, 11)
    con.execute("UPDATE runs SET record = ?, row_ids = ?", (json.dumps(record), _v1_ids(ids)))
    con.commit()
    con.close()
    store = stp.stores.SQLiteStore(path)
    run_id = store.list_runs()["run_id"][0]
    with pytest.raises(StoreError, match="both the old .* and the current .* layout"):
        store.load_run(run_id)


def test_schema_1_outer_merge_parents_are_refused_not_guessed(tmp_path):
    merged = _merged_run()
    path = tmp_path / "outer.db"

    def with_a_missing_side(parents):
        left, right = parents.ids.reshape(-1, 2).T.copy()
        right[0] = 0  # an outer-merge row without a right parent
        return left, right

    _v1_store(path, [merged], old_layout=True, parents_as_pairs=with_a_missing_side)
    with pytest.raises(StoreError, match="rounded"):
        stp.stores.SQLiteStore(path).load_run(merged.run_id)


def test_schema_1_ids_naming_no_source_are_corruption(tmp_path):
    path = tmp_path / "bad.db"
    run = fit_run(None, n=10)
    _v1_store(path, [run], old_layout=False)
    _raw(path, ("UPDATE runs SET row_ids = ?", (_v1_ids(np.arange(1, 11)),)))
    with pytest.raises(CorruptStoreError, match="name no source"):
        stp.stores.SQLiteStore(path).load_run(run.run_id)


def test_the_command_lists_and_traces_a_schema_1_store_with_a_note(tmp_path, capsys):
    # runs and trace verify a store before printing from it; a schema-1 store, whose
    # runs are outside any chain, is read with a note saying so (not refused)
    from sktraceprop.cli import main

    run = fit_run(None, n=10)
    path = tmp_path / "v1.db"
    _v1_store(path, [run], old_layout=False)
    before = _stamp(path)
    assert main(["runs", str(path)]) == 0
    out, err = capsys.readouterr()
    assert run.run_id in out and "note:" in err and "not under the chain" in err
    assert main(["trace", str(path), "--run", run.run_id, "--row", "0"]) == 0
    out, err = capsys.readouterr()
    assert f"training row 0 of run {run.run_id}" in out and "schema version 1" in err
    assert _stamp(path) == before


def test_an_immutable_read_during_which_the_file_changed_returns_nothing(tmp_path):
    # an immutable connection reads pages of the file as it finds them: a write by
    # another process during a read could mix two states of the store
    from sktraceprop.stores import _sqlite_files

    path, _ = _closed_store(tmp_path)
    store = stp.stores.SQLiteStore(path, mode="ro")
    uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
    con = sqlite3.connect(uri, uri=True, factory=_sqlite_files.Immutable, isolation_level=None)
    con.stamp = _sqlite_files.stamp(str(path))  # as on read-only media (see the test above)
    store._local.con, store._local.pid = con, os.getpid()
    store._local.file = _sqlite_files.file_id(str(path))
    writer = stp.stores.SQLiteStore(path)
    with pytest.raises(StoreBusyError, match="changed while this handle read it"):
        with store._snapshot():
            rows = list(store._raw_events())
            writer.append_event("review", {"during": True})
    assert len(rows) == 9  # what it read before, never returned
    assert [e["payload"] for e in store.events()][-1] == {"during": True}  # opened anew
