"""A loaded column of a load of more than 512 rows overwritten with an operation over
rows in the file's order, then a random subset taken (``train_test_split``,
``sample(frac=...)``, a boolean mask; sorted back or not), warns as the whole load
does; so does a column with gaps (pandas skips them, or a window holding one gives
none), and a moving standard deviation. Changes computed row by row do not.

These were silent: the large-load checks used the row before a witness row in the
data, which after a random subset is not, in general, the file's line before it. The
truth is the raw bytes of the file (``_check_against_bytes``: the column is the
operation named applied to the file's values, in its order, at the lines
``row_lineage`` names).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.model_selection import train_test_split

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of
from sktraceprop._lineage._witness import WITNESSES
from sktraceprop._lineage._witness_runs import AFTER, BEFORE
from sktraceprop.exceptions import LineageWarning
from tests._lineage.test_over_rows import OPS, SAMPLED, _check_against_bytes, _fit, _records
from tests._lineage.test_over_rows_sampled import ROW_BY_ROW, _load

#: Those a random subset of a large load still warns of (a running sum per group is
#: found from the data's rows, not from the lines around a witness row: not here).
IN_FILE_ORDER = [op for op in SAMPLED if not op.startswith("groupby")]
IN_FILE_ORDER += ["rolling(3).std()", "rolling(3).var()"]
#: Those still found in a column with gaps (an exponentially weighted mean past a gap
#: is not: its weights are not the running ones).
WITH_GAPS = [op for op in IN_FILE_ORDER if not op.startswith("ewm")]


def _subset(X, how, sort, seed=0):
    """A random subset of ``X``'s rows, in a random order or sorted back."""
    if how == "train_test_split":
        X, _ = train_test_split(X, test_size=0.25, random_state=seed)
    elif how == "sample":
        X = X.sample(frac=0.8, random_state=seed)
    else:  # a boolean mask: the file's order kept
        X = X[np.random.default_rng(seed).random(len(X)) < 0.7]
    return X.sort_index() if sort else X


def _named(op):
    """What the warning says of ``op``: far from the first row an exponentially weighted
    mean is named by pandas' default (``adjust=True``: the weights' sum is the same)."""
    return "(a.ewm(alpha=0.3" if "adjust=False" in op else f"(a.{op}:"


def _changed(df, change):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # (pct_change's padding of gaps)
        return (OPS if change in OPS else ROW_BY_ROW)[change](df)


@pytest.mark.parametrize("how", ["train_test_split", "sample", "mask"])
@pytest.mark.parametrize("op", IN_FILE_ORDER)
def test_computed_in_the_files_order_then_a_random_subset_warns(tmp_path, op, how):
    path, df = _load(tmp_path, 3000, 0, "subset")
    df["a"] = _changed(df, op)
    X = _subset(df.fillna(0.0), how, sort=False)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    assert len(found) == 1, [m[:90] for m in pipe.lineage_.notes]
    assert _named(op) in str(found[0].message)
    _check_against_bytes(X, path, op)


@pytest.mark.parametrize("subset", [False, True])
@pytest.mark.parametrize("op", WITH_GAPS)
def test_a_column_with_gaps_computed_over_rows_warns(tmp_path, op, subset):
    # (every ninth line's a empty: the running checks skipped such a column)
    path, df = _load(tmp_path, 3000, 1, "gaps", gaps=True)
    df["a"] = _changed(df, op)
    X = df.fillna(0.0)
    X = _subset(X, "sample", sort=True) if subset else X
    pipe, found = _fit(X[["a", "b"]], X["y"])
    assert len(found) == 1, [m[:90] for m in pipe.lineage_.notes]
    assert _named(op) in str(found[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        _check_against_bytes(X, path, op)


@pytest.mark.parametrize(
    "op", ["cumsum", "diff", "rolling(3).mean()", "ewm(alpha=0.3, adjust=False).mean()"]
)
def test_a_random_subset_then_computed_in_its_order_warns(tmp_path, op):
    # (the reverse: run over the subset's rows in the order they now sit)
    path, df = _load(tmp_path, 3000, 2, "after")
    X = _subset(df, "sample", sort=False)
    X["a"] = _changed(X, op)
    X = X.fillna(0.0)
    _, found = _fit(X[["a", "b"]], X["y"])
    assert len(found) == 1 and _named(op) in str(found[0].message)
    # truth: the file's values at the lines row_lineage names, in the data's order
    records = _records(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        lines = stp.row_lineage(X)["line"].to_numpy()
    own = pd.DataFrame({"a": [float(records[k]["a"]) for k in lines]})
    assert np.allclose(X["a"].to_numpy(), OPS[op](own).fillna(0.0).to_numpy(), rtol=1e-12)


@settings(deadline=None, max_examples=12)
@given(
    n=st.integers(600, 4000),
    change=st.sampled_from([*IN_FILE_ORDER, *ROW_BY_ROW, "shuffled"]),
    how=st.sampled_from(["train_test_split", "sample", "mask"]),
    sort=st.booleans(),
    seed=st.integers(0, 2**16),
)
@example(n=600, change="rolling(30).mean()", how="mask", sort=False, seed=0)
@example(n=3000, change="rolling(4, center=True).mean()", how="sample", sort=True, seed=1)
@example(n=3000, change="ewm(alpha=0.181818).mean()", how="train_test_split", sort=False, seed=2)
@example(n=3000, change="clipped", how="sample", sort=False, seed=3)
@example(n=3000, change="recoded", how="train_test_split", sort=True, seed=4)
@example(n=3000, change="filled", how="mask", sort=False, seed=5)
@example(n=3000, change="shuffled", how="sample", sort=False, seed=6)
@example(n=600, change="cumsum", how="mask", sort=False, seed=22)  # (unwarned on bc38ecb9)
def test_a_random_subset_warns_iff_computed_over_rows(
    tmp_path_factory, n, change, how, sort, seed
):
    name = f"sub{seed}_{n}"
    path, df = _load(tmp_path_factory.mktemp("subset"), n, seed, name, gaps=change == "filled")
    if change == "rolling(30).mean()":
        df["a"] = df["a"].rolling(30).mean()
    elif change != "shuffled":  # (a frame shuffled, no column changed: the control)
        df["a"] = _changed(df, change)
    X = _subset(df.fillna(0.0), how, sort, seed)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    if change in OPS or change == "rolling(30).mean()":
        assert len(found) == 1, [m[:90] for m in pipe.lineage_.notes]
        assert _named(change) in str(found[0].message)
        if change in OPS:
            _check_against_bytes(X, path, change)
    else:
        assert not found, str(found[0].message)


def _runs_of(df):
    """The runs kept for ``df``'s load (its source's one load)."""
    code = int(codes_of(df.index.get_level_values(-1).to_numpy()[:1])[0])
    (load,) = [w for c, w in WITNESSES.every_load()[1] if c == code]
    return load


def test_the_runs_kept_are_the_files_lines_and_are_forgotten(tmp_path):
    # (the loaded values around a run's witness row are the frame's rows around it;
    # unlearning one of those rows drops the run: its value stays nowhere)
    _, df = _load(tmp_path, 3000, 3, "runs")
    load = _runs_of(df)
    runs = load.runs
    assert runs.ids.size >= 16 and np.isin(runs.ids, load.ids).all()
    ids = df.index.get_level_values(-1).to_numpy()
    a = df["a"].to_numpy()
    for k in range(runs.ids.size):
        p = int(np.flatnonzero(ids == runs.ids[k])[0])
        assert runs.start[k] == p
        lo, hi = max(0, p - BEFORE), min(len(df), p + AFTER + 1)
        near = runs.values["a"][0][k]
        assert np.array_equal(near[lo - p + BEFORE : hi - p + BEFORE], a[lo:hi], equal_nan=True)
        assert np.array_equal(runs.around[k, lo - p + BEFORE : hi - p + BEFORE], ids[lo:hi])
        assert np.isnan(near[: lo - p + BEFORE]).all() and np.isnan(near[hi - p + BEFORE :]).all()
        # (the values missing before it: none in this file)
        assert runs.values["a"][1][k] == 0
    assert "key" not in runs.values  # (text: no run)
    first = int(np.argmax(runs.start >= BEFORE))  # (a run wholly inside the frame)
    gone = runs.around[first, BEFORE - 3]  # (a line before its witness row)
    WITNESSES.forget([gone])
    after = _runs_of(df).runs
    assert not np.isin(gone, after.around).any()
    hit = np.isin(runs.around, gone).any(axis=1)
    assert hit[first] and np.array_equal(after.ids, runs.ids[~hit])


def test_a_whole_load_keeps_no_runs(tmp_path):
    _, df = _load(tmp_path, 300, 4, "small")
    assert _runs_of(df).runs is None


@pytest.mark.parametrize("w", [3, 30])
def test_a_moving_std_of_a_large_load_in_the_files_order_warns(tmp_path, w):
    # (left to the run's note before: it needs the neighbours' loaded values)
    path, df = _load(tmp_path, 3000, 5, f"std{w}")
    df["a"] = df["a"].rolling(w).std()
    X = df.dropna()
    pipe, found = _fit(X[["a", "b"]], X["y"])
    assert len(found) == 1, [m[:90] for m in pipe.lineage_.notes]
    assert f"(a.rolling({w}).std():" in str(found[0].message)
    records = _records(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        lines = stp.row_lineage(X)["line"].to_numpy()
    own = pd.Series([float(records[k]["a"]) for k in sorted(records)], index=sorted(records))
    assert np.allclose(X["a"].to_numpy(), own.rolling(w).std().loc[lines].to_numpy())
