"""Stores whose runs hold fingerprints of scheme 4 (before scheme 5).

``data/fingerprint4/store.db`` was written by sktraceprop at commit f8229cf (scheme 4:
the contents of a cache a user class fills hashed) by ``make_fingerprint4.py``: a
pipeline whose first step is the user transformer ``fixture_cache.Memo``, whose
``transform`` fills its class-level dict ``_seen``. Refitted now, its logistic
regression (no user code) matches by the current scheme, and ``Memo`` only by scheme 4
(scheme 5 names the cache by its type): not a false alarm, not a silent match, and every
consumer says so.
"""

import copy
import json
import shutil
import warnings
from pathlib import Path

import pytest

import sktraceprop as stp
from sktraceprop._lineage._current import check_unchanged, step_matches
from sktraceprop._lineage._fingerprint import SCHEME, fingerprint, fingerprint_v4
from sktraceprop._lineage._fingerprint_match import SCHEME_4_NOTE, matching_scheme
from sktraceprop._lineage._fingerprint_schemes import EARLIER_NOTES, NOTES
from sktraceprop.compliance import compliance_report, find_predictions, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._verify import FORMAT_VERSION
from sktraceprop.exceptions import LineageWarning, ReportVerificationError
from tests.stores._old_fingerprint_stores import (
    maker_module,
    refit,
)
from tests.stores._store_helpers import DEPLOYER

DATA = Path(__file__).parent / "data" / "fingerprint4"


@pytest.fixture
def fixture_module():
    with maker_module(DATA, "make_fingerprint4") as module:
        yield module


def _clear_cache(pipe):
    type(pipe.steps[0][1])._seen.clear()  # as in the process that wrote the store


def _refit(tmp_path, maker, log_predictions=True):
    return refit(
        DATA, tmp_path, maker, scheme=4, log_predictions=log_predictions, before_fit=_clear_cache
    )


def test_the_stored_fingerprints_are_scheme_4s_of_the_same_steps(tmp_path, fixture_module):
    _, stored, pipe, _ = _refit(tmp_path, fixture_module)
    recorded = {op.name: op.fingerprint for op in stored.ops}
    step = pipe.named_steps["memo"]
    # the independent truth: what sktraceprop at f8229cf stored, for the same steps
    assert fingerprint_v4(step) == recorded["memo"] != fingerprint(step)
    assert matching_scheme(step, recorded["memo"]) == 4
    model = pipe.named_steps["logisticregression"]
    assert fingerprint(model) == recorded["logisticregression"]  # no user code: unchanged
    assert matching_scheme(model, recorded["logisticregression"]) == SCHEME


def test_an_old_run_with_a_class_cache_is_said_to_match_by_scheme_4(
    tmp_path, fixture_module, capsys
):
    from sktraceprop.cli import main

    store, stored, pipe, df = _refit(tmp_path, fixture_module)
    assert step_matches(pipe) == ([], ["memo"], [4])
    with pytest.warns(LineageWarning, match="scheme 4"):
        check_unchanged(pipe, "testing")
    X = df[["a", "b"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        pipe.predict(X)  # the fit's shape: the cache as at fit, so scheme 4's value too
    (event,) = store.events(stored.run_id, kind="prediction")
    assert event["payload"]["matched_by_old_fingerprint_scheme"] == ["memo"]
    assert event["payload"]["old_fingerprint_schemes"] == [4]
    assert "changed_since_fit" not in event["payload"]
    found = find_predictions(store, X)
    assert found["old_fingerprint_schemes"].tolist() == [[4]]
    assert main(["predictions", str(store.path)]) == 0
    assert f"step(s) memo: {SCHEME_4_NOTE}" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        report = compliance_report(pipe, **DEPLOYER)
    data = report.to_dict()
    assert data["report"]["format_version"] == FORMAT_VERSION == 14
    assert data["model"]["fitted_object_matches_run"] is True
    assert data["model"]["fitted_object_match_caveat"] == f"step(s) memo: {SCHEME_4_NOTE}"
    assert data["model"]["fingerprint_scheme"] == 4
    assert data["model"]["fingerprint_scheme_note"] == NOTES[4]
    logged = data["record_keeping"]["predictions"]
    assert logged["calls_matched_by_fingerprint_scheme_4"] == 1
    assert logged["calls_matched_by_fingerprint_scheme_3"] == 0
    assert logged["calls_matched_by_old_fingerprint_scheme"] == 0
    (why,) = [a["why"] for a in report.articles if a["article"] == "26(5)"]
    assert "1 call came from a model that matched its run only by fingerprint scheme 4" in why
    assert "fingerprint scheme 4 only" in report.to_html()
    assert verify(report, store=store)


def test_the_model_after_predicts_is_scheme_4s_changed_and_scheme_5s_same(
    tmp_path, fixture_module
):
    """The defect on the stored run: after a predict of another shape the step no
    longer matches its scheme-4 record (a false alarm that record cannot avoid: it holds
    the cache's contents at fit; refitting records scheme 5); a run recorded now keeps
    matching, while a constant changed is seen."""
    _, _, pipe, df = _refit(tmp_path, fixture_module, log_predictions=False)
    step = pipe.named_steps["memo"]
    before, before_v4 = fingerprint(step), fingerprint_v4(step)
    pipe.predict(df[["a", "b"]].iloc[:3])
    assert fingerprint_v4(step) != before_v4
    assert step_matches(pipe)[0] == ["memo"]  # the old record: changed, as scheme 4 says
    assert fingerprint(step) == before
    cls = type(step)
    try:
        cls.SCALE = 5.0
        assert fingerprint(step) != before
    finally:
        cls.SCALE = 2.0


def test_a_report_of_scheme_4_in_its_words_of_then_still_verifies(tmp_path):
    """``report.json`` (f8229cf, format 13) describes scheme 4 as the current scheme;
    it verifies against its store as written, while a report made now of the same run
    says what scheme 4 cannot see."""
    shutil.copyfile(DATA / "store.db", tmp_path / "store.db")
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    written = json.loads((DATA / "report.json").read_text(encoding="utf-8"))
    assert written["report"]["format_version"] == 13
    assert written["model"]["fingerprint_scheme_note"] in EARLIER_NOTES[4]
    assert written["model"]["fingerprint_scheme_note"] != NOTES[4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (format 13 is not the newest)
        assert verify(written, store=store)
    now = compliance_report(store=store, run_id=written["model"]["run_id"], **DEPLOYER)
    assert now.to_dict()["model"]["fingerprint_scheme_note"] == NOTES[4]
    assert (
        "calls_matched_by_fingerprint_scheme_4" in now.to_dict()["record_keeping"]["predictions"]
    )
    edited = copy.deepcopy(written)
    edited["model"]["fingerprint_scheme_note"] = NOTES[3]
    edited = {**body_of(edited), "integrity": seal(body_of(edited))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert verify(edited)
        with pytest.raises(ReportVerificationError, match="fingerprint_scheme_note differs"):
            verify(edited, store=store)
