"""Per-source statistics recorded at fit time, against counts done row by row."""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._capture import resolve_row_ids
from sktraceprop._lineage._stats import source_stats


def _truth(X, y, ids, classes):
    """Row-by-row counts: the independent slow truth."""
    from sktraceprop._lineage._ids import codes_of

    codes = codes_of(ids).tolist()
    names = [str(c) for c in X.columns]
    out = {}
    for i, code in enumerate(codes):
        rec = out.setdefault(code, {"n_rows": 0, "labels": {}, "missing": {}, "ys": []})
        rec["n_rows"] += 1
        for j, name in enumerate(names):
            value = X.iloc[i, j]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                rec["missing"][name] = rec["missing"].get(name, 0) + 1
        if y is not None:
            value = y[i]
            is_nan = value is None or (isinstance(value, float) and math.isnan(value))
            if classes:
                if not is_nan:
                    rec["labels"][str(value)] = rec["labels"].get(str(value), 0) + 1
            elif not is_nan:
                rec["ys"].append(float(value))
    return out


frames = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([1.0, -2.5, np.nan, 7.0]), min_size=n, max_size=n),
        st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n),
        st.lists(st.integers(-3, 3), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.sampled_from([0.5, 2.0, np.nan]), min_size=n, max_size=n),
        st.integers(min_value=0, max_value=n),
    )
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames, st.sampled_from(["int", "str", "float_classes", "continuous", "bool", "big"]))
def test_stats_equal_row_by_row_counts(data, target):
    REGISTRY.clear()
    f, s, i, b, yf, split = data
    n = len(f)
    full = pd.DataFrame({"f": f, "s": s, "i": i, "b": b})
    a = stp.from_pandas(full.iloc[:split], "part_a") if split else None
    c = stp.from_pandas(full.iloc[split:], "part_b") if split < n else None
    X = pd.concat([p for p in (a, c) if p is not None])
    ids = resolve_row_ids(X)
    if target == "int":
        y, classes = np.asarray(i), True
    elif target == "big":
        y, classes = np.asarray(i) * 100_000 + 7, True
    elif target == "str":
        y, classes = np.asarray([v if v is not None else "none" for v in s], dtype=object), True
    elif target == "bool":
        y, classes = np.asarray(b), True
    elif target == "float_classes":
        y, classes = np.asarray(yf), True
    else:
        y, classes = np.asarray(yf), False
    stats = source_stats(X, y, ids, classes)
    json.dumps(stats, allow_nan=False)  # JSON-safe, no NaN
    truth = _truth(X, list(y), ids, classes)
    assert stats["columns"] == ["f", "s", "i", "b"]
    assert [r["code"] for r in stats["sources"]] == sorted(truth)
    for record in stats["sources"]:
        t = truth[record["code"]]
        assert record["n_rows"] == t["n_rows"]
        assert record["missing"] == t["missing"]
        labels = record["labels"]
        if classes:
            expected = t["labels"]
            if y.dtype.kind == "b":
                expected = {str(k == "True"): v for k, v in expected.items()}
            assert {k: v for k, v in labels["counts"].items() if v} == expected
            assert labels["missing"] == t["n_rows"] - sum(expected.values())
        else:
            ys = t["ys"]
            assert labels["count"] == len(ys)
            assert labels["missing"] == t["n_rows"] - len(ys)
            if ys:
                assert labels["mean"] == pytest.approx(np.mean(ys))
                assert labels["min"] == min(ys) and labels["max"] == max(ys)


def test_arrays_sparse_and_unsupported_inputs():
    X = np.array([[1.0, np.nan], [np.nan, np.nan], [3.0, 4.0]])
    ids = resolve_row_ids(stp.from_numpy(X, "arr"))
    stats = source_stats(X, pd.Series([0, 1, 1], name="label"), ids, classes=True)
    (rec,) = stats["sources"]
    assert stats["columns"] == ["x0", "x1"] and stats["target"] == "label"
    assert rec["missing"] == {"x0": 1, "x1": 2}
    assert rec["labels"]["counts"] == {"0": 1, "1": 2}
    (rec,) = source_stats(sp.csr_matrix(X), None, ids, classes=False)["sources"]
    assert rec["missing"] == {"x0": 1, "x1": 2} and rec["labels"] == {"kind": "none"}
    stats = source_stats([["a"], ["b"], ["c"]], np.array([0, 1, 1]), ids, classes=True)
    assert stats["columns"] is None and "list" in stats["missing_note"]
    assert "missing" not in stats["sources"][0]
    (rec,) = source_stats(X, np.zeros((3, 2)), ids, classes=True)["sources"]
    assert rec["labels"]["kind"] == "not recorded" and "(3, 2)" in rec["labels"]["reason"]


def test_fit_records_stats_in_the_run_and_the_store(hospital_frames, tmp_path):
    a, b = hospital_frames
    df = pd.concat([a, b])
    X, y = df[["age", "bp"]], df["label"]
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    from sklearn.impute import SimpleImputer

    pipe = stp.make_traced_pipeline(SimpleImputer(), LogisticRegression(), store=store)
    pipe.fit(X, y)
    assert pipe.lineage_.source_stats["columns"] == ["age", "bp"]
    assert pipe.lineage_.source_stats["target"] == "label"
    stats = {r["source_id"]: r for r in pipe.lineage_.source_stats["sources"]}
    for name, frame in (("hospital_a", a), ("hospital_b", b)):
        assert stats[name]["n_rows"] == len(frame)
        counts = frame["label"].value_counts()
        assert stats[name]["labels"]["counts"] == {str(k): int(v) for k, v in counts.items()}
        nan_bp = int(frame["bp"].isna().sum())
        assert stats[name]["missing"] == ({"bp": nan_bp} if nan_bp else {})
    assert stats["hospital_b"]["missing"]["bp"] > 0  # the fixture leaves some bp empty
    loaded = store.load_run(pipe.lineage_.run_id)
    assert loaded.source_stats == pipe.lineage_.source_stats and loaded == pipe.lineage_


def test_stats_count_the_data_given_before_a_copy_false_step_writes_into_it():
    # SimpleImputer(copy=False) fills the NaNs of the frame it is given, in place: the
    # statistics are of the data given to fit, counted here before the fit
    values = np.arange(30.0).reshape(10, 3)
    values[[1, 4, 7], 0] = np.nan
    X = stp.from_numpy(values.copy(), "copy_false")
    y = np.arange(10) % 2
    from sklearn.impute import SimpleImputer

    pipe = stp.make_traced_pipeline(SimpleImputer(copy=False), LogisticRegression()).fit(X, y)
    (rec,) = pipe.lineage_.source_stats["sources"]
    assert rec["missing"] == {"x0": int(np.isnan(values[:, 0]).sum())} == {"x0": 3}


def test_targets_that_cannot_be_counted_leave_the_error_to_the_fit():
    X = stp.from_numpy(np.arange(12.0).reshape(6, 2), "uncountable")
    y = [{"a": 1}] * 6  # unhashable: scikit-learn names the problem, not the statistics
    with pytest.raises(ValueError, match="Unknown label type"):
        stp.make_traced_pipeline(LogisticRegression()).fit(X, y)
    ids = resolve_row_ids(X)
    (rec,) = source_stats(X, y, ids, classes=True)["sources"]
    assert rec["labels"]["kind"] == "not recorded" and "unhashable" in rec["labels"]["reason"]


def test_regressor_gets_continuous_target_summary(hospital_frames):
    a, _ = hospital_frames
    X, y = a[["age"]], a["bp"].fillna(0.0)
    pipe = stp.make_traced_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    (rec,) = pipe.lineage_.source_stats["sources"]
    assert rec["labels"]["kind"] == "continuous"
    assert rec["labels"]["mean"] == pytest.approx(y.mean())
    assert rec["labels"]["std"] == pytest.approx(y.std())


def test_a_regressors_integer_target_is_a_quantity_not_classes(hospital_frames):
    # LinearRegression on whole-number prices was recorded as "N classes: too many to
    # list" (and, below 50 values, their counts as class balance) in the run and report
    a, _ = hospital_frames
    X = a[["age"]]
    prices = pd.Series(np.arange(len(a)) * 50 + 100, index=a.index)  # int64
    pipe = stp.make_traced_pipeline(StandardScaler(), LinearRegression()).fit(X, prices)
    (rec,) = pipe.lineage_.source_stats["sources"]
    assert rec["labels"]["kind"] == "continuous"
    assert rec["labels"]["count"] == len(a)
    assert rec["labels"]["mean"] == pytest.approx(prices.mean())
    assert rec["labels"]["min"] == 100 and rec["labels"]["max"] == prices.max()
    # the same integers given to a classifier stay classes
    labels = pd.Series(np.arange(len(a)) % 3, index=a.index)
    clf = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, labels)
    (rec,) = clf.lineage_.source_stats["sources"]
    assert rec["labels"]["kind"] == "classes" and rec["labels"]["n_classes"] == 3
    # an estimator that declares neither keeps the old reading: integers are classes
    ids = resolve_row_ids(X)
    (rec,) = source_stats(X, labels.to_numpy(), ids, classes=None)["sources"]
    assert rec["labels"]["kind"] == "classes"


def test_old_run_records_without_stats_still_load():
    X = stp.from_numpy(np.arange(6.0).reshape(3, 2), "old")
    pipe = stp.make_traced_pipeline(StandardScaler()).fit(X)
    record = pipe.lineage_.to_dict()
    del record["source_stats"]
    old = stp.Lineage.from_dict(record, pipe.lineage_.row_ids)
    assert old.source_stats == {}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from([1.0, np.nan]), st.integers(0, 1)),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.tuples(st.integers(0, 5), st.sampled_from([2.0, np.nan])), max_size=8),
    st.sampled_from(["inner", "left", "outer"]),
    st.booleans(),
)
def test_sources_reached_through_merges_get_stats_of_the_rows_built_from_them(
    left_rows, right_rows, how, concat
):
    """Against a row-by-row count: each merged training row counts once for each source
    it has a line in, over the columns whose values came from that source."""
    left = pd.DataFrame(left_rows, columns=["key", "a", "label"])
    right = pd.DataFrame(right_rows, columns=["key", "b"], dtype=float).astype({"key": int})
    right = right.drop_duplicates("key")
    frames = [stp.from_pandas(left.iloc[: len(left) // 2 + 1], source_id="L0")]
    if concat:
        frames.append(stp.from_pandas(left.iloc[len(left) // 2 + 1 :], source_id="L1"))
    lhs = pd.concat(frames)
    rhs = stp.from_pandas(right, source_id="R")
    merged = stp.merge(lhs, rhs, on="key", how=how)
    merged = merged[merged["label"].notna()]
    if merged.empty:
        return
    X, y = merged[["key", "a", "b"]], merged["label"].astype(int).to_numpy()
    ids = stp.row_ids(X)
    stats = source_stats(X, y, ids, classes=True)
    by_id = {r["source_id"]: r for r in stats["through_merges"]}
    lineage = stp.row_lineage(X)
    own = {"L0": {"key", "a", "label"}, "L1": {"key", "a", "label"}, "R": {"key", "b"}}
    for source_id in set(lineage["source_id"].astype(str)):
        rows = sorted(set(lineage.loc[lineage["source_id"] == source_id, "row"]))
        record = by_id[source_id]
        assert record["n_rows"] == len(rows)
        labels = {}
        for i in rows:
            labels[str(y[i])] = labels.get(str(y[i]), 0) + 1
        assert record["labels"]["counts"] == labels
        # the key is filled from either side in an outer join: only the columns whose
        # values come from this source in the merge are counted
        expected_columns = [c for c in ("key", "a", "b") if c in own[source_id]]
        assert set(record["columns_checked"]) <= set(expected_columns)
        assert {"a", "b"} & own[source_id] <= set(record["columns_checked"])
        for column in record["columns_checked"]:
            truth = sum(1 for i in rows if pd.isna(X[column].iloc[i]))
            assert record["missing"].get(column, 0) == truth
    assert set(by_id) == set(lineage["source_id"].astype(str))


def test_a_column_aligned_on_the_ids_of_another_source_is_warned_of(hospital_frames):
    """``a[col] = b[col]`` aligns on the index, which holds row ids: no row of b matches
    a row of a, so pandas fills NaN everywhere; the fit says so and how to join."""
    from sklearn.tree import DecisionTreeClassifier

    a, b = hospital_frames
    a = a.dropna(subset=["age", "bp"]).copy()
    a["bp_b"] = b["bp"]
    plain = pd.DataFrame({"bp": b["bp"].to_numpy()})  # what plain pandas would align
    assert a["bp_b"].isna().all() and plain["bp"].notna().any()
    pipe = stp.make_traced_pipeline(DecisionTreeClassifier(random_state=0))
    with pytest.warns(
        stp.exceptions.LineageWarning, match=r"'bp_b' .* missing \(NaN\) in every row"
    ) as caught:
        pipe.fit(a[["age", "bp", "bp_b"]], a["label"])
    assert caught[0].filename == __file__  # points at the user's fit
    assert "stp.merge" in str(caught[0].message)
    # a column NaN in some rows only, and no NaN column: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", stp.exceptions.LineageWarning)
        pipe.fit(a[["age", "bp"]].assign(bp=a["bp"].where(a["age"] > 40)), a["label"])


@settings(max_examples=40, deadline=None)
@given(frames)
def test_empty_columns_are_the_columns_missing_in_every_row(data):
    from sktraceprop._lineage._stats import empty_columns

    f, s, i, b, g, split = data
    X = pd.DataFrame({"f": f, "s": s, "i": i, "b": b, "g": g})
    ids = np.concatenate(
        [
            resolve_row_ids(stp.from_pandas(X.iloc[:split], source_id="e0"), None),
            resolve_row_ids(stp.from_pandas(X.iloc[split:], source_id="e1"), None),
        ]
    )
    stats = source_stats(X, None, ids, classes=False)
    assert empty_columns(stats, len(X)) == [c for c in X.columns if X[c].isna().all()]


def _data_lines(path):
    """1-based line of every data row of a plain CSV (no quotes, no blank lines): the
    file's own lines, read from its bytes."""
    lines = path.read_bytes().split(b"\n")
    return [k + 1 for k, text in enumerate(lines) if k > 0 and text]


@pytest.mark.parametrize("order", ["peek first", "peek last"])
def test_reads_of_one_file_say_which_rows_each_could_give(tmp_path, order):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30)})
    frame["y"] = np.arange(30) % 2
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    lines = _data_lines(path)
    reads = [dict(nrows=12), dict(usecols=["a", "y"]), dict(skiprows=range(1, 9), nrows=10)]
    if order == "peek last":
        reads = reads[::-1]
    frames = [stp.read_csv(path, source_id="d", **kw) for kw in reads]
    spans = [(kw.get("nrows"), kw.get("skiprows")) for kw in reads]
    full = frames[[k for k, kw in enumerate(reads) if "usecols" in kw][0]]
    train = full.iloc[[0, 3, 15, 20, 29]]  # lines 2, 5, 17, 22, 31
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(train[["a"]], train["y"])
    (record,) = pipe.lineage_.source_stats["sources"]
    given = [lines[k] for k in (0, 3, 15, 20, 29)]
    truth = []
    for (nrows, skip), df in zip(spans, frames):
        first = lines[len(skip) if skip else 0]
        last = lines[(len(skip) if skip else 0) + (nrows or len(lines)) - 1]
        assert len(df) == (nrows or len(lines))
        outside = sum(not (first <= line <= last) for line in given)
        truth.append((len(df), first, last, outside))
    # the record lists the reads oldest first, as Source.reads() does
    assert [
        (r["n_rows"], r["first_line"], r["last_line"], r["rows_outside"]) for r in record["reads"]
    ] == truth
    assert record["n_rows"] == 5


def test_reads_made_in_another_process_are_known_through_the_pickle(tmp_path):
    import pickle

    frame = pd.DataFrame({"a": np.arange(20.0), "y": np.arange(20) % 2})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    stp.read_csv(path, source_id="d", nrows=6)
    full = stp.read_csv(path, source_id="d")
    blob = pickle.dumps(stp.make_traced_pipeline(LogisticRegression()))
    pickled_spans = REGISTRY.read_lines_snapshot()
    REGISTRY.clear()  # a worker process: knows only what the pickle carries
    pipe = pickle.loads(blob)
    assert REGISTRY.read_lines_snapshot() == pickled_spans
    pipe.fit(full[["a"]], full["y"])
    (record,) = pipe.lineage_.source_stats["sources"]
    assert [(r["first_line"], r["last_line"], r["rows_outside"]) for r in record["reads"]] == [
        (2, 7, 14),
        (2, 21, 0),
    ]
    # a process that learnt the file's reads from another pickle, not their lines, says so
    source = REGISTRY.by_code(record["code"])
    REGISTRY.clear()
    REGISTRY.adopt(source)
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(full[["a"]], full["y"])
    (record,) = pipe.lineage_.source_stats["sources"]
    assert [(r["first_line"], r["rows_outside"]) for r in record["reads"]] == [
        (None, None),
        (None, None),
    ]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    # values a few apart near 0, 2**63 and 2**64 (a cast to int64 wraps those above 2**63
    # into a narrow range, where counting by range was taken)
    labels=st.lists(
        st.builds(
            lambda base, offset: base + offset,
            st.sampled_from([0, 2**63, 2**64 - 1024]),
            st.integers(0, 1023),
        ),
        min_size=1,
        max_size=6,
        unique=True,
    ),
    picks=st.lists(st.integers(0, 5), min_size=1, max_size=30),
)
def test_uint64_class_labels_are_counted_as_their_values(labels, picks):
    # uint64 labels above the int64 range (hashed ids as classes) were cast to int64 and
    # reported as negative classes no row holds
    y = np.array([labels[p % len(labels)] for p in picks], dtype=np.uint64)
    X = stp.from_pandas(pd.DataFrame({"a": np.arange(y.size, dtype=np.float64)}), "uint_labels")
    record = source_stats(X, y, stp.row_ids(X), classes=True)["sources"][0]["labels"]
    truth = {str(int(k)): int(n) for k, n in pd.Series(y).value_counts().items()}
    assert record["counts"] == truth
    assert record["n_classes"] == len(truth)
    assert record["missing"] == 0
