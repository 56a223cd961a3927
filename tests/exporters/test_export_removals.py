"""Exports of a run whose rows were later removed (unlearning) or named by an erasure
request state those events: OpenLineage's ``sktraceprop_removals`` run facet, Parquet's
``removals.parquet``, OpenTelemetry's ``sktraceprop.removals.*`` attributes. Checked
against the store's events read with sqlite3 and against what the test removed."""

import json
import sqlite3
import warnings
import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._fingerprint import fingerprint
from sktraceprop.exporters import to_openlineage, to_opentelemetry, to_parquet
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests.exporters.test_openlineage import validate

pq = pytest.importorskip("pyarrow.parquet")
sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

SOURCES = "abc"
N = 12  # rows per source file


def _fitted(tmp_path):
    """Three CSV files fitted into a SQLite store by an unlearner: (store, unlearner,
    frames by source id)."""
    # (other bytes in each folder: hypothesis' examples do not read copies of one file)
    rng = np.random.default_rng(zlib.crc32(tmp_path.name.encode()))
    frames = {}
    for name in SOURCES:
        path = tmp_path / f"{name}.csv"
        pd.DataFrame(
            {"x": rng.normal(size=N).round(3), "z": rng.normal(size=N).round(3)}
            | {"y": np.arange(N) % 2}
        ).to_csv(path, index=False)
        frames[name] = stp.read_csv(path, source_id=name)
    df = pd.concat(list(frames.values()))
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    unl = GradientCorrectionUnlearner(pipe).fit(df[["x", "z"]], df["y"])
    return store, unl, frames


def _events_read_with_sqlite(path, run_id):
    """``[(seq, hash, kind, payload)]`` of the run's unlearning events and the erasure
    events naming it, read past sktraceprop."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT seq, hash, kind, run_id, payload FROM events ORDER BY seq")
        out = []
        for seq, digest, kind, event_run, payload in rows.fetchall():
            payload = json.loads(payload)
            if (kind == "unlearning" and event_run == run_id) or (
                kind == "store.erasure" and run_id in payload.get("runs", ())
            ):
                out.append((seq, digest, kind, payload))
        return out
    finally:
        con.close()


def _spans(run, store=None):
    exporter = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    to_opentelemetry(run, tracer_provider=provider, store=store)
    (fit,) = [s for s in exporter.get_finished_spans() if s.name.startswith("fit ")]
    return dict(fit.attributes)


def _check_exports(store, run, tmp_path, expected, now):
    """Each export of ``run`` against ``expected``: ``[(seq, hash, kind, {source: rows},
    fingerprint after)]`` and ``now`` (the fingerprint of the current model)."""
    # OpenLineage
    event = to_openlineage(run)
    validate(event)
    facet = event["run"]["facets"]["sktraceprop_removals"]
    assert facet["checked"] is True
    got = [
        (
            r["seq"],
            r["hash"],
            r["kind"],
            {s["sourceId"]: s["rows"] for s in r["rowsRemoved"]},
            r["modelFingerprintAfter"],
        )
        for r in facet["removals"]
    ]
    assert got == expected
    assert facet["modelFingerprintNow"] == now
    # the fields consumers read stay the run as fitted
    assert event["outputs"][0]["facets"]["version"]["datasetVersion"] == run.model_fingerprint
    # Parquet
    folder = to_parquet(store, tmp_path / f"pq{len(list(tmp_path.iterdir()))}")
    (row,) = pq.read_table(folder / "removals.parquet").to_pylist()
    assert row["run_id"] == run.run_id and row["checked"] is True
    assert row["model_fingerprint_now"] == now
    assert [
        (
            r["seq"],
            r["hash"],
            "erasure" if r["kind"] == "erasure" else "unlearning",
            {s["source_id"]: s["rows"] for s in r["rows_removed"]},
            r["model_fingerprint_after"],
        )
        for r in row["removals"]
    ] == got
    assert stp.exporters.read_parquet(folder) == run  # (the tables read as before)
    # OpenTelemetry
    attributes = _spans(run)
    assert attributes["sktraceprop.removals.checked"] is True
    assert list(attributes["sktraceprop.removals.event_seq"]) == [e[0] for e in expected]
    assert list(attributes["sktraceprop.removals.event_hash"]) == [e[1] for e in expected]
    assert list(attributes["sktraceprop.removals.rows_by_source"]) == [
        ";".join(f"{s}={n}" for s, n in sorted(e[3].items())) for e in expected
    ]
    assert list(attributes["sktraceprop.removals.model_fingerprint_after"]) == [
        e[4] or "" for e in expected
    ]
    assert attributes["sktraceprop.removals.model_fingerprint_now"] == now
    assert attributes["sktraceprop.model_fingerprint"] == run.model_fingerprint


def _expected(store, run_id, asked):
    """What the exports must say: the store's events read with sqlite3, each with the
    rows per source the test asked it to remove (``asked``: {seq: {source: rows}})."""
    return [
        (
            seq,
            digest,
            "unlearning" if kind == "unlearning" else "erasure",
            asked[seq],
            payload.get("model_fingerprint_after") if kind == "unlearning" else None,
        )
        for seq, digest, kind, payload in _events_read_with_sqlite(store.path, run_id)
    ]


def test_the_audit_trials_case_c_removed_then_exported(tmp_path):
    # Before: every export gave the fit's fingerprint and c's rows as the model's, with
    # no word of the removal the store records
    store, unl, frames = _fitted(tmp_path)
    unl.unlearn(sample_id=stp.row_ids(frames["c"])[:5])
    run = store.load_run(unl.run_id_)
    (seq,) = [e["seq"] for e in store.events(unl.run_id_, kind="unlearning")]
    expected = _expected(store, unl.run_id_, {seq: {"c": 5}})
    assert expected[0][4] == fingerprint(unl.estimator_) != run.model_fingerprint
    _check_exports(store, run, tmp_path, expected, fingerprint(unl.estimator_))


def test_a_run_without_a_known_store_says_removals_were_not_looked_up(tmp_path):
    X = stp.from_numpy(np.random.default_rng(0).normal(size=(30, 2)), "no_store")
    run = stp.make_traced_pipeline(LogisticRegression()).fit(X, X["x0"] > 0).lineage_
    facet = to_openlineage(run)["run"]["facets"]["sktraceprop_removals"]
    assert facet["checked"] is False and "were not looked up" in facet["note"]
    assert facet["removals"] == [] and facet["modelFingerprintNow"] is None
    attributes = _spans(run)
    assert attributes["sktraceprop.removals.checked"] is False
    assert "sktraceprop.removals.model_fingerprint_now" not in attributes
    folder = to_parquet(run, tmp_path / "pq")
    (row,) = pq.read_table(folder / "removals.parquet").to_pylist()
    assert row["checked"] is False and row["removals"] == []


def test_a_run_with_no_removal_says_so(tmp_path):
    store, unl, _ = _fitted(tmp_path)
    run = store.load_run(unl.run_id_)
    _check_exports(store, run, tmp_path, [], run.model_fingerprint)


@settings(deadline=None, max_examples=8)
@given(
    steps=st.lists(st.tuples(st.sampled_from(SOURCES), st.integers(1, 3)), max_size=3),
    erased=st.lists(st.sampled_from(SOURCES), unique=True, max_size=2),
)
@example(steps=[("c", 2), ("a", 1), ("c", 1)], erased=["b"])
def test_removal_sequences_are_exported_as_the_store_records_them(tmp_path_factory, steps, erased):
    tmp_path = tmp_path_factory.mktemp("seq")
    store, unl, frames = _fitted(tmp_path)
    removed = {s: 0 for s in SOURCES}
    asked = {}
    for source, k in steps:
        ids = stp.row_ids(frames[source])[removed[source] : removed[source] + k]
        removed[source] += k
        unl.unlearn(sample_id=ids)
        asked[store.events(unl.run_id_, kind="unlearning")[-1]["seq"]] = {source: k}
    for source in erased:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (what the erasure does not reach: said)
            store.erase_rows(source_id=source, reason=f"request {source}")
        request = store.events(kind="store.erasure", include_store_events=True)[-1]
        asked[request["seq"]] = {source: N}  # every training row of the file
    run = store.load_run(unl.run_id_)
    expected = _expected(store, unl.run_id_, asked)
    assert [e[0] for e in expected] == sorted(asked)
    now = fingerprint(unl.estimator_) if steps else run.model_fingerprint
    _check_exports(store, run, tmp_path, expected, now)


def test_spans_refuse_a_store_that_does_not_hold_the_run(tmp_path):
    # its removals would have read as none
    store, unl, _ = _fitted(tmp_path)
    run = store.load_run(unl.run_id_)
    other = stp.stores.SQLiteStore(tmp_path / "other.db")
    with pytest.raises(stp.exceptions.UnknownRunError, match="is not in"):
        _spans(run, store=other)
