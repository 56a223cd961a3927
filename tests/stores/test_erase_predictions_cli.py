"""``sktraceprop erase-predictions``: the command-line erasure of the calls that scored
some rows, checked through the entry point against the store's own bytes and
``find_predictions``."""

import io
import sqlite3
import subprocess
import sys

import pytest

import sktraceprop as stp
from sktraceprop.cli import main
from tests.stores.test_erase_predictions import _X, _found, _model, _person, _unsalted_store


def _salts(path):
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT seq, salt FROM prediction_salts"))
    finally:
        con.close()


def _cli(*argv):
    out = io.StringIO()
    code = main([str(a) for a in argv], out=out)
    return code, out.getvalue()


@pytest.fixture
def logged(tmp_path):
    """A store whose model scored person 1 alone twice, person 2 alone, and a batch."""
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    model = _model(store)
    model.predict(_person(1))
    model.predict(_person(2))
    model.predict_proba(_person(1))
    model.predict(_X.iloc[:3])
    rows = tmp_path / "person1.csv"
    _person(1).to_csv(rows, index=False)
    return path, store, model, rows


def test_a_dry_run_lists_the_calls_and_writes_nothing(logged):
    path, store, _, rows = logged
    wanted = _found(store, _person(1))
    assert len(wanted) == 3  # twice alone, and inside the batch (by its row digest)
    store.close()
    before = path.read_bytes()
    code, out = _cli("erase-predictions", path, "--input", rows, "--reason", "R-1", "--dry-run")
    assert code == 0, out
    assert f"would erase 3 logged calls given the 1 row of {rows}" in out
    assert f"events {wanted[0]}, {wanted[1]}, {wanted[2]}" in out
    assert f"event {wanted[2]} held the rows inside a larger batch: would be erased whole" in out
    assert path.read_bytes() == before


def test_the_calls_are_erased_and_their_salts_gone_from_the_file(logged):
    path, store, _, rows = logged
    wanted = _found(store, _person(1))
    others = {seq: salt for seq, salt in _salts(path).items() if seq not in wanted}
    erased = [_salts(path)[seq] for seq in wanted]
    store.close()
    code, out = _cli("erase-predictions", path, "--input", rows, "--reason", "GDPR 17/42")
    assert code == 0, out
    store = stp.stores.SQLiteStore(path)
    (event,) = store.events(kind="store.prediction_erasure", include_store_events=True)
    assert f"erased 3 logged calls given the 1 row of {rows}" in out
    assert f"store.prediction_erasure event seq {event['seq']}" in out
    assert event["payload"]["reason"] == "GDPR 17/42"
    assert _found(store, _person(1)) == [] and len(_found(store, _person(2))) == 1
    # the batch held person 1's row: erased whole, with it
    assert _found(store, _X.iloc[:3], whole=True) == []
    assert store.verify()
    store.close()
    assert _salts(path) == {**others, event["seq"]: _salts(path)[event["seq"]]}  # + its key
    held = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert not [salt for salt in erased if salt.encode() in held]
    # what the predictions command now finds of the rows: nothing
    code, out = _cli("predictions", path, "--input", rows)
    assert code == 0 and "no logged call" in out
    # asked again: nothing left, nothing written
    before = path.read_bytes()
    code, out = _cli("erase-predictions", path, "--input", rows, "--reason", "GDPR 17/42")
    assert code == 0 and "no logged call given the 1 row" in out and "left to erase" in out
    assert path.read_bytes() == before


def test_run_limits_the_erasure_to_one_runs_calls(logged, tmp_path):
    path, store, model, rows = logged
    other = _model(store)
    other.predict(_person(1))
    run = other.lineage_.run_id
    mine = [e["seq"] for e in store.events(run, kind="prediction")]
    before = _found(store, _person(1))
    store.close()
    code, out = _cli("erase-predictions", path, "--input", rows, "--reason", "r", "--run", run)
    assert code == 0, out
    assert _found(stp.stores.SQLiteStore(path, mode="ro"), _person(1)) == [
        seq for seq in before if seq not in mine
    ]


def test_a_store_that_does_not_verify_is_not_written(logged):
    path, store, _, rows = logged
    seq = _found(store, _person(2))[0]
    store.close()
    con = sqlite3.connect(path)
    con.execute("DELETE FROM prediction_salts WHERE seq = ?", (seq,))  # outside sktraceprop
    con.commit()
    con.close()
    before = path.read_bytes()
    err = io.StringIO()
    sys_err, sys.stderr = sys.stderr, err
    try:
        code, _ = _cli("erase-predictions", path, "--input", rows, "--reason", "r")
    finally:
        sys.stderr = sys_err
    assert code == 1 and "deleted outside sktraceprop" in err.getvalue()
    assert path.read_bytes() == before


def test_bad_input_is_a_usage_error_and_nothing_is_written(logged, tmp_path, capsys):
    path, store, _, rows = logged
    store.close()
    before = path.read_bytes()
    missing = tmp_path / "nope.csv"
    assert _cli("erase-predictions", path, "--input", missing, "--reason", "r")[0] == 2
    (tmp_path / "empty.csv").write_text("")
    assert (
        _cli("erase-predictions", path, "--input", tmp_path / "empty.csv", "--reason", "r")[0] == 2
    )
    assert _cli("erase-predictions", path, "--input", rows, "--reason", "  ")[0] == 2
    assert "reason must say why" in capsys.readouterr().err
    assert (
        _cli("erase-predictions", tmp_path / "none.db", "--input", rows, "--reason", "r")[0] == 2
    )
    assert not (tmp_path / "none.db").exists()
    assert path.read_bytes() == before


def test_calls_logged_before_salting_are_listed_as_not_erasable(tmp_path, monkeypatch):
    path, model = _unsalted_store(tmp_path, monkeypatch)
    store = stp.stores.SQLiteStore(path)
    model.store = store
    model.predict(_person(0))  # upgraded: this one is salted
    old, new = _found(store, _person(0))
    store.close()
    rows = tmp_path / "p0.csv"
    _person(0).to_csv(rows, index=False)
    code, out = _cli("erase-predictions", path, "--input", rows, "--reason", "r")
    assert code == 0, out
    assert "erased 1 logged call given" in out and f"events {new}\n" in out
    assert f"not erasable: 1 call logged before salting (events {old})" in out
    assert _found(stp.stores.SQLiteStore(path, mode="ro"), _person(0)) == [old]


def test_the_installed_entry_point_runs_it(logged):
    path, store, _, rows = logged
    store.close()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sktraceprop",
            "erase-predictions",
            str(path),
            "--input",
            str(rows),
            "--reason",
            "r",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "erased 3 logged calls" in done.stdout  # twice alone, and the batch
    assert _found(stp.stores.SQLiteStore(path, mode="ro"), _person(1)) == []
