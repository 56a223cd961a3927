"""A loaded column whose values were moved between rows (``shift``, ``ffill``) is said.

Each row keeps its id, so its lineage names its own line, while a value in it is the
value another line was loaded with: the raw file is read back to show that the row's
value is in the record of the other line named, and not in its own. Values computed
from each row's own values, or over several rows, are left to the run's notes.
"""

import csv
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning
from tests._lineage._raw_files import records_by_line
from tests._lineage.test_misplaced_merge import _write as _write_keyed

HEADER = ["key", "q", "a", "b", "n", "y"]


def _write(path, n, seed=0):
    """``n`` records after a preamble (``skiprows=1``), comment lines and quoted fields;
    ``a`` and ``b`` floats unique over the file, ``n`` small integers."""
    rng = np.random.default_rng(seed)
    lines = ["a preamble line", ",".join(HEADER)]
    for i in range(n):
        if i % 6 == 1:
            lines.append("# a comment, with a comma")
        a, b = 10 * i + 0.125 + rng.integers(0, 5), -10 * i - 0.375
        lines.append(f'k{i},"text, {i}",{a},{b},{int(rng.integers(0, 4))},{i % 2}')
    path.write_text("\n".join(lines) + "\n")
    return path


def _records(path):
    """Physical line -> record, read from the file's bytes with ``csv``."""
    text = path.read_bytes().decode().split("\n")
    out = {}
    for line, raw in enumerate(text, start=1):
        row = next(csv.reader(io.StringIO(raw)), None)
        if line > 2 and row and not row[0].startswith("#"):
            out[line] = dict(zip(HEADER, row))
    return out


def _fit(X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = stp.make_traced_pipeline(SimpleImputer(), Ridge()).fit(X, y)
    return pipe, [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]


def _moved(found):
    return [f for f in found if "hold the value loaded for another row, or" in f]


def _check_against_bytes(message, X, path, column="a"):
    """The row the warning names holds, in ``column``, the value of the other line it
    names (per the bytes), not its own line's."""
    records = _records(path)
    prefix = message.split(": row ", 1)[1]
    position = int(prefix.split(" ", 1)[0])
    own = int(prefix.split(" line ", 1)[1].split(")", 1)[0])
    other = int(prefix.split(f"holds the {column} of ", 1)[1].split(" line ", 1)[1].split(".")[0])
    value = X[column].iloc[position]
    assert int(stp.row_lineage(X)["line"].iloc[position]) == own
    assert float(records[other][column]) == value
    assert float(records[own][column]) != value


@pytest.mark.parametrize(
    "move",
    [
        lambda d: d.assign(a=d["a"].shift(1)).iloc[1:],
        lambda d: d.assign(a=d["a"].where(d["n"] != 0)).ffill(),
        lambda d: d.assign(a=d["a"].where(d["n"] != 0)).bfill(),
        lambda d: d.assign(a=d.groupby("y")["a"].shift(-1)).dropna(),
        lambda d: d.assign(a=d["a"].sort_values().to_numpy()[::-1]),  # one column sorted
    ],
    ids=["shift", "ffill", "bfill", "groupby-shift", "sorted-alone"],
)
def test_values_moved_between_rows_warn_naming_the_line_they_came_from(tmp_path, move):
    path = _write(tmp_path / "f.csv", 40)
    df = stp.read_csv(path, skiprows=1, comment="#")
    X = move(df)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    moved = _moved(found)
    assert len(moved) == 1 and moved[0].startswith("column a of X: ")
    assert moved[0] in pipe.lineage_.notes
    _check_against_bytes(moved[0], X, path)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d,  # as loaded
        lambda d: d.assign(a=d["a"] * 2.5),  # from each row's own value
        lambda d: d.assign(n=d["n"].shift(1, fill_value=0)),  # whole numbers: no evidence
        lambda d: d.assign(a=d["a"].rolling(2).mean()).iloc[1:],  # over rows: notes only
        lambda d: d.assign(a=d.groupby("y")["a"].transform("mean")),  # over rows too
        lambda d: d.assign(lag=d["a"].shift(1)).iloc[1:],  # a lag in a new column
        lambda d: d.sample(frac=1.0, random_state=0),  # rows moved with their ids
    ],
    ids=["loaded", "scaled", "int-shift", "rolling", "transform", "lag-column", "shuffled"],
)
def test_values_not_taken_from_another_row_do_not_warn(tmp_path, change):
    df = stp.read_csv(_write(tmp_path / "f.csv", 40), skiprows=1, comment="#")
    X = change(df)
    _, found = _fit(X[["a", "b", "n"] + (["lag"] if "lag" in X else [])], X["y"])
    assert not _moved(found)


def test_merge_and_aggregate_of_moved_values_warn(tmp_path):
    df = stp.read_csv(_write(tmp_path / "f.csv", 30), skiprows=1, comment="#")
    X = df.assign(a=df["a"].shift(-1)).iloc[:-1]
    with pytest.warns(LineageWarning, match="column a of df: .* hold the value loaded"):
        stp.aggregate(X, "y", {"a": "mean"})
    other = stp.from_pandas(pd.DataFrame({"y": [0, 1], "z": [1.0, 2.0]}), "other")
    with pytest.warns(LineageWarning, match="column a of left: .* hold the value loaded"):
        stp.merge(X, other, on="y")


@settings(deadline=None, max_examples=20)
@given(
    n=st.integers(8, 60),
    moved=st.lists(st.integers(0, 59), max_size=8, unique=True),
    seed=st.integers(0, 2**16),
)
@example(n=8, moved=[], seed=0)
@example(n=8, moved=[2, 5], seed=1)
def test_warns_iff_values_were_moved(tmp_path_factory, n, moved, seed):
    path = _write(tmp_path_factory.mktemp("moved") / "f.csv", n, seed=seed)
    df = stp.read_csv(path, skiprows=1, comment="#", source_id=f"f{seed}_{n}")
    moved = [m for m in moved if m < n]
    values = df["a"].to_numpy().copy()
    # rotate the values of the rows picked: each takes the next one's (a cycle)
    values[moved] = values[np.roll(moved, -1)] if moved else values[moved]
    X = df.assign(a=values)
    n_moved = int((X["a"].to_numpy() != df["a"].to_numpy()).sum())
    _, found = _fit(X[["a", "b"]], X["y"])
    warned = _moved(found)
    if n_moved < 2:
        assert not warned
        return
    assert len(warned) == 1
    assert warned[0].startswith(f"column a of X: {n_moved} of the {n_moved} changed rows")
    _check_against_bytes(warned[0], X, path)


def _write_large(path, n, decimals=None, seed=0):
    """``n`` records (more than the witness rows), floats at full precision or rounded."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(50, 10, n), rng.normal(0, 1, n)
    if decimals is not None:
        a = np.round(a, decimals)
    frame = pd.DataFrame(
        {"key": [f"k{i}" for i in range(n)], "a": a, "b": b, "y": np.arange(n) % 2}
    )
    frame.to_csv(path, index=False)
    return path


def test_a_shift_in_a_large_load_is_found_by_where_the_values_went(tmp_path):
    # 3,000 rows: the row a witness row's value came from is rarely a witness; the row its
    # own loaded value went to (the next one) is found in the data instead
    path = _write_large(tmp_path / "big.csv", 3000)
    df = stp.read_csv(path)
    X = df.assign(a=df["a"].shift(1)).iloc[1:]
    _, found = _fit(X[["a", "b"]], X["y"])
    (moved,) = _moved(found)
    tail = moved.split(": row ", 1)[1]
    position = int(tail.split(" ", 1)[0])
    own = int(tail.split(" line ", 1)[1].split(")", 1)[0])
    other = int(tail.split("holds the a of ", 1)[1].split(" line ", 1)[1].split(".")[0])
    lines = path.read_text().splitlines()
    assert other == own - 1  # (shift(1): the value of the line before)
    assert float(lines[other - 1].split(",")[1]) == X["a"].iloc[position]
    assert float(lines[own - 1].split(",")[1]) != X["a"].iloc[position]


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.assign(a=d["a"] + 0.1),  # on a one-decimal grid: found by chance
        lambda d: d.assign(a=d["a"].where(d["y"] == 0, d["a"] * 1.5)),  # half rescaled
        lambda d: d.assign(a=d["a"].rolling(3).mean()).iloc[2:],
    ],
    ids=["grid-offset", "half-rescaled", "rolling"],
)
@pytest.mark.parametrize("decimals", [1, None])
def test_large_loads_changed_in_place_do_not_warn(tmp_path, change, decimals):
    df = stp.read_csv(_write_large(tmp_path / "big.csv", 3000, decimals=decimals))
    X = change(df)
    _, found = _fit(X[["a", "b"]], X["y"])
    assert not _moved(found)


def _copy_one(d, column, i, j):
    """``d`` with row ``i``'s value in ``column`` overwritten with row ``j``'s."""
    out = d.copy()
    out.loc[out.index[i], column] = out[column].iloc[j]
    return out


@pytest.mark.parametrize("i, j", [(3, 21), (0, 39), (17, 16)])
def test_one_value_copied_from_another_row_warns(tmp_path, i, j):
    # one row changed, holding the value one other row was loaded with (to three
    # decimals, over a wide range: met by no chance); its lineage names its own line
    path = _write(tmp_path / "f.csv", 40)
    df = stp.read_csv(path, skiprows=1, comment="#")
    X = _copy_one(df, "a", i, j)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    moved = _moved(found)
    assert len(moved) == 1 and moved[0].startswith("column a of X: 1 of the 1 changed rows")
    assert f": row {i} " in moved[0]
    _check_against_bytes(moved[0], X, path)


@pytest.mark.parametrize("stat", ["median", "minimum", "maximum", None])
def test_one_value_set_to_a_statistic_says_so(tmp_path, stat):
    # one value capped at, or filled with, the column's median/minimum/maximum is some
    # other row's value by construction: the warning stands (the library cannot tell it
    # from a copy) and says the value is that statistic; a copy from a middle row does not
    path = _write(tmp_path / "f.csv", 42)
    df = stp.read_csv(path, skiprows=1, comment="#")
    i = 5
    others = np.delete(df["a"].to_numpy(), i)
    value = {
        "median": np.median(others),
        "minimum": others.min(),
        "maximum": others.max(),
        None: df["a"].iloc[12],
    }[stat]
    assert value in set(others.tolist())  # (42 rows: the median of the 41 others is one)
    X = df.copy()
    X.loc[X.index[i], "a"] = value
    _, found = _fit(X[["a", "b"]], X["y"])
    moved = _moved(found)
    assert len(moved) == 1 and moved[0].startswith("column a of X: 1 of the 1 changed rows")
    said = "is also the" in moved[0]
    assert said == (stat is not None)
    if stat is not None:
        assert f"is also the {stat} of the column's other rows" in moved[0]
    _check_against_bytes(moved[0], X, path)


@pytest.mark.parametrize("column", ["b", "b_r"])
@pytest.mark.parametrize("i, j", [(3, 21), (250, 2)])
def test_one_value_copied_between_merged_rows_warns(tmp_path, column, i, j):
    # in a many-to-many merge each value repeats over its join group; row i takes the
    # value of a record that is none of its parents
    f = _write_keyed(tmp_path / "f.csv", 40, 4, 0, "l")
    g = _write_keyed(tmp_path / "g.csv", 30, 4, 1, "r")
    m = stp.merge(f, g, on="k", suffixes=("", "_r"))
    X = _copy_one(m, column, i, j)
    _, found = _fit(X[["a", "b", "a_r", "b_r"]], X["y"])
    moved = _moved(found)
    assert len(moved) == 1 and moved[0].startswith(f"column {column} of X: 1 of the 1 ")
    # the truth: the file of the column's side holds the value on the line of row j's
    # parent, and not on any line row i's lineage names
    side = "g" if column == "b_r" else "f"
    records = records_by_line(tmp_path / "f.csv", tmp_path / "g.csv")
    lineage = stp.row_lineage(X)

    def lines(r):
        return lineage[(lineage["row"] == r) & (lineage["source_id"] == side)]["line"]

    value = X[column].iloc[i]
    assert float(records[side, int(lines(j).iloc[0])]["b"]) == value
    assert all(float(records[side, int(n)]["b"]) != value for n in lines(i))


def test_one_value_met_by_chance_does_not_warn(tmp_path):
    # values to one decimal fill their range: one row set to a value another row holds
    # may be a value typed by hand; one value entered anew is no other row's
    df = stp.read_csv(_write_large(tmp_path / "grid.csv", 300, decimals=1))
    for X in [_copy_one(df, "a", 3, 21), df.assign(a=df["a"].mask(df.index == df.index[3], 1e3))]:
        _, found = _fit(X[["a", "b"]], X["y"])
        assert not _moved(found)
    X = stp.read_csv(_write(tmp_path / "f.csv", 40), skiprows=1, comment="#")
    X = X.assign(a=X["a"].mask(X.index == X.index[3], 0.123456))
    _, found = _fit(X[["a", "b"]], X["y"])
    assert not _moved(found)
