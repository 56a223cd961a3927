"""A compliance report of a traced pipeline that another thread refits in place while
the report reads the store's record.

The report matches the fitted steps to the model's run under the model's lock. It then
held the lock until the report was sealed: a refit waited for the whole report, the
verification of the store's chain included. Before that, it let the lock go and read the
record with nothing checked after: the report was of the first run, said the fitted steps
match it, and was dated after they had been refitted on other rows. Now the record is
read with the lock let go, and the lock's generation is read again under it once that is
done: a refit runs at once, and the report, seeing it, is made again, of the new run. The
refit is started by the test at that very point (a wrapper of the chain's verification)
and seen to run to its end there (tests/_gate.start_until_stopped: no sleeps).
"""

import threading

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import _compliance_report, compliance_report
from sktraceprop.exceptions import ComplianceError
from sktraceprop.stores import MemoryStore, SQLiteStore
from tests._gate import WAIT_S, start_until_stopped

from .conftest import DEPLOYER


def _data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 2))
    return stp.from_numpy(X, f"report_in_place_{seed}"), X[:, 0] > 0


def _fitted(store=None):
    X1, y1 = _data(0)
    pipe = stp.make_traced_pipeline(
        StandardScaler(),
        LogisticRegression(),
        store=MemoryStore() if store is None else store,
        log_predictions=True,
    )
    pipe.fit(X1, y1).predict(X1[:3])
    return pipe


def _refit_while_verified(monkeypatch, pipe, X, y, times=1):
    """Refit ``pipe`` on ``X, y`` in another thread inside the report's verification of
    the store's chain, the first ``times`` times it runs; returns the refits' outcomes
    (whether each waited for a lock, its thread)."""
    verified = _compliance_report.verified_chain_events
    refits = []

    def refit_then_verify(*args, **kwargs):
        if len(refits) < times:
            refit, waited, _ = start_until_stopped(lambda: pipe.fit(X, y), [pipe], "refitter")
            refits.append((waited, refit))
            if not waited:  # (one that waits for the report is joined after it)
                refit.join(WAIT_S)
        return verified(*args, **kwargs)

    monkeypatch.setattr(_compliance_report, "verified_chain_events", refit_then_verify)
    return refits


def assert_report_of_refit(monkeypatch, report, pipe, first, before=None):
    """``report`` is of the refitted model all through (its run, steps, sources and a
    record read after the refit stored its run), and equal, but for its time, to a
    report made with no refit under way (``monkeypatch`` undone); returns its dict."""
    second = pipe.lineage_.run_id
    assert second != first
    data = report.to_dict()
    assert data["model"]["run_id"] == second and data["model"]["fitted_object_matches_run"]
    assert [op["fingerprint"] for op in data["model"]["ops"]] == [
        op.fingerprint for op in pipe.lineage_.ops
    ]
    assert [s["source_id"] for s in data["sources"]] == ["report_in_place_1"]
    assert second in {e["run_id"] for e in data["events"] if e["kind"] == "store.run"}
    if before is not None:  # checks on the store before the second report is made
        before(data)
    monkeypatch.undo()
    again = compliance_report(pipe, **DEPLOYER).to_dict()
    assert again["model"] == data["model"] and again["sources"] == data["sources"]
    return data


def test_a_refit_while_the_record_is_read_runs_at_once_and_the_report_is_of_one_model(
    monkeypatch, tmp_path
):
    # (a SQLite store in WAL mode: its read of the chain does not hold writers back; a
    # MemoryStore's: tests/compliance/test_report_memory_store_unlocked.py)
    pipe = _fitted(SQLiteStore(tmp_path / "lineage.db"))
    first = pipe.lineage_.run_id
    X2, y2 = _data(1)
    refits = _refit_while_verified(monkeypatch, pipe, X2, y2)
    report = compliance_report(pipe, **DEPLOYER)
    ((waited, refit),) = refits
    refit.join(WAIT_S)
    assert not waited  # before: it waited for the whole report
    # the report is of the refitted model, all through
    assert_report_of_refit(monkeypatch, report, pipe, first)


def test_a_model_refitted_at_every_read_of_the_record_is_refused(monkeypatch, tmp_path):
    pipe = _fitted(SQLiteStore(tmp_path / "lineage.db"))
    X2, y2 = _data(1)
    refits = _refit_while_verified(monkeypatch, pipe, X2, y2, times=3)
    with pytest.raises(ComplianceError, match="refitted .*3 times while its report"):
        compliance_report(pipe, **DEPLOYER)
    for _, refit in refits:
        refit.join(WAIT_S)
    assert [waited for waited, _ in refits] == [False] * 3


def test_logged_calls_while_the_record_is_read_are_not_held(monkeypatch):
    # calls share the model's lock with the report: they run beside it
    pipe = _fitted()
    first = pipe.lineage_.run_id
    X1, _ = _data(0)
    read = _compliance_report._read_record
    calls = pipe.store.events(kind="prediction")

    def predict_then_read(*args, **kwargs):
        caller = threading.Thread(target=lambda: pipe.predict(X1[:5]), name="caller")
        caller.start()
        caller.join(WAIT_S)
        assert not caller.is_alive()
        return read(*args, **kwargs)

    monkeypatch.setattr(_compliance_report, "_read_record", predict_then_read)
    model = compliance_report(pipe, **DEPLOYER).to_dict()["model"]
    assert model["run_id"] == first
    assert len(pipe.store.events(kind="prediction")) == len(calls) + 1
