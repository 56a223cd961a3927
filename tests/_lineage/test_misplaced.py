"""Rows holding another row's values (ids no longer with their rows) are refused.

Each case moves values past the index with plain pandas, so every row keeps an id that
names a line whose record it does not hold. The truth is the raw file: the error must
name a line whose record holds the row's key, and a fit that passes must name, for every
row, the line holding its key.
"""

import csv
import io
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError


def _write(path, n, tag, seed):
    rng = np.random.default_rng(seed)
    lines = ["key,a,b,grp,note,y"]
    for i in range(n):
        if i % 4 == 0:
            lines.append("# a comment, with a comma")
        if i % 5 == 2:
            lines.append("")
        note = '"two\nlines"' if i % 3 == 0 else "one"
        lines.append(f"{tag}{i},{rng.normal():.4f},{rng.normal():.4f},g{i % 3},{note},{i % 2}")
    path.write_text("\n".join(lines) + "\n")
    return stp.read_csv(path, source_id=tag, comment="#")


def _key_at(path, line):
    """The key of the record starting at physical line ``line`` of the file."""
    rest = "".join(path.read_text().splitlines(keepends=True)[line - 1 :])
    return next(csv.reader(io.StringIO(rest)))[0]


def _fit(X, y):
    pre = stp.make_traced_column_transformer((StandardScaler(), ["a", "b"]))
    return stp.make_traced_pipeline(pre, LogisticRegression()).fit(X, y)


@pytest.fixture
def frames(tmp_path):
    return tmp_path, _write(tmp_path / "m.csv", 40, "m", 0), _write(tmp_path / "n.csv", 30, "n", 1)


def _moved(name, a, b):
    if name == "index from a sorted copy":
        out = a.copy()
        out.index = a.sort_values("a").index
        return out
    if name == "set_axis permuted":
        return a.set_axis(a.index[np.random.default_rng(2).permutation(len(a))])
    if name == "whole frame shifted":
        return a.shift(1).iloc[1:].assign(y=a["y"].iloc[1:])
    if name == "values assigned reversed":
        out = a.copy()
        out.iloc[:, :] = a.iloc[::-1].to_numpy()
        return out
    if name == "rows replaced from another frame":
        return a.where(a["a"] > 0, a.iloc[::-1].set_axis(a.index))
    if name == "ids shifted by one":
        out = a.iloc[:-3].copy()
        out.index = out.index + 1
        return out
    if name == "index permuted, then a column scaled":
        out = a.set_axis(a.index[np.random.default_rng(3).permutation(len(a))])
        return out.assign(b=out["b"] * 2)
    if name == "two sources, one index":
        both = pd.concat([a.iloc[:15], b.iloc[:15]])
        return both.set_axis(pd.concat([b.iloc[:15], a.iloc[:15]]).index)
    raise AssertionError(name)


@pytest.mark.parametrize(
    "name",
    [
        "index from a sorted copy",
        "set_axis permuted",
        "whole frame shifted",
        "values assigned reversed",
        "rows replaced from another frame",
        "ids shifted by one",
        "index permuted, then a column scaled",
        "two sources, one index",
    ],
)
@pytest.mark.parametrize("columns", [["key", "a", "b", "grp"], ["a", "b"]])
def test_rows_holding_other_rows_values_are_refused(frames, name, columns):
    tmp_path, a, b = frames
    X = _moved(name, a, b)
    y = X["y"].astype(int)
    if name == "index permuted, then a column scaled" and columns == ["a", "b"]:
        # one value of the other row left (a), one changed: as a column replaced, and
        # said as one, in the notes of changed columns
        notes = _fit(X[columns], y).lineage_.notes
        assert any("a (" in note and "b (" in note for note in notes)
        return
    with pytest.raises(LineageError, match="holds the values loaded for") as info:
        _fit(X[columns], y)
    found = re.search(
        r"row (\d+) of X holds the values loaded for (\w+) line (\d+) \(.*\), more than "
        r"the \d+ it keeps of the values loaded for (\w+) line (\d+), which its row id names",
        str(info.value),
    )
    row, holds_src, holds, named_src, named = found.groups()
    # the raw file: the record at the line it holds has the row's key, the named one not
    assert _key_at(tmp_path / f"{holds_src}.csv", int(holds)) == X["key"].iloc[int(row)]
    assert _key_at(tmp_path / f"{named_src}.csv", int(named)) != X["key"].iloc[int(row)]
    # the estimator is left unfitted
    assert not hasattr(stp.make_traced_pipeline(LogisticRegression()), "lineage_")


def _truth_checked(tmp_path, X, pipe):
    trace = pipe.trace(np.arange(len(X)))
    keys = [_key_at(tmp_path / f"{s}.csv", line) for s, line in zip(trace.source_id, trace.line)]
    assert keys == X["key"].tolist()
    return pipe.lineage_.notes


@pytest.mark.parametrize(
    "name",
    [
        "one column shifted",
        "half the columns shifted",
        "every numeric column scaled",
        "values capped into another row's",
        "binary columns flipped",
        "a fully missing row filled from its neighbour",
        "rows sampled with replacement",
        "read again as text",
    ],
)
def test_values_changed_in_place_are_notes_not_errors(frames, name):
    tmp_path, a, _ = frames
    X = a.copy()
    if name == "one column shifted":
        X["a"] = X["a"].shift(1).fillna(0.0)
    elif name == "half the columns shifted":
        X[["a", "b"]] = X[["a", "b"]].shift(1).fillna(0.0)
        X = X[["key", "a", "b", "grp", "y"]].assign(y=X["y"].astype(str))
        pipe = _fit(X, X["y"].astype(int))
        assert any("a (" in note and "b (" in note for note in pipe.lineage_.notes)
        return
    elif name == "every numeric column scaled":
        X[["a", "b"]] = (X[["a", "b"]] - X[["a", "b"]].mean()) * 3
    elif name == "values capped into another row's":
        # rows capped to the values of a row that stays in X, which holds them too
        top = X.iloc[0]
        X.loc[X["a"] > top["a"], ["a", "b"]] = [top["a"], top["b"]]
        X.loc[X["a"] == top["a"], "grp"] = top["grp"]
    elif name == "binary columns flipped":
        X = X.assign(a=(X["a"] > 0).astype(float), b=(X["b"] > 0).astype(float))
        X = stp.from_pandas(X.reset_index(drop=True).drop(columns="key"), "bits")
        X = X.assign(a=1 - X["a"], b=1 - X["b"])
        pipe = _fit(X, X["y"])
        assert any("a (" in note and "b (" in note for note in pipe.lineage_.notes)
        return
    elif name == "a fully missing row filled from its neighbour":
        X.loc[X.index[5], ["a", "b", "grp"]] = np.nan
        X = X.ffill()
    elif name == "rows sampled with replacement":
        X = X.sample(frac=2.0, replace=True, random_state=0)
    elif name == "read again as text":
        X = stp.read_csv(tmp_path / "m.csv", source_id="m", comment="#", dtype=str)
        X = X.assign(a=X["a"].astype(float), b=X["b"].astype(float))
    pipe = _fit(X, X["y"].astype(int))
    _truth_checked(tmp_path, X, pipe)


def test_merge_and_aggregate_refuse_rows_holding_other_rows_values(frames):
    from sktraceprop._lineage._source import REGISTRY

    tmp_path, a, b = frames
    moved = _moved("whole frame shifted", a, b).drop(columns="y")
    before = len(REGISTRY.snapshot())
    with pytest.raises(LineageError, match="row \\d+ of left holds the values loaded for m"):
        stp.merge(moved, b[["grp", "note"]], on="grp")
    with pytest.raises(LineageError, match="row \\d+ of df holds the values loaded for m"):
        stp.aggregate(moved, by="grp", a_mean=("a", "mean"))
    assert len(REGISTRY.snapshot()) == before  # nothing registered
    # the same frame before the shift merges, every row naming its two parent lines
    m = stp.merge(a, b[["key", "grp"]].rename(columns={"key": "bkey"}), on="grp")
    lineage = stp.row_lineage(m)
    for (row, src), line in zip(zip(lineage["row"], lineage["source_id"]), lineage["line"]):
        want = m["key"].iloc[row] if src == "m" else m["bkey"].iloc[row]
        assert _key_at(tmp_path / f"{src}.csv", line) == want


@pytest.mark.parametrize("n", [3000, 20000])
def test_moves_in_large_loads_are_found_beyond_the_witness_rows(tmp_path, n):
    # Above 512 rows one row in a stride is a witness: a moved witness row and the row
    # that took its record are rarely both witnesses (20000 rows: about 5 pairs for a
    # shift, fewer than 1 for a permutation). The record of a moved witness row is
    # looked for in every row of X, by a value no other row holds.
    rng = np.random.default_rng(n)
    lines = ["key,a,b,grp,y"]
    for i in range(n):
        if i % 50 == 0:
            lines.append("# c")
        lines.append(f"k{i},{rng.normal():.6f},{rng.normal():.6f},g{i % 4},{i % 2}")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n")
    df = stp.read_csv(path, source_id="big", comment="#")
    for moved in (
        df.set_axis(df.index[rng.permutation(n)]),
        df.shift(1).iloc[1:].astype(df.dtypes.to_dict()),
    ):
        X = moved.sample(frac=0.8, random_state=0)
        with pytest.raises(LineageError, match="holds the values loaded for") as info:
            _fit(X[["key", "a", "b", "grp"]], X["y"])
        found = re.search(
            r"row (\d+) of X holds the values loaded for big line (\d+) .*big line (\d+)",
            str(info.value),
        )
        row, holds, named = map(int, found.groups())
        assert _key_at(path, holds) == X["key"].iloc[row] != _key_at(path, named)
    # no false alarm: duplicated records, every numeric column scaled, a split
    twice = pd.concat([df, df.iloc[:500]])
    X = twice.assign(a=twice["a"] * 3, b=twice["b"] - 1).sample(frac=0.7, random_state=1)
    pipe = _fit(X[["key", "a", "b", "grp"]], X["y"])
    trace = pipe.trace(np.arange(len(X)))
    assert [_key_at(path, line) for line in trace["line"][:200]] == X["key"].tolist()[:200]


def test_a_record_held_by_two_files_joined_on_the_index_is_not_a_move(tmp_path):
    # One patient exported by both hospitals: an outer join on the index leaves b's row
    # empty in a's columns (its values under the suffixed names), and a's row holding
    # the same values as b's record. a's row holds its own record: the fit was refused
    # ("row 1 of X holds the values loaded for b line 2 ... yet its row id names a line 3")
    (tmp_path / "a.csv").write_text("key,x,z,y\na1,1.5,2.5,0\nsame,3.5,4.5,1\n")
    (tmp_path / "b.csv").write_text("key,x,z,y\nsame,3.5,4.5,1\nb2,7.5,8.5,0\n")
    a = stp.read_csv(tmp_path / "a.csv", source_id="a")
    b = stp.read_csv(tmp_path / "b.csv", source_id="b")
    X = a.merge(b, left_index=True, right_index=True, how="outer", suffixes=("", "_b"))
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(X[["x", "z", "x_b", "z_b"]].fillna(0.0), [0, 1, 0, 1])
    traced = pipe.trace(np.arange(len(X)))
    keys = X["key"].fillna(X["key_b"]).tolist()
    for row in traced.itertuples():
        path = tmp_path / f"{row.source_id}.csv"
        assert _key_at(path, row.line) == keys[row.train_index]
    assert sorted(traced["source_id"]) == ["a", "a", "b", "b"]
