"""Stores whose runs hold fingerprints of scheme 3 (before scheme 4).

``data/fingerprint3/store.db`` was written by sktraceprop at commit d276ca6 (scheme 3:
the attributes of user classes other than functions named, not hashed) by
``make_fingerprint3.py``: a pipeline whose first step is the user transformer
``fixture_classes.Clip``, which reads its class constant ``LIMIT``. Refitted now, its
logistic regression (no user code) matches by the current scheme, and ``Clip`` only by
scheme 3, which cannot see the constant: not a false alarm, not a silent match, and
every consumer says so.
"""

import copy
import json
import shutil
import warnings
from pathlib import Path

import pytest

import sktraceprop as stp
from sktraceprop._lineage._current import check_unchanged, step_matches
from sktraceprop._lineage._fingerprint import SCHEME, fingerprint, fingerprint_v3
from sktraceprop._lineage._fingerprint_match import SCHEME_3_NOTE, matching_scheme
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

DATA = Path(__file__).parent / "data" / "fingerprint3"


@pytest.fixture
def fixture_module():
    with maker_module(DATA, "make_fingerprint3") as module:
        yield module


def _refit(tmp_path, maker, log_predictions=True):
    return refit(DATA, tmp_path, maker, scheme=3, log_predictions=log_predictions)


def test_the_stored_fingerprints_are_scheme_3s_of_the_same_steps(tmp_path, fixture_module):
    _, stored, pipe, _ = _refit(tmp_path, fixture_module)
    recorded = {op.name: op.fingerprint for op in stored.ops}
    step = pipe.named_steps["clip"]
    # the independent truth: what sktraceprop at d276ca6 stored, for the same steps
    assert fingerprint_v3(step) == recorded["clip"] != fingerprint(step)
    assert matching_scheme(step, recorded["clip"]) == 3
    model = pipe.named_steps["logisticregression"]
    assert fingerprint(model) == recorded["logisticregression"]  # no user code: unchanged
    assert matching_scheme(model, recorded["logisticregression"]) == SCHEME


def test_an_old_run_with_a_class_constant_is_said_to_match_by_scheme_3(
    tmp_path, fixture_module, capsys
):
    from sktraceprop.cli import main

    store, stored, pipe, df = _refit(tmp_path, fixture_module)
    assert step_matches(pipe) == ([], ["clip"], [3])
    with pytest.warns(LineageWarning, match="scheme 3"):
        check_unchanged(pipe, "testing")
    X = df[["a", "b"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        pipe.predict(X)
    (event,) = store.events(stored.run_id, kind="prediction")
    assert event["payload"]["matched_by_old_fingerprint_scheme"] == ["clip"]
    assert event["payload"]["old_fingerprint_schemes"] == [3]
    assert "changed_since_fit" not in event["payload"]
    found = find_predictions(store, X)
    assert found["old_fingerprint_schemes"].tolist() == [[3]]
    assert main(["predictions", str(store.path)]) == 0
    assert f"step(s) clip: {SCHEME_3_NOTE}" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        report = compliance_report(pipe, **DEPLOYER)
    data = report.to_dict()
    assert data["report"]["format_version"] == FORMAT_VERSION
    assert data["model"]["fitted_object_matches_run"] is True
    assert data["model"]["fitted_object_match_caveat"] == f"step(s) clip: {SCHEME_3_NOTE}"
    assert data["model"]["fingerprint_scheme"] == 3
    assert data["model"]["fingerprint_scheme_note"] == NOTES[3]
    logged = data["record_keeping"]["predictions"]
    assert logged["calls_matched_by_fingerprint_scheme_3"] == 1
    assert logged["calls_matched_by_fingerprint_scheme_2"] == 0
    assert logged["calls_matched_by_old_fingerprint_scheme"] == 0
    (why,) = [a["why"] for a in report.articles if a["article"] == "26(5)"]
    assert "1 call came from a model that matched its run only by fingerprint scheme 3" in why
    assert "fingerprint scheme 3 only" in report.to_html()
    assert verify(report, store=store)


def test_the_constant_changed_is_seen_by_scheme_4_only(tmp_path, fixture_module):
    """Scheme 3 cannot see the constant: ``Clip.LIMIT`` changed still matches the old
    record by scheme 3 (the caveat is all that record can give); a run recorded now
    (scheme 4) sees the change."""
    _, stored, pipe, _ = _refit(tmp_path, fixture_module, log_predictions=False)
    cls = type(pipe.named_steps["clip"])
    step = pipe.named_steps["clip"]
    before = fingerprint(step)
    old = cls.LIMIT
    try:
        cls.LIMIT = 5.0
        assert fingerprint(step) != before
        assert step_matches(pipe) == ([], ["clip"], [3])
    finally:
        cls.LIMIT = old


def test_a_report_of_scheme_3_in_its_words_of_then_still_verifies(tmp_path):
    """``report.json`` (d276ca6, format 12) describes scheme 3 without what it cannot
    see; it verifies against its store as written, while a report made now of the same
    run says it."""
    shutil.copyfile(DATA / "store.db", tmp_path / "store.db")
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    written = json.loads((DATA / "report.json").read_text(encoding="utf-8"))
    assert written["report"]["format_version"] == 12
    assert written["model"]["fingerprint_scheme_note"] in EARLIER_NOTES[3]
    assert written["model"]["fingerprint_scheme_note"] != NOTES[3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (format 12 is not the newest)
        assert verify(written, store=store)
    now = compliance_report(store=store, run_id=written["model"]["run_id"], **DEPLOYER)
    assert now.to_dict()["model"]["fingerprint_scheme_note"] == NOTES[3]
    assert (
        "calls_matched_by_fingerprint_scheme_3" in now.to_dict()["record_keeping"]["predictions"]
    )
    edited = copy.deepcopy(written)
    edited["model"]["fingerprint_scheme_note"] = NOTES[2]
    edited = {**body_of(edited), "integrity": seal(body_of(edited))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert verify(edited)
        with pytest.raises(ReportVerificationError, match="fingerprint_scheme_note differs"):
            verify(edited, store=store)
