"""A frame read by ``read_csv`` in another process (a joblib worker) and sent back
carries its sources' records: the process that unpickles it traces its rows to the
right file and line (checked against the file's bytes), and two different sources are
never taken for one another."""

import pickle
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._ids import codes_of
from sktraceprop.exceptions import (
    LineageError,
    LineageWarning,
    SourceConflictError,
    UnknownSourceError,
)


def _load(path):
    return stp.read_csv(path)


def _in_workers(paths):
    return Parallel(n_jobs=2, backend="loky")(delayed(_load)(p) for p in paths)


def _check_lines(df, path, text):
    """Each row's line, read from ``text`` (the file's bytes when it was read), holds the
    row's values."""
    lineage = stp.row_lineage(df)
    assert set(lineage["uri"]) == {path.resolve().as_uri()}
    lines = text.split("\n")
    for (_, row), line in zip(df.iterrows(), lineage["line"], strict=True):
        assert lines[line - 1] == ",".join(str(v) for v in row.to_numpy())


def test_frames_read_in_workers_trace_here(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    texts = {a: "x,y\n1,0\n2,1\n3,0\n4,1\n", b: "x,y\n5,0\n\n6,1\n7,1\n8,0\n"}
    for folder, text in texts.items():
        (folder / "data.csv").write_text(text)
    paths = [a / "data.csv", b / "data.csv"]
    # same source_id ("data"), different bytes, read in two workers
    frames = _in_workers(paths)
    for df, folder in zip(frames, (a, b), strict=True):
        _check_lines(df, folder / "data.csv", texts[folder])
    assert not set(frames[0].index) & set(frames[1].index)
    # a traced pipeline fitted here on them traces its rows to the files
    X = pd.concat(frames)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(X[["x"]], X["y"])
    trace = pipe.trace(np.arange(len(X)))
    assert list(trace["line"]) == [2, 3, 4, 5, 2, 4, 5, 6]
    uris = [p.resolve().as_uri() for p in paths]
    assert list(trace["uri"]) == [uris[0]] * 4 + [uris[1]] * 4


def test_one_path_rewritten_between_workers(tmp_path):
    path = tmp_path / "data.csv"
    first, second = "x,y\n1,0\n2,1\n", "x,y\n9,1\n8,0\n7,1\n"
    path.write_text(first)
    (old,) = Parallel(n_jobs=2, backend="loky")([delayed(_load)(path)])
    path.write_text(second)
    (new,) = Parallel(n_jobs=2, backend="loky")([delayed(_load)(path)])
    _check_lines(old, path, first)
    _check_lines(new, path, second)
    assert len(REGISTRY.versions("data")) == 2


def test_a_code_that_names_another_source_here_is_refused(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,0\n2,1\n")
    df = stp.read_csv(path)
    blob = pickle.dumps(df)
    record = REGISTRY.by_code(codes_of(df.index.to_numpy())[0])
    REGISTRY.clear()  # as another process, which read another source under that code
    REGISTRY.adopt(replace(record, sha256="0" * 64))
    back = pickle.loads(blob)
    with pytest.raises(SourceConflictError):
        stp.row_lineage(back)


def test_bare_row_ids_say_what_to_do(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,0\n2,1\n")
    ids = np.asarray(stp.read_csv(path).index)
    REGISTRY.clear()  # as another process
    with pytest.raises(UnknownSourceError, match="Read the data in this process"):
        stp.row_lineage(ids)


@settings(deadline=None, max_examples=20)
@given(
    rows=st.lists(st.tuples(st.integers(-99, 99), st.integers(0, 1)), min_size=1, max_size=8),
    blanks=st.lists(st.integers(0, 8), max_size=3),
)
@example(rows=[(1, 0)], blanks=[0])
def test_pickled_frame_traces_in_a_fresh_registry(tmp_path_factory, rows, blanks):
    lines = [f"{x},{y}" for x, y in rows]
    for k in sorted(blanks, reverse=True):
        lines.insert(min(k, len(lines)), "")
    text = "x,y\n" + "\n".join(lines) + "\n"
    path = tmp_path_factory.mktemp("d") / "data.csv"
    path.write_text(text)
    df = stp.read_csv(path)
    kept = df.iloc[::2]
    blob = pickle.dumps(kept)
    REGISTRY.clear()  # as the process the frame is sent to
    _check_lines(pickle.loads(blob), path, text)


def test_a_concat_carries_both_files_and_from_pandas_carries_none(tmp_path):
    texts = {"a": "x,y\n1,0\n2,1\n", "b": "x,y\n\n3,0\n4,1\n"}
    frames = []
    for name, text in texts.items():
        (tmp_path / f"{name}.csv").write_text(text)
        frames.append(stp.read_csv(tmp_path / f"{name}.csv"))
    both = pickle.dumps(pd.concat(frames).iloc[::-1])
    bare = pickle.dumps(stp.from_pandas(pd.DataFrame({"x": [1, 2]}), "mem"))
    REGISTRY.clear()  # as another process
    lineage = stp.row_lineage(pickle.loads(both))
    assert list(lineage["source_id"]) == ["b", "b", "a", "a"]
    assert list(lineage["line"]) == [4, 3, 3, 2]
    with pytest.raises(UnknownSourceError, match="from_pandas"):
        stp.row_lineage(pickle.loads(bare))


def _load_and_swap(path):
    """Read in a worker, then two rows' values swapped there (their ids kept)."""
    df = stp.read_csv(path)
    df.iloc[[0, 1]] = df.iloc[[1, 0]].to_numpy()
    return df


def test_rows_changed_in_a_worker_are_said_unchecked_here(tmp_path):
    path = tmp_path / "far.csv"
    rng = np.random.default_rng(0)
    text = "x,z,y\n" + "".join(
        f"{rng.normal():.4f},{rng.normal():.4f},{k % 2}\n" for k in range(30)
    )
    path.write_text(text)
    (df,) = Parallel(n_jobs=2, backend="loky")([delayed(_load_and_swap)(path)])
    # (the bytes: row 0 holds line 3's values, the line its id does not name)
    lines = text.split("\n")
    assert lines[2] == ",".join(f"{v:.4f}" for v in df.iloc[0, :2]) + ",1"
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(df[["x", "z"]], df["y"])
    assert pipe.trace([0])["line"].tolist() == [2]  # (its id's line, not checked)
    notes = [n for n in pipe.lineage_.notes if "from source 'far' were not checked" in n]
    assert len(notes) == 1 and "loaded in another process" in notes[0]
    with pytest.warns(LineageWarning, match="from source\\(s\\) 'far' were not compared"):
        stp.row_lineage(df)
    # read here too, the values are compared, and the swap is refused
    stp.read_csv(path)
    with pytest.raises(LineageError, match="row 0 of X holds the values loaded for far line 3"):
        stp.row_lineage(df)
