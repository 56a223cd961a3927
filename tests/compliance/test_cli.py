"""The sktraceprop command: runs, trace, report, verify, check; exit codes 0, 1, 2."""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.compliance import compliance_report

from .conftest import DEPLOYER, before_format_7

REPORT_ARGS = [
    "--system-name",
    DEPLOYER["system_name"],
    "--system-version",
    DEPLOYER["system_version"],
    "--deployer",
    DEPLOYER["deployer_name"],
    "--category",
    DEPLOYER["high_risk_category"],
    "--purpose",
    DEPLOYER["intended_purpose"],
    "--oversight",
    DEPLOYER["human_oversight"][0],
    "--oversight",
    DEPLOYER["human_oversight"][1],
]


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _state(store):
    return (
        store.events(include_store_events=True),
        store.list_runs().to_dict(),
        store.checkpoints(),
    )


def test_runs_and_trace(fitted, hospitals, capsys):
    pipe, store, X, _ = fitted
    code, out, _ = _run(capsys, "runs", store.path)
    assert code == 0 and pipe.lineage_.run_id in out and f"{len(X)} rows" in out
    code, out, _ = _run(capsys, "trace", store.path, "--run", pipe.lineage_.run_id, "--row", 0)
    row = pipe.trace([0]).iloc[0]
    assert code == 0 and f"{row.source_id}, line {row.line} of {row.uri}" in out
    # the printed line is the file's own line, read from the raw bytes
    text = hospitals[row.source_id].read_text().split("\n")[row.line - 1]
    assert f"line {row.line}: {text}" in out


def test_trace_does_not_show_a_line_of_a_changed_file(fitted, hospitals, capsys):
    pipe, store, *_ = fitted
    row = pipe.trace([0]).iloc[0]
    path = hospitals[row.source_id]
    path.write_text(path.read_text().replace("plain", "PLAIN"))
    code, out, _ = _run(capsys, "trace", store.path, "--run", pipe.lineage_.run_id, "--row", 0)
    assert code == 0 and "the file changed since it was loaded" in out
    assert "PLAIN" not in out


def test_report_verify_and_check_with_exit_codes(fitted, tmp_path, capsys):
    pipe, store, *_ = fitted
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    run = pipe.lineage_.run_id
    before = _state(store)
    code, out, err = _run(
        capsys,
        "report",
        store.path,
        "--run",
        run,
        "--json",
        out_json,
        "--html",
        out_html,
        *REPORT_ARGS,
    )
    assert code == 0, err
    assert out_json.exists() and out_html.exists() and "Art. 26(4)" in out
    assert stp.compliance.verify(out_json, store=store)
    code, out, _ = _run(capsys, "verify", out_json, "--db", store.path)
    assert code == 0 and "verified" in out
    code, out, _ = _run(capsys, "check", store.path)
    assert code == 0 and "ok (integrity_check" in out
    assert _state(store) == before  # nothing stored changed

    data = json.loads(out_json.read_text())
    data["sources"][0]["n_rows"] += 1
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    code, _, err = _run(capsys, "verify", edited)
    assert code == 1 and "/sources/0/n_rows was changed" in err


def test_usage_errors_exit_2_and_name_the_problem(fitted, tmp_path, capsys):
    pipe, store, *_ = fitted
    run = pipe.lineage_.run_id
    before = _state(store)
    out_json = tmp_path / "r.json"
    cases = [
        (["runs", tmp_path / "none.db"], "no store at"),
        (["trace", store.path, "--run", "nope", "--row", 0], "no run 'nope'"),
        (["trace", store.path, "--run", run, "--row", 10**6], "out of range"),
        (["verify", tmp_path / "none.json"], "no report at"),
        (
            ["report", store.path, "--run", run, "--json", out_json, *REPORT_ARGS[:6]]
            + ["--category", "credit", *REPORT_ARGS[8:]],
            "is not one of the high-risk areas",
        ),
        (
            ["report", store.path, "--run", run, "--json", out_json, *REPORT_ARGS]
            + ["--system-name", " "],
            "system_name",
        ),
    ]
    for argv, message in cases:
        code, _, err = _run(capsys, *argv)
        assert code == 2 and message in err, (argv, err)
    assert not (tmp_path / "none.db").exists()  # never created by looking
    assert not out_json.exists()
    with pytest.raises(SystemExit) as info:  # argparse: a required option missing
        main(["report", str(store.path), "--run", run, "--json", str(out_json)])
    assert info.value.code == 2
    assert "--system-name" in capsys.readouterr().err
    out_json.write_text("keep")
    code, _, err = _run(
        capsys, "report", store.path, "--run", run, "--json", out_json, *REPORT_ARGS
    )
    assert code == 2 and "never overwritten" in err and out_json.read_text() == "keep"
    empty = stp.stores.SQLiteStore(tmp_path / "empty.db")
    code, _, err = _run(
        capsys, "report", empty.path, "--run", "x", "--json", tmp_path / "e.json", *REPORT_ARGS
    )
    assert code == 2 and "no run 'x'" in err
    assert _state(store) == before


def test_a_corrupt_store_exits_1(fitted, tmp_path, capsys):
    _, store, *_ = fitted
    con = sqlite3.connect(store.path)
    con.execute("DROP TRIGGER IF EXISTS events_append_only_update")
    con.execute("UPDATE events SET kind = 'edited' WHERE seq = 1")
    con.commit()
    con.close()
    code, _, err = _run(capsys, "check", store.path)
    assert code == 1 and "audit event 1" in err
    digest = hashlib.sha256(open(store.path, "rb").read()).hexdigest()
    code, _, _ = _run(capsys, "check", store.path)
    assert hashlib.sha256(open(store.path, "rb").read()).hexdigest() == digest


def test_check_with_signed_checkpoints(fitted, tmp_path, capsys):
    from sktraceprop import signing

    _, store, *_ = fitted
    key, other = signing.generate_key(), signing.generate_key()
    public, wrong = tmp_path / "audit.pub.pem", tmp_path / "other.pub.pem"
    signing.save_key(key.public_key(), public)
    signing.save_key(other.public_key(), wrong)
    signed = store.checkpoint(key, path=tmp_path / "cp.json")
    code, out, _ = _run(capsys, "check", store.path)
    assert code == 0 and "1 checkpoint(s)" in out and "signatures not checked" in out
    code, out, _ = _run(capsys, "check", store.path, "--public-key", public)
    assert code == 0 and f"signed through event {signed['event_seq']} by key" in out

    store.append_event("review", {"by": "auditor"})  # after the checkpoint: not signed
    before = _state(store)
    code, _, err = _run(capsys, "check", store.path, "--public-key", public)
    assert code == 1 and "not covered by a checkpoint" in err, err
    code, out, _ = _run(
        capsys, "check", store.path, "--public-key", public, "--allow-unsigned-tail"
    )
    assert code == 0 and "1 later event(s) not signed yet" in out
    code, _, err = _run(capsys, "check", store.path, "--public-key", wrong)
    assert code == 1 and "no checkpoint signed by key" in err
    code, out, _ = _run(
        capsys, "check", store.path, "--public-key", public, "--allow-unsigned-tail",
        "--checkpoint", tmp_path / "cp.json",
    )  # fmt: skip
    assert code == 0, out
    code, _, err = _run(capsys, "check", store.path, "--checkpoint", tmp_path / "cp.json")
    assert code == 2 and "--checkpoint needs --public-key" in err
    code, _, err = _run(
        capsys, "check", store.path, "--public-key", public, "--checkpoint", tmp_path / "no"
    )
    assert code == 2 and "no checkpoint at" in err
    assert _state(store) == before  # checking writes nothing


def _command(*argv):
    # the package under test, whichever copy is installed in the environment
    root = str(Path(stp.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root}
    return subprocess.run(
        [sys.executable, "-m", "sktraceprop", *argv], capture_output=True, text=True, env=env
    ).stdout


def test_help_is_plain_text_with_exit_codes():
    out = _command("--help")
    for command in ("demo", "runs", "trace", "report", "verify", "check"):
        assert command in out
    assert "0  success" in out and "2  usage error" in out
    assert "\x1b[" not in out  # no terminal colours
    sub = _command("report", "--help")
    assert "--oversight" in sub and "1  verification failed" in sub


@pytest.mark.parametrize(
    "name, write, read_args",
    [
        ("latin.csv", lambda text: text.encode("latin-1"), {"encoding": "latin-1"}),
        ("packed.csv.gz", lambda text: __import__("gzip").compress(text.encode()), {}),
        ("packed.csv.bz2", lambda text: __import__("bz2").compress(text.encode()), {}),
        ("packed.csv.xz", lambda text: __import__("lzma").compress(text.encode()), {}),
        ("lone_cr.csv", lambda text: text.replace("\n", "\r").encode(), {}),
    ],
)
def test_trace_shows_the_line_of_encoded_and_compressed_files(
    name, write, read_args, tmp_path, capsys
):
    # The line read_csv names, shown from the file's (decompressed) bytes: before, a
    # latin-1 or compressed file made `trace` fail as a usage error (exit 2).
    text = "key,a,y\n" + "".join(f"k{i}é,{i},{i % 2}\n" for i in range(6))
    (tmp_path / name).write_bytes(write(text))
    frame = stp.read_csv(tmp_path / name, source_id=name, **read_args)
    db = tmp_path / "lineage.db"
    store = stp.stores.SQLiteStore(db)
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(frame[["a"]], frame["y"])
    code, out, _ = _run(capsys, "trace", db, "--run", pipe.lineage_.run_id, "--row", 2)
    assert code == 0
    assert "line 4 of" in out
    # (the latin-1 file's line decoded as read_csv decoded it: its record names the
    # encoding; before, its bytes were shown as UTF-8, "k2\\xe9,2,0")
    assert "  line 4: k2é,2,0\n" in out


def test_runs_names_each_split_and_the_refit_of_a_search(tmp_path, capsys):
    import numpy as np
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import StandardScaler

    X = stp.from_numpy(np.random.default_rng(1).normal(size=(30, 2)), "grid")
    y = (X["x0"] > 0).astype(int)
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    search = GridSearchCV(pipe, {"logisticregression__C": [0.5, 2.0]}, cv=3).fit(X, y)
    refit = search.best_estimator_.lineage_
    search_id = refit.selection["search_id"]
    code, out, _ = _run(capsys, "runs", store.path)
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    listed = store.list_runs()
    assert set(lines) == set(listed["run_id"])
    for run_id, role in zip(listed["run_id"], listed["search_role"]):
        if run_id == refit.run_id:
            assert f"  fit (refit of search {search_id})  grid" in lines[run_id]
        else:
            assert role == "cv_fold"
            assert f"  cv_fold (split of search {search_id})  grid" in lines[run_id]
            assert f"{store.load_run(run_id).n_samples} rows" in lines[run_id]


def test_trace_names_the_removal_of_a_removed_row_and_shows_none_of_its_values(tmp_path, capsys):
    """A row an unlearner removed was traced as a training row of the run, its line's
    values printed, with no word of the removal. Truth: the file's own lines and the
    store's unlearning event."""
    store, event, run = _marked_rows_removed(tmp_path)
    code, out, _ = _run(capsys, "trace", store.path, "--run", run, "--row", 20, "--row", 21)
    assert code == 0
    assert "123456.789" not in out and "98765.4321" not in out
    assert out.count(f"removed from the model by unlearning event seq {event['seq']}") == 2
    assert "line 22 of" in out and "line 23 of" in out  # still traced to the file
    code, out, _ = _run(capsys, "trace", store.path, "--run", run, "--row", 3)
    assert code == 0 and "line 5: 3,1" in out and "removed" not in out


def _edit(path, sql, args):
    """An edit made outside sktraceprop: the append-only triggers dropped, then restored."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = triggers.fetchall()
        for name, _ in triggers:
            con.execute(f"DROP TRIGGER {name}")
        con.execute(sql, args)
        for _, definition in triggers:
            con.execute(definition)
    finally:
        con.close()


def test_trace_and_runs_print_nothing_from_an_altered_store(tmp_path, capsys):
    """trace read the unlearning events without checking them: a removal event edited
    in the file (one row id taken out of it) made trace print a removed row's line as
    a training row never removed, exit 0. runs printed an edited run record as stored.
    Truth: the event as the unlearner wrote it, and the file's own bytes."""
    store, event, run = _marked_rows_removed(tmp_path)
    con = sqlite3.connect(store.path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file alone is then the store
    con.close()
    db = tmp_path / "edited.db"
    db.write_bytes(Path(store.path).read_bytes())
    payload = dict(event["payload"], row_ids=event["payload"]["row_ids"][1:])
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    _edit(db, "UPDATE events SET payload = ? WHERE seq = ?", (text, event["seq"]))
    before = db.read_bytes()
    code, out, err = _run(capsys, "trace", db, "--run", run, "--row", 20)
    assert code == 1 and out == ""
    assert f"audit event {event['seq']} does not match its hash" in err
    assert "123456.789" not in out + err
    code, out, err = _run(capsys, "runs", db)
    assert code == 1 and out == "" and f"audit event {event['seq']}" in err
    assert db.read_bytes() == before  # read-only: nothing written

    # a run's record edited (its estimator), its digest left as it was
    db.write_bytes(Path(store.path).read_bytes())
    record = json.loads(
        sqlite3.connect(db)
        .execute("SELECT record FROM runs WHERE run_id = ?", (run,))
        .fetchone()[0]
    )
    record["estimator"] = "sklearn.ensemble.RandomForestClassifier"
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    _edit(db, "UPDATE runs SET record = ? WHERE run_id = ?", (text, run))
    code, out, err = _run(capsys, "runs", db)
    assert code == 1 and out == "" and f"run {run} was altered after it was stored" in err
    assert "RandomForest" not in out
    # the store as written still lists and traces
    code, out, _ = _run(capsys, "runs", store.path)
    assert code == 0 and run in out


def test_report_checks_both_files_before_writing_either(fitted, tmp_path, capsys):
    """An --html page in a missing folder, or naming the --json file, was refused only
    after the JSON report was written: exit 2 with a report left behind, which then
    refused the command run again ("exists"). Truth: the folder's listing."""
    pipe, store, *_ = fitted
    run = pipe.lineage_.run_id
    out_json = tmp_path / "r.json"
    argv = ["report", store.path, "--run", run, "--json", out_json, *REPORT_ARGS]
    code, _, err = _run(capsys, *argv, "--html", tmp_path / "missing" / "r.html")
    assert code == 2 and f"folder {tmp_path / 'missing'} does not exist" in err
    assert not out_json.exists()
    code, _, err = _run(capsys, *argv, "--html", out_json)
    assert code == 2 and "--html and --json both name" in err
    assert not out_json.exists()
    code, _, err = _run(
        capsys, *[a if a != out_json else tmp_path / "no" / "r.json" for a in argv]
    )
    assert code == 2 and f"folder {tmp_path / 'no'} does not exist" in err
    assert not list(tmp_path.rglob("*.json"))
    code, out, _ = _run(capsys, *argv, "--html", tmp_path / "r.html")
    assert code == 0 and out_json.is_file() and (tmp_path / "r.html").is_file()


def test_a_key_or_checkpoint_file_of_the_wrong_kind_is_named(fitted, tmp_path, capsys):
    """A private key given where the public key goes (and the reverse) was refused with
    cryptography's words alone ("Are you sure this is a public key?"), naming no file; a
    checkpoint file that is not JSON named no file, and one holding a JSON list raised
    AttributeError out of the command (a traceback, exit 1: "verification failed")."""
    from sktraceprop import signing

    pipe, store, *_ = fitted
    key = signing.generate_key()
    private, public = tmp_path / "audit.pem", tmp_path / "audit.pub.pem"
    signing.save_key(key, private)
    signing.save_key(key.public_key(), public)
    store.checkpoint(key, path=tmp_path / "cp.json")
    before = _state(store)
    code, _, err = _run(capsys, "check", store.path, "--public-key", private)
    assert code == 2 and f"{private} holds a private key, not a public key" in err
    argv = ["report", store.path, "--run", pipe.lineage_.run_id, *REPORT_ARGS]
    code, _, err = _run(capsys, *argv, "--json", tmp_path / "r.json", "--sign", public)
    assert code == 2 and f"{public} holds a public key, not a private key" in err
    code, _, err = _run(capsys, *argv, "--json", tmp_path / "r.json", "--checkpoint-key", private)
    assert code == 2 and f"{private} holds a private key" in err
    code, _, err = _run(capsys, "check", store.path, "--public-key", tmp_path / "cp.json")
    assert code == 2 and f"{tmp_path / 'cp.json'} is not a PEM public key" in err
    assert not (tmp_path / "r.json").exists()
    for name, text, named in (
        ("broken.json", "{", "not JSON as a checkpoint is written"),
        ("list.json", "[1]", "a JSON list"),
        ("other.json", '{"format": "x"}', "not a sktraceprop checkpoint"),
    ):
        (tmp_path / name).write_text(text)
        code, out, err = _run(
            capsys, "check", store.path, "--public-key", public, "--checkpoint", tmp_path / name
        )
        assert code == 2 and f"{tmp_path / name}: not a" in err and named in err, err
    assert _state(store) == before


def test_verify_says_what_a_content_hash_alone_cannot_show(fitted, tmp_path, capsys):
    """A report edited and re-hashed, unsigned, was "verified (schema, content hash,
    events)" with no word that such an edit passes those checks; a signed report checked
    without a key was told to "pass public_key=", which the command has no option for."""
    from sktraceprop import signing
    from sktraceprop.compliance._integrity import body_of, seal

    pipe, store, *_ = fitted
    report = compliance_report(pipe, **DEPLOYER).to_dict()
    body = body_of(report)
    body["sources"][0]["n_rows"] += 1  # an edit, and the hash recomputed
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**body, "integrity": seal(body)}))
    code, out, _ = _run(capsys, "verify", edited)
    assert code == 0 and "a report edited and then re-hashed passes these checks" in out
    code, _, err = _run(capsys, "verify", edited, "--db", store.path)
    assert code == 1 and "/sources/0/n_rows differs from the store's run record" in err
    key = signing.generate_key()
    signed = tmp_path / "signed.json"
    compliance_report(pipe, **DEPLOYER, private_key=key, output_path=signed)
    code, out, _ = _run(capsys, "verify", signed, "--db", store.path)
    assert code == 0 and "its signature was not checked: give --public-key" in out
    assert "public_key=" not in out and "re-hashed" not in out


def test_trace_and_runs_show_control_characters_from_data_as_text(tmp_path, capsys):
    """A data file's line and a source id reached the terminal raw: an escape sequence
    (retitle, recolour), backspaces that overwrite the values printed before them, a
    right-to-left override, and a newline in a source id that printed a line of its own
    ("fake line"). Truth: the file's bytes; every control character is shown escaped."""
    import re

    path = tmp_path / "d.csv"
    path.write_bytes(b"x,y\n1,0\n2,1\n3\x1b]0;pwned\x07\x08\x08,0\n4\xe2\x80\xae,1\n5,0\n6,1\n")
    frame = stp.read_csv(path, source_id="src\x1b[31m\nfake line")
    frame["x"] = frame["x"].astype(str).str[0].astype(int)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    run = pipe.fit(frame[["x"]], frame["y"]).lineage_.run_id
    code, out, _ = _run(capsys, "trace", store.path, "--run", run, "--row", 2, "--row", 3)
    assert code == 0
    controls = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    assert controls.findall(out) == []
    lines = out.splitlines()
    assert len(lines) == 6 and not any(line.startswith("fake line") for line in lines)
    assert "src\\x1b[31m\\nfake line, line 4 of" in lines[0]
    assert lines[2] == "  line 4: 3\\x1b]0;pwned\\x07\\x08\\x08,0"
    assert lines[5] == "  line 5: 4\\u202e,1"
    code, out, _ = _run(capsys, "runs", store.path)
    assert code == 0 and controls.findall(out) == [] and len(out.splitlines()) == 2
    assert out.rstrip("\n").endswith("src\\x1b[31m\\nfake line")


def _marked_rows_removed(tmp_path):
    """A store whose model was fitted on a file with two marked rows, then had them
    removed: ``(store, its unlearning event, the run)``."""
    from sktraceprop.unlearning import GradientCorrectionUnlearner

    path = tmp_path / "marked.csv"
    lines = ["x,y"] + [f"{v},{v % 2}" for v in range(20)] + ["123456.789,1", "-98765.4321,0"]
    path.write_text("\n".join(lines) + "\n")
    frame = stp.read_csv(path)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    unl = GradientCorrectionUnlearner(pipe).fit(frame[["x"]], frame["y"])
    unl.unlearn(sample_id=stp.row_ids(frame)[20:])
    return store, store.events(unl.run_id_, kind="unlearning")[0], unl.run_id_


def test_check_and_verify_say_what_they_cannot_show(fitted, tmp_path, capsys):
    """``check --public-key`` printed "signed through event N" for a store put back to
    an older copy of itself (events cut from the end with the checkpoint that signed
    them), and ``verify --db`` "verified" for an unsigned report re-hashed after an edit
    of what the store does not record, or lowered to an older format: each with no
    word that such a change passes."""
    from sktraceprop import signing
    from sktraceprop.compliance._integrity import body_of, seal

    pipe, store, *_ = fitted
    key = signing.generate_key()
    public = tmp_path / "audit.pub.pem"
    signing.save_key(key.public_key(), public)
    kept = store.checkpoint(key, path=tmp_path / "cp.json")
    code, out, _ = _run(capsys, "check", store.path, "--public-key", public)
    assert code == 0 and "note: events cut from the end of the log together with" in out
    assert "an older copy of the store put back" in out and "(--checkpoint)" in out
    code, out, _ = _run(
        capsys, "check", store.path, "--public-key", public, "--checkpoint", tmp_path / "cp.json"
    )
    assert code == 0 and f"events after event {kept['event_seq']} (the latest checkpoint" in out

    body = body_of(compliance_report(pipe, **DEPLOYER).to_dict())
    body["system"]["deployer"] = "Someone Else SA"  # recorded nowhere in the store
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**body, "integrity": seal(body)}))
    code, out, _ = _run(capsys, "verify", edited, "--db", store.path)
    assert code == 0 and "found only where the store records what was edited" in out
    body["report"]["format_version"] = 6
    before_format_7(body)
    edited.write_text(json.dumps({**body, "integrity": seal(body)}))
    code, out, _ = _run(capsys, "verify", edited, "--db", store.path)
    assert code == 0 and "note: the report is of format 6" in out
    assert "(--public-key)" in out and "public_key=" not in out
