"""Stores whose runs hold fingerprints of an earlier scheme (2 to 5), one case each.

Each ``data/fingerprintN/store.db`` was written by the sktraceprop of scheme ``N`` by
its ``make_fingerprintN.py`` (``data/README.md``): a traced pipeline of one step with
user code that scheme ``N`` could not fully see, then a ``LogisticRegression`` (no user
code). Refitted now, the logistic regression matches by the current scheme and the user
step only by scheme ``N``: not a false alarm, not a silent match, and every consumer
(``check_unchanged``, the prediction event, ``find_predictions``, the CLI, the report's
caveat, counts, Art. 26(5) and HTML) says so; the report the old sktraceprop wrote still
verifies in its words of then. The cases:

- scheme 2 (b98ec4b, functions named by module and qualified name only):
  ``FunctionTransformer(func=fixture_funcs.scaled)``, which reads ``SCALE``;
- scheme 3 (d276ca6, user classes' other attributes named): ``fixture_classes.Clip``,
  which reads its class constant ``LIMIT``;
- scheme 4 (f8229cf, a class cache's contents hashed): ``fixture_cache.Memo``, whose
  ``transform`` fills its class-level dict ``_seen``;
- scheme 5 (c6bbe7b, a user function's global module named, not the helpers it calls
  through it): ``FunctionTransformer(func=fixture_steps.scaled)``, which calls
  ``fixture_helpers.helper(X)``.
"""

import copy
import json
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._current import check_unchanged, step_matches
from sktraceprop._lineage._fingerprint import (
    SCHEME,
    fingerprint,
    fingerprint_v2,
    fingerprint_v3,
    fingerprint_v4,
    fingerprint_v5,
)
from sktraceprop._lineage._fingerprint_match import OLD_SCHEME_NOTES, matching_scheme
from sktraceprop._lineage._fingerprint_schemes import EARLIER_NOTES, NOTES
from sktraceprop.compliance import compliance_report, find_predictions, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._verify import FORMAT_VERSION
from sktraceprop.exceptions import LineageWarning, ReportVerificationError
from tests.stores._old_fingerprint_stores import (
    maker_module,
    refit,
    skip_unless_written_by_these_versions,
)
from tests.stores._store_helpers import DEPLOYER
from tests.stores._stored_fits import install_fitted_state

HERE = Path(__file__).parent / "data"
F5988B3 = Path(__file__).parents[1] / "exporters" / "data" / "parquet_f5988b3" / "store.db"


def _clear_cache(pipe):
    type(pipe.steps[0][1])._seen.clear()  # as in the process that wrote the store


def _set_module(module, name, value):
    """Set ``module.name`` to ``value``; returns what undoes it."""
    module = sys.modules[module]
    old = getattr(module, name)
    setattr(module, name, value)
    return lambda: setattr(module, name, old)


def _set_class(pipe, step, name, value):
    cls = type(pipe.named_steps[step])
    old = getattr(cls, name)
    setattr(cls, name, value)
    return lambda: setattr(cls, name, old)


@dataclass(frozen=True)
class Case:
    scheme: int
    step: str
    made_by: object  # the scheme's fingerprint function
    report_format: int  # of the report.json the old sktraceprop wrote
    before_fit: object = None
    #: what the old scheme cannot see, done to the refitted pipeline (returns its undo);
    #: None where every edit is seen by the old scheme too
    unseen_edit: object = None
    #: words the scheme's note must hold
    note_says: str = ""

    @property
    def data(self):
        return HERE / f"fingerprint{self.scheme}"

    def __str__(self):
        return f"scheme{self.scheme}"


CASES = [
    Case(
        2,
        "functiontransformer",
        fingerprint_v2,
        10,
        unseen_edit=lambda pipe: _set_module("fixture_funcs", "SCALE", -1.0),
        note_says="named by module and qualified name only",
    ),
    Case(
        3,
        "clip",
        fingerprint_v3,
        12,
        unseen_edit=lambda pipe: _set_class(pipe, "clip", "LIMIT", 5.0),
        note_says="attributes of user classes other than functions named only",
    ),
    Case(4, "memo", fingerprint_v4, 13, before_fit=_clear_cache, note_says="as a cache"),
    Case(
        5,
        "functiontransformer",
        fingerprint_v5,
        14,
        unseen_edit=lambda pipe: _set_module("fixture_helpers", "helper", lambda X: X * 3),
        note_says="not the helpers the function reaches through it",
    ),
]
BY_SCHEME = {case.scheme: case for case in CASES}


@pytest.fixture(params=CASES, ids=str)
def case(request):
    return request.param


@pytest.fixture
def maker(case):
    with maker_module(case.data, f"make_fingerprint{case.scheme}") as module:
        yield module


def _refit(tmp_path, case, maker, log_predictions=True):
    return refit(
        case.data,
        tmp_path,
        maker,
        scheme=case.scheme,
        log_predictions=log_predictions,
        before_fit=case.before_fit,
    )


def test_the_stored_fingerprints_are_the_old_schemes_of_the_same_steps(tmp_path, case, maker):
    _, stored, pipe, _ = _refit(tmp_path, case, maker)
    recorded = {op.name: op.fingerprint for op in stored.ops}
    step = pipe.named_steps[case.step]
    # the independent truth: what the old sktraceprop stored, for the same steps
    assert case.made_by(step) == recorded[case.step] != fingerprint(step)
    assert matching_scheme(step, recorded[case.step]) == case.scheme
    model = pipe.named_steps["logisticregression"]
    assert fingerprint(model) == recorded["logisticregression"]  # no user code: unchanged
    assert matching_scheme(model, recorded["logisticregression"]) == SCHEME


def test_an_old_run_is_said_to_match_by_its_scheme_only(tmp_path, case, maker, capsys):
    from sktraceprop.cli import main

    note = OLD_SCHEME_NOTES[case.scheme]
    store, stored, pipe, df = _refit(tmp_path, case, maker)
    assert step_matches(pipe) == ([], [case.step], [case.scheme])
    with pytest.warns(LineageWarning, match=f"scheme {case.scheme}"):
        check_unchanged(pipe, "testing")
    X = df[["a", "b"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        pipe.predict(X)  # (scheme 4: the fit's shape, so the cache is as at fit)
    (event,) = store.events(stored.run_id, kind="prediction")
    assert event["payload"]["matched_by_old_fingerprint_scheme"] == [case.step]
    assert event["payload"]["old_fingerprint_schemes"] == [case.scheme]
    assert "changed_since_fit" not in event["payload"]
    found = find_predictions(store, X)
    assert found["old_fingerprint_schemes"].tolist() == [[case.scheme]]
    assert main(["predictions", str(store.path)]) == 0
    assert f"step(s) {case.step}: {note}" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        report = compliance_report(pipe, **DEPLOYER)
    data = report.to_dict()
    assert data["report"]["format_version"] == FORMAT_VERSION == 19
    assert data["model"]["fitted_object_matches_run"] is True
    assert data["model"]["fitted_object_match_caveat"] == f"step(s) {case.step}: {note}"
    assert data["model"]["fingerprint_scheme"] == case.scheme
    assert data["model"]["fingerprint_scheme_note"] == NOTES[case.scheme]
    assert case.note_says in NOTES[case.scheme]
    logged = data["record_keeping"]["predictions"]
    assert logged["calls_matched_by_old_fingerprint_scheme"] == 0  # (scheme 1)
    for scheme in range(2, SCHEME):
        key = f"calls_matched_by_fingerprint_scheme_{scheme}"
        assert logged[key] == (scheme == case.scheme), key
    (why,) = [a["why"] for a in report.articles if a["article"] == "26(5)"]
    assert (
        f"1 call came from a model that matched its run only by fingerprint scheme "
        f"{case.scheme}" in why
    )
    assert f"fingerprint scheme {case.scheme} only" in report.to_html()
    assert verify(report, store=store)


@pytest.mark.parametrize("case", [c for c in CASES if c.unseen_edit], ids=str)
def test_an_edit_the_old_scheme_cannot_see_matches_only_as_it_can_tell(tmp_path, case, maker):
    """The old scheme cannot see the edit: the changed step still matches its record by
    that scheme (the caveat is all the record can give); the current scheme sees it."""
    _, _, pipe, _ = _refit(tmp_path, case, maker, log_predictions=False)
    step = pipe.named_steps[case.step]
    before, before_old = fingerprint(step), case.made_by(step)
    undo = case.unseen_edit(pipe)
    try:
        assert fingerprint(step) != before
        assert case.made_by(step) == before_old
        assert step_matches(pipe) == ([], [case.step], [case.scheme])
    finally:
        undo()
    assert fingerprint(step) == before


def test_the_model_after_predicts_is_scheme_4s_changed_and_the_current_schemes_same(
    tmp_path,
):
    """The defect on the scheme-4 run: after a predict of another shape the step no
    longer matches its scheme-4 record (a false alarm that record cannot avoid: it holds
    the cache's contents at fit; refitting records the current scheme); a run recorded
    now keeps matching, while a constant changed is seen."""
    case = BY_SCHEME[4]
    with maker_module(case.data, "make_fingerprint4") as maker:
        _, _, pipe, df = _refit(tmp_path, case, maker, log_predictions=False)
    step = pipe.named_steps["memo"]
    before, before_v4 = fingerprint(step), fingerprint_v4(step)
    pipe.predict(df[["a", "b"]].iloc[:3])
    assert fingerprint_v4(step) != before_v4
    assert step_matches(pipe)[0] == ["memo"]  # the old record: changed, as scheme 4 says
    assert fingerprint(step) == before
    undo = _set_class(pipe, "memo", "SCALE", 5.0)
    try:
        assert fingerprint(step) != before
    finally:
        undo()


def test_a_scheme_2_store_without_user_code_matches_by_the_current_scheme(tmp_path):
    """The f5988b3 store's run on ``sites`` (a logistic regression, no user code): the
    same model fitted now has the fingerprint scheme 2 stored."""
    shutil.copyfile(F5988B3, tmp_path / "store.db")
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    runs = [store.load_run(r) for r in store.list_runs(source="sites")["run_id"]]
    (stored,) = [run for run in runs if len(run.sources) == 1]  # (not the merge's)
    skip_unless_written_by_these_versions(stored)
    model = sites_model()
    install_fitted_state(model, F5988B3.parent / "sites_fit.npz")
    assert fingerprint(model) == stored.ops[-1].fingerprint


def sites_model():
    """The model of the f5988b3 store's run on ``sites``, fitted again now."""
    rng = np.random.default_rng(3)
    rng.normal(size=20)  # the visits' values, drawn first by make_parquet_f5988b3.py
    sites = pd.DataFrame({"b": rng.normal(size=5).round(3)})
    return LogisticRegression().fit(sites, [0, 1, 0, 1, 1])


def test_a_report_of_the_old_scheme_in_its_words_of_then_still_verifies(tmp_path, case):
    """``report.json`` describes the old scheme in its words of then (without what it
    cannot see); it verifies against its store as written, while a report made now of
    the same run says it; the note of another scheme is not taken for those words
    (re-sealed: only the store can tell)."""
    shutil.copyfile(case.data / "store.db", tmp_path / "store.db")
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    written = json.loads((case.data / "report.json").read_text(encoding="utf-8"))
    assert written["report"]["format_version"] == case.report_format
    assert written["model"]["fingerprint_scheme_note"] in EARLIER_NOTES[case.scheme]
    assert written["model"]["fingerprint_scheme_note"] != NOTES[case.scheme]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (not the newest format)
        assert verify(written, store=store)
    now = compliance_report(store=store, run_id=written["model"]["run_id"], **DEPLOYER)
    now = now.to_dict()
    assert now["model"]["fingerprint_scheme_note"] == NOTES[case.scheme]
    assert (
        f"calls_matched_by_fingerprint_scheme_{case.scheme}"
        in (now["record_keeping"]["predictions"])
    )
    edited = copy.deepcopy(written)
    edited["model"]["fingerprint_scheme_note"] = NOTES[case.scheme - 1]
    edited = {**body_of(edited), "integrity": seal(body_of(edited))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert verify(edited)
        with pytest.raises(ReportVerificationError, match="fingerprint_scheme_note differs"):
            verify(edited, store=store)
