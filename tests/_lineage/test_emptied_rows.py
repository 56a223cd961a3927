"""A row holding no value of the line its id names (every value missing now) is said so.

``df.reindex`` to labels the frame has no row for (the ids of rows filtered out before,
or of the test split) makes rows under real row ids whose every value is missing; an
imputer then fills them from other rows, and the lineage named that line without a
word. The raw file is read back to show that the line named holds values the row does
not hold.
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

FEATURES = ["a", "b"]


def _write(path, n, missing=()):
    """``n`` records after a preamble (``skiprows=1``), with comment lines and quoted
    fields holding commas; ``a`` is left empty on the records in ``missing``."""
    lines = ["a preamble line", "key,q,a,b,y"]
    for i in range(n):
        if i % 5 == 2:
            lines.append("# a comment, with a comma")
        a = "" if i in missing else f"{10 * i + 0.125}"
        lines.append(f'k{i},"text, {i}",{a},{-10 * i - 0.375},{i % 3}')
    path.write_text("\n".join(lines) + "\n")
    return path


def _record_at(path, line):
    """The fields of the record on physical ``line`` (1-based), from the bytes."""
    text = path.read_bytes().decode().split("\n")
    return dict(zip(["key", "q", "a", "b", "y"], next(csv.reader(io.StringIO(text[line - 1])))))


def _fit(X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = stp.make_traced_pipeline(SimpleImputer(), Ridge()).fit(X, y)
    return pipe, [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]


def _emptied(found):
    return [f for f in found if "holds no value of" in f]


def test_reindex_to_rows_filtered_out_names_lines_the_rows_hold_nothing_of(tmp_path):
    path = _write(tmp_path / "f.csv", 30)
    df = stp.read_csv(path, skiprows=1, comment="#")
    kept = df[df["y"] != 1]
    X = kept.reindex(df.index)  # rows of y == 1 come back empty, under their own ids
    first = int(np.flatnonzero(X["a"].isna().to_numpy())[0])
    line = int(stp.row_lineage(X)["line"].iloc[first])
    record = _record_at(path, line)
    assert record["a"] and record["b"]  # the line named holds values the row has none of
    pipe, found = _fit(X[FEATURES], df["y"])
    empty = _emptied(found)
    assert len(empty) == 1
    n_empty = int(X["a"].isna().sum())
    assert empty[0].startswith(
        f"row {first} of X (and {n_empty - 1} more of the 30 rows compared) holds no value "
        f"of f line {line}, which its row id names"
    )
    assert "(a, b)" in empty[0] and "df.reindex" in empty[0]
    assert empty[0] in pipe.lineage_.notes
    assert int(pipe.lineage_.trace([first])["line"].iloc[0]) == line  # (named, and said)


def test_merge_and_aggregate_of_emptied_rows_warn(tmp_path):
    df = stp.read_csv(_write(tmp_path / "f.csv", 20), skiprows=1, comment="#")
    # (a new column to group and join on: the loaded ones are all missing on those rows)
    X = df.iloc[::2].reindex(df.index).assign(grp=np.arange(20) % 2)
    with pytest.warns(LineageWarning, match="row 1 of df .*holds no value of f line"):
        stp.aggregate(X, "grp", {"a": "mean", "b": "mean"})
    other = stp.from_pandas(pd.DataFrame({"grp": [0, 1], "z": [1.0, 2.0]}), "other")
    with pytest.warns(LineageWarning, match="row 1 of left .*holds no value of f line"):
        stp.merge(X, other, on="grp")


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d,  # as loaded
        lambda d: d.assign(a=d["a"].where(d["y"] != 1)),  # one column blanked: b kept
        lambda d: d.assign(b=d["b"] * 2),  # changed, not missing
        lambda d: d.sample(frac=1.0, random_state=0),  # rows moved with their ids
    ],
    ids=["loaded", "one-column", "scaled", "shuffled"],
)
def test_rows_keeping_a_value_of_their_line_do_not_warn(tmp_path, change):
    df = stp.read_csv(_write(tmp_path / "f.csv", 30), skiprows=1, comment="#")
    X = change(df)
    _, found = _fit(X[FEATURES], df["y"].loc[X.index])
    assert not _emptied(found)


def test_values_missing_in_the_file_are_no_evidence(tmp_path):
    # a missing in the file and b blanked: the row held no a on its line, so only one
    # value (b) it had is gone, which is not enough to say it holds nothing of the line
    path = _write(tmp_path / "f.csv", 30, missing={3, 4, 5})
    df = stp.read_csv(path, skiprows=1, comment="#")
    X = df.assign(b=df["b"].where(df["a"].notna()))
    _, found = _fit(X[FEATURES], df["y"])
    assert not _emptied(found)


@settings(deadline=None, max_examples=15)
@given(
    n=st.integers(6, 40),
    dropped=st.sets(st.integers(0, 39), max_size=6),
    shuffle=st.booleans(),
)
@example(n=6, dropped=set(), shuffle=False)
@example(n=30, dropped={0}, shuffle=True)
def test_warns_for_exactly_the_rows_reindexed_back_empty(tmp_path_factory, n, dropped, shuffle):
    path = _write(tmp_path_factory.mktemp("emptied") / "f.csv", n)
    df = stp.read_csv(path, skiprows=1, comment="#")
    dropped = sorted(d for d in dropped if d < n)
    kept = df.drop(df.index[dropped])
    target = df.sample(frac=1.0, random_state=n) if shuffle else df
    X = kept.reindex(target.index)
    empty_at = np.flatnonzero(X["a"].isna().to_numpy())
    # against the bytes: each empty row's line holds values, and every other row its own
    lineage = stp.row_lineage(X)
    for pos, line in enumerate(lineage["line"]):
        record = _record_at(path, int(line))
        if pos in set(empty_at):
            assert record["a"] and record["b"]
        else:
            assert float(record["a"]) == X["a"].iloc[pos]
    _, found = _fit(X[FEATURES], target["y"])
    empty = _emptied(found)
    if not dropped:
        assert not empty
        return
    assert len(empty) == 1
    first_line = int(lineage["line"].iloc[empty_at[0]])
    more = f" (and {len(dropped) - 1} more of the {n} rows compared)" if len(dropped) > 1 else ""
    assert empty[0].startswith(
        f"row {empty_at[0]} of X{more} holds no value of f line {first_line}"
    )
