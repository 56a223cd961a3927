"""Columns changed after loading, noticed on witness rows.

The truth is each row's values in the file, parsed by plain ``pandas.read_csv`` and found
again by the row's ``key`` (its physical line), never the library's own records.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._record import source_closure
from sktraceprop._lineage._witness import (
    N_WITNESS,
    WITNESSES,
    _Column,
    cell_keys,
    changed_columns,
    changed_note,
    is_witness,
    stride,
)
from tests.conftest import write_hospitals

COLUMNS = ["age", "sex", "bp", "note"]


def _load(paths):
    a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
    return a, b


def _truth(paths):
    """(file, key) -> the row's values, from plain pandas."""
    plain = [
        pd.read_csv(paths["hospital_a"]).assign(file=0),
        pd.read_csv(paths["hospital_b"], comment="#").assign(file=1),
    ]
    return pd.concat(plain).set_index(["file", "key"])


def _changed(X):
    ids = stp.row_ids(X)
    from sktraceprop._lineage._ids import distinct_codes

    return changed_columns(X, ids, source_closure(distinct_codes(ids)))


def _expected(X, truth, a):
    """Column -> (rows that differ, rows compared, of those the rows missing in the file)
    over the witness rows, by the truth."""
    ids = stp.row_ids(X)
    # which file a row is from (the key is unique within a file only)
    files = np.where(ids >> 36 == stp.row_ids(a)[0] >> 36, 0, 1)
    witness = set()
    for source in REGISTRY.snapshot():
        for w in WITNESSES.loads(source.code, source.sha256):
            witness.update(w.ids.tolist())
    rows = np.array([i in witness for i in ids.tolist()], dtype=bool)
    out = {}
    for c in X.columns:
        if c not in truth.columns:
            continue
        mine = X[c].to_numpy(dtype=object)[rows]
        where = list(zip(files[rows], X["key"].to_numpy()[rows]))
        theirs = truth.loc[where, c].to_numpy(dtype=object)
        differs = [
            not ((pd.isna(m) and pd.isna(t)) or (not pd.isna(m) and not pd.isna(t) and m == t))
            for m, t in zip(mine, theirs)
        ]
        filled = sum(d and pd.isna(t) for d, t in zip(differs, theirs))
        if sum(differs):
            out[c] = (sum(differs), int(rows.sum()), filled)
    return out


_KEEP = st.sampled_from(["sort", "sample", "filter", "dropna", "float", "reorder", "head"])
_CHANGE = st.sampled_from(["none", "shift", "fillna", "plus", "replace", "lower", "ffill"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keep=st.lists(_KEEP, max_size=4),
    change=_CHANGE,
    both=st.booleans(),
    seed=st.integers(0, 2**16),
)
@example(keep=["sort", "head", "filter"], change="replace", both=False, seed=21048)  # empty
def test_changed_columns_match_the_file(tmp_path, keep, change, both, seed):
    REGISTRY.clear()
    paths = write_hospitals(tmp_path, n_a=300, n_b=60, seed=seed % 7)
    truth = _truth(paths)
    a, b = _load(paths)
    df = pd.concat([a, b]) if both else a
    rng = np.random.default_rng(seed)
    for op in keep:
        if op == "sort":
            df = df.sort_values(str(rng.choice(["age", "bp", "sex"])), kind="stable")
        elif op == "sample":
            df = df.sample(frac=0.7, random_state=int(rng.integers(1000)))
        elif op == "filter":
            df = df[df["age"] > int(rng.integers(10, 60))]
        elif op == "dropna":
            df = df.dropna()
        elif op == "float":
            df = df.astype({"age": float})
        elif op == "reorder":
            df = df[["key", "bp", "age", "sex", "note", "label"]]
        elif op == "head":
            df = df.iloc[: max(1, len(df) // 2)]
    df = df.copy()
    if change == "shift":
        df["bp"] = df["bp"].shift(1)
    elif change == "fillna":
        df["bp"] = df["bp"].fillna(-1.0)
    elif change == "plus":
        df["age"] = df["age"] + 0.5
    elif change == "replace":
        # (permuting the positions: numpy refuses to permute an empty read-only array,
        # which is what pandas' to_numpy gives for a frame the filters emptied)
        df["age"] = df["age"].to_numpy()[rng.permutation(len(df))]
    elif change == "lower":
        df["sex"] = df["sex"].str.lower()
    elif change == "ffill":
        df["bp"] = df["bp"].ffill()
    assert _changed(df) == _expected(df, truth, a)
    if change == "none":
        assert _changed(df) == {}
    if change in ("plus", "lower") and len(df) and (df.index.isin(_witness_ids())).any():
        named = "age" if change == "plus" else "sex"
        k, n, filled = _changed(df)[named]
        assert k == n > 0 and filled == 0


def _witness_ids():
    out = []
    for source in REGISTRY.snapshot():
        for w in WITNESSES.loads(source.code, source.sha256):
            out.extend(w.ids.tolist())
    return out


def test_a_shifted_column_is_named_in_the_run(hospitals):
    a, b = _load(hospitals)
    df = pd.concat([a, b]).dropna()
    X, y = df[["age", "bp"]].copy(), df["label"]
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(X, y)
    assert not any("differ from what was loaded" in n for n in pipe.lineage_.notes)
    X["bp"] = X["bp"].shift(1).bfill()
    pipe.fit(X, y)
    (note,) = [n for n in pipe.lineage_.notes if "differ from what was loaded" in n]
    assert note.startswith("input column(s) bp (")
    assert "age" not in note.split("hold values")[0]


def test_a_step_writing_into_the_data_during_the_fit_is_no_change(hospitals):
    # SimpleImputer(copy=False) fills the NaNs of a one-block frame in place: the data
    # given to fit was as loaded, and the run must not say it was changed outside
    from sklearn.impute import SimpleImputer

    _, b = _load(hospitals)  # hospital_b has missing bp
    X, y = b[["age", "bp"]].astype(float).copy(), b["label"]
    assert X["bp"].isna().any()
    pipe = stp.make_traced_pipeline(SimpleImputer(copy=False), LogisticRegression())
    pipe.fit(X, y)
    assert not X["bp"].isna().any()  # the step did write into the caller's frame
    assert not any("differ from what was loaded" in n for n in pipe.lineage_.notes)
    X2 = b[["age", "bp"]].astype(float).copy()
    X2["bp"] = X2["bp"].fillna(X2["bp"].mean())  # changed before the fit: said so
    pipe.fit(X2, y)
    assert any(n.startswith("input column(s) bp (") for n in pipe.lineage_.notes)


def test_a_cast_to_float32_is_no_change(hospitals):
    a, _ = _load(hospitals)
    cast = a.astype({"bp": "float32", "age": "float32"})
    assert _changed(cast) == {}
    assert set(_changed(cast.assign(bp=cast["bp"] + np.float32(0.5)))) == {"bp"}


def test_two_reads_with_other_dtypes_are_no_change(hospitals):
    as_text = stp.read_csv(hospitals["hospital_a"], source_id="hospital_a", dtype=str)
    as_read = stp.read_csv(hospitals["hospital_a"], source_id="hospital_a")
    assert _changed(as_text) == {}
    assert _changed(as_read) == {}
    # the text of the first read is not a change of the second's numbers...
    assert _changed(as_read.astype({"age": str})) == {}
    # ...but a value in neither read is
    assert set(_changed(as_read.assign(age=as_read["age"].astype(str) + "y"))) == {"age"}


def test_a_traced_step_outside_the_pipeline_is_not_a_change(hospitals):
    a, _ = _load(hospitals)
    scaled = stp.TracedEstimator(StandardScaler().set_output(transform="pandas"))
    X = scaled.fit_transform(a[["age"]])
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X, a["label"])
    assert not any("differ from what was loaded" in n for n in pipe.lineage_.notes)


def test_from_pandas_and_from_numpy_are_witnessed():
    frame = stp.from_pandas(pd.DataFrame({"x": np.arange(10.0), "y": list("abcdefghij")}), "f")
    arr = stp.from_numpy(np.arange(20.0).reshape(10, 2), "n")
    assert _changed(frame) == {} and _changed(arr) == {}
    frame["x"] = frame["x"].shift(-1)
    arr["x1"] = arr["x1"][::-1].to_numpy()
    assert _changed(frame) == {"x": (10, 10, 0)}
    assert _changed(arr) == {"x1": (10, 10, 0)}


def test_witness_rows_are_spread_and_bounded(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("v\n" + "\n".join(str(i) for i in range(5000)) + "\n")
    df = stp.read_csv(path)
    (source,) = REGISTRY.snapshot()
    (w,) = WITNESSES.loads(source.code, source.sha256)
    assert N_WITNESS / 2 <= w.ids.size <= 3 * N_WITNESS
    assert is_witness(stp.row_ids(df), stride(len(df))).sum() == w.ids.size
    # every fifth of the rows still meets its share of the witnesses
    for start in range(0, 5000, 1000):
        part = df.iloc[start : start + 1000].copy()
        part["v"] = part["v"] + 1
        k, n, _ = _changed(part)["v"]
        assert k == n >= w.ids.size / 10


def test_witness_values_stay_in_the_process(hospitals):
    _load(hospitals)
    marker = "ZQX-witness-MARK"
    frame = stp.from_pandas(pd.DataFrame({"secret": [marker] * 5, "x": np.arange(5.0)}), "m")
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(frame[["x"]], [0, 1, 0, 1, 0])
    assert marker.encode() not in pickle.dumps(pipe)
    assert marker.encode() not in pickle.dumps(pipe.lineage_)


@pytest.mark.parametrize("n_loads", [3, 12])
def test_many_loads_of_one_source_never_false_alarm(tmp_path, n_loads):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n" + "\n".join(f"{i},{i * 2}" for i in range(50)) + "\n")
    frames = [
        stp.read_csv(path, dtype={"a": "float64" if k % 2 else "int64"}, usecols=None)
        if k < 2
        else stp.read_csv(path, converters={"b": (lambda v, k=k: f"{v}-{k}")})
        for k in range(n_loads)
    ]
    for f in frames:
        assert _changed(f) == {}


def test_a_source_whose_loads_are_no_longer_kept_is_said_unchecked(tmp_path):
    # past MAX_LOADS distinct reads of one file, its witness rows are dropped: a change
    # made outside the pipeline could no longer be noted, and the run says so
    from sktraceprop._lineage._witness import MAX_LOADS

    path = tmp_path / "many.csv"
    path.write_text("a,b\n" + "\n".join(f"{i},{i % 2}" for i in range(40)) + "\n")
    first = stp.read_csv(path, source_id="many")
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(first[["a"]], first["b"])
    assert not any("were not compared" in n for n in pipe.lineage_.notes)
    for k in range(MAX_LOADS):
        stp.read_csv(path, source_id="many", nrows=10 + k)
    changed = first[["a"]].assign(a=first["a"] * 2)
    pipe.fit(changed, first["b"])
    (note,) = [n for n in pipe.lineage_.notes if "were not compared" in n]
    assert "source(s) many were not compared" in note


def _labs(tmp_path, keys):
    path = tmp_path / "labs.csv"
    rows = [f"{k},{k * 0.5},{k % 3}" for k in keys]
    path.write_text("key,chol,grade\n" + "\n".join(rows) + "\n")
    return stp.read_csv(path, source_id="labs")


@pytest.mark.parametrize("where", ["none", "after", "before_left", "before_right", "both"])
def test_merged_rows_are_compared_through_the_merge(tmp_path, where):
    paths = write_hospitals(tmp_path, n_a=400, n_b=10)
    a, _ = _load(paths)
    labs = _labs(tmp_path, a["key"].tolist())
    clean = stp.merge(a, labs, on="key", how="left")
    if where in ("before_left", "both"):
        a = a.assign(age=a["age"] + 0.5)
    if where in ("before_right", "both"):
        labs = labs.assign(chol=labs["chol"] + 0.5)
    merged = stp.merge(a, labs, on="key", how="left")
    if where == "after":
        merged = merged.assign(age=merged["age"] + 0.5)
    expected = {
        "none": set(),
        "after": {"age"},
        "before_left": {"age"},
        "before_right": {"chol"},
        "both": {"age", "chol"},
    }[where]
    found = _changed(merged)
    assert set(found) == expected
    # counts add the rows checked in the merge's inputs (every one differs there) to
    # the merged rows checked against the merge itself
    assert all(0 < k <= n for k, n, _ in found.values())
    if where == "after":
        assert all(k == n for k, n, _ in found.values())
    # the clean merge of the same parents is another load of the same merge: still clean
    assert _changed(clean) == {}


def test_an_aggregate_of_a_changed_column_is_named_where_it_is_joined_back(tmp_path):
    paths = write_hospitals(tmp_path, n_a=400, n_b=10)
    a, _ = _load(paths)
    shifted = a.assign(bp=a["bp"].shift(1))
    stats = stp.aggregate(shifted, by="sex", bp_mean=("bp", "mean"), n=("age", "size"))
    joined = stp.merge(a, stats, on="sex")
    found = _changed(joined)
    assert set(found) == {"bp_mean"}
    clean = stp.merge(a, stp.aggregate(a, by="sex", bp_mean=("bp", "mean")), on="sex")
    assert _changed(clean) == {}
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(joined[["age", "bp_mean"]], joined["label"])
    (note,) = [n for n in pipe.lineage_.notes if "differ from what was loaded" in n]
    assert note.startswith("input column(s) bp_mean (")


@pytest.mark.parametrize("n_a", [40, 400])
def test_an_aggregate_of_rows_some_without_a_group_key_carries_the_changes(tmp_path, n_a):
    # pandas numbers the groups of rows whose key is missing NaN (dropna): the group of
    # each row was then a float array, and an aggregate of a changed column failed with
    # a TypeError (np.bincount) instead of recording the change
    paths = write_hospitals(tmp_path, n_a=n_a, n_b=10)
    a, _ = _load(paths)
    shifted = a.assign(bp=a["bp"].shift(1))
    shifted.loc[shifted.index[:5], "sex"] = None
    stats = stp.aggregate(shifted, by="sex", bp_mean=("bp", "mean"))
    truth = pd.read_csv(paths["hospital_a"]).iloc[5:]  # the rows in a group, from the file
    truth = truth.assign(bp=pd.read_csv(paths["hospital_a"])["bp"].shift(1).iloc[5:])
    expected = truth.groupby("sex")["bp"].mean()
    assert stats["sex"].tolist() == expected.index.tolist()
    np.testing.assert_allclose(stats["bp_mean"], expected.to_numpy())
    joined = stp.merge(a, stats, on="sex")
    assert set(_changed(joined)) == {"bp_mean"}
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(joined[["age", "bp_mean"]], joined["label"])
    (note,) = [n for n in pipe.lineage_.notes if "differ from what was loaded" in n]
    assert note.startswith("input column(s) bp_mean (")
    # a row without a key is in no group: no row depends on it through the statistics
    keyless = stp.row_ids(shifted)[:1]
    _, via_aggregate = pipe.lineage_.depends_on(removed_ids=keyless)
    assert not via_aggregate.any()
    _, via_aggregate = pipe.lineage_.depends_on(removed_ids=stp.row_ids(shifted)[5:6])
    assert via_aggregate.sum() == (joined["sex"] == shifted["sex"].iloc[5]).sum() - 1


def test_cells_that_do_not_compare_simply():
    frame = pd.DataFrame(
        {
            "lists": [[1, 2], [3], None, [4]] * 5,
            "arrays": [np.arange(k % 3) for k in range(20)],
            "text": pd.array(["a", None, "c", "d"] * 5, dtype="string"),
            "nullable": pd.array([1, None, 3, 4] * 5, dtype="Int64"),
            "cat": pd.Categorical(["x", "y", None, "x"] * 5),
        }
    )
    traced = stp.from_pandas(frame, "odd")
    assert _changed(traced) == {}
    changed = traced.assign(lists=traced["lists"].shift(1), text=traced["text"].str.upper())
    assert set(_changed(changed)) == {"lists", "text"}


def test_numbers_held_as_objects_have_the_keys_of_numbers():
    # columns assigned from to_numpy() of a frame with a text column hold floats as
    # objects: their keys were ("o", 0.25), never a loaded number's ("n", 0.25), so no
    # value of theirs named the row it was moved from
    values = [0.25, 1 / 3, np.float32(2.5), 7, True, None, "x", 10**400]
    numbers = _Column(np.array([0.25, 1 / 3, 2.5, 7.0, 1.0]), np.zeros(5, bool), True, 64)
    objects = _Column(np.array(values, dtype=object), pd.isna(values), False, 64)
    assert cell_keys(objects)[:5] == cell_keys(numbers)
    assert cell_keys(objects)[5:] == [None, ("o", "x"), ("o", 10**400)]


def test_filled_gaps_are_counted_apart(hospitals):
    _, b = _load(hospitals)  # hospital_b has missing bp
    gaps = int(b["bp"].isna().sum())
    assert gaps
    filled = b.assign(bp=b["bp"].fillna(0.0))
    assert _changed(filled) == {"bp": (gaps, len(b), gaps)}
    note = changed_note(_changed(filled))
    assert f"bp ({gaps} of {len(b)} rows checked, {gaps} of them missing values filled)" in note


def _kinds(n, rng):
    """Columns of every kind ``_take_columns`` reads: NumPy, masked, Arrow (several
    chunks), categorical, datetimes, objects; each with missing values where it can."""
    import pyarrow as pa

    half = n // 2
    words = rng.choice(["a", "b, c", 'd "e"', "é"], n).tolist()
    words[1] = None
    ints = rng.integers(-5, 5, n)
    return pd.DataFrame(
        {
            "f64": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "f32": rng.normal(size=n).astype(np.float32),
            "i64": ints,
            "bool": ints > 0,
            "Int64": pd.array(np.where(ints > 3, None, ints).tolist(), dtype="Int64"),
            "str": pd.array(words, dtype="str"),
            "arrow_chunks": pd.arrays.ArrowStringArray(
                pa.chunked_array([pa.array(words[:half]), pa.array(words[half:])])
            ),
            "arrow_int": pd.arrays.ArrowExtensionArray(
                pa.chunked_array(
                    [pa.array(np.where(ints > 3, None, ints).tolist()[:half], pa.int64())]
                    + [pa.array(ints[half:].tolist(), pa.int64())]
                )
            ),
            "cat": pd.Categorical(words),
            "when": pd.to_datetime(ints, unit="D", origin="2020-01-01").where(ints > -4),
            "when_tz": pd.to_datetime(ints, unit="h", origin="2020-01-01", utc=True),
            "delta": pd.to_timedelta(ints, unit="s"),
            "obj": pd.Series([1, "x", None, 2.5] * (n // 4) + [None] * (n % 4), dtype=object),
        }
    )


@settings(max_examples=30, deadline=None)
@given(n=st.integers(4, 60), seed=st.integers(0, 2**16), data=st.data())
def test_taken_columns_equal_pandas_own_rows(n, seed, data):
    """Truth: pandas' own sub-frame (``iloc``) and each value as pandas gives it."""
    from sktraceprop._lineage._witness import _take_columns

    rng = np.random.default_rng(seed)
    frame = _kinds(n, rng)
    positions = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=2 * n)), np.intp)
    sub = frame.iloc[positions]
    for (name, series), col in zip(sub.items(), _take_columns(frame, positions)):
        missing = series.isna().to_numpy()
        assert np.array_equal(col.missing, missing), name
        want = series.to_numpy(dtype=object)[~missing]
        got = col.values[~missing]
        if col.numeric:
            assert np.array_equal(got, want.astype(np.float64)), name
        else:
            assert all(a == b for a, b in zip(got, want)), name


def test_other_representations_of_the_same_values_are_no_change():
    frame = stp.from_pandas(_kinds(2000, np.random.default_rng(3)), "kinds")
    assert _changed(frame) == {}
    recast = frame.copy()
    for name in frame.columns:
        if name not in ("f32",):
            recast[name] = frame[name].astype(object)
    assert _changed(recast) == {}
    shifted = frame.assign(arrow_chunks=frame["arrow_chunks"].shift(1))
    assert set(_changed(shifted)) == {"arrow_chunks"}
    bumped = frame.assign(arrow_int=frame["arrow_int"] + 1, when_tz=frame["when_tz"].shift(1))
    assert set(_changed(bumped)) == {"arrow_int", "when_tz"}
