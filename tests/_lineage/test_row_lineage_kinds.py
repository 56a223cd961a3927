"""``row_lineage`` of a Series and of a traced array (``sktraceprop.array``) runs the
value check a traced fit runs, as it does for a DataFrame; a polars frame, which has no
index to carry row ids, is refused; an array that cannot be checked is said so.

Before, ``row_lineage`` checked a DataFrame's values only: a Series whose values were
moved between rows named, without a word, lines whose values the rows do not hold, and
a traced array was refused as "row ids must be 1-D". The truth is the raw bytes of the
file: every line named without a warning holds the row's values.
"""

import csv
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageWarning

COLUMNS = ["key", "a", "b", "y"]


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    """One file: a preamble, comment lines, quoted keys; every value unique."""
    lines = ["a preamble line", ",".join(COLUMNS)]
    for i in range(40):
        if i % 6 == 2:
            lines.append("# a comment, with a comma")
        lines.append(
            f'"k, {i}",{i * 1.5 + 0.125 + (i * i % 7) * 0.01:.3f},{-i * 2.25 - 0.375},{i % 2}'
        )
    out = tmp_path_factory.mktemp("kinds") / "kinds.csv"
    out.write_text("\n".join(lines) + "\n")
    return out


def _read(path):
    return stp.read_csv(path, skiprows=1, comment="#")


def _file_values(path, lines, column):
    """``column``'s values at ``lines`` (1-based physical lines), from the file's bytes."""
    text = path.read_bytes().decode().split("\n")
    return np.array(
        [
            float(dict(zip(COLUMNS, next(csv.reader(io.StringIO(text[k - 1])))))[column])
            for k in lines
        ]
    )


def _lineage(X):
    """``row_lineage(X)`` and its LineageWarnings, or None where it refused."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            lineage = stp.row_lineage(X)
        except LineageError:
            return None, []
    return lineage, [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]


def test_a_series_of_values_moved_between_rows_warns(path):
    df = _read(path)
    moved = df["a"].shift(1).iloc[1:]
    lineage, warned = _lineage(moved)
    assert len(warned) == 1 and warned[0].startswith("column a of X: ")
    assert "hold the value loaded for another row" in warned[0]
    # (the lines it names do not hold the rows' values: the warning was due)
    assert not np.any(_file_values(path, lineage["line"], "a") == moved.to_numpy())


def test_a_series_computed_over_rows_warns(path):
    df = _read(path)
    with pytest.warns(LineageWarning, match=r"column a of X .* computed over rows \(a\.cumsum"):
        stp.row_lineage(df["a"].cumsum())


def test_a_series_as_loaded_is_named_without_a_warning(path):
    df = _read(path)
    picked = df["b"].sample(frac=0.6, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        lineage = stp.row_lineage(picked)
    assert np.array_equal(_file_values(path, lineage["line"], "b"), picked.to_numpy())


def test_a_traced_array_is_checked_as_a_fit_checks_an_array(path):
    df = _read(path)
    arr = stp.array(df[["a", "b"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        lineage = stp.row_lineage(arr)
    assert np.array_equal(_file_values(path, lineage["line"], "a"), np.asarray(arr)[:, 0])
    swapped = df[["a", "b"]].copy()
    swapped.iloc[[0, 1]] = swapped.iloc[[1, 0]].to_numpy()  # values swapped, ids kept
    with pytest.raises(LineageError, match="row 0 of X holds the values loaded for"):
        stp.row_lineage(stp.array(swapped))


def test_a_traced_array_that_cannot_be_checked_says_so(path):
    df = _read(path)
    column = stp.array(df[["a"]])
    with pytest.warns(
        LineageWarning,
        match="were not compared with what was loaded .*: it is an array of one column",
    ):
        lineage = stp.row_lineage(column)
    assert np.array_equal(_file_values(path, lineage["line"], "a"), np.asarray(column)[:, 0])


def test_a_polars_frame_is_refused_as_carrying_no_ids(path):
    pl = pytest.importorskip("polars")
    with pytest.raises(LineageError, match="polars DataFrame has no index"):
        stp.row_lineage(pl.from_pandas(_read(path)))


@settings(deadline=None, max_examples=30)
@given(
    kind=st.sampled_from(["series", "array"]),
    swaps=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=3),
    shift=st.booleans(),
)
@example(kind="series", swaps=[], shift=True)
@example(kind="array", swaps=[(0, 5)], shift=False)
def test_every_line_named_without_a_warning_holds_the_row(path, kind, swaps, shift):
    df = _read(path)[["a", "b"]]
    values = df.to_numpy().copy()
    for i, j in swaps:  # values swapped between rows, ids kept
        values[[i, j]] = values[[j, i]]
    edited = pd.DataFrame(values, index=df.index, columns=df.columns)
    if shift:
        edited = edited.shift(1).iloc[1:]
    X = edited["a"] if kind == "series" else stp.array(edited)
    lineage, warned = _lineage(X)
    if lineage is None or warned:
        return  # (refused, or the rows named in a warning)
    got = edited["a"].to_numpy()
    assert np.array_equal(_file_values(path, lineage["line"], "a"), got)
