"""pd.concat of a frame read with ``index_col`` (index: the file's index, then the row
ids) and one read without builds a plain Index of tuples and ids. A traced fit said
the frame had lost its ids through reset_index, ignore_index or a merge, and
``row_lineage`` told the user to load it with read_csv, which they had done: neither
named the cause. Both now say that the frames' index levels differ and how to align
them; once aligned, every row's line is the file's."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageLostError

_SAID = r"index holds tuples whose last item is an sktraceprop row id.*droplevel\(0\)"


def _write(tmp_path, name, n, seed, indexed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n).round(6), "label": np.arange(n) % 2})
    frame.index = np.arange(100 * seed, 100 * seed + n)
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=indexed)
    return path


def _read(path, indexed):
    return stp.read_csv(path, index_col=0) if indexed else stp.read_csv(path)


def test_concat_of_an_index_col_frame_and_a_plain_one_names_the_levels(tmp_path):
    a = _read(_write(tmp_path, "a", 12, 1, True), True)
    b = _read(_write(tmp_path, "b", 10, 2, False), False)
    df = pd.concat([a, b])
    with pytest.raises(LineageLostError, match=_SAID):
        stp.make_traced_pipeline(LogisticRegression()).fit(df[["a"]], df["label"])
    with pytest.raises(LineageError, match=_SAID):
        stp.row_lineage(df)


def test_tuples_of_small_integers_are_not_taken_for_row_ids():
    df = pd.DataFrame({"a": [1.0, 2.0]}, index=pd.Index([(1, 2), (3, 4)], tupleize_cols=False))
    with pytest.raises(LineageError, match="carries no sktraceprop row ids"):
        stp.row_lineage(df)


@settings(max_examples=15, deadline=None)
@given(indexed=st.lists(st.booleans(), min_size=2, max_size=4), seed=st.integers(0, 50))
def test_mixed_levels_are_refused_and_aligned_levels_name_the_files_lines(
    tmp_path_factory, indexed, seed
):
    tmp_path = tmp_path_factory.mktemp("c")
    paths = [_write(tmp_path, f"f{i}", 6 + i, seed + i, k) for i, k in enumerate(indexed)]
    frames = [_read(p, k) for p, k in zip(paths, indexed)]
    df = pd.concat(frames)
    if len(set(indexed)) > 1:
        with pytest.raises(LineageLostError, match=_SAID):
            stp.make_traced_pipeline(LogisticRegression()).fit(df[["a"]], df["label"])
        frames = [f.droplevel(0) if k else f for f, k in zip(frames, indexed)]
        df = pd.concat(frames)
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(df[["a"]], df["label"])
    traced = pipe.trace(list(range(len(df))))
    # the truth: the file's own text at the named line holds the row's value of a
    for row in traced.itertuples():
        line = open(row.uri[len("file://") :]).read().splitlines()[row.line - 1]
        assert float(line.split(",")[-2]) == df["a"].iloc[row.train_index]
