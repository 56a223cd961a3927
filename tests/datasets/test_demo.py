import csv
import hashlib
import io
import warnings

import numpy as np

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.datasets import demo_paths, load_demo, write_demo_files


def test_bundled_files_are_what_the_generator_writes(tmp_path):
    write_demo_files(tmp_path)
    for sid, path in demo_paths().items():
        fresh = (tmp_path / path.name).read_bytes()
        assert hashlib.sha256(fresh).digest() == hashlib.sha256(path.read_bytes()).digest(), sid


def test_demo_lines_point_at_the_rows():
    df = load_demo(dropna=False)
    lineage = stp.row_lineage(df)
    texts = {sid: p.read_text().split("\n") for sid, p in demo_paths().items()}
    for k in np.linspace(0, len(df) - 1, 60).astype(int):
        row = lineage.iloc[k]
        record = texts[row["source_id"]][row["line"] - 1]
        if record.count('"') % 2:  # a quoted field continues on the next line
            record += "\n" + texts[row["source_id"]][row["line"]]
        fields = next(csv.reader(io.StringIO(record)))
        assert int(fields[0]) == df["age"].iloc[k]
        assert fields[1] == df["sex"].iloc[k]


def test_cli_demo_runs_end_to_end(tmp_path, capsys):
    db = tmp_path / "demo.db"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the demo prints what it warns of, as a line
        assert main(["demo", "--db", str(db), "--rows", "3"]) == 0
    out = capsys.readouterr().out
    # the explainer and valuer still held hospital_b's rows when it was removed
    assert "warning: other fitted objects in this process keep data of removed rows" in out
    assert "equal to the in-memory lineage: True" in out
    assert out.count(" line ") >= 6  # traced rows and the explanation's top rows
    assert "hash chain intact: True" in out
    # the correction matches a tight refit of the whole pipeline (printed by the demo)
    tail = out.split("refitting the whole pipeline:")[1]
    full_gap, before_gap = float(tail.split()[0]), float(tail.split("model's:")[1].split(")")[0])
    assert full_gap < 1e-5 and before_gap > 1e-2
    # the certificate with its float64 rounding bound, within tol together
    said = out.split("certificate (retained gradient norm) ")[1].split("\n")[0]
    certificate = float(said.split()[0])
    rounding = float(said.split("rounding bound ")[1].split(";")[0])
    tol = float(said.split("tol=")[1].split()[0])
    assert 0 <= certificate + rounding <= tol
    lds = float(out.split("(50 retrained subsets):")[1].split()[0])
    assert lds > 0.9
    n_runs = len(stp.stores.SQLiteStore(db).list_runs())
    assert f"now holds {n_runs} runs" in out and n_runs >= 3
