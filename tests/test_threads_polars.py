"""polars frames registered and fitted on in threads, and traced arrays' temporaries
reused in threads (the reuse reads a process-wide note of recent results,
``sktraceprop.arrays._elide.RECENT``).

The truth is each thread's own frame (its content digest computed alone, its cells by
position) and the plain NumPy result. ``sys.setswitchinterval(1e-6)`` makes a race
likely.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._polars_digest import polars_digest
from sktraceprop.arrays import _elide

pl = pytest.importorskip("polars")


def test_from_polars_and_polars_fits_in_threads(fast_switching):
    rng = np.random.default_rng(8)
    frames = []
    for k in range(8):
        n = 40 + k
        frames.append(
            pl.DataFrame(
                {
                    "key": np.arange(n) + k * 1000,
                    "a": rng.normal(size=n),
                    "y": np.arange(n) % 2,
                    "s": [f"t{k}_{i}" if i % 5 else None for i in range(n)],
                }
            )
        )
    frames.append(frames[0].clone())  # one content under two source ids
    digests = [polars_digest(f.select(["key", "a"])) for f in frames]
    store = stp.stores.MemoryStore()

    def job(k):
        f = frames[k]
        df = stp.from_polars(f, source_id=f"p{k}")
        X, y = df[["key", "a"]], df["y"]
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        rows = pipe.fit(X, y).trace(list(range(len(X))))
        direct = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        direct.fit(f.select(["key", "a"]), f["y"].to_numpy())
        run = store.load_run(direct.lineage_.run_id)
        return df, rows, {s.sha256 for s in run.sources.values()}

    with ThreadPoolExecutor(6) as pool:
        done = list(pool.map(job, range(len(frames))))
    for k, (df, rows, shas) in enumerate(done):
        f = frames[k]
        nulls = f["s"].is_null().to_numpy()
        assert np.array_equal(df["s"].isna().to_numpy(), nulls)
        assert df["s"][~nulls].tolist() == f["s"].drop_nulls().to_list()
        assert set(rows["source_id"]) == {f"p{k}"}
        keys = f["key"].to_numpy()
        assert np.array_equal(
            keys[rows["line"].to_numpy() - 1], df["key"].to_numpy()[rows["train_index"]]
        )
        assert digests[k] in shas
    assert store.verify()


@pytest.mark.skipif(not _elide.ENABLED, reason="temporaries reused on CPython 3.11-3.13")
def test_temporaries_reused_in_threads_are_each_threads_own(fast_switching):
    n = _elide.MIN_BYTES // 8 + 10
    bases = [np.random.default_rng(k).random(n) for k in range(6)]
    arrays = [stp.array(b, source_id=f"big{k}") for k, b in enumerate(bases)]

    def work(k):
        t, base = arrays[k], bases[k]
        wrong = 0
        for _ in range(30):
            y = t * 2 + 1
            named = t * 3
            z = named + 1  # a named array is never written in place
            w = 1 - t * 2
            held = [t * 5]
            q = held[0] + 1
            wrong += not np.array_equal(y, base * 2 + 1)
            wrong += not np.array_equal(named, base * 3)
            wrong += not np.array_equal(z, base * 3 + 1)
            wrong += not np.array_equal(w, 1 - base * 2)
            wrong += not np.array_equal(held[0], base * 5)
            wrong += not np.array_equal(q, base * 5 + 1)
            wrong += not np.array_equal(t, base)
        return wrong

    before = _elide.REUSED[0]
    with ThreadPoolExecutor(6) as pool:
        assert sum(pool.map(work, list(range(6)) * 2)) == 0
    assert _elide.REUSED[0] > before  # temporaries were reused, and never wrongly
