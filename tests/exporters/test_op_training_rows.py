"""OpenLineage and OpenTelemetry exports say how many training rows went through a step
fitted on some rows of a file (a scaler per hospital of one file), counted against what
the test gave each scaler."""

import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from tests.conftest import scaled_per_hospital


def _fit(tmp_path):
    frame, d, X, scalers = scaled_per_hospital(tmp_path, 90, ["n", "s", "e"], 4)
    want = {
        s.lineage_.ops[-1].fingerprint: int((frame["hospital"] == h).sum())
        for h, s in scalers.items()
    }
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
