"""A contested decision found again from the applicant's rows, months later, in another
process that has only the store file: which model answered, what it returned, its
training data, and an explanation of that same model."""

import json
import subprocess
import sys
import warnings
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.compliance import find_predictions, hash_rows, logged_outputs
from sktraceprop.stores._prediction_salts import input_was

from .conftest import logged_pipeline, traced_frames

# An applicant's row as the bank's database gives it months later: plain pandas, a new
# index, no lineage, its columns in the order the model was given them.
APPLICANT = {"age": [44], "sex": ["F"], "bp": [131.5]}


def _fit(hospitals, tmp_path):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "bank.db")
    return logged_pipeline(store, X, y), store, X, y


def _utc(text):
    when = datetime.fromisoformat(text)
    assert when.utcoffset() == timedelta(0)
    return when


def test_a_decision_is_found_by_its_rows_in_a_new_process(hospitals, tmp_path):
    pipe, store, X, y = _fit(hospitals, tmp_path)
    applicant = pd.DataFrame(APPLICANT).astype({"age": X["age"].dtype})
    given = pipe.predict_proba(applicant)
    store.close()
    script = (
        "import json, sys, sktraceprop as stp\n"
        "import pandas as pd\n"
        "from sktraceprop.compliance import find_predictions\n"
        "store = stp.stores.SQLiteStore(sys.argv[1], mode='ro')\n"
        "row = pd.DataFrame(json.loads(sys.argv[2]))\n"
        "found = find_predictions(store, row)\n"
        "e = found.iloc[0]\n"
        "run = store.load_run(e.run_id)\n"
        "print(json.dumps({'n': len(found), 'run': e.run_id, 'fp': e.model_fingerprint,\n"
        "  'run_fp': run.model_fingerprint, 'at': e.created_at, 'method': e.method,\n"
        "  'output': e.output.tolist(), 'classes': e.classes,\n"
        "  'sources': sorted((s.uri, s.sha256) for s in run.sources.values()),\n"
        "  'lines': run.trace(list(range(run.n_samples)))['line'].tolist()}))\n"
    )
    # the applicant's age as the database gives it (an int64 column): no lineage
    answer = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "bank.db"), json.dumps(APPLICANT)],
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(answer.stdout)
    assert got["n"] == 1 and got["method"] == "predict_proba"
    assert got["run"] == pipe.lineage_.run_id
    assert got["fp"] == got["run_fp"] == pipe.lineage_.model_fingerprint
    assert got["output"] == given.tolist()  # exactly what the caller received
    assert got["classes"] == [str(c) for c in pipe.classes_]
    _utc(got["at"])
    # the training data: files, SHA-256 of their bytes and lines, against the files
    import hashlib

    expected = sorted(
        [p.resolve().as_uri(), hashlib.sha256(p.read_bytes()).hexdigest()]
        for p in map(type(tmp_path), hospitals.values())
    )
    assert got["sources"] == expected
    # each file's "key" column holds the physical line its row was written on
    a, b, _, _ = traced_frames(hospitals)
    assert got["lines"] == pd.concat([a, b])["key"].tolist()


def test_a_row_of_a_batch_is_found_alone_and_with_its_batch(hospitals, tmp_path):
    pipe, store, X, _ = _fit(hospitals, tmp_path)
    batch = X.iloc[3:9]
    labels = pipe.predict(batch)
    # the row alone, through the call's keyed row digests (it was a "not found" before)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (alone,) = find_predictions(store, batch.iloc[[2]]).itertuples()
    assert alone.positions == [2] and alone.row == 0 and alone.n_rows == 6
    assert alone.output == str(labels[2]) and "erases the whole call" in alone.matched_as
    (found,) = find_predictions(store, batch.reset_index(drop=True), row=2).itertuples()
    assert found.output == str(labels[2]) and found.n_rows == 6
    assert found.run_id == pipe.lineage_.run_id
    with pytest.raises(ValueError, match="not a position in X"):
        find_predictions(store, batch, row=6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert find_predictions(store, batch.iloc[2]).empty
    assert "frame.iloc[[i]]" in str(caught[-1].message)


def test_scores_name_the_class_of_each_column(hospitals, tmp_path):
    """predict_proba's columns are the model's classes in its order; the event did not
    say which, so the store alone could not tell the approval's probability."""
    _, _, X, y = traced_frames(hospitals)
    y = np.where(y == 1, "refused", "approved")  # sorted: approved, refused
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    ).fit(X[["age", "bp"]].fillna(0), y)
    rows = X[["age", "bp"]].fillna(0).iloc[:4]
    proba = pipe.predict_proba(rows)
    decision = pipe.decision_function(rows)
    found = find_predictions(store, rows)
    assert found["method"].tolist() == ["predict_proba", "decision_function"]
    for (_, event), returned in zip(found.iterrows(), (proba, decision)):
        assert event.classes == ["approved", "refused"]
        np.testing.assert_array_equal(event.output, returned)
    refused = found.iloc[0].classes.index("refused")
    np.testing.assert_array_equal(found.iloc[0].output[:, refused], proba[:, 1])
    assert list(pipe.classes_) == ["approved", "refused"]


def test_the_explanation_names_the_model_that_answered_after_a_removal(hospitals, tmp_path):
    """An explanation of an unlearner's model gave the wrapper's fingerprint, which no
    prediction event records: the contested decision's model (the corrected one) could
    not be matched to its explanation."""
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "bank.db")
    pipe = logged_pipeline(store, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(pipe, forget=["hospital_b"]).fit(X, y)
    applicant = X.iloc[[0]].reset_index(drop=True)
    unl.predict(applicant)
    (event,) = find_predictions(store, applicant).itertuples()
    assert event.replaced_since_fit  # the run no longer describes every part
    kept = unl.retained_mask_
    explainer = stp.InfluenceExplainer(unl).fit(X[kept], y[kept])
    exp = explainer.explain(applicant, top_k=3, log=True)
    assert exp.model_fingerprint == event.model_fingerprint
    assert (
        exp.model_fingerprint
        == store.events(kind="explanation")[-1]["payload"]["model_fingerprint"]
    )
    # the explained rows are the retained ones: none from the removed source
    assert set(exp.top(3)["source_id"]) <= {"hospital_a"}
    # an explanation of the model as fitted (before the removal) is not that model
    before = stp.InfluenceExplainer(pipe).fit(X, y).explain(applicant, top_k=3)
    assert before.model_fingerprint != event.model_fingerprint


def test_logged_outputs_decode_what_each_call_returned(fitted):
    pipe, store, X, _ = fitted
    events = store.events(kind="prediction")
    returned = [pipe.predict(X.iloc[:7]), pipe.predict_proba(X.iloc[5:9])]
    assert logged_outputs(events[0]["payload"]).tolist() == [str(v) for v in returned[0]]
    np.testing.assert_array_equal(logged_outputs(events[1]["payload"]), returned[1])
    assert input_was(store, events[0], hash_rows(X.iloc[:7]))


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_finds_a_decision_from_a_csv_of_its_rows(hospitals, tmp_path, capsys):
    pipe, store, X, _ = _fit(hospitals, tmp_path)
    batch = pd.DataFrame({"age": [44, 61], "sex": ["F", "M"], "bp": [131.5, 120.25]})
    batch = batch.astype({"age": X["age"].dtype})
    proba = pipe.predict_proba(batch)
    batch.to_csv(tmp_path / "batch.csv", index=False)
    batch.iloc[[1]].to_csv(tmp_path / "one.csv", index=False)
    db = tmp_path / "bank.db"
    code, out, _ = _cli(capsys, "predictions", db, "--input", tmp_path / "batch.csv", "--row", 1)
    assert code == 0
    assert f"run {pipe.lineage_.run_id}  predict_proba  2 rows" in out
    assert f"  row 1: {float(proba[1, 0])!r}, {float(proba[1, 1])!r}" in out
    assert f"  columns: classes {', '.join(map(str, pipe.classes_))}" in out
    # the one row alone is found inside its batch, at its position there
    code, out, _ = _cli(capsys, "predictions", db, "--input", tmp_path / "one.csv")
    assert code == 0 and "1 logged call given the 1 row" in out
    assert f"  row 0, at position 1 of the call's 2 rows: {float(proba[1, 0])!r}" in out
    code, out, _ = _cli(capsys, "predictions", db)
    assert code == 0 and out.count("\nevent ") == 1 and "(times UTC)" in out
    digest = hash_rows(batch)
    code, out, _ = _cli(capsys, "predictions", db, "--sha256", digest)
    assert code == 0 and f"  row 0: {float(proba[0, 0])!r}" in out
    code, _, err = _cli(capsys, "predictions", db, "--row", 0)
    assert code == 2 and "--row needs --input" in err
    code, _, err = _cli(capsys, "predictions", db, "--input", tmp_path / "one.csv", "--row", 4)
    assert code == 2 and "not a position" in err
