"""A compliance report of a model in use, asked for while another thread refits it.

The report reads the model's run, then matches the fitted steps to it. Before, a refit
between the two had the report refuse the model as "changed since fit" (its old run
matched against its new steps): a model refitted by the book, refused at random. The
refit is started by the test at that very point (a wrapper of the matching), so the
interleaving is certain; the report must be of one run, matched to its own steps.
"""

import threading

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import _compliance_report, _report_run, compliance_report
from sktraceprop.exceptions import ComplianceError
from sktraceprop.stores import MemoryStore
from tests._gate import WAIT_S, start_until_stopped

from .conftest import DEPLOYER


def _data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 2))
    return stp.from_numpy(X, f"report_refit_{seed}"), X[:, 0] > 0


def test_a_refit_while_the_report_matches_the_model_waits_for_the_match(monkeypatch):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=MemoryStore(), log_predictions=True
    )
    pipe.fit(X1, y1).predict(X1[:3])
    first = pipe.lineage_.run_id
    match = _report_run.step_matches
    refits = []

    def refit_then_match(estimator, run):
        if not refits:  # (the first match only)
            # it waits for the match, where the model is held
            refit, waited, _ = start_until_stopped(lambda: pipe.fit(X2, y2), [pipe], "refitter")
            refits.append(refit)
            assert waited
        return match(estimator, run)

    monkeypatch.setattr(_report_run, "step_matches", refit_then_match)
    report = compliance_report(pipe, **DEPLOYER)
    (refit,) = refits
    refit.join(30)
    second = pipe.lineage_.run_id
    assert second != first  # the refit was made, after the report's match
    # it ran once the match let the model go, before the report's record was read to
    # its end: the report, seeing it, was made again, of the refitted model
    model = report.to_dict()["model"]
    assert model["run_id"] == second and model["fitted_object_matches_run"] is True


@pytest.mark.parametrize(
    "module, name",
    [(_report_run, "step_matches"), (_compliance_report, "_read_record")],
    ids=["while-matched", "before-the-record-is-read"],
)
def test_a_search_refitted_during_the_report_is_refused(monkeypatch, module, name):
    # the search holds no lock: its refit assigns a new best_estimator_ (and stores its
    # run) while the report describes the one it read. Before: a report of the old
    # model's run, made after the search had put the new one in use, with no error.
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    )
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(X1, y1)
    search.predict(X1[:3])
    first = search.best_estimator_
    truth = compliance_report(search, **DEPLOYER).to_dict()["model"]["run_id"]
    assert truth == first.lineage_.run_id
    original = getattr(module, name)
    refits = []

    def refit_then(*args, **kwargs):
        if not refits:  # another thread refits the search, to the end (it waits for nothing)
            refit = threading.Thread(target=lambda: search.fit(X2, y2), name="refitter")
            refit.start()
            refit.join(WAIT_S)
            assert not refit.is_alive()
            refits.append(refit)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, refit_then)
    with pytest.raises(ComplianceError, match="refitted while the report was made"):
        compliance_report(search, **DEPLOYER)
    assert refits and search.best_estimator_ is not first
    monkeypatch.undo()
    # asked again, the report is of the model the search holds now
    run_id = compliance_report(search, **DEPLOYER).to_dict()["model"]["run_id"]
    assert run_id == search.best_estimator_.lineage_.run_id != truth


def test_a_search_whose_refit_has_not_fitted_its_new_model_yet_is_refused_as_such():
    # scikit-learn's search puts a clone in best_estimator_, then fits it: a report in
    # between (the refit in another thread) was told to "fit a traced estimator with a
    # store first", as if the search had never been fitted
    X1, y1 = _data(0)
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    )
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(X1, y1)
    search.predict(X1[:3])
    fitted = search.best_estimator_
    search.best_estimator_ = clone(fitted)  # (where the refit stands before its fit)
    with pytest.raises(ComplianceError, match="best_estimator_ of this GridSearchCV is not"):
        compliance_report(search, **DEPLOYER)
    search.best_estimator_ = fitted  # (its fit done)
    run_id = compliance_report(search, **DEPLOYER).to_dict()["model"]["run_id"]
    assert run_id == fitted.lineage_.run_id
