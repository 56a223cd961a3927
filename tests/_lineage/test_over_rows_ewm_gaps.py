"""An exponentially weighted mean over a column with gaps (empty fields), run on a load
of more than 512 rows in the file's order, then a subset taken or not: ``adjust=False``
warns (pandas' steps past a gap follow from the lines kept around witness rows), and
``adjust=True`` (whose weights past a gap depend on every gap before) warns where the
data is the whole load in its order (every line kept decides it, the gaps read from the
column: ``_over_rows_gaps``) and after a subset is said in the run's note to be
unchecked. Run after a mask in the data's order (lines dropped
between), it warns either way. It was silent before: an ewm past a gap was not tried.

The truth is the raw file: the column is pandas' ewm of the file's values, read from its
bytes, at the lines ``row_lineage`` names (in the file's order, or in the data's).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop._lineage._over_rows_ewm_gaps import _recomputed
from sktraceprop._lineage._witness_runs import BEFORE
from sktraceprop.exceptions import LineageWarning
from tests._lineage.test_over_rows import OPS, _fit, _records
from tests._lineage.test_over_rows_sampled import _load
from tests._lineage.test_over_rows_subset import _subset

EWM = ["ewm(alpha=0.3, adjust=False).mean()", "ewm(alpha=0.181818).mean()"]


def _lines(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        return stp.row_lineage(X)["line"].to_numpy()


def _file_a(path, lines=None):
    records = _records(path)
    lines = sorted(records) if lines is None else lines
    return pd.DataFrame({"a": [float(records[k]["a"] or "nan") for k in lines]}, index=lines)


@pytest.mark.parametrize("subset", [False, True])
@pytest.mark.parametrize("op", EWM)
def test_an_ewm_past_gaps_in_the_files_order(tmp_path, op, subset):
    path, df = _load(tmp_path, 3000, 11, f"ewm{subset}", gaps=True)
    df["a"] = OPS[op](df)
    X = _subset(df.fillna(0.0), "sample", sort=True, seed=11) if subset else df.fillna(0.0)
    # truth: pandas' ewm of the file's a, in the file's order, at the lines of X
    expected = OPS[op](_file_a(path)).loc[_lines(X)].to_numpy()
    assert np.allclose(X["a"].to_numpy(), expected, rtol=1e-12)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    unchecked = [m for m in pipe.lineage_.notes if "could not be checked for an op" in m]
    if "adjust=False" in op:
        assert len(found) == 1 and "(a.ewm(alpha=0.3, adjust=False).mean():" in str(
            found[0].message
        )
        assert not unchecked
    elif not subset:  # (the data's order is the file's: every line kept decides it,
        # the gaps read from the column, _over_rows_gaps)
        assert len(found) == 1 and "(a.ewm(alpha=0.181818).mean():" in str(found[0].message)
        assert not unchecked
    else:
        assert not found, str(found[0].message)
        assert len(unchecked) == 1 and "had no loaded value" in unchecked[0]


@pytest.mark.parametrize("op", EWM)
def test_an_ewm_after_a_mask_in_the_datas_order_warns(tmp_path, op):
    path, df = _load(tmp_path, 3000, 12, "ewm_mask")
    X = _subset(df, "mask", sort=False, seed=12)  # (the file's order, lines dropped)
    X["a"] = OPS[op](X)
    expected = OPS[op](_file_a(path, _lines(X))).to_numpy()
    assert np.allclose(X["a"].to_numpy(), expected, rtol=1e-12)
    _, found = _fit(X[["a", "b"]], X["y"])
    assert len(found) == 1 and "(a.ewm(alpha=" in str(found[0].message)


def test_recomputed_is_pandas_ewm_past_gaps():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    x[rng.random(200) < 0.3] = np.nan
    x[0] = 1.0
    alpha = 0.27
    y = pd.Series(x).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    # runs ending at lines 40..199: start from the nearest earlier line with a value,
    # 1 to 12 lines back
    near, start, mean = [], [], []
    for t in range(40, 200):
        if np.isnan(x[t]):
            continue
        back = [s for s in range(t - 12, t) if not np.isnan(x[s])]
        if not back:
            continue
        s = back[len(back) // 2]
        near.append(x[t - BEFORE : t + 1])
        start.append(BEFORE - (t - s))
        mean.append(y[s])
        assert t - s >= 1
    got = _recomputed(np.array(near), np.array(mean), np.array(start), alpha)
    want = [
        y[t]
        for t in range(40, 200)
        if not np.isnan(x[t]) and any(not np.isnan(x[s]) for s in range(t - 12, t))
    ]
    assert np.allclose(got, want, rtol=1e-12, atol=0)
