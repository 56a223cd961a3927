"""A compliance report reads the model's run as stored, and its removals, with the
model's lock let go.

The report held the model's lock (shared) while it loaded the run from the store and
read the store's removals: a refit or an unlearner's correction waited for a slow store's
reads, and logged calls (writers first) waited behind it. Now what is read of the model
(its run, its steps matched, its fingerprints) is read under the lock, the store with the
lock let go, and the lock's generation read again afterwards: a refit or correction at
that point runs at once, and the report, seeing it, is made again, of the new model. The
refit or correction is started by the test inside the store's read (a wrapper) and seen
to run to its end there (tests/_gate.start_until_stopped: no sleeps).
"""

from sklearn.base import clone

import sktraceprop as stp
from sktraceprop.compliance import _report_run, compliance_report
from sktraceprop.stores import SQLiteStore
from tests._gate import WAIT_S, start_until_stopped
from tests.compliance.conftest import DEPLOYER, logged_pipeline, traced_frames
from tests.compliance.test_report_refitted_in_place import _data, _fitted


def _started_inside(monkeypatch, name, target, locked):
    """Run ``target`` in another thread inside the report's first call of
    ``_report_run.<name>`` (a read of the store); returns ``[(waited, thread)]``."""
    read = getattr(_report_run, name)
    started = []

    def start_then_read(*args, **kwargs):
        if not started:
            thread, waited, _ = start_until_stopped(target, locked, "writer")
            started.append((waited, thread))
            if not waited:  # (one that waits for the report is joined after it)
                thread.join(WAIT_S)
        return read(*args, **kwargs)

    monkeypatch.setattr(_report_run, name, start_then_read)
    return started


def test_a_refit_while_the_run_is_loaded_runs_at_once_and_the_report_is_of_it(
    monkeypatch, tmp_path
):
    pipe = _fitted(SQLiteStore(tmp_path / "lineage.db"))
    first = pipe.lineage_.run_id
    X2, y2 = _data(1)
    started = _started_inside(monkeypatch, "_load", lambda: pipe.fit(X2, y2), [pipe])
    report = compliance_report(pipe, **DEPLOYER).to_dict()
    ((waited, refit),) = started
    refit.join(WAIT_S)
    assert not refit.is_alive()
    assert not waited  # before: it waited for the report's read of the run
    second = pipe.lineage_.run_id
    assert second != first
    assert report["model"]["run_id"] == second and report["model"]["fitted_object_matches_run"]
    assert [op["fingerprint"] for op in report["model"]["ops"]] == [
        op.fingerprint for op in pipe.lineage_.ops
    ]
    assert [s["source_id"] for s in report["sources"]] == ["report_in_place_1"]


def test_a_correction_while_the_removals_are_read_runs_at_once_and_is_reported(
    hospitals, monkeypatch, tmp_path
):
    """The model an earlier removal left is read; a second removal is made while the
    store's removals are read: what was read of the model and of the store disagree (a
    later removal is recorded), and the report is made again, of the model the second
    removal left, not refused."""
    a, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "unlearned.db")
    unlearner = stp.GradientCorrectionUnlearner(clone(logged_pipeline(store, X, y)))
    unlearner.fit(X, y)
    unlearner.unlearn(source_id="hospital_b")
    rows = stp.row_ids(a)[:1]  # (a row of the source kept)
    started = _started_inside(
        monkeypatch,
        "_removal_events",
        lambda: unlearner.unlearn(sample_id=rows),
        [unlearner.estimator_],
    )
    report = compliance_report(unlearner, **DEPLOYER).to_dict()
    ((waited, correction),) = started
    correction.join(WAIT_S)
    assert not correction.is_alive()
    assert not waited  # before: it waited for the report's read of the removals
    removals = [e for e in store.events() if e["kind"] == "unlearning"]
    assert len(removals) == 2
    model = report["model"]
    assert model["fitted_object_matches_run"] is False
    assert model["fitted_object_after_removal"]["seq"] == removals[-1]["seq"]
    monkeypatch.undo()
    again = compliance_report(unlearner, **DEPLOYER).to_dict()["model"]
    assert again == model
