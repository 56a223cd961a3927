"""A record verified where it was not written: another time zone, another path, a copy
of the store taken while it was open, another Python environment, source files whose
line ends were converted. A record not changed verifies everywhere; a change is named
for what it is."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._cli_lines import _line_text
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

_ROOT = Path(__file__).resolve().parents[2]


# -- source files whose line ends were converted -------------------------------------

_line = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8)


@settings(deadline=None, max_examples=40)
@given(lines=st.lists(_line, min_size=1, max_size=6), crlf_first=st.booleans())
@example(lines=["a,b", "1,2"], crlf_first=False)
def test_line_ends_converted_are_named_and_no_line_is_shown(tmp_path_factory, lines, crlf_first):
    # Before: "the file changed since it was loaded (SHA-256 differs)" for a file whose
    # only change was git's autocrlf, as for any edit.
    path = tmp_path_factory.mktemp("crlf") / "data.csv"
    ends = (b"\r\n", b"\n") if crlf_first else (b"\n", b"\r\n")
    loaded = b"".join(line.encode() + ends[0] for line in lines)
    sha = hashlib.sha256(loaded).hexdigest()
    path.write_bytes(loaded.replace(ends[0], ends[1]))
    shown, why = _line_text(path.as_uri(), 1, sha)
    was, now = ("CRLF", "LF") if crlf_first else ("LF", "CRLF")
    assert shown is None
    assert f"only its line ends differ, {was} when loaded and {now} now" in why
    # the truth: the raw bytes differ, and converting back gives the loaded ones
    assert hashlib.sha256(path.read_bytes()).hexdigest() != sha
    # an edit beside the conversion is not called a conversion
    path.write_bytes(loaded.replace(ends[0], ends[1]) + b"x")
    shown, why = _line_text(path.as_uri(), 1, sha)
    assert shown is None and "line ends" not in why and "SHA-256 differs" in why
    # the file put back: its line is shown
    path.write_bytes(loaded)
    assert _line_text(path.as_uri(), 1, sha) == (lines[0], None)


# -- a report and its store, verified elsewhere -----------------------------------------


@pytest.fixture
def written(fitted, tmp_path):
    pipe, store, X, _ = fitted
    path = tmp_path / "report.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    return path, store


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"])
def test_a_report_verifies_in_another_time_zone(written, zone, monkeypatch):
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX only")
    path, store = written
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert time.localtime(0).tm_gmtoff != 0
        assert verify(path, store=store)
        assert store.verify()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/St_Johns"])
def test_a_report_written_in_another_time_zone_verifies_in_utc(
    fitted, zone, tmp_path, monkeypatch
):
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX only")
    pipe, store, X, _ = fitted
    path = tmp_path / "report.json"
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        pipe.predict(X.iloc[:2])  # an event logged in that zone too
        compliance_report(pipe, **DEPLOYER, output_path=path)
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
    report = json.loads(path.read_text())
    assert report["report"]["generated_at"].endswith("+00:00")
    assert verify(path, store=store)
    monkeypatch.delenv("TZ")
    time.tzset()


def test_a_report_and_store_moved_and_re_serialised_verify(written, tmp_path, monkeypatch):
    path, store = written
    other = tmp_path / "elsewhere"
    other.mkdir()
    store.close()
    db = Path(store.path)
    for name in os.listdir(db.parent):
        if name.startswith(db.name):  # moved: nothing left at the path written
            shutil.move(db.parent / name, other / name)
    data = json.loads(path.read_text())
    forms = {
        "indent4.json": json.dumps(data, indent=4),
        "sorted.json": json.dumps(data, sort_keys=True),
        "compact.json": json.dumps(data, separators=(",", ":"), ensure_ascii=True),
    }
    monkeypatch.chdir(other)
    moved = stp.stores.SQLiteStore(db.name, mode="ro")
    for name, text in forms.items():
        (other / name).write_text(text)
        assert verify(name, store=moved), name


def _wal_report(tmp_path, fitted):
    """A report whose events are still in the store's -wal file (a reader holds the
    WAL open, so nothing is written back) and a plain copy of the .db file alone."""
    pipe, store, _, _ = fitted
    reader = sqlite3.connect(store.path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM events").fetchone()
    for i in range(3):
        store.append_event("review", {"i": i})
    path = tmp_path / "report.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    copy = tmp_path / "copied.db"
    shutil.copy(store.path, copy)  # without its -wal file
    backup = tmp_path / "backup.db"
    with sqlite3.connect(backup) as target:
        source = sqlite3.connect(store.path)
        source.backup(target)
        source.close()
    target.close()
    reader.rollback()
    reader.close()
    return path, copy, backup


def test_a_store_copied_without_its_wal_is_named_an_older_copy(fitted, tmp_path):
    # Before: each event of the report absent from the copy was said to "differ between
    # the report and the store", as an edited one is.
    path, copy, backup = _wal_report(tmp_path, fitted)
    assert verify(path, store=stp.stores.SQLiteStore(backup, mode="ro"))
    older = stp.stores.SQLiteStore(copy, mode="ro")
    assert older.verify()  # an older state of the store is a valid store
    with pytest.raises(ReportVerificationError) as info:
        verify(path, store=older)
    problems = info.value.problems
    assert "copied while open without its -wal file" in problems[0]
    with sqlite3.connect(copy) as con:  # the truth: the copied file's own rows
        (last,) = con.execute("SELECT max(seq) FROM events").fetchone()
    con.close()
    ends = "it holds no events" if last is None else f"its chain ends at event seq {last}"
    report = json.loads(path.read_text())
    missing = [e for e in report["events"] if last is None or e["seq"] > last]
    assert missing
    for event in missing:
        said = (
            f"event seq {event['seq']} ({event['kind']}) of the report is not in the "
            f"store ({ends})"
        )
        assert said in problems
    assert not any("differs between the report and the store" in p for p in problems)


# -- another Python environment ----------------------------------------------------------


def _other_python():
    """The interpreter of the other environment (``make test`` / ``make test-oldest``):
    ``STP_OTHER_PYTHON``, else whichever of ``.venv`` and ``.venv-oldest`` beside the
    repository this is not."""
    named = os.environ.get("STP_OTHER_PYTHON")
    if named:
        return named
    here = Path(sys.prefix).resolve()
    for name in (".venv", ".venv-oldest"):
        candidate = _ROOT / name / "bin" / "python"
        if candidate.exists() and (_ROOT / name).resolve() != here:
            return str(candidate)
    return None


_CHECK = """
import sys, warnings
warnings.simplefilter("ignore")
import sktraceprop as stp
from sktraceprop.cli import main
store = stp.stores.SQLiteStore(sys.argv[1], mode="ro")
assert store.verify()
assert stp.compliance.verify(sys.argv[2], store=store)
assert main(["check", sys.argv[1]]) == 0
assert main(["verify", sys.argv[2], "--db", sys.argv[1]]) == 0
print("VERIFIED")
"""


def test_a_report_verifies_under_the_other_environment(written, tmp_path):
    other = _other_python()
    if other is None:
        pytest.skip("no other Python environment (.venv / .venv-oldest, STP_OTHER_PYTHON)")
    path, store = written
    env = {**os.environ, "PYTHONPATH": str(_ROOT), "TZ": "America/St_Johns"}
    env["PYTHONHASHSEED"] = "12345"
    done = subprocess.run(
        [other, "-c", _CHECK, str(store.path), str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "VERIFIED" in done.stdout


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://auditor:s3cret@127.0.0.1:5432/audit",
        "postgres://auditor:s3cret@db/audit",
        "host=db dbname=audit user=auditor password=s3cret",
    ],
)
@pytest.mark.parametrize("command", [["check"], ["runs"], ["verify", "report.json", "--db"]])
def test_a_postgres_dsn_is_named_and_its_password_not_printed(dsn, command, tmp_path, capsys):
    # Before: "no store at postgresql://auditor:s3cret@... (the file does not exist)":
    # a PostgreSQL store called missing, and its password printed.
    from sktraceprop.cli import main

    argv = [*command, dsn] if command[0] != "verify" else ["verify", str(tmp_path / "r.json")]
    if command[0] == "verify":
        (tmp_path / "r.json").write_text("{}")
        argv += ["--db", dsn]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert "PostgreSQL connection string" in err and "PostgresStore(dsn)" in err
    assert "s3cret" not in err and "does not exist" not in err
