"""A compliance report of a model in use, asked for while another thread refits it.

The report reads the model's run, then matches the fitted steps to it. Before, a refit
between the two had the report refuse the model as "changed since fit" (its old run
matched against its new steps): a model refitted by the book, refused at random. The
refit is started by the test at that very point (a wrapper of the matching), so the
interleaving is certain; the report must be of one run, matched to its own steps.
"""

import threading

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import _report_run, compliance_report
from sktraceprop.stores import MemoryStore

from .conftest import DEPLOYER


def _data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 2))
    return stp.from_numpy(X, f"report_refit_{seed}"), X[:, 0] > 0


def test_a_refit_while_the_report_matches_the_model_waits_for_the_report(monkeypatch):
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
        refit = threading.Thread(target=lambda: pipe.fit(X2, y2))
        refit.start()
        refit.join(0.5)  # (it waits for the report, where the model is held)
        refits.append(refit)
        return match(estimator, run)

    monkeypatch.setattr(_report_run, "step_matches", refit_then_match)
    report = compliance_report(pipe, **DEPLOYER)
    (refit,) = refits
    refit.join(30)
    assert report.to_dict()["model"]["run_id"] == first
    assert pipe.lineage_.run_id != first  # the refit was made, after the report's match
