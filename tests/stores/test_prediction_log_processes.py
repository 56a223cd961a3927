"""Prediction logging from several processes into one SQLite store.

A model fitted and pickled in one process (``pickle`` and ``joblib``), loaded in fresh
processes that answer at the same time as the first one's threads: every call must be
one event, credited to the run and the fingerprint of the model that answered, on one
chain that verifies.
"""

import io
import multiprocessing
import pickle
import threading
from collections import Counter

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp

N_CALLS = 60


def _answer(blob, use_joblib, queue):
    """Load a pickled model and predict ``N_CALLS`` times; report any error."""
    try:
        model = joblib.load(io.BytesIO(blob)) if use_joblib else pickle.loads(blob)
        X = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
        for _ in range(N_CALLS):
            model.predict(X)
        queue.put(None)
    except Exception as exc:  # report to the parent rather than hang
        queue.put(repr(exc))


def _dump(model, use_joblib):
    if not use_joblib:
        return pickle.dumps(model)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def test_processes_and_threads_logging_predictions_lose_and_misattribute_nothing(tmp_path):
    path = str(tmp_path / "store.db")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    models = [
        stp.make_traced_pipeline(
            StandardScaler(),
            LogisticRegression(C=C),
            store=stp.stores.SQLiteStore(path),
            log_predictions=True,
        ).fit(X, y)
        for C in (0.1, 10.0)
    ]
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_answer, args=(_dump(model, use_joblib), use_joblib, queue))
        for model, use_joblib in ((models[0], False), (models[1], True))
    ]
    for p in procs:
        p.start()
    threads = [
        threading.Thread(target=lambda m=m: [m.predict(X[:3]) for _ in range(N_CALLS)])
        for m in models
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [queue.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert errors == [None, None]

    store = stp.stores.SQLiteStore(path)
    events = [e for e in store.events() if e["kind"] == "prediction"]
    credited = Counter((e["run_id"], e["payload"]["model_fingerprint"]) for e in events)
    expected = {(m.lineage_.run_id, m.lineage_.model_fingerprint): 2 * N_CALLS for m in models}
    assert credited == expected
    seqs = [e["seq"] for e in store.events()]
    assert seqs == sorted(set(seqs))
    assert store.verify() is True
