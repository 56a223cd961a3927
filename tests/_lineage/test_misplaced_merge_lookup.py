"""A merge with a small lookup table is no evidence that a row of 0/1 values moved.

Each key of a lookup table names one of its rows, but that row is copied to every
merged row joining it, whose other side holds every combination of two 0/1 columns: a
row of two 0/1 columns matches one of them by chance. A frame whose rows are where they
should be (a plain recoding, of an unrelated frame or of the merge itself) is not
refused; a row of the merged frame moved, holding values that name its record, still is.
The truth is the raw file, re-read in file order.
"""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop._lineage._source import REGISTRY
from sktraceprop.exceptions import LineageError
from tests._lineage._raw_files import records_by_line
from tests._lineage.test_moved_rows import _read_flips


def _lookup(size, seed):
    """A lookup table of ``size`` rows keyed by ``c0`` (``0 .. size - 1``)."""
    w = np.round(np.random.default_rng(seed).random(size) + 0.5, 4)
    return stp.from_pandas(pd.DataFrame({"c0": np.arange(size), "w": w}), source_id=f"w{seed}")


def _recoded(df, rate, seed):
    """``df`` with each bit of ``c0`` and ``c1`` flipped with chance ``rate``."""
    rng = np.random.default_rng(seed)
    flip = rng.random((len(df), 2)) < rate
    return df.assign(
        c0=np.where(flip[:, 0], 1 - df["c0"], df["c0"]),
        c1=np.where(flip[:, 1], 1 - df["c1"], df["c1"]),
    )


def _traced_to_own_lines(pipe, X, path):
    """Every row the fit traces is traced to the line of the raw record whose key it
    holds (the raw file re-read in file order)."""
    records = records_by_line(path)
    trace = pipe.trace(np.arange(len(X)))
    assert len(trace), "nothing traced"
    for i, rows in trace.groupby("train_index"):
        lines = {records[k]["key"] for k in zip(rows["source_id"], rows["line"])}
        assert lines == {X["key"].iloc[i]}, (i, lines)


def test_a_recoded_unrelated_frame_after_a_lookup_merge_is_not_refused(tmp_path):
    # (found by helper moved70: "row 21 of X holds the values loaded for merge:...
    # row 2 (c0, c1)", the recoded frame having nothing to do with the merge)
    _, a = _read_flips(tmp_path, 108, 0.626, 7163)
    stp.merge(a[["c0", "c1"]], _lookup(2, 0), on="c0")
    path, b = _read_flips(tmp_path, 229, 0.322, 65067)
    X = _recoded(b, 0.2, 65068)
    pipe = stp.make_traced_pipeline(Ridge()).fit(X[["c0", "c1"]], X["y"].astype(float))
    _traced_to_own_lines(pipe, X, path)
    stp.merge(X[["c0", "c1"]], _lookup(2, 1), on="c0")  # (a merge checks its inputs too)


def test_the_lookup_merge_itself_recoded_is_not_refused(tmp_path):
    _, a = _read_flips(tmp_path, 108, 0.626, 7163)
    m = stp.merge(a[["c0", "c1"]], _lookup(2, 0), on="c0")
    X = m.assign(c0=1 - m["c0"], c1=1 - m["c1"])
    stp.make_traced_pipeline(Ridge()).fit(X[["c0", "c1"]], np.arange(len(X), dtype=float))


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    size=st.integers(1, 6),
    n=st.integers(20, 200),
    q=st.floats(0.1, 0.9),
    n2=st.integers(100, 250),
    q2=st.floats(0.25, 0.75),
    rate=st.floats(0.05, 0.6),
    own=st.booleans(),
    seed=st.integers(0, 2**16),
)
@example(size=2, n=108, q=0.626, n2=229, q2=0.322, rate=0.2, own=False, seed=7163)
@example(size=2, n=108, q=0.626, n2=229, q2=0.322, rate=0.5, own=True, seed=7163)
def test_recoded_frames_are_not_refused_whatever_the_lookup(
    tmp_path_factory, size, n, q, n2, q2, rate, own, seed
):
    # (the unrelated frame holds every combination of its two 0/1 columns many times:
    # in a file of a few rows, a combination one row alone holds names that row, and a
    # recoding onto it is refused through the file's own load, with no merge)
    folder = tmp_path_factory.mktemp("lookup")
    _, a = _read_flips(folder, n, q, seed)
    m = stp.merge(a[["c0", "c1", "key"]], _lookup(size, seed), on="c0")
    if own:  # the merge itself, its bits flipped
        X = _recoded(m, rate, seed + 1)
        stp.make_traced_pipeline(Ridge()).fit(X[["c0", "c1"]], np.arange(len(X), dtype=float))
        return
    path, b = _read_flips(folder, n2, q2, seed + 1)
    X = _recoded(b, rate, seed + 2)
    pipe = stp.make_traced_pipeline(Ridge()).fit(X[["c0", "c1"]], X["y"].astype(float))
    _traced_to_own_lines(pipe, X, path)


_ERROR = re.compile(r"row (\d+) of X holds the values loaded for merge:\w+ row (\d+) ")


@pytest.mark.parametrize("size", [1, 2, 5])
def test_a_row_of_the_lookup_merge_moved_is_still_refused(tmp_path, size):
    # two merged rows swap ids; each holds x and z of a record no other has: the row
    # named in the refusal holds the values of the raw record of the merged row it names
    path, a = _read_flips(tmp_path, 120, 0.5, 11)
    a = a[a["c0"] < size] if size == 1 else a
    m = stp.merge(a[["c0", "c1", "x", "z", "key"]], _lookup(size, 3), on="c0")
    labels = np.arange(len(m))
    labels[[4, 9]] = [9, 4]
    X = m.set_axis(m.index[labels])
    with pytest.raises(LineageError, match="holds the values loaded for merge:") as info:
        stp.make_traced_pipeline(Ridge()).fit(X[["c0", "c1", "x", "z"]], X["x"])
    row, holds = (int(g) for g in _ERROR.search(str(info.value)).groups())
    assert row in (4, 9)
    records = records_by_line(path)
    lineage = stp.row_lineage(m)
    (line,) = lineage.loc[
        (lineage["row"] == holds - 1) & (lineage["source_id"] == path.stem), "line"
    ]
    raw = records[path.stem, int(line)]
    assert raw["key"] == X["key"].iloc[row]
    assert [float(raw[c]) for c in ("x", "z")] == [X[c].iloc[row] for c in ("x", "z")]
    assert int(lines_of(X.index[row])) != holds  # its own id names another merged row
    assert REGISTRY.by_code(int(codes_of(np.asarray(m.index)[:1])[0])).kind == "merge"
