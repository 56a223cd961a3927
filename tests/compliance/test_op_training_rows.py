"""The report says how many training rows went through a step fitted outside the model
on some rows of a file (a scaler per hospital): counted from the run, checked against
what the test gave each scaler."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import verify
from sktraceprop.exceptions import ReportVerificationError
from tests.conftest import scaled_per_hospital

from .conftest import DEPLOYER


def test_each_hospitals_scaler_counts_its_own_rows(tmp_path):
    n = 120
    frame, d, X, scalers = scaled_per_hospital(tmp_path, n, ["north", "south"], 3)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(X, d["y"].loc[X.index])
    pipe.predict(X.iloc[:5])
    report = stp.compliance_report(pipe, **DEPLOYER, output_path=tmp_path / "report.json")
    ops = {op["fingerprint"]: op for op in report.to_dict()["model"]["ops"]}
    for h, scaler in scalers.items():
        op = ops[scaler.lineage_.ops[-1].fingerprint]
        assert op["training_rows"] == int((frame["hospital"] == h).sum())
    final = [op for op in ops.values() if op["sources"] is None]
    assert final and all("training_rows" not in op for op in final)
    assert verify(tmp_path / "report.json")
    edited = json.loads((tmp_path / "report.json").read_text())
    edited["model"]["ops"][0]["training_rows"] = n
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    with pytest.raises(ReportVerificationError, match="/model/ops/0 was changed"):
        verify(tmp_path / "edited.json")
    html = tmp_path / "report.html"
    report.to_html(html)
    assert "<th>Training rows</th>" in html.read_text()


def test_each_source_lists_the_steps_its_training_rows_went_through(tmp_path):
    """A scaler fitted on two files' rows, then applied to one file's rows only: the
    other file's entry listed it among the ops its rows went through (by the sources
    the step was fitted on) though none of them did. Each source now lists the steps
    some of its training rows went through, with how many (op_training_rows)."""
    rng = np.random.default_rng(5)
    frames = {}
    for name, n in (("a", 70), ("b", 50)):
        frames[name] = pd.DataFrame(
            {"x1": rng.normal(size=n), "x2": rng.normal(size=n), "y": np.arange(n) % 2}
        )
        frames[name].to_csv(tmp_path / f"{name}.csv", index=False)
    a, b = (stp.read_csv(tmp_path / f"{name}.csv") for name in ("a", "b"))
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    scaler.fit(pd.concat([a, b])[["x1", "x2"]])
    part = a.iloc[:40]
    X = pd.concat(
        [scaler.transform(part[["x1", "x2"]]), a.iloc[40:][["x1", "x2"]], b[["x1", "x2"]]]
    )
    y = pd.concat([a["y"], b["y"]])
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(X, y).predict(X.iloc[:3])
    report = stp.compliance_report(pipe, **DEPLOYER, output_path=tmp_path / "report.json")
    by_id = {s["source_id"]: s for s in report.to_dict()["sources"]}
    (upstream,) = [op for op in pipe.lineage_.ops if op.sources is not None]
    scaler_name, final_name = upstream.name, pipe.lineage_.ops[-1].name
    assert by_id["a"]["ops"] == [scaler_name, final_name]
    assert by_id["a"]["op_training_rows"] == [40, 70]
    assert by_id["b"]["ops"] == [final_name]
    assert by_id["b"]["op_training_rows"] == [50]
    assert verify(tmp_path / "report.json")
    html = tmp_path / "report.html"
    report.to_html(html)
    assert f"{scaler_name} (40 of 70 training rows), {final_name}</td>" in html.read_text()
