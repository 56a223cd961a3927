import hashlib
import multiprocessing
import sqlite3

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
    runs = (np.int64(7) << 40) | np.arange(1, 100_001, dtype=np.int64)
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
