"""The ``sktraceprop`` command as an auditor uses it: every figure it prints checked
against the logged events themselves (their outputs, read from the store's rows), and
a question it cannot answer (an unknown run, a malformed digest) an error, never an
empty answer that reads as "nothing found"."""

import io
import json
import sqlite3

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.cli import main
from tests.stores.test_erase_predictions import _X, _model


def _cli(*argv):
    out = io.StringIO()
    code = main([str(a) for a in argv], out=out)
    return code, out.getvalue()


def _labels(path, seq):
    """The labels a logged ``predict`` call returned, read from the event's own row."""
    con = sqlite3.connect(path)
    try:
        (payload,) = con.execute("SELECT payload FROM events WHERE seq = ?", (seq,)).fetchone()
    finally:
        con.close()
    from sktraceprop.compliance import logged_outputs

    return [str(v) for v in np.asarray(logged_outputs(json.loads(payload))).ravel()]


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A store whose model scored rows 0-2 as one batch (event ``whole``), then row 1
    alone (event ``alone``), then rows 3-4; ``batch.csv`` holds rows 0-2."""
    tmp = tmp_path_factory.mktemp("audit")
    path = tmp / "s.db"
    store = stp.stores.SQLiteStore(path)
    model = _model(store)
    model.predict(_X.iloc[:3])
    model.predict(_X.iloc[[1]])
    model.predict(_X.iloc[3:5])
    seqs = [e["seq"] for e in store.events(kind="prediction")]
    run_id = model.lineage_.run_id
    store.close()
    batch = tmp / "batch.csv"
    _X.iloc[:3].to_csv(batch, index=False)
    return path, batch, seqs, run_id


def test_a_whole_batch_match_beside_a_row_match_prints_each_rows_output(logged):
    # Before: with one call matched as the whole batch and another by one row's digest,
    # the whole batch's outputs were printed as one row, "row nan: 1, 0, 0", under
    # "matched as: nan"; the row's as "row 1.0".
    path, batch, (whole, alone, _), _ = logged
    code, out = _cli("predictions", path, "--input", batch)
    assert code == 0, out
    assert "nan" not in out
    assert "row 1.0" not in out
    block = out.split(f"event {whole} ")[1].split("\nevent ")[0]
    expected = _labels(path, whole)
    for i, label in enumerate(expected):
        assert f"\n  row {i}: {label}\n" in block + "\n"
    assert "matched as" not in block  # (the file's rows, as one batch: no row digest)
    block = out.split(f"event {alone} ")[1]
    assert "matched as: row 1 of X at position(s) 0" in block
    assert f"\n  row 1, at position 0 of the call's 1 rows: {_labels(path, alone)[0]}" in block


def test_an_unknown_run_is_a_usage_error_not_an_empty_answer(logged, capsys):
    # Before: "s.db: no logged call", exit 0, as for a run that made no call.
    path, batch, _, _ = logged
    for extra in ([], ["--input", batch]):
        code, out = _cli("predictions", path, "--run", "no-such-run", *extra)
        assert code == 2, out
        assert out == ""
        assert "no run 'no-such-run'" in capsys.readouterr().err


def test_a_malformed_sha256_is_a_usage_error(logged, capsys):
    # Before: "no logged call given input rows of SHA-256 zz", exit 0.
    path, _, _, _ = logged
    for digest in ("zz", "ab" * 31, "AB" * 32 + "0"):
        code, out = _cli("predictions", path, "--sha256", digest)
        assert code == 2, out
        assert "64 hexadecimal digits" in capsys.readouterr().err


def test_the_sha256_of_a_logged_batch_finds_it(logged):
    from sktraceprop.compliance import hash_rows

    path, _, (whole, _, _), _ = logged
    code, out = _cli("predictions", path, "--sha256", hash_rows(_X.iloc[:3]))
    assert code == 0, out
    assert f"event {whole} " in out and "1 logged call" in out


def test_a_directory_is_not_called_a_missing_file(tmp_path, capsys):
    code, _ = _cli("runs", tmp_path)
    assert code == 2
    assert "is a directory, not a store file" in capsys.readouterr().err


@settings(deadline=None, max_examples=25)
@given(
    run=st.sampled_from(["known", "unknown", None]),
    use_input=st.booleans(),
    row=st.one_of(st.none(), st.integers(-4, 4)),
)
@example(run="unknown", use_input=False, row=None)
@example(run=None, use_input=True, row=None)
def test_predictions_answers_or_fails_loudly(logged, run, use_input, row):
    """Any combination of options: exit 0 with an answer whose figures are the events'
    own, or exit 2; never a traceback, never "nan"."""
    path, batch, seqs, run_id = logged
    argv = ["predictions", path]
    if run is not None:
        argv += ["--run", run_id if run == "known" else "no-such-run"]
    if use_input:
        argv += ["--input", batch]
    if row is not None:
        argv += ["--row", row]
    code, out = _cli(*argv)
    expect_error = run == "unknown" or (row is not None and (not use_input or not 0 <= row < 3))
    assert code == (2 if expect_error else 0), out
    assert "nan" not in out
    if code == 0:
        listed = [int(line.split()[1]) for line in out.splitlines() if line.startswith("event ")]
        assert listed == sorted(listed)
        assert set(listed) <= set(seqs)
        if not use_input:
            assert listed == seqs


def test_the_report_page_says_erased_counts_were_erased(browser, fitted, tmp_path):
    # Before: each column of a source whose counts an erasure request took out read
    # "not given to fit" (it was given to fit), and its missing values "not recorded".
    from ._browser import load_page

    pipe, store, _, _ = fitted
    run_id = pipe.lineage_.run_id
    with pytest.warns(UserWarning):  # (the fitted model and feature names keep them: said)
        (summary,) = store.erase_rows(source_id="hospital_b", reason="Art. 17 request 7")
    path = store.path
    store.close()
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    code, out = _cli(
        "report", path, "--run", run_id, "--json", out_json, "--html", out_html,
        "--system-name", "S", "--system-version", "1", "--deployer", "D",
        "--category", "creditworthiness", "--purpose", "P", "--oversight", "O",
    )  # fmt: skip
    assert code == 0, out
    data = json.loads(out_json.read_text())
    text, _, problems, _ = load_page(out_html)
    assert problems == []
    flat = " ".join(text.split())
    by_id = {s["source_id"]: s for s in data["sources"]}
    erased, kept = by_id["hospital_b"], by_id["hospital_a"]
    seq = summary["event_seq"]
    assert erased["statistics"]["erased"]["event_seq"] == seq
    section = flat.split("Input data, per source")[1].split(" Lineage: ")[0]
    details = section.split(" hospital_b URI ")[1].split(" hospital_a URI ")[0]
    for c in erased["columns"]:
        assert f"{c['name']} {c['dtype']} erased (audit event {seq})" in details
    assert "not given to fit" not in details
    # the summary row: label balance and missing values, both said erased
    assert f"hospital_b file {erased['n_rows']} {erased['training_rows']} " in section
    assert f"{erased['statistics']['note']} erased (audit event {seq})" in section
    # the source that kept its counts shows the JSON's own figures
    for label, n in kept["statistics"]["labels"]["counts"].items():
        assert f"{label}: {n} (" in section
    for c in kept["columns"]:
        shown = "not given to fit" if c["missing"] is None else str(c["missing"])
        assert f"{c['name']} {c['dtype']} {shown}" in section


def test_the_listing_marks_the_calls_an_erasure_request_reached(tmp_path):
    # Before: an erased call was listed like any other, as if its input could still be
    # found (the count of calls in the head included it without a word).
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    model = _model(store)
    model.predict(_X.iloc[:2])
    model.predict(_X.iloc[2:4])
    rows = tmp_path / "rows.csv"
    _X.iloc[2:4].to_csv(rows, index=False)
    store.close()
    code, out = _cli("erase-predictions", path, "--input", rows, "--reason", "R-9")
    assert code == 0, out
    con = sqlite3.connect(path)
    try:
        salted = {s for (s,) in con.execute("SELECT seq FROM prediction_salts")}
        calls = [s for (s,) in con.execute("SELECT seq FROM events WHERE kind='prediction'")]
    finally:
        con.close()
    gone = [s for s in calls if s not in salted]
    assert len(calls) == 2 and len(gone) == 1
    code, out = _cli("predictions", path)
    assert code == 0, out
    assert out.splitlines()[0].endswith(
        "2 logged calls (1 of them erased at request), oldest first (times UTC)"
    )
    for seq in calls:
        block = out.split(f"event {seq} ")[1].split("\nevent ")[0]
        assert ("erased at request" in block) == (seq in gone)


def test_a_dry_run_says_larger_batch_only_of_a_larger_batch(logged, tmp_path):
    # Before: a 1-row call found by a row of a 3-row file "held the rows inside a larger
    # batch".
    path, batch, (whole, alone, _), _ = logged
    before = path.read_bytes()
    code, out = _cli("erase-predictions", path, "--input", batch, "--reason", "R", "--dry-run")
    assert code == 0, out
    assert f"events {whole}, {alone}\n" in out
    assert "larger batch" not in out
    assert f"event {alone} held some of the rows in another batch than the file's" in out
    one = tmp_path / "one.csv"
    _X.iloc[[1]].to_csv(one, index=False)
    code, out = _cli("erase-predictions", path, "--input", one, "--reason", "R", "--dry-run")
    assert code == 0, out
    assert f"event {whole} held the rows inside a larger batch: would be erased whole" in out
    assert path.read_bytes() == before


def test_runs_says_which_runs_lost_rows_to_unlearning(fitted):
    # Before: the unlearner's run was listed with the rows and sources it was fitted
    # on, hospital_b included, with no word that they were removed from its model.
    from sklearn.base import clone

    pipe, store, X, y = fitted
    unlearner = stp.GradientCorrectionUnlearner(clone(pipe)).fit(X, y)
    with pytest.warns(UserWarning):  # (the original model keeps them: said)
        unlearner.unlearn(source_id="hospital_b")
    removed_run = unlearner.estimator_.lineage_.run_id
    path = store.path
    store.close()
    con = sqlite3.connect(path)
    try:
        events = con.execute(
            "SELECT seq, run_id, payload FROM events WHERE kind = 'unlearning'"
        ).fetchall()
    finally:
        con.close()
    ((seq, run_id, payload),) = events
    assert run_id == removed_run
    n = len(set(json.loads(payload)["row_ids"]))
    assert n == int((np.asarray(stp.row_lineage(X)["source_id"]) == "hospital_b").sum())
    code, out = _cli("runs", path)
    assert code == 0, out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert lines[removed_run].endswith(
        f"  ({n} of its rows removed since by unlearning event {seq})"
    )
    assert "removed" not in lines[pipe.lineage_.run_id]


@pytest.mark.parametrize("n_rows", [0, -2, 362])
def test_demo_refuses_rows_it_cannot_trace_before_writing(tmp_path, capsys, n_rows):
    # Before: 0 or fewer printed "training rows 0..-1" and nothing under it (exit 0);
    # more than the 361 training rows, an IndexError traceback after the store was written.
    db = tmp_path / "demo.db"
    code, out = _cli("demo", "--db", db, "--rows", n_rows)
    assert code == 2, out
    assert f"--rows {n_rows}: the demo traces 1 to 361 training rows" in capsys.readouterr().err
    assert not db.exists()


def test_erase_says_what_it_keeps_in_its_own_output(tmp_path, capsys):
    # Before: the feature names made of the erased rows' values (a one-hot category
    # only they had), which stay in the file, were said only by a Python warning, so
    # under PYTHONWARNINGS=ignore the command printed "erased" and nothing else.
    import warnings

    from tests.stores.test_erase_value_names import _WARNED, _fit

    store, run_id = _fit(tmp_path)
    store.close()
    db = tmp_path / "s.db"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out = _cli("erase", db, "--source", "b", "--reason", "request 5")
    assert code == 0, out
    assert f"{run_id}  " in out and "store.redaction event seq" in out
    err = capsys.readouterr().err
    assert f"warning: the stored runs erased from {_WARNED} (3 in run {run_id}" in err
    assert "falconer" not in out + err  # counted, never named
    assert b"falconer" in db.read_bytes()  # what the warning says stays
