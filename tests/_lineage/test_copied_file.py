"""The same bytes read from two paths under one source_id: their rows share ids, so the
records must list every path read, never only the first (which the user may not have
loaded for this frame, and which may later be deleted or changed)."""

import hashlib
import io
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._ids import codes_of
from sktraceprop._lineage._source import Source
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import LineageWarning
from tests.compliance.conftest import DEPLOYER


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
        warnings.simplefilter("error", LineageWarning)  # the frame knows its path
        model = stp.make_traced_pipeline(LogisticRegression(), store=store)
        model.fit(df[["a", "b"]], df["y"])
    # the registry lists every path read, each holding the bytes its SHA-256 names
    both = [first.resolve().as_uri(), second.resolve().as_uri()]
    assert REGISTRY.by_id("s").uris() == both
    assert {_sha(first), _sha(second)} == {REGISTRY.by_id("s").sha256}
    # the run records the read its training rows came from: the copy's alone
    (source,) = model.lineage_.sources.values()
    assert source.uris() == [second.resolve().as_uri()]
    assert "reads" not in model.lineage_.source_stats["sources"][0]
    # the store keeps it, and still verifies
    loaded = store.load_run(model.lineage_.run_id)
    assert [s.uris() for s in loaded.sources.values()] == [source.uris()]
    assert store.verify()
    # row ids alone cannot say which copy: every path, no uri, said
    with pytest.warns(LineageWarning, match="which of them these rows were read from"):
        frame = stp.row_lineage(stp.row_ids(df.iloc[:2]))
    assert frame["uri"].isna().all()
    assert [list(u) for u in frame["uris"]] == [both] * 2


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


# -- each frame, run and record names the path its rows were read from ------------------


def _named(table):
    """The path(s) each row of a row_lineage/trace table names: its uri, or (copies
    read by something that cannot say which) every path in uris, uri then empty."""
    out = []
    for row in table.to_dict("records"):
        uri = row["uri"]
        if isinstance(uri, str):
            assert not isinstance(row.get("uris"), tuple) or row["uris"] == (uri,)
            out.append((uri,))
        else:
            assert isinstance(row["uris"], tuple) and len(row["uris"]) > 1
            out.append(row["uris"])
    return out


def _line_holds(uri, line, values, columns):
    """The truth: line ``line`` of the raw bytes at ``uri``, parsed under the file's
    header, holds ``values`` (for ``columns``)."""
    from urllib.parse import unquote, urlparse

    path = Path(unquote(urlparse(uri).path))
    lines = path.read_bytes().decode().splitlines()
    parsed = pd.read_csv(io.StringIO(lines[0] + "\n" + lines[line - 1]))
    return parsed[list(columns)].iloc[0].tolist() == list(values)


def _check_named(frame, table, read_from, columns=("a", "b", "y")):
    """Each row of ``frame`` (described by ``table``) is at its line in every path it
    is named by, and those include the path(s) ``read_from`` gives for it."""
    named = _named(table)
    rows = frame[list(columns)].to_numpy(dtype=object)
    for k, (paths, line) in enumerate(zip(named, table["line"])):
        position = int(table.iloc[k, 0])
        for uri in paths:
            assert _line_holds(uri, int(line), rows[position], columns), (uri, line)
        assert set(read_from(position)) <= set(paths)
    return named


def test_each_copys_frame_names_its_own_path(copies):
    """Before: every row of the copy's frame was named by the first path read (a.csv)."""
    first, second = copies
    a = stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning):
        b = stp.read_csv(second, source_id="s")
    uri_a, uri_b = first.resolve().as_uri(), second.resolve().as_uri()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        for frame, uri in ((a, uri_a), (b, uri_b)):
            # what pandas keeps the path through: selections, filters, sorts, pickles
            derived = [
                frame,
                frame.iloc[3:7],
                frame[frame["y"] == 1],
                frame.sort_values("a"),
                frame.sample(frac=1, random_state=0),
                pickle.loads(pickle.dumps(frame)),
            ]
            for f in derived:
                table = stp.row_lineage(f)
                assert _check_named(f, table, lambda _, u=uri: [u]) == [(uri,)] * len(f)
            assert set(stp.row_lineage(frame["a"])["uri"]) == {uri}
    # read in chunks: each chunk names the path read
    for path in (second, first):
        uri = path.resolve().as_uri()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LineageWarning)  # (the read of the copy)
            chunks = list(stp.read_csv(path, source_id="s", chunksize=5))
        assert len(chunks) == 3
        for chunk in chunks:
            with warnings.catch_warnings():
                warnings.simplefilter("error", LineageWarning)
                table = stp.row_lineage(chunk)
            assert _check_named(chunk, table, lambda _, u=uri: [u]) == [(uri,)] * len(chunk)


def test_a_concat_of_both_copies_names_both_paths(copies):
    first, second = copies
    a = stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning):
        b = stp.read_csv(second, source_id="s")
    both = pd.concat([a.iloc[:4], b.iloc[2:8]])
    with pytest.warns(LineageWarning, match="each holding the same bytes"):
        table = stp.row_lineage(both)
    uris = (first.resolve().as_uri(), second.resolve().as_uri())
    named = _check_named(both, table, lambda p: [uris[p >= 4]])
    assert named == [uris] * len(both) and table["uri"].isna().all()


def test_a_merge_names_the_paths_of_its_sides(copies, tmp_path):
    first, second = copies
    other = _write(tmp_path / "other.csv", seed=5)
    stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning):
        b = stp.read_csv(second, source_id="s")
    o = stp.read_csv(other).rename(columns={"a": "oa", "b": "ob"})
    merged = stp.merge(b, o, on="y")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        table = stp.row_lineage(merged)
    want = {"s": {second.resolve().as_uri()}, "other": {other.resolve().as_uri()}}
    assert {k: set(g["uri"]) for k, g in table.groupby("source_id", observed=True)} == want
    for row in table.to_dict("records"):
        path = second if row["source_id"] == "s" else other
        raw = path.read_text().splitlines()[row["line"] - 1]
        assert row["uri"] == path.resolve().as_uri() and raw  # a data line of that file
    # a merge of rows read from both copies: which side's copy is not known, both named
    a_again = stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning, match="each holding the same bytes"):
        table = stp.row_lineage(stp.merge(a_again, b[["a", "b"]], on=["a", "b"]))
    assert table["uri"].isna().all()


def _fit(frame, store):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        model = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
        model.fit(frame[["a", "b"]], frame["y"])
        model.predict(frame[["a", "b"]].iloc[:2])  # (a report needs the model's use logged)
        return model


def test_a_run_on_the_copy_names_the_copy_everywhere(copies, tmp_path, capsys):
    """Before: run.trace, the CLI, OpenLineage, the report and explanations named a.csv
    for a model fitted on the rows read from copy/b.csv."""
    from sktraceprop.cli import main
    from sktraceprop.exporters import to_openlineage
    from tests.exporters.test_openlineage import validate

    first, second = copies
    stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning):
        b = stp.read_csv(second, source_id="s")
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    model = _fit(b, store)
    uri = second.resolve().as_uri()
    loaded = store.load_run(model.lineage_.run_id)
    for run in (model.lineage_, loaded):
        table = run.trace(list(range(len(b))))
        assert _check_named(b, table, lambda _: [uri]) == [(uri,)] * len(b)
    first.unlink()  # the path not read, gone: nothing named it
    assert main(["trace", str(store.path), "--run", loaded.run_id, "--row", "1"]) == 0
    out = capsys.readouterr().out
    assert f"line 3 of {uri}" in out and first.resolve().as_uri() not in out
    assert f"line 3: {second.read_text().splitlines()[2]}" in out
    event = to_openlineage(loaded, store=store)
    validate(event)
    assert [d["name"] for d in event["inputs"]] == [str(second.resolve())]
    (src,) = event["run"]["facets"]["sktraceprop_rowLineage"]["sources"]
    assert src["uri"] == uri and "uris" not in src
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a report on a toy run warns of its gaps)
        report = compliance_report(model, **DEPLOYER).to_dict()
    (entry,) = report["sources"]
    assert entry["uri"] == uri and "uris" not in entry and "other_reads" not in entry
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        explainer = stp.InfluenceExplainer(model).fit(b[["a", "b"]], b["y"])
        explanation = explainer.explain(b[["a", "b"]].iloc[:1], top_k=3)
        assert set(explanation.top(3)["uri"]) == {uri}
        assert explanation.trace(0, 0)["uri"] == uri


def test_a_run_on_both_copies_names_both_everywhere(copies, tmp_path, capsys):
    from sktraceprop.cli import main
    from sktraceprop.exporters import to_openlineage
    from tests.exporters.test_openlineage import validate

    first, second = copies
    a = stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning):
        b = stp.read_csv(second, source_id="s")
    both = pd.concat([a.iloc[:6], b.iloc[6:]])
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    model = stp.make_traced_pipeline(LogisticRegression(), store=store)
    model.fit(both[["a", "b"]], both["y"])
    uris = (first.resolve().as_uri(), second.resolve().as_uri())
    loaded = store.load_run(model.lineage_.run_id)
    for run in (model.lineage_, loaded):
        with pytest.warns(LineageWarning, match="each holding the same bytes"):
            table = run.trace(list(range(len(both))))
        assert _check_named(both, table, lambda p: [uris[p >= 6]]) == [uris] * len(both)
    first.unlink()  # one copy gone: the line is shown from the other
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        assert main(["trace", str(store.path), "--run", loaded.run_id, "--row", "1"]) == 0
    out = capsys.readouterr().out
    assert all(u in out for u in uris) and "which one this row was read from" in out
    assert f"line 3: {second.read_text().splitlines()[2]}" in out
    event = to_openlineage(loaded, store=store)
    validate(event)
    assert [d["name"] for d in event["inputs"]] == [str(first.resolve()), str(second.resolve())]
    (src,) = event["run"]["facets"]["sktraceprop_rowLineage"]["sources"]
    assert src["uris"] == list(uris)


def test_a_fit_in_a_worker_process_names_the_copy(copies):
    from sklearn.model_selection import cross_validate

    first, second = copies
    stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning):
        b = stp.read_csv(second, source_id="s")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(LogisticRegression())
        cv = cross_validate(pipe, b[["a", "b"]], b["y"], cv=2, n_jobs=2, return_estimator=True)
    uri = second.resolve().as_uri()
    for fitted in cv["estimator"]:
        run = fitted.lineage_
        with warnings.catch_warnings():
            warnings.simplefilter("error", LineageWarning)
            table = run.trace(list(range(run.n_samples)))
        assert set(table["uri"]) == {uri}
        frame = b.loc[run.row_ids]
        assert _check_named(frame, table, lambda _: [uri]) == [(uri,)] * len(frame)


@settings(max_examples=15, deadline=None)
@given(
    contents=st.lists(st.integers(0, 2), min_size=1, max_size=4),
    order=st.randoms(use_true_random=False),
    concat=st.booleans(),
)
def test_every_row_is_named_by_paths_that_hold_it(tmp_path_factory, contents, order, concat):
    """Files of the same or different bytes (seed = content) in fresh folders, read in
    any order under one source_id: each row of each frame (and of a concat of them) is
    named by path(s) holding that row at that line, among them the path it was read
    from; one path (its own) wherever the frame was read from one."""
    REGISTRY.clear()
    paths = []
    for seed in contents:
        folder = tmp_path_factory.mktemp("fresh")
        paths.append(_write(folder / "data.csv", seed=seed, n=8))
    order.shuffle(paths)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        frames = [stp.read_csv(p, source_id="data") for p in paths]
    for path, frame in zip(paths, frames):
        uri = path.resolve().as_uri()
        with warnings.catch_warnings():
            warnings.simplefilter("error", LineageWarning)
            table = stp.row_lineage(frame)
        assert _check_named(frame, table, lambda _, u=uri: [u]) == [(uri,)] * len(frame)
    if concat:
        whole = pd.concat(frames)
        owner = np.repeat([p.resolve().as_uri() for p in paths], [len(f) for f in frames])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LineageWarning)
            table = stp.row_lineage(whole)
        _check_named(whole, table, lambda p: [owner[p]])


def test_a_concat_with_another_file_keeps_each_path_and_the_traced_marker(copies, tmp_path):
    """pandas keeps a concat's attrs only where its frames' attrs are equal: the marks of
    the paths read compare equal and the concat gets their union, so the rows of the
    copy stay named by it beside another file's, and the frame keeps the marker that a
    later reset_index dropped the ids (refused at fit, not recorded as new data)."""
    from sktraceprop._lineage._ids import TRACED_ATTR
    from sktraceprop.exceptions import LineageLostError

    first, second = copies
    other = _write(tmp_path / "other.csv", seed=7)
    stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning):
        b = stp.read_csv(second, source_id="s")
    o = stp.read_csv(other)
    both = pd.concat([o.iloc[:5], b, o.iloc[5:]])
    owner = [other] * 5 + [second] * len(b) + [other] * (len(o) - 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        table = stp.row_lineage(both)
    named = _check_named(both, table, lambda p: [owner[p].resolve().as_uri()])
    assert named == [(p.resolve().as_uri(),) for p in owner]
    assert both.attrs[TRACED_ATTR] is True
    with pytest.raises(LineageLostError):
        stp.make_traced_pipeline(LogisticRegression()).fit(
            both.reset_index(drop=True)[["a", "b"]], both["y"].to_numpy()
        )


@pytest.mark.parametrize("name", ["schema2.db", "ops_without_keys.db", "frame_digest1.db"])
def test_runs_of_earlier_stores_name_their_recorded_uri(name, tmp_path):
    """Stores written before the paths were marked read as written: each row named by
    its source record's uri, nothing left empty, no uris column."""
    data = Path(__file__).parents[1] / "stores" / "data"
    path = tmp_path / name
    shutil.copy(data / name, path)
    before = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = stp.stores.SQLiteStore(path)
        assert store.verify()
        run_ids = list(store.list_runs()["run_id"])
        assert run_ids
        for run_id in run_ids:
            run = store.load_run(run_id)
            frame = run.trace(np.arange(run.n_samples))
            assert "uris" not in frame and frame["uri"].notna().all()
            want = [run.source(c).uri for c in codes_of(frame["row_id"].to_numpy())]
            assert frame["uri"].astype(object).tolist() == want
        store.close()
    assert path.read_bytes() == before


def test_a_valuers_table_names_the_copy_it_was_fitted_on(copies):
    """Before: KNNShapleyValuer.by_source named a.csv for values of rows read from the
    copy; fitted on rows of both copies it named a.csv alone."""
    first, second = copies
    a = stp.read_csv(first, source_id="s")
    with pytest.warns(LineageWarning):
        b = stp.read_csv(second, source_id="s")
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(b[["a", "b"]], b["y"])
    valuer.value(b[["a", "b"]].iloc[:4], b["y"].iloc[:4])
    table = valuer.by_source()
    assert table["uri"].tolist() == [second.resolve().as_uri()] and "uris" not in table
    both = pd.concat([a.iloc[:6], b.iloc[6:]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(both[["a", "b"]], both["y"])
        valuer.value(both[["a", "b"]].iloc[:4], both["y"].iloc[:4])
        table = valuer.by_source()
    assert table["uri"].isna().all()
    assert [list(u) for u in table["uris"]] == [
        [first.resolve().as_uri(), second.resolve().as_uri()]
    ]
