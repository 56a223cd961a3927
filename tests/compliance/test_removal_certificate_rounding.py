"""Each removal in the report carries its certificate's float64 rounding bound.

A Newton correction is certified to ``tol`` only where its certificate plus a bound on
the certificate's own float64 rounding is within it (``unlearning/_rounding.py``); the
event records both. The report listed the certificate alone, so an auditor compared a
certificate of 7.9e-9 with tol=1e-8 and read it certified where the exact gradient was
2.45e-8. Truth: the event as the store holds it.
"""

import json
import warnings

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER, traced_frames


@pytest.fixture
def unlearned(hospitals, tmp_path):
    a, _, X, y = traced_frames(hospitals)
    X = X[["age", "bp"]].fillna(120.0)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
        unl.unlearn(sample_id=stp.row_ids(a)[:2])
    return unl, store


def test_each_removal_gives_its_certificate_rounding_as_its_event(unlearned, tmp_path):
    unl, store = unlearned
    event = unl.unlearning_log_[-1]
    assert event["certificate_rounding"] >= 0
    assert event["certificate"] + event["certificate_rounding"] <= unl.tol
    path = tmp_path / "report.json"
    report = compliance_report(unl, **DEPLOYER, output_path=path)
    (removal,) = report.to_dict()["record_keeping"]["removals"]
    assert removal["certificate"] == event["certificate"]
    assert removal["certificate_rounding"] == event["certificate_rounding"]
    assert verify(path, store=store)
    table = report.to_html().split("Removals (unlearning)")[1].split("Runs in the store")[0]
    assert f"float64 rounding bound: {event['certificate_rounding']} per row" in table


def test_a_report_that_lost_the_rounding_bound_fails_against_the_store(unlearned, tmp_path):
    unl, store = unlearned
    data = compliance_report(unl, **DEPLOYER).to_dict()
    del data["record_keeping"]["removals"][0]["certificate_rounding"]
    data["integrity"] = seal(body_of(data))
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.warns(UserWarning, match="only the report's own content was checked"):
        assert verify(path)  # (re-sealed: only the store tells)
    with pytest.raises(ReportVerificationError, match="removals/0"):
        verify(path, store=store)


def test_a_removal_whose_event_has_no_rounding_bound_lists_none(unlearned, tmp_path):
    """Events logged before the bound was measured: no field, the certificate alone."""
    unl, store = unlearned
    run_id = unl.run_id_
    store.append_event(
        "unlearning",
        {"method": "newton", "n_removed": 1, "sources": {"hospital_a": 1}, "certificate": 1e-9},
        run_id=run_id,
    )
    report = compliance_report(store=store, run_id=run_id, **DEPLOYER)
    removals = report.to_dict()["record_keeping"]["removals"]
    assert "certificate_rounding" in removals[0]
    assert "certificate_rounding" not in removals[-1]
    assert removals[-1]["certificate"] == 1e-9
