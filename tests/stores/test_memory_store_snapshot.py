"""A MemoryStore's snapshot is one state of the store, read with its lock let go.

The snapshot held the store's lock while it was read; it is now taken under the lock
(``_memory_view``) and read without it: another thread's write runs at once and is not
seen by the reads in the snapshot (events, runs, prediction salts), which stay of one
state that verifies; the next snapshot sees it.
"""

import threading

from sktraceprop.stores import MemoryStore
from tests._gate import WAIT_S
from tests.compliance.test_report_memory_store_unlocked import _Signalled
from tests.compliance.test_report_refitted_in_place import _data, _fitted


def _in_thread(store, target):
    """Run ``target()`` in another thread to its end, or until it waits for the store's
    lock (said by the lock: no timeout guessed); it must not wait."""
    waited, done = threading.Event(), threading.Event()
    if not isinstance(store._lock, _Signalled):
        store._lock = _Signalled(store._lock, waited)
    store._lock.waited = waited

    def run():
        try:
            target()
        finally:
            done.set()
            waited.set()

    thread = threading.Thread(target=run, name="writer")
    thread.start()
    assert waited.wait(WAIT_S)
    assert done.is_set(), "the write waited for the snapshot's lock"
    thread.join(WAIT_S)


def test_writes_during_a_snapshot_run_at_once_and_are_not_read_in_it():
    store = MemoryStore()
    pipe = _fitted(store)  # (its calls logged: an event and a salt each)
    X, _ = _data(0)
    X2, y2 = _data(1)
    with store._snapshot():
        events, salts = store._raw_events(), store._raw_prediction_salts()
        runs = store._raw_run_list()
        _in_thread(store, lambda: pipe.predict(X[:4]))
        _in_thread(store, lambda: pipe.fit(X2, y2))
        assert store._raw_events() == events and store._raw_prediction_salts() == salts
        assert store._raw_run_list() == runs
        assert store._raw_run(pipe.lineage_.run_id) is None  # (stored after it was taken)
        assert store._raw_event(len(events) + 1) is None
        assert store.verify() is not None  # (the state read is whole: its chain verifies)
    now = store._raw_events()
    assert len(now) > len(events) and len(store._raw_prediction_salts()) == len(salts) + 1
    assert store._raw_run(pipe.lineage_.run_id) is not None
    assert store.verify() is not None


def test_an_erasure_of_calls_during_a_snapshot_is_not_read_in_it():
    store = MemoryStore()
    pipe = _fitted(store)
    X, _ = _data(0)
    pipe.predict(X[:2])
    calls = [e["seq"] for e in store.events(kind="prediction")]
    with store._snapshot():
        salts = store._raw_prediction_salts()
        assert set(calls) <= set(salts)
        _in_thread(store, lambda: store.erase_predictions(X[:2], reason="asked"))
        assert store._raw_prediction_salts() == salts
        assert store.verify() is not None
    assert calls[-1] not in store._raw_prediction_salts()
    assert store.verify() is not None
