"""OpenLineage and OpenTelemetry exports say how many training rows went through a step
fitted on some rows of a file (a scaler per hospital of one file), counted against what
the test gave each scaler."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def _fit(tmp_path):
    rng = np.random.default_rng(4)
    n = 90
    frame = pd.DataFrame(
        {
            "hospital": rng.choice(["n", "s", "e"], n),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "y": np.arange(n) % 2,
        }
    )
    frame.to_csv(tmp_path / "d.csv", index=False)
    d = stp.read_csv(tmp_path / "d.csv")
    parts, want = [], {}
    for h, g in d.groupby("hospital"):
        scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
        parts.append(scaler.fit_transform(g[["x1", "x2"]]))
        want[scaler.lineage_.ops[-1].fingerprint] = int((frame["hospital"] == h).sum())
    X = pd.concat(parts)
    run = stp.TracedEstimator(LogisticRegression()).fit(X, d["y"].loc[X.index]).lineage_
    return run, want


def test_openlineage_counts_the_rows_through_each_step(tmp_path):
    pytest.importorskip("jsonschema")
    from sktraceprop.exporters import to_openlineage
    from tests.exporters.test_openlineage import validate

    run, want = _fit(tmp_path)
    event = to_openlineage(run)
    validate(event)
    ops = event["run"]["facets"]["sktraceprop_fit"]["ops"]
    got = {op["fingerprint"]: op.get("trainingRows") for op in ops}
    assert {f: got[f] for f in want} == want
    assert all("trainingRows" not in op for op in ops if op["sources"] is None)


def test_opentelemetry_counts_the_rows_through_each_step(tmp_path):
    pytest.importorskip("opentelemetry.sdk")
    from sktraceprop.exporters import to_opentelemetry
    from tests.exporters.test_opentelemetry import _capture

    run, want = _fit(tmp_path)
    provider, exporter = _capture()
    to_opentelemetry(run, tracer_provider=provider)
    got = {
        s.attributes.get("sktraceprop.op.fingerprint"): s.attributes.get(
            "sktraceprop.op.training_rows"
        )
        for s in exporter.get_finished_spans()
    }
    assert {f: got[f] for f in want} == want
