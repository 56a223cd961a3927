"""``row_lineage`` of a frame checks the rows' values as a traced fit does.

Before, ``row_lineage`` read the row ids alone: after ``df.rename(index=...)`` swapping
two labels, or ``df.where(cond, other)`` writing other rows' values into whole rows, it
named lines whose records the rows do not hold, without a word, while ``fit`` refused or
warned on the same frame. The truth is the raw bytes of the files: every line that
``row_lineage`` names without a warning holds the row's values.
"""

import csv
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageWarning

COLUMNS = ["key", "q", "a", "b", "y"]


def _write(path, k, n):
    """``n`` records after a preamble, with comment lines and quoted fields holding
    commas; every value is unique to its file and record."""
    lines = ["a preamble line", ",".join(COLUMNS)]
    for i in range(n):
        if i % 7 == 3:
            lines.append("# a comment, with a comma")
        lines.append(f'k{k}_{i},"text, {k} {i}",{100 * k + i + 0.125},{-100 * k - i - 0.375},{i}')
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """Three files written once (the same bytes written to another path per example
    would be a copy: row ids shared, the path not known)."""
    folder = tmp_path_factory.mktemp("row_lineage_values")
    return [_write(folder / f"rlv{k}.csv", k, n) for k, n in enumerate((12, 9, 14))]


def _frame(paths):
    return pd.concat([stp.read_csv(p, skiprows=1, comment="#") for p in paths])


def _holds(frame, lineage, paths):
    """Per row of ``frame``: whether the line ``lineage`` names holds its values, read
    from the raw bytes of the file."""
    by_name = {p.name: p for p in paths}
    out = []
    for position, uri, line in zip(lineage["row"], lineage["uri"], lineage["line"]):
        text = by_name[str(uri).rsplit("/", 1)[-1]].read_bytes().decode().split("\n")
        record = dict(zip(COLUMNS, next(csv.reader(io.StringIO(text[line - 1])))))
        row = frame.iloc[position]
        same = [str(row[c]) == record[c] for c in ("key", "q")]
        same += [float(row[c]) == float(record[c]) for c in ("a", "b", "y")]
        out.append(all(same))
    return np.array(out)


def _lineage(frame):
    """``row_lineage(frame)`` and its LineageWarnings, or None where it refused."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            lineage = stp.row_lineage(frame)
        except LineageError:
            return None, []
    return lineage, [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]


def test_swapped_labels_are_refused_as_fit_refuses(paths):
    df = _frame(paths)
    a, b = df.index[2], df.index[20]
    swapped = df.rename(index={a: b, b: a})
    with pytest.raises(LineageError, match="holds the values loaded for"):
        stp.row_lineage(swapped)
    with pytest.raises(LineageError, match="holds the values loaded for"):
        stp.TracedEstimator(Ridge()).fit(swapped[["a", "b"]], swapped["y"])


def test_rows_overwritten_by_where_are_named_in_a_warning(paths):
    df = _frame(paths)
    keep = np.ones(df.shape, dtype=bool)
    keep[[3, 4, 30]] = False
    written = df.where(keep, df.iloc[[10] * len(df)].to_numpy())
    with pytest.warns(LineageWarning, match=r"row 3 of X \(and 2 more.*holds none of the values"):
        lineage = stp.row_lineage(written)
    assert not _holds(written, lineage, paths)[[3, 4, 30]].any()  # (the lines it names)


def test_rows_blanked_by_where_are_named_in_a_warning(paths):
    df = _frame(paths)
    keep = pd.Series(True, index=df.index)
    keep.iloc[[5, 25]] = False
    with pytest.warns(LineageWarning, match=r"row 5 of X \(and 1 more.*holds no value of"):
        stp.row_lineage(df.where(keep, axis=0))


def test_rows_that_hold_their_values_are_unchanged_and_unwarned(paths):
    df = _frame(paths)
    picked = df.sample(frac=0.7, random_state=0).sort_values("b")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        lineage = stp.row_lineage(picked)
    ids = stp.row_lineage(np.asarray(picked.index, dtype=np.int64))
    pd.testing.assert_frame_equal(
        lineage[["row", "row_id", "source_id", "line"]],
        ids[["row", "row_id", "source_id", "line"]],
    )
    assert _holds(picked, lineage, paths).all()


@st.composite
def _edits(draw):
    n = 35
    swaps = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
    rows = draw(st.lists(st.integers(0, n - 1), max_size=12, unique=True))
    other = draw(st.sampled_from(["row", "nan", "shifted", "permuted"]))
    source = draw(st.integers(0, n - 1))
    return swaps, rows, other, source, draw(st.permutations(range(n)))


@settings(deadline=None, max_examples=40)
@given(_edits())
@example(([(2, 20)], [], "row", 0, list(range(35))))
@example(([], [3, 4, 30], "row", 10, list(range(35))))
@example(([], [5, 25], "nan", 0, list(range(35))))
def test_every_line_named_without_a_warning_holds_the_row(paths, edits):
    swaps, rows, other, source, order = edits
    df = _frame(paths)
    labels = df.index.to_numpy().copy()
    for i, j in swaps:  # a permutation of labels, as df.rename(index=...) makes one
        labels[[i, j]] = labels[[j, i]]
    edited = df.rename(index=dict(zip(df.index, labels)))
    keep = np.ones(df.shape, dtype=bool)
    keep[rows] = False
    if other == "row":
        values = edited.iloc[[source] * len(df)].to_numpy()
    elif other == "permuted":  # (each row written gets another row's values)
        values = edited.iloc[order].to_numpy()
    elif other == "shifted":
        values = edited.shift(1).to_numpy()
    else:
        values = np.nan
    edited = edited.where(keep, values)
    lineage, warned = _lineage(edited)
    if lineage is None or warned:
        return  # (refused, or the rows named in a warning)
    assert _holds(edited, lineage, paths).all()
