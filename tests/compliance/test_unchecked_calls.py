"""A logged call answered by a model whose steps cannot be checked against its run (a
run of fingerprint scheme 1 or none: its form before 1 December 2026 did not see what a
tree learnt) is recorded as such (``unchecked_since_fit``), not as a call by a model
changed since fit; the report, its HTML, find_predictions and the CLI count and show
the two apart. Before, every such call was counted as one by a changed model."""

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import sktraceprop as stp
from sktraceprop._lineage._fingerprint import fingerprint
from sktraceprop.compliance import compliance_report, find_predictions
from sktraceprop.stores import SQLiteStore
from tests.compliance.conftest import DEPLOYER

#: A fingerprint no model of these tests has (a record of another scheme).
OTHER = "ab" * 32


def _logged(tmp_path, final, n_calls):
    """A pipeline whose run records ``final``'s fingerprint as ``OTHER`` and no scheme
    (stored before runs recorded it), its ``n_calls`` predictions logged in a store."""
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(40, 3)), source_id=f"unchecked_{type(final).__name__}")
    pipe = stp.make_traced_pipeline(StandardScaler(), final).fit(X, np.arange(40) % 2)
    run = pipe.lineage_
    run.ops[-1].fingerprint = OTHER
    run.fingerprint_scheme = None
    store = SQLiteStore(tmp_path / f"{type(final).__name__}.db")
    store.save_run(run)
    pipe.set_params(store=store, log_predictions=True)
    for _ in range(n_calls):
        pipe.predict(X[:3])
    return pipe, store, run.ops[-1].name, X


def test_an_unchanged_tree_of_an_old_run_is_logged_as_unchecked(tmp_path, capsys):
    from sktraceprop.cli import main

    pipe, store, name, X = _logged(tmp_path, DecisionTreeClassifier(max_depth=2), 3)
    events = store.events(pipe.lineage_.run_id, kind="prediction")
    assert len(events) == 3
    for event in events:
        payload = event["payload"]
        assert payload["unchecked_since_fit"] == [name]
        assert "changed_since_fit" not in payload
        assert payload["model_fingerprint_now"] == fingerprint(pipe)
    report = compliance_report(store=store, run_id=pipe.lineage_.run_id, **DEPLOYER)
    logged = report.to_dict()["record_keeping"]["predictions"]
    assert logged["n_calls"] == 3
    assert logged["calls_by_a_model_changed_since_fit"] == 0
    assert logged["calls_by_a_model_unchecked_since_fit"] == 3
    (monitoring,) = [a for a in report.to_dict()["articles"] if a["article"] == "26(5)"]
    assert "3 calls came from a model whose steps cannot be checked" in monitoring["why"]
    assert "changed since its run" not in monitoring["why"]
    html = report.to_html()
    assert "Calls by a model whose steps cannot be checked against its run" in html
    report.verify(store=store)
    found = find_predictions(store, X[:3])
    assert found["unchecked_since_fit"].tolist() == [[name]] * 3
    assert found["changed_since_fit"].isna().all()
    assert main(["predictions", str(store.path)]) == 0
    out = capsys.readouterr().out
    assert out.count(f"cannot be checked against the run (fingerprint scheme 1): {name}") == 3
    assert "changed since the run's fit" not in out


def test_a_checkable_step_of_an_old_run_is_still_changed(tmp_path):
    pipe, store, name, _ = _logged(tmp_path, LogisticRegression(), 2)
    events = store.events(pipe.lineage_.run_id, kind="prediction")
    assert [e["payload"]["changed_since_fit"] for e in events] == [[name]] * 2
    # (the key, empty: the steps named changed were told apart from those that cannot
    # be checked; tests/compliance/test_calls_logged_before_unchecked.py)
    assert [e["payload"]["unchecked_since_fit"] for e in events] == [[]] * 2
    report = compliance_report(store=store, run_id=pipe.lineage_.run_id, **DEPLOYER)
    logged = report.to_dict()["record_keeping"]["predictions"]
    assert logged["calls_by_a_model_changed_since_fit"] == 2
    assert logged["calls_by_a_model_unchecked_since_fit"] == 0


@pytest.mark.parametrize("final", [LogisticRegression(), None])
def test_a_report_made_before_the_count_verifies_and_one_without_it_is_refused(tmp_path, final):
    from sktraceprop.compliance._integrity import body_of, seal
    from sktraceprop.compliance._sections import articles
    from sktraceprop.compliance._verify import verify_report
    from sktraceprop.exceptions import ReportVerificationError

    final = DecisionTreeClassifier(max_depth=2) if final is None else final
    pipe, store, _, _ = _logged(tmp_path, final, 2)
    report = compliance_report(store=store, run_id=pipe.lineage_.run_id, **DEPLOYER).to_dict()
    body = body_of(report)
    assert body["report"]["format_version"] >= 17
    # a report of format 17 that leaves the count out says less than its store
    del body["record_keeping"]["predictions"]["calls_by_a_model_unchecked_since_fit"]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**body, "integrity": seal(body)}))
    with pytest.raises(ReportVerificationError, match="calls_by_a_model_unchecked_since_fit"):
        verify_report(edited, store=store)
    # as a report of format 16, made before the count was (its hash as then)
    body["report"]["format_version"] = 16
    del body["record_keeping"]["predictions"]["calls_by_a_model_changed_or_unchecked_since_fit"]
    del body["record_keeping"]["calls_by_model"]
    body["articles"] = articles(body)  # (as format 16 stated them)
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({**body, "integrity": seal(body)}))
    with pytest.warns(UserWarning):
        verify_report(earlier, store=store)
