"""One store handle shared by threads that fit and predict at once, on every backend.

A service fits one model per hospital in a thread pool and answers ``predict`` from
worker threads, every model writing to one store handle (SQLite and PostgreSQL keep a
connection per thread). The truth: every thread's run is stored with that thread's own
rows, every logged call is one event (with that call's input, as the same calls made one
by one log it), and the hash chain verifies.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def _pipe(store, **kw):
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store, **kw)


def _read(tmp_path, k):
    rng = np.random.default_rng(k)
    frame = pd.DataFrame({"key": np.arange(30) + 1000 * k, "b": rng.normal(size=30)})
    frame["y"] = np.arange(30) % 2
    frame.to_csv(tmp_path / f"t{k}.csv", index=False)
    df = stp.read_csv(tmp_path / f"t{k}.csv", source_id=f"t{k}")
    return df[["key", "b"]], df["y"]


def test_threads_fitting_and_predicting_into_one_store(store, tmp_path):
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:

        def fit(k):
            X, y = _read(tmp_path, k)
            return X, _pipe(store, log_predictions=True).fit(X, y)

        with ThreadPoolExecutor(4) as ex:
            fitted = list(ex.map(fit, range(6)))

        def ask(i):
            model = fitted[i % len(fitted)][1]
            rows = pd.DataFrame({"key": [float(i)], "b": [0.5 * i]})
            return [model.predict, model.predict_proba][i % 2](rows)

        n = 60
        with ThreadPoolExecutor(6) as ex:
            list(ex.map(ask, range(n)))
    finally:
        sys.setswitchinterval(before)
    for X, model in fitted:
        run = store.load_run(model.lineage_.run_id)
        np.testing.assert_array_equal(run.row_ids, X.index.to_numpy())
    events = store.events(kind="prediction")
    assert len(events) == n
    by_run = {model.lineage_.run_id: k for k, (_, model) in enumerate(fitted)}
    counts = pd.Series([by_run[e["run_id"]] for e in events]).value_counts()
    assert counts.to_dict() == {k: n // len(fitted) for k in range(len(fitted))}
    assert store.verify()
