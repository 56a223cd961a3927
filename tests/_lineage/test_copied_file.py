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
    assert set(frame["uri"]) <= set(source.uris())


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
