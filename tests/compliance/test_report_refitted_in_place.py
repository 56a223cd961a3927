"""A compliance report of a traced pipeline that another thread refits in place after the
report matched it to its run.

The report matched the fitted steps to the model's run under the model's lock, then let
it go and read the store's record. Before, a refit in between ran at once: the report
was of the first run, said the fitted steps match it (``fitted_object_matches_run``),
and was dated after they had been refitted on other rows. The model is now held until
the report is sealed: the refit waits for it. The refit is started by the test at that
very point (a wrapper of the record's read) and seen waiting for the model's lock
(tests/_gate.start_until_stopped: no sleeps).
"""

import threading

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import _compliance_report, compliance_report
from sktraceprop.stores import MemoryStore
from tests._gate import WAIT_S, start_until_stopped

from .conftest import DEPLOYER


def _data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 2))
    return stp.from_numpy(X, f"report_in_place_{seed}"), X[:, 0] > 0


def _fitted():
    X1, y1 = _data(0)
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=MemoryStore(), log_predictions=True
    )
    pipe.fit(X1, y1).predict(X1[:3])
    return pipe


def test_a_refit_asked_for_while_the_record_is_read_waits_for_the_report(monkeypatch):
    pipe = _fitted()
    first, coef = pipe.lineage_.run_id, pipe[-1].coef_
    X2, y2 = _data(1)
    read = _compliance_report._read_record
    refits = []

    def refit_then_read(*args, **kwargs):
        refit, waited, _ = start_until_stopped(lambda: pipe.fit(X2, y2), [pipe], "refitter")
        refits.append(refit)
        assert waited  # (before: it ran to its end here, and the report went on)
        out = read(*args, **kwargs)
        # still held once the record is read: the steps are those of the first run
        assert pipe.lineage_.run_id == first and pipe[-1].coef_ is coef
        return out

    monkeypatch.setattr(_compliance_report, "_read_record", refit_then_read)
    model = compliance_report(pipe, **DEPLOYER).to_dict()["model"]
    (refit,) = refits
    refit.join(WAIT_S)
    assert not refit.is_alive()
    assert model["run_id"] == first and model["fitted_object_matches_run"] is True
    second = pipe.lineage_.run_id
    assert second != first  # the refit was made, after the report
    monkeypatch.undo()
    model = compliance_report(pipe, **DEPLOYER).to_dict()["model"]
    assert model["run_id"] == second and model["fitted_object_matches_run"] is True


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
