"""A compliance report of a model whose store is a MemoryStore: a refit, or an
unlearner's correction, while the report verifies the store's chain runs at once.

A MemoryStore's snapshot held its lock for the whole read: the report's verification of
the chain (every event hashed) kept a refit's write of its run waiting to its end. Now
the snapshot is taken under the lock and read with it let go (``_memory_view``): the
write runs at once, the report's read stays of one state of the store (its chain still
verifies), and the report, seeing the model changed (the model lock's generation), is
made again, of the new model. The report is held inside its verification (an event,
no sleep); a thread that waits for the store's lock says so (no timeout guessed).
"""

import threading

from sklearn.base import clone

import sktraceprop as stp
from sktraceprop.compliance import _chain_read, compliance_report
from sktraceprop.stores import MemoryStore
from tests._gate import WAIT_S
from tests.compliance.conftest import DEPLOYER, logged_pipeline, traced_frames
from tests.compliance.test_report_refitted_in_place import (
    _data,
    _fitted,
    assert_report_of_refit,
)


class _Signalled:
    """A store's lock that sets ``waited`` when a thread has to wait for it."""

    def __init__(self, lock, waited):
        self._lock, self.waited = lock, waited

    def acquire(self, blocking=True, timeout=-1):
        if self._lock.acquire(False):
            return True
        if not blocking:
            return False
        self.waited.set()
        return self._lock.acquire(True, timeout)

    def release(self):
        self._lock.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _during_verification(monkeypatch, store, target):
    """Run ``target()`` in another thread while the report is held inside its first
    verification of the chain (at its first event), until it returned or waits for the
    store's lock; returns ``[(waited, thread, seen)]``, ``seen`` the events the report's
    snapshot reads once it returned."""
    waited, done = threading.Event(), threading.Event()
    store._lock = _Signalled(store._lock, waited)
    add = _chain_read._Reader.add
    started = []

    def run():
        try:
            target()
        finally:
            done.set()
            waited.set()  # (wakes the report: done is read first)

    def held_then_add(reader, *args, **kwargs):
        if not started:
            thread = threading.Thread(target=run, name="writer")
            thread.start()
            assert waited.wait(WAIT_S)  # (returned, or waits for the store's lock)
            stuck = not done.is_set()
            if not stuck:
                thread.join(WAIT_S)
            started.append((stuck, thread, len(store._raw_events())))
        return add(reader, *args, **kwargs)

    monkeypatch.setattr(_chain_read._Reader, "add", held_then_add)
    return started


def test_a_refit_while_the_chain_is_verified_runs_at_once_and_the_report_is_of_it(
    monkeypatch,
):
    store = MemoryStore()
    pipe = _fitted(store)
    first = pipe.lineage_.run_id
    before = len(store.events(include_store_events=True))
    X2, y2 = _data(1)
    started = _during_verification(monkeypatch, store, lambda: pipe.fit(X2, y2))
    report = compliance_report(pipe, **DEPLOYER)
    ((waited, refit, seen),) = started
    refit.join(WAIT_S)
    assert not refit.is_alive()
    assert not waited  # before: it waited for the report's whole read of the store
    # the report's snapshot read the store as it was when taken: not the refit's events
    assert seen == before < len(store.events(include_store_events=True))

    def verified(data):
        assert report.verify(store=store) is True
        assert store.verify() is not None

    assert_report_of_refit(monkeypatch, report, pipe, first, before=verified)


def test_a_correction_while_the_chain_is_verified_runs_at_once_and_is_reported(
    hospitals, monkeypatch
):
    """The model an earlier removal left; a second removal is made while the report
    verifies the chain: the report is made again, of the model the second left."""
    a, _, X, y = traced_frames(hospitals)
    store = MemoryStore()
    unlearner = stp.GradientCorrectionUnlearner(clone(logged_pipeline(store, X, y)))
    unlearner.fit(X, y)
    unlearner.unlearn(source_id="hospital_b")
    rows = stp.row_ids(a)[:1]  # (a row of the source kept)
    started = _during_verification(monkeypatch, store, lambda: unlearner.unlearn(sample_id=rows))
    report = compliance_report(unlearner, **DEPLOYER)
    ((waited, correction, _),) = started
    correction.join(WAIT_S)
    assert not correction.is_alive()
    assert not waited
    removals = [e for e in store.events() if e["kind"] == "unlearning"]
    assert len(removals) == 2
    model = report.to_dict()["model"]
    assert model["fitted_object_matches_run"] is False
    assert model["fitted_object_after_removal"]["seq"] == removals[-1]["seq"]
    assert report.verify(store=store) is True
    monkeypatch.undo()
    assert compliance_report(unlearner, **DEPLOYER).to_dict()["model"] == model


def test_a_write_in_the_snapshot_s_own_thread_is_seen_by_its_reads():
    # (the lock was re-entrant: a thread that wrote inside its snapshot read its write)
    store = MemoryStore()
    pipe = _fitted(store)
    with store._snapshot():
        n = len(store._raw_events())
        X2, y2 = _data(1)
        pipe.fit(X2, y2)
        assert len(store._raw_events()) > n
        assert store._raw_run(pipe.lineage_.run_id) is not None
