"""The same bytes read from two paths under one source_id: their rows share ids, so the
records must list every path read, never only the first (which the user may not have
loaded for this frame, and which may later be deleted or changed)."""

import hashlib
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._source import Source
from sktraceprop.exceptions import LineageWarning


def _write(path, seed=0, n=12):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "y": [0, 1] * (n // 2)}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def copies(tmp_path):
    first = _write(tmp_path / "a.csv")
    second = tmp_path / "copy" / "b.csv"
    second.parent.mkdir()
    shutil.copy(first, second)
    return first, second


def test_a_copy_read_under_the_same_source_id_is_listed_and_said(copies, tmp_path):
    first, second = copies
    stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning, match="cannot say which of the paths"):
        df = stp.read_csv(second, source_id="s")
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        model = stp.make_traced_pipeline(LogisticRegression(), store=store)
        model.fit(df[["a", "b"]], df["y"])
    (source,) = model.lineage_.sources.values()
    # the truth: the paths read, each holding the bytes the record's SHA-256 names
    assert source.uris() == [first.resolve().as_uri(), second.resolve().as_uri()]
    assert {_sha(first), _sha(second)} == {source.sha256}
    assert second.resolve().as_uri() in [r.get("uri") for r in source.other_reads]
    reads = model.lineage_.source_stats["sources"][0]["reads"]
    assert [r["uri"] for r in reads] == source.uris()
    # the store keeps every path, and still verifies
    loaded = store.load_run(model.lineage_.run_id)
    assert [s.uris() for s in loaded.sources.values()] == [source.uris()]
    assert store.verify()
    # row_lineage says the path is not known rather than naming the first as the truth
    with pytest.warns(LineageWarning, match="which path a row was read from is not known"):
        frame = stp.row_lineage(df.iloc[:2])
    assert frame["uri"].isna().all()
    assert {tuple(u) for u in frame["uris"]} == {tuple(source.uris())}


def test_same_bytes_under_another_source_id_names_its_own_path(copies):
    first, second = copies
    stp.read_csv(first, source_id="s")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        df = stp.read_csv(second, source_id="t")
        frame = stp.row_lineage(df)
    assert set(frame["uri"]) == {second.resolve().as_uri()}
    assert REGISTRY.by_id("t").uris() == [second.resolve().as_uri()]


def test_one_path_read_twice_is_one_path(copies):
    first, _ = copies
    stp.read_csv(first, source_id="s")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        stp.read_csv(first, source_id="s", usecols=["a", "y"])
        stp.read_csv(first, source_id="s")
    source = REGISTRY.by_id("s")
    assert source.uris() == [first.resolve().as_uri()]
    assert len(source.other_reads) == 1  # the usecols read; the same read again is not new


def test_a_record_written_before_reads_kept_paths_reads_back_as_written():
    """A stored record's text is hashed: an old other_reads entry (no uri) must read
    back, and serialise, exactly as it was written."""
    old = {
        "source_id": "s",
        "code": 7,
        "uri": "file:///data/a.csv",
        "sha256": "0" * 64,
        "n_rows": 3,
        "columns": ["a"],
        "dtypes": ["int64"],
        "loaded_at": "2025-01-01T00:00:00.000000+00:00",
        "kind": "file",
        "max_line": 4,
        "other_reads": [
            {
                "n_rows": 2,
                "columns": ["a"],
                "dtypes": ["int64"],
                "loaded_at": "2025-01-01T00:00:01.000000+00:00",
            }
        ],
    }
    source = Source.from_dict(old)
    assert source.to_dict() == old
    assert source.uris() == ["file:///data/a.csv"]


@settings(max_examples=8, deadline=None)
@given(n_copies=st.integers(1, 3), read_first=st.integers(0, 2))
def test_every_path_read_is_listed(tmp_path_factory, n_copies, read_first):
    REGISTRY.clear()
    root = tmp_path_factory.mktemp("copies")
    paths = [_write(root / "orig.csv", seed=1)]
    for k in range(n_copies):
        paths.append(root / f"c{k}" / "orig.csv")
        paths[-1].parent.mkdir()
        shutil.copy(paths[0], paths[-1])
    order = paths[read_first % len(paths) :] + paths[: read_first % len(paths)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        frames = [stp.read_csv(p, source_id="orig") for p in order]
    source = REGISTRY.by_id("orig")
    assert source.uris() == [p.resolve().as_uri() for p in order]
    assert all(_sha(p) == source.sha256 for p in order)
    assert len({tuple(stp.row_ids(f)) for f in frames}) == 1  # why the path is not known


def _fit_on_copy(copies, tmp_path):
    """Both paths read under one source_id, a model fitted on the rows read from the
    second (the copy): its store, model and frame."""
    first, second = copies
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        stp.read_csv(first, source_id="s")
        df = stp.read_csv(second, source_id="s")
        store = stp.stores.SQLiteStore(tmp_path / "audit.db")
        model = stp.make_traced_pipeline(LogisticRegression(), store=store)
        model.fit(df[["a", "b"]], df["y"])
    return store, model, df


def test_rows_read_from_the_copy_are_never_named_by_the_first_path_alone(copies, tmp_path):
    """Before: row_lineage and run.trace named a.csv in ``uri`` for rows read from
    copy/b.csv (a warning said so; a table saved without it did not)."""
    first, second = copies
    _, model, df = _fit_on_copy(copies, tmp_path)
    read = second.resolve().as_uri()  # the truth: the path these rows were read from
    both = (first.resolve().as_uri(), read)
    with pytest.warns(LineageWarning, match="uris column lists every path"):
        frame = stp.row_lineage(df.iloc[:3])
    for table in (frame, model.lineage_.trace([0, 1, 2])):
        assert table["uri"].isna().all()  # not known which: no one path named
        assert [tuple(u) for u in table["uris"]] == [both] * 3
        assert all(read in u for u in table["uris"])


def test_the_cli_trace_names_every_path_and_shows_the_line_read(copies, tmp_path, capsys):
    from sktraceprop.cli import main

    first, second = copies
    store, model, _ = _fit_on_copy(copies, tmp_path)
    first.unlink()  # the first path gone: the line is still shown, from the copy read
    assert main(["trace", str(store.path), "--run", model.lineage_.run_id, "--row", "1"]) == 0
    out = capsys.readouterr().out
    assert second.resolve().as_uri() in out and first.resolve().as_uri() in out
    assert "which one this row was read from is not known" in out
    # the truth: line 3 (training row 1, after the header) of the bytes read
    line = second.read_text().splitlines()[2]
    assert f"line 3: {line}" in out


def test_openlineage_lists_every_path_read_as_an_input(copies, tmp_path):
    from sktraceprop.exporters import to_openlineage
    from tests.exporters.test_openlineage import validate

    first, second = copies
    store, model, _ = _fit_on_copy(copies, tmp_path)
    event = to_openlineage(store.load_run(model.lineage_.run_id), store=store)
    validate(event)
    names = [d["name"] for d in event["inputs"]]
    assert names == [str(first.resolve()), str(second.resolve())]
    (source,) = event["run"]["facets"]["sktraceprop_rowLineage"]["sources"]
    assert source["uris"] == [first.resolve().as_uri(), second.resolve().as_uri()]
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]["a"]["inputFields"]
    assert sorted(f["name"] for f in fields) == sorted(names)


def test_an_explanation_names_every_path_of_a_copied_file(copies, tmp_path):
    first, second = copies
    _, model, df = _fit_on_copy(copies, tmp_path)
    both = (first.resolve().as_uri(), second.resolve().as_uri())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = stp.InfluenceExplainer(model).fit(df[["a", "b"]], df["y"])
        explanation = explainer.explain(df[["a", "b"]].iloc[:1], top_k=2)
        top = explanation.top(2)
        row = explanation.trace(0, 0)
    assert top["uri"].isna().all()
    assert [tuple(u) for u in top["uris"]] == [both] * 2
    assert row["uri"] is None and [tuple(x["uris"]) for x in row["lines"]] == [both]
