"""A store whose runs hold fingerprints of scheme 1 (before scheme 2).

``data/frame_digest1.db`` was written by sktraceprop at commit 775ad56 (see
``data/README.md``), whose fingerprints fed values by their ``repr`` (scheme 1). The
same logistic regression fitted now on the same rows is the model of its first run: it
must not be called changed (a false alarm), nor matched as if scheme 2 had checked it
(a silent match): the match is by scheme 1, and every consumer says so.
"""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy
import sklearn
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._current import changed_steps, check_unchanged, step_matches
from sktraceprop._lineage._fingerprint import fingerprint
from sktraceprop._lineage._fingerprint_match import OLD_SCHEME_NOTE, matching_scheme
from sktraceprop._lineage._fingerprint_v1 import fingerprint_v1
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import LineageError, LineageWarning
from tests.stores._frame_digest1 import fixture_frames as _fixture_frames
from tests.stores._store_helpers import DEPLOYER
from tests.stores._stored_fits import install_fitted_state

DATA = Path(__file__).parent / "data"


def _refit(tmp_path, install=True):
    """The store's copy, its run on ``patients``, and that model fitted again now,
    carrying the stored run as its ``lineage_`` (as a model pickled then would);
    ``install``: with the store's fitted state (``frame_digest1_fit.npz``, see
    :mod:`tests.stores._stored_fits`)."""
    path = tmp_path / "frame_digest1.db"
    shutil.copyfile(DATA / "frame_digest1.db", path)
    store = stp.stores.SQLiteStore(path)
    assert store.verify()
    (run_id,) = store.list_runs(source="patients")["run_id"]
    stored = store.load_run(run_id)
    _skip_unless_written_by_these_versions(stored)
    patients, _, _ = _fixture_frames()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)  # the earlier frame digest
        df = stp.from_pandas(patients, "patients")
        est = stp.TracedEstimator(LogisticRegression(), store=store, log_predictions=True)
        est.fit(df[["age", "x"]], df["y"])
    if install:
        install_fitted_state(est.estimator_, DATA / "frame_digest1_fit.npz")
    est.lineage_ = stored
    return store, stored, est, df


def _skip_unless_written_by_these_versions(stored):
    """A model refitted here has the stored model's fitted state bit for bit (so its
    fingerprint) only under the numeric libraries that wrote the store."""
    here = {"numpy": np.__version__, "scikit-learn": sklearn.__version__}
    here["scipy"] = scipy.__version__
    differ = {k: (stored.versions.get(k), v) for k, v in here.items()}
    differ = {k: pair for k, pair in differ.items() if pair[0] != pair[1]}
    if differ:
        pytest.skip(
            "the store's model is refitted exactly only by the versions that wrote it "
            f"(stored, here: {differ})"
        )


def test_the_stored_fingerprints_are_scheme_1s_of_the_same_model(tmp_path):
    _, stored, est, _ = _refit(tmp_path)
    recorded = stored.ops[-1].fingerprint
    # the independent truth: the frozen scheme-1 walker gives the value 775ad56 stored
    assert fingerprint_v1(est.estimator_) == recorded
    assert fingerprint(est.estimator_) != recorded
    assert matching_scheme(est.estimator_, recorded) == 1


def test_an_old_run_is_neither_a_false_alarm_nor_a_silent_match(tmp_path):
    store, stored, est, df = _refit(tmp_path)
    name = stored.ops[-1].name
    assert changed_steps(est) == []
    assert step_matches(est) == ([], [name], [1])
    with pytest.warns(LineageWarning, match="scheme 1"):
        check_unchanged(est, "testing")
    est.predict(df[["age", "x"]])
    (event,) = store.events(stored.run_id, kind="prediction")
    assert event["payload"]["matched_by_old_fingerprint_scheme"] == [name]
    assert "changed_since_fit" not in event["payload"]
    report = compliance_report(est, **DEPLOYER)
    model = report.to_dict()["model"]
    assert model["fitted_object_matches_run"] is True
    assert model["fitted_object_match_caveat"] == f"step(s) {name}: {OLD_SCHEME_NOTE}"
    assert report.verify(store=store)
    assert OLD_SCHEME_NOTE.split(" (")[0] in report.to_html()


def test_a_different_model_matches_no_scheme(tmp_path):
    store, stored, est, df = _refit(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        est.estimator_.set_params(C=0.01).fit(df[["age", "x"]], df["y"])
    recorded = stored.ops[-1].fingerprint
    assert matching_scheme(est.estimator_, recorded) is None
    assert changed_steps(est) == [stored.ops[-1].name]
    with pytest.raises(LineageError, match="changed since its run"):
        check_unchanged(est, "testing")


def test_find_predictions_the_cli_and_the_report_say_a_call_matched_by_scheme_1(tmp_path, capsys):
    """A call answered by the refitted model of the old run: its event says the match
    rests on scheme 1; find_predictions, ``sktraceprop predictions`` and the report's
    prediction log say it too. A call of a run of scheme 2, in the same store, does not."""
    from sktraceprop.cli import main
    from sktraceprop.compliance import find_predictions, verify

    store, stored, est, df = _refit(tmp_path)
    name = stored.ops[-1].name
    X = df[["age", "x"]].iloc[:5]
    est.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)  # the earlier frame digest
        fresh = stp.TracedEstimator(LogisticRegression(), store=store, log_predictions=True)
        fresh.fit(df[["age", "x"]], df["y"])
    fresh.predict(X)
    found = find_predictions(store, X)
    assert found["run_id"].tolist() == [stored.run_id, fresh.lineage_.run_id]
    assert found["matched_by_old_fingerprint_scheme"].tolist() == [[name], None]
    assert main(["predictions", str(store.path)]) == 0
    out = capsys.readouterr().out
    assert out.count(f"step(s) {name}: {OLD_SCHEME_NOTE}") == 1
    events = out.split("event ")[1:]
    assert OLD_SCHEME_NOTE in events[0] and OLD_SCHEME_NOTE not in events[1]
    report = compliance_report(est, **DEPLOYER)
    logged = report.to_dict()["record_keeping"]["predictions"]
    assert logged["n_calls"] == 1
    assert logged["calls_matched_by_old_fingerprint_scheme"] == 1
    (why,) = [a["why"] for a in report.articles if a["article"] == "26(5)"]
    assert "1 call came from a model that matched its run only by fingerprint scheme 1" in why
    assert verify(report, store=store)
    fresh_report = compliance_report(fresh, **DEPLOYER).to_dict()
    assert (
        fresh_report["record_keeping"]["predictions"]["calls_matched_by_old_fingerprint_scheme"]
        == 0
    )
