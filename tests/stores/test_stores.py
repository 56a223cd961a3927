import hashlib
import multiprocessing
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError, StoreError, UnknownRunError
from sktraceprop.stores._base import decode_ids, encode_ids


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    if request.param == "memory":
        return stp.stores.MemoryStore()
    return stp.stores.SQLiteStore(tmp_path / "store.db")


def _fit(store, n=60, seed=0, source="s"):
    rng = np.random.default_rng(seed)
    X = stp.from_numpy(rng.normal(size=(n, 3)), f"{source}{seed}")
    y = (X["x0"] > 0).astype(int)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    return pipe.fit(X, y).lineage_


def test_save_load_list(store):
    first = _fit(store, seed=0)
    second = _fit(store, seed=1, n=40)
    assert store.load_run(first.run_id) == first
    assert store.load_run(second.run_id) == second
    runs = store.list_runs()
    assert runs["run_id"].tolist() == [first.run_id, second.run_id]
    assert runs["n_samples"].tolist() == [60, 40]
    assert runs["sources"].tolist() == [["s0"], ["s1"]]
    with pytest.raises(UnknownRunError, match="no run 'nope'"):
        store.load_run("nope")


def test_runs_are_append_only(store):
    run = _fit(store)
    with pytest.raises(StoreError, match="append-only"):
        store.save_run(run)
    assert len(store.list_runs()) == 1


def test_merge_parents_survive_the_store(store):
    import pandas as pd

    left = stp.from_pandas(pd.DataFrame({"k": [1, 2, 3], "a": [0.1, 0.5, 0.9]}), "left")
    right = stp.from_pandas(pd.DataFrame({"k": [2, 3, 1], "b": [1.0, 2.0, 3.0]}), "right")
    merged = stp.merge(left, right, on="k")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    pipe.fit(merged[["a", "b"]], [0, 1, 0])
    loaded = store.load_run(pipe.lineage_.run_id)
    assert loaded == pipe.lineage_
    rows = loaded.rows()
    assert sorted(rows["source_id"].unique()) == ["left", "right"]
    assert len(rows) == 6


def test_event_hash_chain(store):
    e1 = store.append_event("unlearn", {"rows": [1, 2]}, run_id="r1")
    e2 = store.append_event("explain", {"n": 3})
    assert e2["prev_hash"] == e1["hash"]
    assert [e["seq"] for e in store.events()] == [1, 2]
    assert store.events(run_id="r1")[0]["payload"] == {"rows": [1, 2]}
    assert store.verify()


def test_sqlite_tampering_is_detected(tmp_path):
    path = tmp_path / "audit.db"
    store = stp.stores.SQLiteStore(path)
    store.append_event("unlearn", {"rows": [1]})
    store.append_event("unlearn", {"rows": [2]})
    con = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE events SET payload = '{}' WHERE seq = 1")
    con.execute("DROP TRIGGER events_append_only_update")
    con.execute("""UPDATE events SET payload = '{"rows": [3]}' WHERE seq = 1""")
    con.commit()
    con.close()
    with pytest.raises(CorruptStoreError, match="event 1"):
        stp.stores.SQLiteStore(path).verify()


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


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

    good = tmp_path / "good.db"
    store = stp.stores.SQLiteStore(good)
    _fit(store)
    del store
    broken = tmp_path / "broken.db"
    data = bytearray(good.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page after the header
    broken.write_bytes(bytes(data))
    before = _digest(broken)
    with pytest.raises(CorruptStoreError):
        stp.stores.SQLiteStore(broken).list_runs()
    assert _digest(broken) == before


def test_row_id_encoding_roundtrip():
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 2**62, size=1000, dtype=np.int64)
    np.testing.assert_array_equal(decode_ids(encode_ids(ids)), ids)
    runs = (np.int64(7) << 36) | np.arange(1, 100_001, dtype=np.int64)
    assert len(encode_ids(runs)) < 0.01 * runs.nbytes  # consecutive lines compress away
    with pytest.raises(CorruptStoreError):
        decode_ids(b"STPI1garbage")


def _worker(path, seed, n_runs, queue):
    try:
        store = stp.stores.SQLiteStore(path)
        ids = [_fit(store, seed=seed * 100 + k, n=30).run_id for k in range(n_runs)]
        queue.put(ids)
    except Exception as exc:  # report to the parent rather than hang
        queue.put(repr(exc))


def test_two_processes_write_one_sqlite_file(tmp_path):
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
    stored = set(stp.stores.SQLiteStore(path).list_runs()["run_id"])
    assert stored == set(results[0]) | set(results[1])
    assert len(stored) == 16


def test_store_is_shared_by_clones_and_pickles(tmp_path):
    import copy
    import pickle

    mem = stp.stores.MemoryStore()
    assert copy.deepcopy(mem) is mem
    _fit(mem)
    restored = pickle.loads(pickle.dumps(mem))
    assert restored.list_runs()["run_id"].tolist() == mem.list_runs()["run_id"].tolist()
    sq = stp.stores.SQLiteStore(tmp_path / "p.db")
    _fit(sq)
    again = pickle.loads(pickle.dumps(sq))
    assert again.list_runs().equals(sq.list_runs())
    assert repr(sq).startswith("SQLiteStore(")


# -- SQLiteStore.check: real corruption, judged against the file's own bytes ------------------


def _closed_store(tmp_path, name="audit.db"):
    """A store file with 3 runs and 3 events, every connection closed (no WAL left)."""
    path = tmp_path / name
    store = stp.stores.SQLiteStore(path)
    runs = [_fit(store, seed=k) for k in range(3)]
    for k, run in enumerate(runs):
        store.append_event("unlearn", {"marker": f"EVENT-MARKER-{k}"}, run_id=run.run_id)
    store.close()
    assert not Path(f"{path}-wal").exists()  # everything is in the main file
    return path, runs


def _schema(path):
    con = sqlite3.connect(path)
    try:
        roots = dict(con.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0"))
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
    finally:
        con.close()
    return roots, page_size


def _stamp(path):
    """The file's bytes and mtime, and its WAL's (a write lands there first; none = empty)."""
    wal = Path(f"{path}-wal")
    return _digest(path), path.stat().st_mtime_ns, wal.read_bytes() if wal.exists() else b""


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
    # tables that the open checks and the first write touches.
    opened = {roots[t] - 1 for t in ("stp_meta", "sqlite_autoindex_stp_meta_1", "schema_version")}
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
            "events": 3,
            "chain_head": store.events()[-1]["hash"],
        }
    assert _stamp(path) == before
    # The store is still usable, and a run still in the WAL is checked too.
    extra = _fit(store, seed=9)
    assert store.check()["runs"] == 4
    assert store.load_run(extra.run_id) == extra
    empty = stp.stores.SQLiteStore(tmp_path / "empty.db")
    assert empty.check()["chain_head"] == "0" * 64
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
    # (on other pages) still load. The explicit check finds the damage.
    store = stp.stores.SQLiteStore(broken)
    assert len(store.list_runs()) == 3
    with pytest.raises(CorruptStoreError, match="integrity_check") as info:
        store.check(full=True)
    checks = {p["check"] for p in info.value.problems}
    assert "integrity_check" in checks and "hash_chain" in checks  # events live there
    with pytest.raises(CorruptStoreError, match="quick_check"):
        store.check(full=False)
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
        store.check(full=False)
    assert [(p["check"], p.get("run_id")) for p in info.value.problems] == [
        ("runs", runs[1].run_id)
    ]


def test_sqlite_check_names_a_run_whose_row_ids_do_not_decode(tmp_path):
    path, runs = _closed_store(tmp_path)
    blob = encode_ids(runs[2].row_ids)

    def edit(buf):  # same length, so SQLite's own structures stay intact
        assert buf.count(blob) == 1
        start = buf.index(blob) + len(b"STPI1") + 2
        buf[start : start + 8] = b"\x00" * 8

    broken = _copy_with(path, "blob.db", edit)
    before = _digest(broken)
    store = stp.stores.SQLiteStore(broken)
    assert store.load_run(runs[0].run_id) == runs[0]
    with pytest.raises(CorruptStoreError, match=f"run {runs[2].run_id}"):
        store.load_run(runs[2].run_id)
    with pytest.raises(CorruptStoreError, match=runs[2].run_id) as info:
        store.check(full=True)
    assert [(p["check"], p.get("run_id")) for p in info.value.problems] == [
        ("runs", runs[2].run_id)
    ]
    assert store.verify()  # the hash chain alone does not see it
    assert _digest(broken) == before


@pytest.mark.parametrize(
    "tamper, seq, message",
    [
        ("""UPDATE events SET payload = '{"marker": "forged"}' WHERE seq = 2""", 2, "altered"),
        ("DELETE FROM events WHERE seq = 2", 3, "not linked"),
        ("UPDATE events SET payload = 'not json' WHERE seq = 2", 2, "not JSON"),
        ("UPDATE events SET kind = 'explain' WHERE seq = 3", 3, "altered"),
    ],
)
def test_sqlite_check_names_tampered_events(tmp_path, tamper, seq, message):
    path, _ = _closed_store(tmp_path)
    con = sqlite3.connect(path)  # an attacker with write access drops the guard
    con.execute("DROP TRIGGER events_append_only_update")
    con.execute("DROP TRIGGER events_append_only_delete")
    con.execute(tamper)
    con.commit()
    con.close()
    before = _stamp(path)
    with pytest.raises(CorruptStoreError, match=f"audit event {seq}"):
        stp.stores.SQLiteStore(path, check_on_open="quick")
    assert _stamp(path) == before
    store = stp.stores.SQLiteStore(path)
    with pytest.raises(CorruptStoreError, match=f"hash_chain: audit event {seq} ") as info:
        store.check(full=True)
    assert [(p["check"], p["seq"]) for p in info.value.problems] == [("hash_chain", seq)]
    assert message in info.value.problems[0]["message"]
    with pytest.raises(CorruptStoreError, match=f"event {seq}"):
        store.verify()


def test_sqlite_check_cross_checks_the_runs_table(tmp_path):
    path, runs = _closed_store(tmp_path)
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER runs_append_only_update")
    con.execute("UPDATE runs SET n_samples = 1 WHERE seq = 1")
    con.commit()
    con.close()
    with pytest.raises(CorruptStoreError, match="runs table says") as info:
        stp.stores.SQLiteStore(path).check(full=False)
    assert [(p["check"], p.get("run_id")) for p in info.value.problems] == [
        ("runs", runs[0].run_id)
    ]


def test_sqlite_check_on_open_argument(tmp_path):
    path = tmp_path / "never.db"
    for bad in ("deep", "FULL", True, None, 1):
        with pytest.raises(ValueError, match="check_on_open must be one of 'header', 'quick'"):
            stp.stores.SQLiteStore(path, check_on_open=bad)
    assert not path.exists()  # refused before the file was touched
    store = stp.stores.SQLiteStore(path, check_on_open="full")  # a new file: nothing to check
    _fit(store)
    assert len(stp.stores.SQLiteStore(path, check_on_open="full").list_runs()) == 1
    import pickle

    assert pickle.loads(pickle.dumps(store)).check_on_open == "full"
    path.unlink()
    with pytest.raises(StoreError, match="does not exist"):
        store.check()


def test_sqlite_close_and_context_manager(tmp_path):
    path = tmp_path / "closing.db"
    with stp.stores.SQLiteStore(path) as store:
        run = _fit(store, seed=0)
        assert Path(f"{path}-wal").exists()
    # leaving the block closed the connection: the WAL was checkpointed into the file
    assert not Path(f"{path}-wal").exists()
    # the store still works afterwards (a new connection is opened)
    assert store.load_run(run.run_id).run_id == run.run_id
    store.close()
    store.close()  # closing twice is harmless


def test_list_runs_names_a_corrupt_run_record(tmp_path):
    path, runs = _closed_store(tmp_path)
    con = sqlite3.connect(path)
    try:
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            con.execute(f"DROP TRIGGER {name}")
        con.execute("UPDATE runs SET record = '{}' WHERE run_id = ?", (runs[1].run_id,))
        con.commit()
    finally:
        con.close()
    store = stp.stores.SQLiteStore(path)
    with pytest.raises(CorruptStoreError, match=runs[1].run_id):
        store.list_runs()
    store.close()
