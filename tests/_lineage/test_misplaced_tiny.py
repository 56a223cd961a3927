"""In a tiny file, a recoding of a few low-cardinality columns is no evidence that a
row moved.

Where one row alone holds a combination of 0/1 values, that combination names the row;
but two 0/1 columns make four possible records, and a recoding (bits flipped) lands
other rows on it by chance. A frame whose rows are where they should be is not refused;
a row truly moved, holding distinctive values (floats) of another row's record, still
is. The truth is the raw file, re-read in file order.
"""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from tests._lineage._raw_files import records_by_line
from tests._lineage.test_misplaced_merge_lookup import _recoded, _traced_to_own_lines
from tests._lineage.test_moved_rows import _read_flips


def _tiny(folder, n, columns, values, seed, floats=False):
    """A file of ``n`` rows: ``columns`` columns ``c0 ..`` of ``values`` values (or of
    distinct floats), a key and a label ``y``."""
    rng = np.random.default_rng(seed)
    names = [f"c{j}" for j in range(columns)]
    lines = ["key," + ",".join(names) + ",y"]
    for i in range(n):
        cells = []
        for _ in names:
            cells.append(f"{rng.random() + 0.5:.4f}" if floats else str(rng.integers(values)))
        lines.append(f"r{i}," + ",".join(cells) + f",{i % 2}")
    path = folder / f"tiny_{seed}_{n}_{columns}_{values}_{int(floats)}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, stp.read_csv(path, source_id=path.stem), names


def test_the_tiny_flips_file_recoded_is_not_refused(tmp_path):
    # (found by helper lookup70: "row 0 of X holds the values loaded for
    # flips_194_20_0.125 line 12 (c0, c1)", every row where it should be)
    path, b = _read_flips(tmp_path, 20, 0.125, 194)
    X = _recoded(b, 0.5, 195)
    pipe = stp.make_traced_pipeline(Ridge()).fit(X[["c0", "c1"]], X["y"].astype(float))
    _traced_to_own_lines(pipe, X, path)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    n=st.integers(5, 40),
    columns=st.integers(1, 3),
    values=st.integers(2, 3),
    rate=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**16),
)
@example(n=11, columns=3, values=3, rate=0.66, seed=55518)  # (refused before)
@example(n=20, columns=2, values=2, rate=0.5, seed=194)
def test_tiny_files_recoded_are_not_refused(tmp_path_factory, n, columns, values, rate, seed):
    # each value replaced, with chance ``rate``, by one of the column's values: every
    # row is where it should be, whatever combination it lands on (the tiny files of
    # earlier examples stay loaded: their records are searched too)
    path, df, names = _tiny(tmp_path_factory.mktemp("tiny"), n, columns, values, seed)
    X = _replaced(df, names, values, rate, seed + 1)
    pipe = stp.make_traced_pipeline(Ridge()).fit(X[names], X["y"].astype(float))
    _traced_to_own_lines(pipe, X, path)


def _replaced(df, names, values, rate, seed):
    """``df`` with each value of ``names`` replaced, with chance ``rate``, by one of
    ``values`` values."""
    rng = np.random.default_rng(seed)
    X = df.copy()
    for c in names:
        X[c] = np.where(rng.random(len(df)) < rate, rng.integers(values, size=len(df)), X[c])
    return X


def test_a_tiny_file_recoded_is_not_taken_for_another_tiny_file(tmp_path):
    # (refused before: "row 1 of X holds the values loaded for tiny_24391_6_2_3_0 line 6
    # (c0, c1)", a record of another file of six rows, two columns of three values)
    _tiny(tmp_path, 6, 2, 3, 24391)
    path, df, names = _tiny(tmp_path, 37, 2, 2, 63383)
    X = _replaced(df, names, 2, 0.67, 63384)
    pipe = stp.make_traced_pipeline(Ridge()).fit(X[names], X["y"].astype(float))
    _traced_to_own_lines(pipe, X, path)


_ERROR = re.compile(r"row (\d+) of X holds the values loaded for (\w+) line (\d+)")


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    n=st.integers(5, 40),
    columns=st.integers(2, 3),
    pair=st.tuples(st.integers(0, 39), st.integers(0, 39)).filter(lambda p: p[0] != p[1]),
    seed=st.integers(0, 2**16),
)
@example(n=5, columns=2, pair=(0, 4), seed=1)
@example(n=20, columns=3, pair=(3, 12), seed=194)
def test_a_row_of_a_tiny_file_moved_is_still_refused(tmp_path_factory, n, columns, pair, seed):
    # two rows' float values swapped past the index: the row named in the refusal holds
    # the raw record of the line named, which its own key does not name
    i, j = (p % n for p in pair)
    if i == j:
        j = (i + 1) % n
    path, df, names = _tiny(tmp_path_factory.mktemp("moved"), n, columns, 0, seed, floats=True)
    values = df[names].to_numpy().copy()
    values[[i, j]] = values[[j, i]]
    X = df.copy()
    X[names] = values
    with pytest.raises(LineageError, match="holds the values loaded for") as info:
        stp.make_traced_pipeline(Ridge()).fit(X[names], X["y"].astype(float))
    row, source, line = _ERROR.search(str(info.value)).groups()
    row, line = int(row), int(line)
    assert row in (i, j) and source == path.stem
    raw = records_by_line(path)[source, line]
    assert [float(raw[c]) for c in names] == [X[c].iloc[row] for c in names]
    assert raw["key"] != X["key"].iloc[row]
