"""A large load's column overwritten with a moving standard deviation or variance run
after a random subset, in the subset's order, warns where the loaded values of whole
windows of the data's rows are kept (witness rows and the lines around some); a window
too wide for the lines kept is said unchecked, naming the width. These were left to
the run's generic note of a changed column (the subset's order is not the file's, and
a spread is no sum of the rows' values to rebuild from the data up to a constant).

The truth is the file's bytes: the column is the operation applied to the file's values
at the lines ``row_lineage`` names, in the data's order. The narrow load's runs are all
kept now (``_witness_runs.VALUES``): the lines they hold are the file's.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop._lineage._over_rows_known import in_windows, kept_values
from sktraceprop._lineage._witness_runs import VALUES
from sktraceprop.exceptions import LineageWarning
from tests._lineage.test_over_rows import _fit, _records
from tests._lineage.test_over_rows_sampled import _load
from tests._lineage.test_over_rows_subset import _runs_of, _subset


def _in_data_order(X, path, op):
    """Column a of ``X`` is ``op`` (a pandas Series method chain) of the file's a at
    the lines row_lineage names, in ``X``'s order (a window's first rows dropped or
    filled with 0)."""
    records = _records(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        lines = stp.row_lineage(X)["line"].to_numpy()
    own = pd.Series([float(records[k]["a"] or "nan") for k in lines])
    expected = op(own).to_numpy()
    now = X["a"].to_numpy()
    known = ~np.isnan(expected)
    assert np.allclose(now[known], expected[known], rtol=1e-12)
    assert (now[~known] == 0).all()
    assert np.mean(~np.isclose(now, own.to_numpy())) > 0.5


@pytest.mark.parametrize(
    ("how", "sort", "w", "kind"),
    [
        ("sample", False, 3, "std"),
        ("train_test_split", False, 3, "var"),
        ("mask", False, 10, "std"),
        ("sample", True, 10, "var"),
        ("mask", False, 30, "std"),
    ],
)
def test_a_moving_spread_run_in_a_subsets_order_warns(tmp_path, how, sort, w, kind):
    path, df = _load(tmp_path, 3000, 11 + w, f"spread{how}{w}")
    X = _subset(df, how, sort=sort, seed=w)
    X["a"] = getattr(X["a"].rolling(w), kind)()
    X = X.fillna(0.0)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    assert len(found) == 1, [m[:200] for m in pipe.lineage_.notes]
    message = str(found[0].message)
    assert f"(a.rolling({w}).{kind}():" in message
    assert "whose window's loaded values are all kept explained by it" in message
    _in_data_order(X, path, lambda s: getattr(s.rolling(w), kind)())


def test_a_window_too_wide_for_the_lines_kept_is_said_unchecked(tmp_path):
    # (a shuffled subset: a window of 30 of its rows is 30 lines spread over the file,
    # whose loaded values are all kept on no row)
    path, df = _load(tmp_path, 3000, 12, "wide30")
    X = _subset(df, "sample", sort=False, seed=12)
    X["a"] = X["a"].rolling(30).std()
    X = X.fillna(0.0)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    assert not found
    (note,) = [m for m in pipe.lineage_.notes if "could not be checked for an op" in m]
    width = int(note.split("and those of ")[1].split(" rows or more")[0])
    assert 2 < width <= 30
    assert "so they were not checked" in note
    _in_data_order(X, path, lambda s: s.rolling(30).std())


@pytest.mark.parametrize("change", ["scaled", "shuffled"])
def test_a_row_by_row_change_of_a_shuffled_subset_does_not_warn(tmp_path, change):
    # (the control: nothing explains it; the wide windows are said unchecked)
    _, df = _load(tmp_path, 3000, 13, f"control{change}")
    X = _subset(df, "sample", sort=False, seed=13)
    if change == "scaled":
        X["a"] = X["a"] * 2.5
    else:  # (the column's values moved among its rows: no window gives them)
        X["a"] = np.random.default_rng(13).permutation(X["a"].to_numpy())
    pipe, found = _fit(X[["a", "b"]], X["y"])
    assert not found, str(found[0].message)


def test_kept_values_are_the_files_at_witness_rows_and_runs(tmp_path):
    path, df = _load(tmp_path, 3000, 14, "kept")
    load = _runs_of(df)
    ids, values = kept_values(load, "a")
    assert np.array_equal(ids, np.unique(np.concatenate([load.ids, load.runs.line_ids])))
    # (every line of the load is kept in a row of the frame: the truth is the file)
    records = _records(path)
    frame_ids = df.index.get_level_values(-1).to_numpy()
    lines = stp.row_lineage(df)["line"].to_numpy()
    line_of = dict(zip(frame_ids.tolist(), lines.tolist()))
    assert np.array_equal(values, [float(records[line_of[i]]["a"]) for i in ids.tolist()])
    # (a narrow load keeps every run: fewer values than the cap's floor)
    assert load.runs.left_out == 0 and load.runs.line_ids.size * 4 < VALUES


def test_in_windows_against_brute_force():
    # (every window recomputed by hand, one row at a time, from the kept values)
    rng = np.random.default_rng(15)
    n = 400
    file_values = rng.uniform(-50, 50, n).round(3)
    kept_ids = np.sort(rng.choice(n, 300, replace=False)).astype(np.int64)
    order = rng.permutation(n)[:250].astype(np.int64)  # (a shuffled subset's ids)
    spread = {"std": lambda x: np.std(x, ddof=1), "var": lambda x: np.var(x, ddof=1)}
    spread["mean"] = np.mean
    for w, kind in [(2, "std"), (3, "var"), (4, "mean")]:
        brute = np.full(order.size, np.nan)
        for p in range(w - 1, order.size):
            window = order[p - w + 1 : p + 1]
            if np.isin(window, kept_ids).all():
                brute[p] = spread[kind](file_values[window])
        known = ~np.isnan(brute)
        assert known.sum() >= 20
        now = getattr(pd.Series(file_values[order]).rolling(w), kind)().to_numpy()
        assert np.allclose(brute[known], now[known], rtol=1e-12)
        found = in_windows((kept_ids, file_values[kept_ids]), order, now)
        assert found == (f"rolling({w}).{kind}()", int(known.sum()))
        # (one row's value off: not explained on every row compared, not found)
        off = now.copy()
        off[np.flatnonzero(known)[5]] += 0.01
        assert in_windows((kept_ids, file_values[kept_ids]), order, off) is None
