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


def test_each_hospitals_scaler_counts_its_own_rows(tmp_path):
    rng = np.random.default_rng(3)
    n = 120
    frame = pd.DataFrame(
        {
            "hospital": rng.choice(["north", "south"], n),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "y": np.arange(n) % 2,
        }
    )
    frame.to_csv(tmp_path / "d.csv", index=False)
    d = stp.read_csv(tmp_path / "d.csv")
    parts, scalers = [], {}
    for h, g in d.groupby("hospital"):
        scalers[h] = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
        parts.append(scalers[h].fit_transform(g[["x1", "x2"]]))
    X = pd.concat(parts)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(X, d["y"].loc[X.index])
    pipe.predict(X.iloc[:5])
    report = stp.compliance_report(
        pipe,
        system_name="Scorer",
        system_version="1.0.0",
        deployer_name="Clinic",
        high_risk_category="essential_services",
        intended_purpose="triage",
        human_oversight=["duty nurse"],
        output_path=tmp_path / "report.json",
    )
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
