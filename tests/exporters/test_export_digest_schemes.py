"""Every export says which scheme made each source's digest, and never presents one that
different data share (an earlier sktraceprop's frame-1, array-bytes-1, joblib-sha1) as a
plain content version.

The truths are independent of the exporters: the earlier digests are recomputed here by
their own formula (sktraceprop at commit 775ad56, ``_frame_digest``/``_array_digest``),
and shown to be shared by different data; a file's digest is the SHA-256 of its bytes.
"""

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._digest_schemes import NOTES
from sktraceprop.exceptions import LineageError
from sktraceprop.exporters import read_parquet, to_openlineage, to_parquet
from tests.exporters._fit_span import fit_span_attributes
from tests.exporters._fits import merged_and_aggregated
from tests.exporters._runs import runs
from tests.exporters.test_openlineage import validate
from tests.stores._frame_digest1 import fixture_frames, frame_1_digest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")

DATA = Path(__file__).parents[1] / "stores" / "data"
BEFORE = Path(__file__).parent / "data" / "parquet_f5988b3"
HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _array_bytes(X):
    """The array digest (commit 775ad56, _array_digest): dtype, shape, bytes; no labels."""
    X = np.ascontiguousarray(X)
    h = hashlib.sha256(f"{X.dtype.str}{X.shape}".encode())
    h.update(X.reshape(-1).view(np.uint8))
    return h.hexdigest()


def _old_store(tmp_path):
    shutil.copyfile(DATA / "frame_digest1.db", tmp_path / "old.db")
    return stp.stores.SQLiteStore(tmp_path / "old.db")


def _check_event(run, expected):
    """The event of ``run`` against ``{source_id: (scheme, exact)}``."""
    event = to_openlineage(run)
    validate(event)
    by_name = {s.source_id: s for s in run.sources.values()}
    seen = {}
    for dataset in event["inputs"]:
        facets = dataset["facets"]
        digest = facets["sktraceprop_digest"]
        source_id = next(
            s["sourceId"]
            for s in event["run"]["facets"]["sktraceprop_rowLineage"]["sources"]
            if (s["namespace"], s["name"]) == (dataset["namespace"], dataset["name"])
        )
        sha = by_name[source_id].sha256
        scheme, is_exact = expected[source_id]
        assert digest == {
            **digest,
            "digest": sha,
            "scheme": scheme,
            "exact": is_exact,
            "note": NOTES[scheme],
        }
        version = facets["version"]["datasetVersion"]
        if is_exact:
            assert version == sha
        else:
            # never a bare hexadecimal version: it says its scheme
            assert version == f"{scheme}:{sha}" and not HEX.fullmatch(version)
        seen[source_id] = scheme
    listed = {
        s["sourceId"]: s["digestScheme"]
        for s in event["run"]["facets"]["sktraceprop_rowLineage"]["sources"]
    }
    assert listed == {k: v[0] for k, v in expected.items()}
    assert seen == {k: v[0] for k, v in expected.items() if v[0] != "derived"}


def _check_spans(run, expected):
    attributes = fit_span_attributes(run)
    order = [run.sources[c].source_id for c in sorted(run.sources)]
    assert list(attributes["sktraceprop.sources.source_id"]) == order
    assert list(attributes["sktraceprop.sources.digest_scheme"]) == [expected[s][0] for s in order]
    assert list(attributes["sktraceprop.sources.digest_exact"]) == [expected[s][1] for s in order]
    assert list(attributes["sktraceprop.sources.digest_note"]) == [
        NOTES[expected[s][0]] for s in order
    ]


def _check_parquet(store_or_run, folder, expected_by_run):
    """``expected_by_run``: ``{run_id: (run, {source_id: (scheme, exact)})}``."""
    to_parquet(store_or_run, folder)
    table = pd.read_parquet(folder / "sources.parquet")
    assert table["digest_scheme"].notna().all() and table["digest_note"].notna().all()
    for rid, (run, expected) in expected_by_run.items():
        rows = table[table["run_id"] == rid].set_index("source_id")
        assert {
            s: (rows.loc[s, "digest_scheme"], bool(rows.loc[s, "digest_exact"]))
            for s in rows.index
        } == expected
        assert all(rows.loc[s, "digest_note"] == NOTES[expected[s][0]] for s in rows.index)
        assert read_parquet(folder, run_id=rid) == run


def test_the_earlier_stores_digests_are_exported_as_what_they_are(tmp_path):
    store = _old_store(tmp_path)
    patients, measures, labels = fixture_frames()
    # The stored digests are those of the earlier scheme, recomputed here ...
    runs_by_source = {}
    for rid in store.list_runs()["run_id"]:
        run = store.load_run(rid)
        (source,) = run.sources.values()
        runs_by_source[source.source_id] = run
    (frame,) = runs_by_source["patients"].sources.values()
    (array,) = runs_by_source["measures"].sources.values()
    assert frame.sha256 == frame_1_digest(patients)
    assert array.sha256 == _array_bytes(measures)
    # ... and different data share them: 'site' held as text (the array's digest holds
    # no labels, so the same values under any labels share it)
    as_text = patients.assign(site=patients["site"].astype(str).astype(object))
    assert not as_text.equals(patients) and frame_1_digest(as_text) == frame.sha256

    expected = {
        "patients": {"patients": ("frame-1", False)},
        "measures": {"measures": ("array-bytes-1", False)},
    }
    for name, run in runs_by_source.items():
        _check_event(run, expected[name])
        _check_spans(run, expected[name])
    _check_parquet(
        store,
        tmp_path / "old-export",
        {run.run_id: (run, expected[name]) for name, run in runs_by_source.items()},
    )
    assert store.verify()


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_fresh_stores_digests_are_exported_as_what_they_are(hospital_frames, tmp_path, kind):
    a, b = hospital_frames
    store = (
        stp.stores.SQLiteStore(tmp_path / "new.db")
        if kind == "sqlite"
        else stp.stores.MemoryStore()
    )
    rows, means, joined = merged_and_aggregated(a, b)
    y = (joined["bp"] > joined["bp"].median()).to_numpy()
    merged = stp.TracedEstimator(LogisticRegression(), store=store).fit(
        joined[["age", "bp_mean"]], y
    )
    patients, measures, _ = fixture_frames()
    df = stp.from_pandas(patients, "patients")
    framed = stp.TracedEstimator(LogisticRegression(), store=store).fit(df[["age", "x"]], df["y"])
    plain = stp.from_numpy(measures, "plain")
    labelled = stp.from_numpy(measures, "labelled", columns=["bp", "hr"])
    on_plain = stp.TracedEstimator(LogisticRegression(), store=store).fit(plain, df["y"])
    on_labelled = stp.TracedEstimator(LogisticRegression(), store=store).fit(labelled, df["y"])

    loaded = {e.lineage_.run_id: store.load_run(e.lineage_.run_id) for e in (merged, framed)}
    merged_run = loaded[merged.lineage_.run_id]
    files = {s.source_id: s for s in merged_run.sources.values() if s.kind == "file"}
    for s in files.values():  # a file's digest: the SHA-256 of its bytes
        path = Path(s.uri.removeprefix("file://"))
        assert s.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    expected = {
        merged.lineage_.run_id: {
            "hospital_a": ("file-bytes", True),
            "hospital_b": ("file-bytes", True),
            "bp_by_sex": ("derived", True),
            "with_means": ("derived", True),
        },
        framed.lineage_.run_id: {"patients": ("frame-2", True)},
        on_plain.lineage_.run_id: {"plain": ("array-bytes", True)},
        on_labelled.lineage_.run_id: {"labelled": ("frame-2", True)},
    }
    every = {}
    for rid, want in expected.items():
        run = store.load_run(rid)
        assert {s.source_id for s in run.sources.values()} == set(want)
        _check_event(run, want)
        _check_spans(run, want)
        every[rid] = (run, want)
    _check_parquet(store, tmp_path / "new-export", every)


def test_an_anonymous_sha1_says_it_is_not_a_sha256():
    from sktraceprop._lineage._run import Lineage
    from sktraceprop._lineage._source import Source

    run = Lineage(
        run_id="5f0c3c9e-58d6-4e8a-9a52-0f6f1b3b6a10",
        created_at="2025-01-01T00:00:00+00:00",
        estimator="sklearn.linear_model.LogisticRegression",
        params={},
        versions={},
        sources={
            1: Source(
                source_id="anonymous:1f2e",
                code=1,
                uri="memory:anonymous",
                sha256="ab" * 20,
                n_rows=3,
                kind="anonymous",
            )
        },
        ops=[],
        feature_lineage={},
        row_ids=np.asarray([(1 << 40) + 1], dtype=np.int64),
        model_fingerprint="0" * 64,
    )
    _check_event(run, {"anonymous:1f2e": ("joblib-sha1", False)})
    _check_spans(run, {"anonymous:1f2e": ("joblib-sha1", False)})


def test_a_parquet_export_written_before_still_reads_and_now_says_its_schemes(tmp_path):
    # Written by sktraceprop at commit f5988b3 (make_parquet_f5988b3.py): digest_scheme
    # held only what the records hold, and no digest_note or digest_exact.
    assert "digest_note" not in pq.read_schema(BEFORE / "export" / "sources.parquet").names
    shutil.copyfile(BEFORE / "store.db", tmp_path / "store.db")
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    assert store.verify()
    ids = list(store.list_runs()["run_id"])
    assert len(ids) == 5
    for rid in ids:
        assert read_parquet(BEFORE / "export", run_id=rid) == store.load_run(rid)
    again = {}
    for rid in ids:
        run = read_parquet(BEFORE / "export", run_id=rid)
        again[rid] = {
            s.source_id: digest for s, digest in zip(run.sources.values(), _schemes(run))
        }
    assert sorted(set().union(*(d.values() for d in again.values()))) == [
        "array-bytes-1",
        "derived",
        "file-bytes",
        "frame-1",
        "frame-2",
    ]
    to_parquet(store, tmp_path / "now")
    table = pd.read_parquet(tmp_path / "now" / "sources.parquet")
    assert {(r.run_id, r.source_id): r.digest_scheme for r in table.itertuples()} == {
        (rid, s): scheme for rid, d in again.items() for s, scheme in d.items()
    }
    for rid in ids:
        assert read_parquet(tmp_path / "now", run_id=rid) == store.load_run(rid)


def _schemes(run):
    from sktraceprop._lineage._digest_schemes import digest_scheme

    return [digest_scheme(s) for s in run.sources.values()]


def _rewrite_sources(folder, edit):
    path = folder / "sources.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    edit(rows)
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), path)


@pytest.mark.parametrize(
    "edit",
    [
        # an inexact digest presented as exact
        lambda r: r.update(digest_exact=True),
        # a scheme that is not the record's, exact or of another kind
        lambda r: r.update(digest_scheme="array-bytes", digest_note=NOTES["array-bytes"]),
        lambda r: r.update(digest_scheme="file-bytes", digest_note=NOTES["file-bytes"]),
        lambda r: r.update(digest_scheme="derived", digest_note=NOTES["derived"]),
        # the note of another scheme
        lambda r: r.update(digest_note=NOTES["frame-2"]),
    ],
)
def test_an_export_whose_digest_scheme_was_edited_is_refused(tmp_path, edit):
    store = _old_store(tmp_path)
    to_parquet(store, tmp_path / "x")

    def alter(rows):
        for row in rows:
            edit(row)

    _rewrite_sources(tmp_path / "x", alter)
    for rid in store.list_runs()["run_id"]:
        with pytest.raises(LineageError, match="digest scheme .* it was altered"):
            read_parquet(tmp_path / "x", run_id=rid)


def test_a_scheme_a_later_sktraceprop_recorded_is_kept_and_not_called_exact(tmp_path):
    store = _old_store(tmp_path)
    to_parquet(store, tmp_path / "x")
    later = {"digest_scheme": "frame-9", "digest_exact": True, "digest_note": "exact, later"}
    _rewrite_sources(tmp_path / "x", lambda rows: [r.update(later) for r in rows])
    for rid in store.list_runs()["run_id"]:
        run = read_parquet(tmp_path / "x", run_id=rid)
        (source,) = run.sources.values()
        assert source.digest_scheme == "frame-9"
        event = to_openlineage(run)
        (dataset,) = event["inputs"]
        assert dataset["facets"]["sktraceprop_digest"]["exact"] is False
        assert dataset["facets"]["version"]["datasetVersion"] == f"frame-9:{source.sha256}"


def _as_written_before(folder):
    """The folder as sktraceprop wrote it before digest_exact and digest_note: the
    scheme column holds only what the record holds."""
    path = folder / "sources.parquet"
    table = pq.read_table(path)
    recorded = [
        s if s == "frame-2" or s not in NOTES else None for s in table["digest_scheme"].to_pylist()
    ]
    table = table.drop(["digest_exact", "digest_note"])
    index = table.schema.get_field_index("digest_scheme")
    table = table.set_column(index, "digest_scheme", pa.array(recorded, pa.string()))
    pq.write_table(table, path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_generated_runs_say_each_digests_scheme_in_every_export(run):
    import tempfile

    from sktraceprop._lineage._digest_schemes import digest_scheme, exact

    expected = {}
    for s in run.sources.values():
        expected.setdefault(s.source_id, set()).add((digest_scheme(s), exact(digest_scheme(s))))
    event = to_openlineage(run)
    validate(event)
    for dataset in event["inputs"]:
        facet = dataset["facets"]["sktraceprop_digest"]
        version = dataset["facets"]["version"]["datasetVersion"]
        assert (version == facet["digest"]) is facet["exact"]
        assert facet["exact"] is (
            facet["scheme"] not in ("frame-1", "array-bytes-1", "joblib-sha1")
        )
    with tempfile.TemporaryDirectory() as tmp:
        folder = to_parquet(run, Path(tmp) / "x")
        table = pd.read_parquet(folder / "sources.parquet")
        for row in table.itertuples():
            assert (row.digest_scheme, row.digest_exact) in expected[row.source_id]
        assert read_parquet(folder) == run
        _as_written_before(folder)
        assert read_parquet(folder) == run


def test_a_polars_source_keeps_its_scheme_in_every_export(tmp_path):
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"a": np.arange(30) / 7.0, "b": np.arange(30) % 4})
    y = (np.arange(30) % 2).astype(int)
    store = stp.stores.SQLiteStore(tmp_path / "p.db")
    est = stp.TracedEstimator(LogisticRegression(), store=store)
    est.fit(stp.from_polars(frame, "branches"), y)
    run = store.load_run(est.lineage_.run_id)
    (source,) = run.sources.values()
    assert source.digest_scheme == "polars-1"
    expected = {"branches": ("polars-1", True)}
    _check_event(run, expected)
    _check_spans(run, expected)
    _check_parquet(run, tmp_path / "x", {run.run_id: (run, expected)})
