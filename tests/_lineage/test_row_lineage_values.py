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


def test_a_row_overwritten_from_another_file_with_its_label_warns(paths):
    # Row 12 is line 3 of rlv1.csv (y 0); it is given the values of line 3 of rlv0.csv,
    # whose y is 0 too. It equals its record in y alone, a value other rows hold.
    df = _frame(paths)
    written = df.copy()
    written.iloc[12] = df.iloc[0].to_numpy()
    lineage, warned = _lineage(written)
    assert [w for w in warned if w.startswith("row 12 of X holds none of the values")]
    assert "key, q, a, b)" in warned[0]
    text = paths[1].read_bytes().decode().split("\n")
    named = next(csv.reader(io.StringIO(text[int(lineage["line"].iloc[12]) - 1])))
    assert named[0] == "k1_0" and written["key"].iloc[12] == "k0_0"  # (by the bytes)
    assert named[4] == "0" and written["y"].iloc[12] == 0  # (the one value it equals)
    assert not _holds(written, lineage, paths)[12]


@pytest.mark.parametrize("kept", [["q"], ["a"], ["key", "y"]])
def test_columns_changed_in_place_beside_a_telling_value_do_not_warn(paths, kept):
    # A row keeping one value no other row holds (a text, a number not whole) keeps its
    # record: its other columns changed are changed columns, not a replaced row.
    df = _frame(paths)
    edited = df.copy()
    for column in [c for c in COLUMNS if c not in kept and c != "y"]:
        edited[column] = edited[column].astype(object)
        edited.iloc[[4, 20], edited.columns.get_loc(column)] = ["x", "z"]
    _, warned = _lineage(edited)
    assert not [w for w in warned if "holds none of the values" in w]


def test_labels_kept_as_many_as_columns_changed_do_not_warn(tmp_path):
    # Whole-number codes held by many rows tell nothing alone, but a row equal to its
    # record in as many of them as it differs in is taken as edited, not replaced.
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, size=(30, 4))
    lines = ["c0,c1,c2,c3,u,v"] + [
        f"{r[0]},{r[1]},{r[2]},{r[3]},{i + 0.5},{-i - 0.25}" for i, r in enumerate(codes)
    ]
    (tmp_path / "codes.csv").write_text("\n".join(lines) + "\n")
    df = stp.read_csv(tmp_path / "codes.csv")
    edited = df.copy()
    edited.loc[edited.index[[3, 9]], ["u", "v"]] = [[100.5, 200.25], [101.5, 201.25]]
    _, warned = _lineage(edited)
    assert not [w for w in warned if "holds none of the values" in w]
    edited.loc[edited.index[[3, 9]], ["c0", "c1", "c2"]] = edited.iloc[[20, 21], :3].to_numpy()
    same = (edited.iloc[[3, 9], :4].to_numpy() == df.iloc[[3, 9], :4].to_numpy()).sum(axis=1)
    _, warned = _lineage(edited)
    said = [w for w in warned if "holds none of the values" in w]
    assert same.tolist() == [2, 2]  # (differing in u, v and two codes: more than equal)
    assert len(said) == 1 and said[0].startswith("row 3 of X (and 1 more")


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
@example(([], [12], "row", 0, list(range(35))))  # (file 1's first row: file 0's, same y)
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
