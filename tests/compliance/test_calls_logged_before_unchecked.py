"""Calls logged before the steps that cannot be checked were told apart from the
changed ones are not counted as calls by a changed model (report format 18).

Until pickle62 (report format 17), a logged call named in ``changed_since_fit`` every
step that did not match its run, a tree of a run recorded with fingerprint scheme 1 (or
none) too, whose form did not see what the tree learnt: an unchanged tree made each
call read "by a model changed since fit". The report went on counting those events as
such. Now an event that holds no ``unchecked_since_fit`` (events logged since hold it,
empty where every step named was checked) and names changed steps of a run of scheme 1
or none is counted apart, as changed or unchecked; a run of a later scheme checked its
steps, and its calls stay changed. The old events are written by the logging code as it
was (no step unchecked, no ``unchecked_since_fit`` key, as before b7161de), their
payload checked against that shape. Truth: the calls counted by how and by what each was logged.
"""

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import sktraceprop as stp
import sktraceprop._prediction_log as prediction_log
from sktraceprop._lineage._fingerprint import fingerprint
from sktraceprop.compliance import compliance_report
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.compliance._verify import verify_report
from sktraceprop.exceptions import ReportVerificationError
from sktraceprop.stores import SQLiteStore
from tests.compliance.conftest import DEPLOYER

#: A fingerprint no model of these tests has (a record of another scheme, or a refit).
OTHER = "ab" * 32

KEYS = (
    "calls_by_a_model_changed_since_fit",
    "calls_by_a_model_unchecked_since_fit",
    "calls_by_a_model_changed_or_unchecked_since_fit",
)


def _logged(tmp_path, monkeypatch, final, scheme, n_old, n_new):
    """A pipeline whose run records ``final``'s fingerprint as ``OTHER`` and fingerprint
    ``scheme``: ``n_old`` calls logged as before the two were told apart, then ``n_new``."""
    rng = np.random.default_rng(1)
    name = f"{type(final).__name__}_{scheme}"
    X = stp.from_numpy(rng.normal(size=(40, 3)), source_id=f"before_{name}")
    pipe = stp.make_traced_pipeline(StandardScaler(), final).fit(X, np.arange(40) % 2)
    run = pipe.lineage_
    run.ops[-1].fingerprint = OTHER
    run.fingerprint_scheme = run.fingerprint_scheme if scheme == "now" else scheme
    store = SQLiteStore(tmp_path / f"{name}.db")
    store.save_run(run)
    pipe.set_params(store=store, log_predictions=True)
    with monkeypatch.context() as old:
        old.setattr(prediction_log, "unchecked_steps", lambda *args: [])
        # (raising=False: absent before the key was written empty)
        old.setattr(prediction_log, "_says_unchecked", lambda *args: False, raising=False)
        for _ in range(n_old):
            pipe.predict(X[:3])
    for _ in range(n_new):
        pipe.predict(X[:3])
    step = run.ops[-1].name
    events = store.events(run.run_id, kind="prediction")
    for event in events[:n_old]:  # the payload as sktraceprop logged it before b7161de
        assert event["payload"]["changed_since_fit"] == [step]
        assert "unchecked_since_fit" not in event["payload"]
        assert event["payload"]["model_fingerprint_now"] == fingerprint(pipe)
    return pipe, store, events[n_old:], step


def _counts(pipe, store):
    report = compliance_report(store=store, run_id=pipe.lineage_.run_id, **DEPLOYER)
    logged = report.to_dict()["record_keeping"]["predictions"]
    return report, [logged[k] for k in KEYS]


def test_an_unchanged_tree_logged_before_is_not_counted_as_changed(tmp_path, monkeypatch):
    pipe, store, new, step = _logged(
        tmp_path, monkeypatch, DecisionTreeClassifier(max_depth=2), None, 3, 2
    )
    assert [e["payload"]["unchecked_since_fit"] for e in new] == [[step]] * 2
    report, counts = _counts(pipe, store)
    assert counts == [0, 2, 3]  # (was 3 changed: the tree never changed)
    (monitoring,) = [a for a in report.to_dict()["articles"] if a["article"] == "26(5)"]
    assert "came from a model changed since its run was recorded" not in monitoring["why"]
    assert "3 calls came from a model changed since its run, or whose steps" in (monitoring["why"])
    assert "logged before the two were told apart" in report.to_html()
    report.verify(store=store)


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [(None, [2, 0, 2]), (1, [2, 0, 2]), (2, [4, 0, 0]), ("now", [4, 0, 0])],
)
def test_a_changed_step_logged_before(tmp_path, monkeypatch, scheme, expected):
    """A linear model refitted (its record is another's) is changed, then as now; logged
    before, a run of scheme 1 or none cannot say whether it was a tree's kind of step,
    so its calls are counted apart; a later scheme's run checked it."""
    pipe, store, new, _ = _logged(tmp_path, monkeypatch, LogisticRegression(), scheme, 2, 2)
    if scheme in (None, 1):  # told apart now: the key, empty
        assert [e["payload"]["unchecked_since_fit"] for e in new] == [[]] * 2
    else:
        assert not any("unchecked_since_fit" in e["payload"] for e in new)
    report, counts = _counts(pipe, store)
    assert counts == expected
    report.verify(store=store)


def test_a_format_17_report_verifies_and_an_edited_one_is_refused(tmp_path, monkeypatch):
    pipe, store, _, _ = _logged(
        tmp_path, monkeypatch, DecisionTreeClassifier(max_depth=2), None, 3, 1
    )
    body = body_of(
        compliance_report(store=store, run_id=pipe.lineage_.run_id, **DEPLOYER).to_dict()
    )
    assert body["report"]["format_version"] == 19
    logged = body["record_keeping"]["predictions"]
    # format 18 saying those calls were by a changed model: refused
    edited = json.loads(json.dumps(body))
    p = edited["record_keeping"]["predictions"]
    p["calls_by_a_model_changed_since_fit"] = 3
    p["calls_by_a_model_changed_or_unchecked_since_fit"] = 0
    edited["articles"] = articles(edited)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps({**edited, "integrity": seal(edited)}))
    with pytest.raises(ReportVerificationError, match="calls_by_a_model_changed_since_fit"):
        verify_report(path, store=store)
    # as format 17 wrote it: those calls among the changed ones, no count apart
    earlier = json.loads(json.dumps(body))
    earlier["report"]["format_version"] = 17
    p = earlier["record_keeping"]["predictions"]
    p["calls_by_a_model_changed_since_fit"] += p.pop(
        "calls_by_a_model_changed_or_unchecked_since_fit"
    )
    assert p["calls_by_a_model_changed_since_fit"] == 3 == logged[KEYS[2]]
    earlier["articles"] = articles(earlier)
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps({**earlier, "integrity": seal(earlier)}))
    with pytest.warns(UserWarning, match="format 18"):
        verify_report(path, store=store)
    # a format-17 report cannot hold the count (its schema has no such key there)
    earlier["record_keeping"]["predictions"][KEYS[2]] = 0
    path = tmp_path / "earlier_with_key.json"
    path.write_text(json.dumps({**earlier, "integrity": seal(earlier)}))
    with pytest.raises(ReportVerificationError):
        verify_report(path, store=store)
