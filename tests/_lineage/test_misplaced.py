"""Rows holding another row's values (ids no longer with their rows) are refused.

Each case moves values past the index with plain pandas, so every row keeps an id that
names a line whose record it does not hold. The truth is the raw file: the error must
name a line whose record holds the row's key, and a fit that passes must name, for every
row, the line holding its key.
"""

import csv
import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageWarning


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
    if name == "a moved copy concatenated with the original":
        # each id twice: once with its own record, once with another row's
        return pd.concat([a, a.set_axis(a.index[np.roll(np.arange(len(a)), 1)])])
    if name == "two sources, one index":
        both = pd.concat([a.iloc[:15], b.iloc[:15]])
        return both.set_axis(pd.concat([b.iloc[:15], a.iloc[:15]]).index)
    if name == "another source's rows under one source's ids":
        # the rows of X all have ids of n; their values are m's, a source X has no id of
        both = pd.concat([a.iloc[:15], b.iloc[:15]])
        return both.set_axis(pd.concat([b.iloc[:15], a.iloc[:15]]).index).iloc[:15]
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
        "another source's rows under one source's ids",
        "a moved copy concatenated with the original",
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


def _many_to_many(tmp_path, n, groups):
    """A file of ``n`` records in ``groups`` join groups, merged with itself on the
    group: every value of the merge repeats (once per row of its group)."""
    rng = np.random.default_rng(n)
    lines = ["key,k,a,b,y"]
    for i in range(n):
        if i % 7 == 3:
            lines.append("# c, with a comma")
        lines.append(f"r{i},{i % groups},{rng.normal():.6f},{rng.normal():.6f},{i % 2}")
    path = tmp_path / "mm.csv"
    path.write_text("\n".join(lines) + "\n")
    f = stp.read_csv(path, source_id="mm", comment="#")
    return path, stp.merge(f, f, on="k", suffixes=("", "_r"))


def _merged_keys(path, m, line):
    """The two file keys (left, right) of line ``line`` of merge ``m``, from the raw
    file through the lines its row lineage names."""
    lineage = stp.row_lineage(m)
    lines = lineage.loc[lineage["row"] == line - 1, "line"].tolist()
    return sorted(_key_at(path, k) for k in lines)


@pytest.mark.parametrize(("n", "groups"), [(3, 1), (40, 4), (90, 6)])
def test_ids_moved_among_rows_of_a_many_to_many_merge_are_refused(tmp_path, n, groups):
    # No value of a many-to-many merge names one of its rows (each repeats once per row
    # of its group), yet each names one row of the parent it was merged from: the fit
    # was silently traced to the wrong lines (row 1 holding r0+r1 named r0+r2), with a
    # note saying only that a_r and b_r had changed.
    path, m = _many_to_many(tmp_path, n, groups)
    order = np.random.default_rng(n).permutation(len(m))
    moved = m.set_axis(m.index[order])
    X = moved[["k", "a", "b", "a_r", "b_r"]]
    with pytest.raises(LineageError, match="holds the values loaded for merge:") as info:
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, moved["y"])
    found = re.search(
        r"row (\d+) of X holds the values loaded for merge:\w+ row (\d+) \(.*\), more "
        r"than the \d+ it keeps of the values loaded for merge:\w+ row (\d+), which its "
        r"row id names",
        str(info.value),
    )
    row, holds, named = map(int, found.groups())
    # the raw file: the merged row it holds joined the records of its keys, the one its
    # id names did not
    want = sorted([moved["key"].iloc[row], moved["key_r"].iloc[row]])
    assert _merged_keys(path, m, holds) == want != _merged_keys(path, m, named)


@pytest.mark.parametrize(
    "name", ["as merged", "rescaled", "one column copied", "two columns copied", "sampled"]
)
@pytest.mark.parametrize(("n", "groups"), [(40, 4), (100, 10)])
def test_many_to_many_merges_changed_in_place_still_fit(tmp_path, name, n, groups):
    # no false alarm from the parents' values: each row still names its own two lines
    # (at 1,000 rows, one in two a witness: the merged row whose values a row holds,
    # named by its parents, is often not one)
    path, m = _many_to_many(tmp_path, n, groups)
    X = m.copy()
    if name == "rescaled":
        X[["a", "b", "a_r", "b_r"]] = X[["a", "b", "a_r", "b_r"]] * 3 - 1
    elif name == "one column copied":
        X["a_r"] = X["a"]
    elif name == "two columns copied":
        # rows made equal to the row joining a record with itself, which X holds too
        X[["a_r", "b_r"]] = X[["a", "b"]].to_numpy()
    elif name == "sampled":
        X = X.sample(frac=0.6, random_state=0)
    cols = ["k", "a", "b", "a_r", "b_r"]
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X[cols], X["y"])
    trace = pipe.trace(np.arange(len(X)))
    for i, rows in trace.groupby("train_index"):
        got = sorted(_key_at(path, line) for line in rows["line"])
        assert got == sorted([X["key"].iloc[i], X["key_r"].iloc[i]]), i


@pytest.mark.parametrize(("n", "groups"), [(2, 1), (40, 4)])
def test_a_right_column_moved_within_a_left_records_rows_warns(tmp_path, n, groups):
    # Each row keeps its left record's values and takes the b_r of another merged row
    # of the same left record: one value moved (b_r, the only right column), which no
    # value of the merge names (each repeats once per row of its group), yet it names
    # its right record. The fit named each row's own right line with a note only.
    path, m = _many_to_many(tmp_path, n, groups)
    rng = np.random.default_rng(n)
    X = m.copy()
    for _, at in X.groupby("key").indices.items():
        X.iloc[at, X.columns.get_loc("b_r")] = X["b_r"].to_numpy()[np.roll(at, 1)]
    with pytest.warns(LineageWarning, match="column b_r of X: .* moved between rows") as info:
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(
            X[["k", "a", "b", "b_r"]], rng.permutation(len(X)) % 2
        )
    message = next(str(w.message) for w in info if "moved between rows" in str(w.message))
    found = re.search(
        r"row (\d+) \(lineage merge:\w+ row \d+\) holds the b_r of merge:\w+ "
        r"row (\d+)",
        message,
    )
    row, holder = map(int, found.groups())
    # the raw file: the merged row named joins the row's left record with the record
    # whose b the row holds in b_r
    records = [r for r in csv.reader(io.StringIO(path.read_text())) if r and r[0][0] == "r"]
    right = [r[0] for r in records if float(r[3]) == X["b_r"].iloc[row]]
    assert right != [X["key_r"].iloc[row]]
    assert _merged_keys(path, m, holder) == sorted([X["key"].iloc[row], *right])


@pytest.mark.parametrize("name", ["as merged", "one column copied", "two columns copied"])
def test_a_right_column_copied_from_the_left_in_a_merge_does_not_warn(tmp_path, name):
    # a_r = a: each row's value is its left record's, whose line it names (no move)
    _, m = _many_to_many(tmp_path, 40, 4)
    X = m.copy()
    if name == "one column copied":
        X["b_r"] = X["b"]
    elif name == "two columns copied":
        X[["a_r", "b_r"]] = X[["a", "b"]].to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(
            X[["k", "a", "b", "a_r", "b_r"]], X["y"]
        )
    assert not [w for w in caught if "moved between rows" in str(w.message)]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    n=st.integers(2, 30),
    groups=st.integers(1, 4),
    how=st.sampled_from(["inner", "left", "outer"]),
    columns=st.sampled_from([["a", "b", "a_r", "b_r"], ["k", "a", "b", "b_r"], ["a_r", "b_r"]]),
    data=st.data(),
    order=st.none(),
)
# rows 2 and 3 (r1 joined with r1, then r0) swapped: row 2 kept its left record's
# values and took r0's b_r, the only right column; traced to r1 + r1 with a note only
@example(n=2, groups=1, how="inner", columns=["k", "a", "b", "b_r"], data=None, order=[0, 1, 3, 2])
def test_moves_in_merges_are_refused_or_traced_right(
    tmp_path_factory, n, groups, how, columns, data, order
):
    # never a wrong line: a fit either refused, warned of values moved between rows,
    # or names, for every row, the lines of the two records its keys name in the raw
    # file (with the right columns alone, of its right record: a gap filled holds
    # none). A row moved within its left record's rows keeps every left value: with
    # one right column (b_r), one value moved, named through the merge's parents
    tmp_path = tmp_path_factory.mktemp("mm")
    path, _ = _many_to_many(tmp_path, n, groups)
    f = stp.read_csv(path, source_id="mm", comment="#")
    g = f[f["k"] != 0] if how != "inner" else f
    m = stp.merge(f, g, on="k", how=how, suffixes=("", "_r"))
    if order is None:
        order = data.draw(st.permutations(range(len(m))))
    X = m.set_axis(m.index[list(order)]).fillna({"a_r": 0.0, "b_r": 0.0})
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    y = np.arange(len(X)) % 2
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pipe.fit(X[columns], y)
    except LineageError as e:
        assert "holds the values loaded for merge:" in str(e), e
        return
    said = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    if any("moved between rows" in w or "moved off their rows" in w for w in said):
        return
    trace = pipe.trace(np.arange(len(X)))
    for i, rows in trace.groupby("train_index"):
        got = sorted(_key_at(path, line) for line in rows["line"])
        if columns == ["a_r", "b_r"]:
            # only the right record's values: its line among those named, where the
            # row holds one (not a gap filled, the right key missing)
            assert pd.isna(X["key_r"].iloc[i]) or X["key_r"].iloc[i] in got, (i, got)
            continue
        want = sorted(k for k in [X["key"].iloc[i], X["key_r"].iloc[i]] if pd.notna(k))
        assert got == want, (i, got, want, pipe.lineage_.notes)


def test_a_row_cleaned_like_a_copy_loaded_as_another_source_is_its_own(tmp_path):
    # A cleaned copy of the same rows loaded as another source (to compare), and the
    # same cleaning applied in pandas: each row keeps its key, which names its own
    # record, so it holds its own row with values replaced, not the copy's row (before
    # the key rule, the search of other sources' loads refused the fit, saying the row
    # ids no longer belonged to their rows)
    raw = _write(tmp_path / "raw.csv", 40, "r", 3)
    clean = raw.assign(a=(raw["a"] * 10).round(1), b=(raw["b"] * 10).round(1))
    clean.reset_index(drop=True).to_csv(tmp_path / "clean.csv", index=False)
    stp.read_csv(tmp_path / "clean.csv", source_id="clean")
    X = raw.assign(a=(raw["a"] * 10).round(1), b=(raw["b"] * 10).round(1))
    pipe = _fit(X[["key", "a", "b"]], X["y"])
    trace = pipe.trace(np.arange(len(X)))
    assert set(trace["source_id"]) == {"r"}
    path = tmp_path / "raw.csv"
    assert [_key_at(path, line) for line in trace["line"]] == X["key"].tolist()
