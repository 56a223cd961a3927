"""OpenTelemetry spans: one per op under the run's span, caught by the SDK's in-memory exporter."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import sktraceprop as stp
from sktraceprop.exporters import to_opentelemetry
from tests.exporters._fits import hospital_run
from tests.exporters._runs import runs

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)


def _capture():
    exporter = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _ns(timestamp):
    # Independent of the exporter's own parser: pandas' nanosecond timestamps.
    return pd.Timestamp(timestamp).value


def test_one_span_per_op_nested_under_the_run(hospital_frames):
    run, X = hospital_run(*hospital_frames)
    provider, exporter = _capture()
    returned = to_opentelemetry(run, tracer_provider=provider)
    spans = exporter.get_finished_spans()
    assert len(spans) == 1 + len(run.ops)
    (root,) = [s for s in spans if s.parent is None]
    assert root is returned or root.context.span_id == returned.get_span_context().span_id
    assert root.name == "fit TracedPipeline"
    by_name = {s.name: s for s in spans if s is not root}
    assert sorted(by_name) == sorted(op.name for op in run.ops)
    # The column transformer's steps sit under it; the others under the run.
    parents = {name: s.parent.span_id for name, s in by_name.items()}
    ct = by_name["tracedcolumntransformer"].context.span_id
    assert parents == {
        "tracedcolumntransformer": root.context.span_id,
        "tracedcolumntransformer/onehotencoder": ct,
        "tracedcolumntransformer/standardscaler": ct,
        "logisticregression": root.context.span_id,
    }
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}

    # Attributes: the run's identity, sources and versions; each op's fingerprint.
    attributes = dict(root.attributes)
    assert attributes["sktraceprop.run_id"] == run.run_id
    assert attributes["sktraceprop.n_samples"] == len(X)
    assert attributes["sktraceprop.model_fingerprint"] == run.model_fingerprint
    sources = [run.sources[c] for c in sorted(run.sources)]
    assert sorted(attributes["sktraceprop.sources.source_id"]) == ["hospital_a", "hospital_b"]
    assert list(attributes["sktraceprop.sources.source_id"]) == [s.source_id for s in sources]
    assert list(attributes["sktraceprop.sources.sha256"]) == [s.sha256 for s in sources]
    assert list(attributes["sktraceprop.sources.uri"]) == [s.uri for s in sources]
    assert list(attributes["sktraceprop.sources.code"]) == sorted(run.sources)
    assert list(attributes["sktraceprop.sources.loaded_at"]) == [s.loaded_at for s in sources]
    assert attributes["sktraceprop.versions.scikit-learn"] == run.versions["scikit-learn"]
    assert attributes["sktraceprop.durations_recorded"] is False
    for op in run.ops:
        got = dict(by_name[op.name].attributes)
        assert got["sktraceprop.run_id"] == run.run_id
        assert got["sktraceprop.op.fingerprint"] == op.fingerprint
        assert got["sktraceprop.op.class"] == op.cls
        assert json.loads(got["sktraceprop.op.params"]) == op.params
        assert list(got["sktraceprop.op.features_out"]) == op.features_out
        assert got["sktraceprop.op.all_rows"] is True and "sktraceprop.op.sources" not in got

    # Times: every span at the run's UTC time, zero length (no duration was measured).
    when = _ns(run.created_at)
    assert {(s.start_time, s.end_time) for s in spans} == {(when, when)}


def test_upstream_ops_name_their_sources_and_notes_become_events(hospital_frames):
    a, b = hospital_frames
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    scaled_a = scaler.fit(a[["age"]]).transform(a[["age"]])
    X = pd.concat([scaled_a, b[["age"]]]).dropna()
    opaque = FunctionTransformer(np.log1p)  # leaves feature lineage unknown: a note
    y = (X["age"] > X["age"].median()).astype(int)
    run = stp.make_traced_pipeline(opaque, LogisticRegression()).fit(X.abs(), y).lineage_
    assert run.notes and run.ops[0].sources == ["hospital_a"]
    provider, exporter = _capture()
    to_opentelemetry(run, tracer_provider=provider)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    upstream = dict(spans[run.ops[0].name].attributes)
    assert list(upstream["sktraceprop.op.sources"]) == ["hospital_a"]
    assert upstream["sktraceprop.op.all_rows"] is False
    root = spans["fit TracedPipeline"]
    assert [e.attributes["message"] for e in root.events] == run.notes
    assert {e.timestamp for e in root.events} == {_ns(run.created_at)}


def test_the_global_provider_is_used_when_none_is_given(tmp_path):
    code = textwrap.dedent(
        """
        import numpy as np
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from sklearn.linear_model import LogisticRegression
        import sktraceprop as stp
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        X = stp.from_numpy(np.random.default_rng(0).normal(size=(10, 2)), "s")
        run = stp.make_traced_pipeline(LogisticRegression()).fit(X, X["x0"] > 0).lineage_
        tracer = trace.get_tracer("caller")
        with tracer.start_as_current_span("outer") as outer:
            stp.exporters.to_opentelemetry(run)
        spans = {s.name: s for s in exporter.get_finished_spans()}
        fit = spans["fit TracedPipeline"]
        print(sorted(spans), fit.parent.span_id == outer.get_span_context().span_id)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['fit TracedPipeline', 'logisticregression', 'outer'] True"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_generated_runs_give_one_span_per_op(run):
    provider, exporter = _capture()
    to_opentelemetry(run, tracer_provider=provider)
    spans = exporter.get_finished_spans()
    assert len(spans) == 1 + len(run.ops)
    (root,) = [s for s in spans if s.parent is None]
    first = {}
    for s in spans:
        if s is not root:
            first.setdefault(s.name, s)
    names = {op.name for op in run.ops}
    for s in spans:
        if s is root:
            continue
        # The parent is the longest step-path prefix that is an op, else the run.
        parts = s.name.split("/")
        prefixes = ["/".join(parts[:k]) for k in range(len(parts) - 1, 0, -1)]
        owner = next((p for p in prefixes if p in names), None)
        want = root if owner is None else first[owner]
        assert s.parent.span_id == want.context.span_id
        assert s.attributes["sktraceprop.run_id"] == run.run_id
    assert {(s.start_time, s.end_time) for s in spans} == {(_ns(run.created_at),) * 2}


def test_bad_input_is_refused_and_a_missing_sdk_names_the_extra():
    X = stp.from_numpy(np.random.default_rng(0).normal(size=(10, 2)), "s")
    run = stp.make_traced_pipeline(LogisticRegression()).fit(X, X["x0"] > 0).lineage_
    with pytest.raises(TypeError, match="exports a Lineage"):
        to_opentelemetry(run.to_dict())
    naive = stp.Lineage(**{**vars(run), "created_at": "2024-01-01T00:00:00"})
    with pytest.raises(ValueError, match="has no UTC offset"):
        to_opentelemetry(naive, tracer_provider=_capture()[0])
    early = stp.Lineage(**{**vars(run), "created_at": "1969-12-31T23:59:59+00:00"})
    with pytest.raises(ValueError, match="before 1970"):
        to_opentelemetry(early, tracer_provider=_capture()[0])
    code = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry"] = None
        import sktraceprop as stp
        try:
            stp.exporters.to_opentelemetry(None)
        except ImportError as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "pip install 'sktraceprop[otel]'" in out.stdout


def _keep(X, offset=0):
    return X


def test_a_parameter_beyond_2_53_is_read_exactly_by_a_float_reader():
    big = 2**60 + 1
    X = stp.from_numpy(np.random.default_rng(0).normal(size=(30, 2)), "big_param")
    step = FunctionTransformer(_keep, kw_args={"offset": big})
    run = stp.make_traced_pipeline(step, LogisticRegression()).fit(X, X["x0"] > 0).lineage_
    provider, exporter = _capture()
    to_opentelemetry(run, tracer_provider=provider)
    texts = [s.attributes.get("sktraceprop.op.params") for s in exporter.get_finished_spans()]
    texts = [t for t in texts if t is not None and "offset" in t]
    assert len(texts) == 1
    # as JavaScript reads JSON (every number a double), and exactly: the same parameters
    assert json.loads(texts[0], parse_int=float) == json.loads(texts[0])
    assert int(json.loads(texts[0])["kw_args"]["offset"]) == big


def test_an_op_fitted_on_one_of_two_same_named_files_names_its_content(tmp_path):
    # a/data.csv and b/data.csv are both "data": the op span said sources ["data"] only
    import hashlib

    from tests.exporters.test_openlineage import _fit_scaled_b, _same_named_files

    X, y, which, _, _ = _same_named_files(tmp_path)
    run = _fit_scaled_b(X, y, which)
    provider, exporter = _capture()
    to_opentelemetry(run, tracer_provider=provider)
    spans = {s.name: dict(s.attributes) for s in exporter.get_finished_spans()}
    (outside,) = [op for op in run.ops if op.sources is not None]
    attributes = spans[outside.name]
    b_sha = hashlib.sha256((tmp_path / "b" / "data.csv").read_bytes()).hexdigest()
    assert list(attributes["sktraceprop.op.source_keys.source_id"]) == ["data"]
    assert list(attributes["sktraceprop.op.source_keys.sha256"]) == [b_sha]
    inside = [op for op in run.ops if op.sources is None]
    assert all("sktraceprop.op.source_keys.sha256" not in spans[op.name] for op in inside)
