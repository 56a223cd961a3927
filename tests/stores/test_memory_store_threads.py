"""A MemoryStore read and written by several threads at once."""

import sys
import threading

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp


def test_reads_of_every_source_while_other_threads_save_runs():
    # save_run reads every stored source version (_raw_sources) while other threads'
    # runs add sources: the read walked the dict unlocked and raised "dictionary
    # changed size during iteration" (seen in tests/test_threads_polars.py).
    store = stp.stores.MemoryStore()
    rng = np.random.default_rng(0)
    errors, stop = [], threading.Event()

    def save(worker):
        try:
            for i in range(15):
                frame = pd.DataFrame(rng.normal(size=(20, 2)), columns=["a", "b"])
                frame = stp.from_pandas(frame, f"w{worker}_{i}")
                y = np.arange(20) % 2
                est = stp.TracedEstimator(LogisticRegression(), store=store)
                est.fit(frame, y)
        except Exception as exc:  # noqa: BLE001 (the test reports it)
            errors.append(exc)

    def read():
        try:
            while not stop.is_set():
                store._raw_sources()
                store._raw_run_list()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        readers = [threading.Thread(target=read) for _ in range(2)]
        writers = [threading.Thread(target=save, args=(w,)) for w in range(3)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join()
        stop.set()
        for t in readers:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(store._raw_sources()) == 45
