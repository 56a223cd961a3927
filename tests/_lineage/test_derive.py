"""Merges and aggregates: every parent named exactly, checked against the raw files."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY


def _write(path, header, rows):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def _file_line(uri, line):
    from urllib.parse import urlparse

    with open(urlparse(uri).path, newline="") as fh:
        return fh.read().splitlines()[line - 1]


@pytest.mark.parametrize("how", ["left", "right", "outer", "inner"])
def test_merge_unmatched_side_has_no_parent(tmp_path, how):
    # Large line numbers would be rounded by a float round trip: use a file whose rows
    # sit past line 2**24, without writing 16M lines, by registering ids directly.
    left = _write(tmp_path / "l.csv", "pid,age", [f"{p},{30 + p}" for p in (1, 2, 3, 5)])
    right = _write(tmp_path / "r.csv", "pid,lab", [f"{p},{p / 10}" for p in (2, 3, 4)])
    a = stp.read_csv(left, source_id="patients")
    b = stp.read_csv(right, source_id="labs")
    merged = stp.merge(a, b, on="pid", how=how)
    lineage = stp.row_lineage(merged)
    expected = pd.merge(pd.read_csv(left), pd.read_csv(right), on="pid", how=how)
    pd.testing.assert_frame_equal(merged.reset_index(drop=True), expected)
    for row, pid in enumerate(merged["pid"]):
        got = lineage[lineage["row"] == row]
        names = sorted(got["source_id"])
        want = sorted(
            (["patients"] if pid in (1, 2, 3, 5) else []) + (["labs"] if pid in (2, 3, 4) else [])
        )
        assert names == want
        for r in got.itertuples():
            # The named line of the named file holds this patient.
            assert _file_line(r.uri, r.line).split(",")[0] == str(pid)
    assert (lineage["line"] >= 2).all()


def test_merge_parents_exact_past_float_precision():
    # 2**53 + 1 is not a float64: ids built from such lines must survive a merge intact.
    big = pd.DataFrame({"k": [1, 2], "v": [0.5, 0.25]})
    t = stp.from_pandas(big, "big")
    code = REGISTRY.by_id("big").code
    far = (np.int64(code) << 36) | np.array([1, 2], dtype=np.int64)
    t = t.set_axis(pd.Index(far, name="stp_row_id"), axis=0)
    other = stp.from_pandas(pd.DataFrame({"k": [2, 3]}), "other")
    merged = stp.merge(t, other, on="k", how="outer")
    lineage = stp.row_lineage(merged)
    big_rows = lineage[lineage["source_id"] == "big"]
    assert sorted(big_rows["row_id"].tolist()) == sorted(far.tolist())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=0, max_size=12),
    st.lists(st.integers(0, 6), min_size=0, max_size=12),
    st.sampled_from(["left", "right", "outer", "inner"]),
)
def test_merge_parents_match_an_explicit_id_column(left_keys, right_keys, how):
    # Independent truth: carry each side's ids as ordinary integer columns through the
    # same pandas merge, then compare with the recorded parents.
    REGISTRY.clear()
    left = stp.from_pandas(pd.DataFrame({"k": left_keys, "x": range(len(left_keys))}), "L")
    right = stp.from_pandas(pd.DataFrame({"k": right_keys, "y": range(len(right_keys))}), "R")
    merged = stp.merge(left, right, on="k", how=how)
    truth = pd.merge(
        left.reset_index().rename(columns={"stp_row_id": "lid"}).astype({"lid": "Int64"}),
        right.reset_index().rename(columns={"stp_row_id": "rid"}).astype({"rid": "Int64"}),
        on="k",
        how=how,
    )
    lineage = stp.row_lineage(merged)
    for row in range(len(merged)):
        got = set(lineage.loc[lineage["row"] == row, "row_id"])
        # one column at a time: a row across both (pandas 2) is float64, inexact for ids
        want = {int(truth.at[row, c]) for c in ("lid", "rid") if pd.notna(truth.at[row, c])}
        assert got == want


def test_merge_on_array_keys_names_parents_and_column_sources():
    # pandas accepts arrays as keys (and adds a key_0 column); they name no column
    left = stp.from_pandas(pd.DataFrame({"k": [1, 2, 2], "x": [0.5, 1.5, 2.5]}), "L")
    right = stp.from_pandas(pd.DataFrame({"k": [2, 3], "y": [7.0, 8.0]}), "R")
    keys = (left["k"].to_numpy(), right["k"].to_numpy())
    merged = stp.merge(left, right, left_on=keys[0], right_on=keys[1], how="left")
    pd.testing.assert_frame_equal(
        merged.reset_index(drop=True),
        pd.merge(left, right, left_on=keys[0], right_on=keys[1], how="left").reset_index(
            drop=True
        ),
    )
    lineage = stp.row_lineage(merged)
    # row r of the left frame is line r + 1; right rows matched by k (2 -> line 1)
    named = lineage["source_id"].astype(str) + lineage["line"].astype(str)
    assert [sorted(g) for _, g in named.groupby(lineage["row"])] == [
        ["L1"],
        ["L2", "R1"],
        ["L3", "R1"],
    ]
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(merged[["x", "y"]].fillna(0.0), [0, 1, 0])
    assert pipe.lineage_.feature_sources() == {"x": ["L"], "y": ["R"]}


def test_aggregate_joined_back_records_what_it_was_computed_from(tmp_path):
    a = stp.read_csv(
        _write(tmp_path / "a.csv", "ward,bp,label", ["w1,120,0", "w2,130,1", "w1,140,1"]),
        source_id="hospital_a",
    )
    b = stp.read_csv(
        _write(tmp_path / "b.csv", "ward,bp,label", ["w1,100,0", "w3,150,1"]),
        source_id="hospital_b",
    )
    rows = pd.concat([a, b])
    means = stp.aggregate(rows, by="ward", bp_ward_mean=("bp", "mean"))
    assert means["bp_ward_mean"].tolist() == [120.0, 130.0, 150.0]
    joined = stp.merge(rows, means, on="ward", how="left")
    assert joined["bp_ward_mean"].tolist() == [120.0, 130.0, 120.0, 120.0, 150.0]
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(joined[["bp", "bp_ward_mean"]], joined["label"])
    run = pipe.lineage_
    # bp comes from each row's own file; the ward mean from an aggregate over both files.
    assert run.feature_sources() == {
        "bp": ["hospital_a", "hospital_b"],
        "bp_ward_mean": ["hospital_a", "hospital_b"],
    }
    assert list(run.feature_aggregates()) == ["bp_ward_mean"]
    # Removing hospital_b: its rows go, and every w1 row depends on it through the mean.
    row, via_aggregate = run.depends_on(removed_sources=["hospital_b"])
    wards = joined["ward"].tolist()
    from_b = [False, False, False, True, True]
    assert row.tolist() == [w == "w1" or b for w, b in zip(wards, from_b)]
    assert via_aggregate.tolist() == [w == "w1" and not b for w, b in zip(wards, from_b)]
    # One file line of hospital_a: only the rows of its ward depend on it.
    line_of_first = stp.row_ids(a)[:1]
    row, via_aggregate = run.depends_on(removed_ids=line_of_first)
    assert row.tolist() == [w == "w1" for w in wards]
    assert via_aggregate.tolist() == [False, False, True, True, False]


def test_group_statistics_joined_outside_are_named_as_unsourced(tmp_path):
    a = stp.read_csv(
        _write(tmp_path / "a.csv", "ward,bp,label", ["w1,120,0", "w2,130,1", "w1,140,1"]),
        source_id="hospital_a",
    )
    # join (and transform) keep the index, so the rows keep their ids: only the new
    # columns, which mix the rows of a ward, have no source
    means = a.groupby("ward")[["bp"]].mean().rename(columns={"bp": "bp_ward_mean"})
    joined = a.join(means, on="ward").assign(bp_rank=lambda d: d.groupby("ward")["bp"].rank())
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(joined[["bp", "bp_ward_mean", "bp_rank"]], joined["label"])
    run = pipe.lineage_
    assert run.feature_sources() == {
        "bp": ["hospital_a"],
        "bp_ward_mean": [],
        "bp_rank": [],
    }
    [note] = [n for n in run.notes if "in none of the sources" in n]
    assert note.startswith("input column(s) bp_ward_mean, bp_rank are in none")
    # through sktraceprop.aggregate and merge the same feature has its sources, no note
    stats = stp.aggregate(a, by="ward", bp_ward_mean=("bp", "mean"))
    merged = stp.merge(a, stats, on="ward", how="left")
    pipe.fit(merged[["bp", "bp_ward_mean"]], merged["label"])
    assert pipe.lineage_.feature_sources()["bp_ward_mean"] == ["hospital_a"]
    assert not any("in none of the sources" in n for n in pipe.lineage_.notes)


def test_plain_merge_of_aggregate_warns_and_records_anonymous(tmp_path):
    a = stp.read_csv(
        _write(tmp_path / "a.csv", "ward,bp,label", ["w1,120,0", "w2,130,1", "w1,140,1"]),
        source_id="hospital_a",
    )
    pipe = stp.make_traced_pipeline(LogisticRegression())
    # Where pandas keeps the frame's marker (a merge keeps it from pandas 3 on), the lost
    # ids are an error; before, the columns pandas suffixed name the sources in a warning
    kept = a.merge(a.groupby("ward", as_index=False)["bp"].mean(), on="ward")
    if Version(pd.__version__) >= Version("3"):
        with pytest.raises(stp.exceptions.LineageLostError, match="merge with sktraceprop.merge"):
            pipe.fit(kept[["bp_x", "bp_y"]], kept["label"])
    else:
        with pytest.warns(stp.exceptions.LineageWarning, match="2 of its 2 columns .*hospital_a"):
            pipe.fit(kept[["bp_x", "bp_y"]], kept["label"])
    with pytest.warns(stp.exceptions.LineageWarning, match="2 of its 2 columns .*hospital_a"):
        fresh = pd.DataFrame(kept[["bp_x", "bp_y"]].to_numpy(), columns=["bp_x", "bp_y"])
        pipe.fit(fresh, [0, 1, 1])
    # ... where it drops every marker (groupby().agg()), a warning names the suspicion.
    means = a.groupby("ward").agg(m=("bp", "mean")).reset_index()
    joined = a.merge(means, on="ward")
    with pytest.warns(stp.exceptions.LineageWarning, match="use sktraceprop.merge"):
        pipe.fit(joined[["bp", "m"]], joined["label"])
    assert [s.kind for s in pipe.lineage_.sources.values()] == ["anonymous"]


def test_fresh_batch_with_known_columns_is_not_called_lost(tmp_path):
    stp.read_csv(_write(tmp_path / "a.csv", "age,bp,label", ["30,120,0", "40,130,1"]))
    fresh = pd.DataFrame({"age": [50, 60, 70], "bp": [110, 120, 130]})  # e.g. from a DB
    pipe = stp.make_traced_pipeline(LogisticRegression())
    with pytest.warns(stp.exceptions.LineageWarning, match="new data with the same schema"):
        pipe.fit(fresh, [0, 1, 0])
    assert pipe.lineage_.n_samples == 3


def test_concat_with_untraced_frame_is_lost_loudly(tmp_path):
    a = stp.read_csv(_write(tmp_path / "a.csv", "age,label", ["30,0", "40,1"]))
    extra = pd.DataFrame({"age": [50], "label": [1]})
    both = pd.concat([a, extra])
    pipe = stp.make_traced_pipeline(LogisticRegression())
    with pytest.raises(stp.exceptions.LineageLostError, match="no longer named"):
        pipe.fit(both[["age"]], both["label"])
    # Registered first, the extra rows keep lineage.
    both = pd.concat([a, stp.from_pandas(extra, "extra")])
    pipe.fit(both[["age"]], both["label"])
    assert pipe.lineage_.source_counts().to_dict() == {"a": 2, "extra": 1}


def test_random_int64_index_is_not_taken_for_ids(tmp_path):
    stp.read_csv(_write(tmp_path / "a.csv", "age,label", ["30,0", "40,1"]))
    rng = np.random.default_rng(0)
    keys = rng.integers(1 << 40, 1 << 62, size=1000)
    frame = pd.DataFrame({"age": rng.normal(size=1000)}, index=keys)
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(frame, rng.integers(0, 2, 1000))
    assert [s.kind for s in pipe.lineage_.sources.values()] == ["anonymous"]


def test_function_transformer_feature_lineage_says_unknown(tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    a = stp.read_csv(_write(tmp_path / "a.csv", "x,z,label", ["1,2,0", "3,4,1", "5,1,0"]))

    def add_ratio(df):
        return df.assign(ratio=df["x"] / df["z"])

    pipe = stp.make_traced_pipeline(FunctionTransformer(add_ratio), LogisticRegression())
    pipe.fit(a[["x", "z"]], a["label"])
    assert pipe.lineage_.feature_lineage == {"x": None, "z": None, "ratio": None}
    assert any(
        "feature lineage unknown" in n and "FunctionTransformer" in n for n in pipe.lineage_.notes
    )
    assert pipe.lineage_.feature_sources() == {"x": [], "z": [], "ratio": []}


@given(
    st.lists(st.tuples(st.integers(-1, 5), st.integers(-1, 4)), max_size=40),
    st.integers(1, 5),
)
@settings(max_examples=60, deadline=None)
def test_parents_from_positions_match_the_id_columns(pairs, code):
    from sktraceprop._lineage._ids import pack
    from sktraceprop._lineage._source import Parents

    left_ids, right_ids = pack(code, np.arange(1, 7)), pack(code + 1, np.arange(10, 15))
    left = np.array([a for a, _ in pairs], dtype=np.int64)
    right = np.array([b for _, b in pairs], dtype=np.int64)
    fast = Parents.from_positions(left, right, left_ids, right_ids)
    # the slow truth: one id column per side, 0 where that side has no row
    columns = [
        np.array([ids[p] if p >= 0 else 0 for p in pos], dtype=np.int64)
        for pos, ids in ((left, left_ids), (right, right_ids))
    ]
    assert fast == Parents.from_columns(*columns)
    import hashlib

    assert fast.digest().hexdigest() == hashlib.sha256(fast.to_flat().tobytes()).hexdigest()


def test_parents_from_positions_refuses_a_position_past_the_ids():
    from sktraceprop._lineage._source import Parents

    ids = np.array([7, 8], dtype=np.int64)
    with pytest.raises(IndexError, match="past the end"):
        Parents.from_positions(np.array([0, 2]), np.array([-1, -1]), ids, ids)
    with pytest.raises(ValueError, match="same length"):
        Parents.from_positions(np.array([0]), np.array([0, 1]), ids, ids)


@pytest.mark.parametrize("how", ["left", "right", "outer", "inner"])
def test_merge_on_an_index_level_as_pandas_does(tmp_path, how):
    # read_csv(index_col="pid") keeps pid as an index level: pandas joins on it by name,
    # stp.merge raised KeyError('pid')
    left = _write(tmp_path / "p.csv", "pid,age", [f"{p},{30 + p}" for p in (1, 2, 3, 5)])
    right = _write(tmp_path / "l.csv", "pid,lab", [f"{p},{p / 10}" for p in (2, 3, 4)])
    a = stp.read_csv(left, source_id="patients", index_col="pid")
    b = stp.read_csv(right, source_id="labs")
    merged = stp.merge(a, b, on="pid", how=how)
    expected = pd.merge(pd.read_csv(left, index_col="pid"), pd.read_csv(right), on="pid", how=how)
    pd.testing.assert_frame_equal(merged.reset_index(drop=True), expected.reset_index(drop=True))
    lineage = stp.row_lineage(merged)
    for row, pid in enumerate(merged["pid"]):
        got = lineage[lineage["row"] == row]
        assert len(got) == (pid in (1, 2, 3, 5)) + (pid in (2, 3, 4))
        for r in got.itertuples():
            assert _file_line(r.uri, r.line).split(",")[0] == str(pid)
    both = stp.merge(a, stp.read_csv(right, source_id="labs", index_col="pid"), on="pid")
    assert both["pid"].tolist() == [2, 3]
    with pytest.raises(ValueError, match="is the row ids"):
        stp.merge(a, b, on="stp_row_id")
