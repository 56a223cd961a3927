"""Stores whose runs hold fingerprints of scheme 2 (before scheme 3).

``data/fingerprint2/store.db`` was written by sktraceprop at commit b98ec4b (scheme 2:
functions named by module and qualified name only) by ``make_fingerprint2.py``: a
pipeline whose FunctionTransformer runs the user function ``fixture_funcs.scaled``.
Refitted now, its logistic regression (no user code) matches by the current scheme, and
its FunctionTransformer only by scheme 2, which cannot see the function's code: not a
false alarm, not a silent match, and every consumer says so. The f5988b3 store (scheme
2, no user code) is the truth that a model without user code keeps its fingerprint.
"""

import copy
import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._current import check_unchanged, step_matches
from sktraceprop._lineage._fingerprint import SCHEME, fingerprint, fingerprint_v2
from sktraceprop._lineage._fingerprint_match import SCHEME_2_NOTE, matching_scheme
from sktraceprop._lineage._fingerprint_schemes import EARLIER_NOTES, NOTES
from sktraceprop.compliance import compliance_report, find_predictions, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.exceptions import LineageWarning, ReportVerificationError
from tests.stores._old_fingerprint_stores import (
    maker_module,
    refit,
    skip_unless_written_by_these_versions,
)
from tests.stores._store_helpers import DEPLOYER

DATA = Path(__file__).parent / "data" / "fingerprint2"
F5988B3 = Path(__file__).parents[1] / "exporters" / "data" / "parquet_f5988b3" / "store.db"


@pytest.fixture
def fixture_module():
    with maker_module(DATA, "make_fingerprint2") as module:
        yield module


def _refit(tmp_path, maker, log_predictions=True):
    return refit(DATA, tmp_path, maker, log_predictions=log_predictions)


def test_the_stored_fingerprints_are_scheme_2s_of_the_same_steps(tmp_path, fixture_module):
    _, stored, pipe, _ = _refit(tmp_path, fixture_module)
    recorded = {op.name: op.fingerprint for op in stored.ops}
    step = pipe.named_steps["functiontransformer"]
    # the independent truth: what sktraceprop at b98ec4b stored, for the same steps
    assert fingerprint_v2(step) == recorded["functiontransformer"] != fingerprint(step)
    assert matching_scheme(step, recorded["functiontransformer"]) == 2
    model = pipe.named_steps["logisticregression"]
    assert fingerprint(model) == recorded["logisticregression"]  # no user code: unchanged
    assert matching_scheme(model, recorded["logisticregression"]) == SCHEME


def test_an_old_run_with_a_user_function_is_said_to_match_by_scheme_2(
    tmp_path, fixture_module, capsys
):
    from sktraceprop.cli import main

    store, stored, pipe, df = _refit(tmp_path, fixture_module)
    assert step_matches(pipe) == ([], ["functiontransformer"], [2])
    with pytest.warns(LineageWarning, match="scheme 2"):
        check_unchanged(pipe, "testing")
    X = df[["a", "b"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        pipe.predict(X)
    (event,) = store.events(stored.run_id, kind="prediction")
    assert event["payload"]["matched_by_old_fingerprint_scheme"] == ["functiontransformer"]
    assert event["payload"]["old_fingerprint_schemes"] == [2]
    assert "changed_since_fit" not in event["payload"]
    found = find_predictions(store, X)
    assert found["old_fingerprint_schemes"].tolist() == [[2]]
    assert main(["predictions", str(store.path)]) == 0
    assert f"step(s) functiontransformer: {SCHEME_2_NOTE}" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        report = compliance_report(pipe, **DEPLOYER)
    data = report.to_dict()
    assert data["model"]["fitted_object_matches_run"] is True
    assert data["model"]["fitted_object_match_caveat"] == (
        f"step(s) functiontransformer: {SCHEME_2_NOTE}"
    )
    assert data["model"]["fingerprint_scheme"] == 2
    assert data["model"]["fingerprint_scheme_note"] == NOTES[2]
    assert "named by module and qualified name only" in NOTES[2]
    logged = data["record_keeping"]["predictions"]
    assert logged["calls_matched_by_fingerprint_scheme_2"] == 1
    assert logged["calls_matched_by_old_fingerprint_scheme"] == 0
    (why,) = [a["why"] for a in report.articles if a["article"] == "26(5)"]
    assert "1 call came from a model that matched its run only by fingerprint scheme 2" in why
    assert verify(report, store=store)


def test_an_edited_user_function_matches_the_old_run_only_as_scheme_2_can_tell(
    tmp_path, fixture_module
):
    """Scheme 2 cannot see the function's code: a changed function still matches its
    record, and the caveat is all the record can give; scheme 3 sees the change."""
    _, stored, pipe, _ = _refit(tmp_path, fixture_module, log_predictions=False)
    module = sys.modules["fixture_funcs"]
    step = pipe.named_steps["functiontransformer"]
    before = fingerprint(step)
    old = module.SCALE
    try:
        module.SCALE = -1.0
        assert fingerprint(step) != before
        assert step_matches(pipe) == ([], ["functiontransformer"], [2])
    finally:
        module.SCALE = old


def test_a_scheme_2_store_without_user_code_matches_by_the_current_scheme(tmp_path):
    """The f5988b3 store's run on ``sites`` (a logistic regression, no user code): the
    same model fitted now has the fingerprint scheme 2 stored."""
    shutil.copyfile(F5988B3, tmp_path / "store.db")
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    runs = [store.load_run(r) for r in store.list_runs(source="sites")["run_id"]]
    (stored,) = [run for run in runs if len(run.sources) == 1]  # (not the merge's)
    skip_unless_written_by_these_versions(stored)
    rng = np.random.default_rng(3)
    rng.normal(size=20)  # the visits' values, drawn first by make_parquet_f5988b3.py
    sites = pd.DataFrame({"b": rng.normal(size=5).round(3)})
    model = LogisticRegression().fit(sites, [0, 1, 0, 1, 1])
    assert fingerprint(model) == stored.ops[-1].fingerprint


def test_a_format_10_report_of_scheme_2_in_its_words_of_then_still_verifies(tmp_path):
    """``report.json`` (b98ec4b) says of scheme 2 that different models never share a
    fingerprint; it verifies against its store as written, while a report made now of
    the same run says what scheme 2 cannot tell apart."""
    shutil.copyfile(DATA / "store.db", tmp_path / "store.db")
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    written = json.loads((DATA / "report.json").read_text(encoding="utf-8"))
    assert written["report"]["format_version"] == 10
    assert written["model"]["fingerprint_scheme_note"] in EARLIER_NOTES[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (format 10 is not the newest)
        assert verify(written, store=store)
    now = compliance_report(store=store, run_id=written["model"]["run_id"], **DEPLOYER)
    assert now.to_dict()["model"]["fingerprint_scheme_note"] == NOTES[2]
    # a note of another scheme is not accepted as scheme 2's words of then (re-sealed:
    # only the store can tell)
    edited = copy.deepcopy(written)
    edited["model"]["fingerprint_scheme_note"] = NOTES[1]
    edited = {**body_of(edited), "integrity": seal(body_of(edited))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert verify(edited)
        with pytest.raises(ReportVerificationError, match="fingerprint_scheme_note differs"):
            verify(edited, store=store)
