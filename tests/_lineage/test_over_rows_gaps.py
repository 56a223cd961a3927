"""An expanding mean or an exponentially weighted mean run on a subset's rows in its
order (rows dropped between, the order changed) over a column with gaps is warned of
where the loaded values kept decide it; it was only said unchecked in the run's note.
An operation over rows followed by ``dropna()`` is never silent.

The truth is the raw file: the column is pandas' operation on the file's values (read
from its bytes) at the lines ``row_lineage`` names, in the data's order; for
:func:`over_gaps` alone, pandas' operation on a random column with gaps.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._over_rows_gaps import over_gaps
from sktraceprop.exceptions import LineageWarning
from tests._lineage.test_over_rows import OPS, _fit, _records
from tests._lineage.test_over_rows_sampled import _load
from tests._lineage.test_over_rows_subset import _changed, _named, _subset
from tests._lineage.test_over_rows_unchecked import _truth


def _from_file(X, path, op):
    """Column a of ``X`` is pandas' ``op`` of the file's a (read from its bytes) at the
    lines row_lineage names, in ``X``'s order, over the gaps there."""
    records = _records(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        lines = stp.row_lineage(X)["line"].to_numpy()
    own = pd.DataFrame({"a": [float(records[k]["a"] or "nan") for k in lines]})
    assert np.isnan(own["a"]).sum() > 10
    expected = OPS[op](own).to_numpy()
    assert np.allclose(X["a"].to_numpy(), expected, rtol=1e-12, equal_nan=True)


GAPS = [
    "expanding().mean()",
    "ewm(alpha=0.181818).mean()",
    "ewm(alpha=0.3, adjust=False).mean()",
]

#: pandas' operations (``alpha`` for the ewm) and changes computed row by row.
RAN = {
    "expanding().mean()": lambda s, a: s.expanding().mean(),
    "ewm": lambda s, a: s.ewm(alpha=a).mean(),
    "ewm adjust=False": lambda s, a: s.ewm(alpha=a, adjust=False).mean(),
}
ROW_BY_ROW = {
    "scaled": lambda s, a: s * 2.5,
    "filled": lambda s, a: s.fillna(-1.0),
    "scaled, filled": lambda s, a: (s * a).fillna(0.0),
    "ffill": lambda s, a: s.ffill(),  # (values moved, not computed over rows)
    "constant": lambda s, a: s * 0 + 7.0,
}


@settings(deadline=None, max_examples=60)
@given(
    n=st.integers(20, 400),
    gaps=st.floats(0.02, 0.5),
    kept=st.floats(0.05, 1.0),
    alpha=st.floats(0.01, 0.95),
    change=st.sampled_from(sorted([*RAN, *ROW_BY_ROW])),
    fill=st.booleans(),
    seed=st.integers(0, 2**16),
)
@example(n=200, gaps=0.1, kept=0.2, alpha=0.3, change="ewm adjust=False", fill=False, seed=1)
@example(n=200, gaps=0.3, kept=0.2, alpha=0.181818, change="ewm", fill=True, seed=2)
@example(n=50, gaps=0.3, kept=1.0, alpha=0.5, change="expanding().mean()", fill=True, seed=3)
@example(n=200, gaps=0.2, kept=0.3, alpha=0.3, change="ffill", fill=False, seed=4)
# (alpha 0.9 past long gaps: the first rows' steps are nearly all the way, r ~ 1 - 2e-10,
# and alpha was read from one of them; now from the row whose step tells it best)
@example(n=190, gaps=0.52, kept=0.97, alpha=0.895, change="ewm", fill=False, seed=278565346)
# (a column scaled by 0.5, gaps filled with 0: the 3 rows compared each follow a filled
# gap, where ewm(alpha=0.5, adjust=False) of the loaded values is 0.5 x too; the rows
# before must give the mean some part on 3 rows compared)
@example(n=40, gaps=0.5, kept=0.15, alpha=0.5, change="scaled, filled", fill=False, seed=41)
def test_over_gaps_names_the_operation_pandas_ran(n, gaps, kept, alpha, change, fill, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(1, 50, n).round(3) * rng.choice([-1, 1], n)
    x[rng.random(n) < gaps] = np.nan
    ids = rng.permutation(10 * n)[:n].astype(np.int64)  # (a shuffled subset's ids)
    series = pd.Series(x)
    now = (RAN | ROW_BY_ROW)[change](series, alpha).to_numpy(dtype=np.float64)
    if fill:
        now = np.where(np.isnan(now), 0.0, now)
    keep = rng.random(n) < kept
    order = np.argsort(ids[keep])
    found = over_gaps((ids[keep][order], x[keep][order]), ids, now)
    if change in ROW_BY_ROW:
        assert found is None, found
        return
    first = int(np.argmax(~np.isnan(x)))
    told = keep & ~np.isnan(x) & (np.arange(n) > first)
    if np.isnan(x).any() and int(told.sum()) >= 3:
        assert found is not None and _names(found[0], change, alpha), (found, change, alpha)
    else:  # (no gap: the running checks decide; too few lines kept: the note stays)
        assert found is None or _names(found[0], change, alpha), (found, change, alpha)


def _names(op, change, alpha):
    """Whether ``op`` names pandas' ``change`` with its ``alpha``: an ewm with
    ``adjust=True`` is named where the rows compared cannot tell (far from a gap and
    from the first row, the weights' sum is ``1 / alpha`` either way)."""
    if change == "expanding().mean()":
        return op == change
    got = re.fullmatch(r"ewm\(alpha=([0-9.e-]+)(, adjust=False)?\)\.mean\(\)", op)
    if got is None or abs(float(got.group(1)) - alpha) > 1e-5 * alpha:
        return False
    return got.group(2) is None or change == "ewm adjust=False"


@pytest.mark.parametrize("how", ["sample", "train_test_split", "mask"])
@pytest.mark.parametrize("fill", [False, True])
@pytest.mark.parametrize("op", GAPS)
def test_a_subset_with_gaps_computed_in_its_order_warns(tmp_path, op, fill, how):
    path, df = _load(tmp_path, 3000, 21, f"gaps{fill}{how}", gaps=True)
    X = _subset(df, how, sort=False, seed=21)
    X["a"] = _changed(X, op)
    X = X.fillna(0.0) if fill else X
    _truth(X, path, op)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    assert len(found) == 1, [m[:120] for m in pipe.lineage_.notes]
    message = str(found[0].message)
    assert _named(op) in message and "the gaps before them read from the column" in message
    assert not [m for m in pipe.lineage_.notes if "could not be checked for an op" in m]


@pytest.mark.parametrize("op", GAPS[1:])
def test_a_small_load_with_gaps_computed_in_a_subsets_order_warns(tmp_path, op):
    # (under 512 rows every row is a witness: an ewm past gaps in the data's order was
    # tried without them, and left to the note of a changed column)
    path, df = _load(tmp_path, 300, 22, "small", gaps=True)
    X = _subset(df, "sample", sort=False, seed=22)
    X["a"] = _changed(X, op)
    _from_file(X, path, op)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    assert len(found) == 1 and _named(op) in str(found[0].message), pipe.lineage_.notes


@pytest.mark.parametrize("change", ["scaled", "filled", "ffill"])
def test_a_subset_with_gaps_changed_row_by_row_does_not_warn(tmp_path, change):
    _, df = _load(tmp_path, 3000, 23, f"rows{change}", gaps=True)
    X = _subset(df, "sample", sort=False, seed=23)
    X["a"] = ROW_BY_ROW[change](X["a"], 0.5)
    _, found = _fit(X[["a", "b"]], X["y"])
    assert not found, str(found[0].message)


@pytest.mark.parametrize(
    "op",
    ["cumsum", "diff", "rolling(3).mean()", "rolling(3).std()", *GAPS],
)
@pytest.mark.parametrize("gaps", [False, True])
def test_an_operation_then_dropna_is_never_silent(tmp_path, op, gaps):
    # (dropna removes the rows the operation left empty, and the gaps' rows with them
    # where it leaves those empty: the rows before a witness row in the data are then
    # not those the operation ran over)
    path, df = _load(tmp_path, 3000, 24, f"dropna{gaps}", gaps=gaps)
    X = _subset(df, "sample", sort=False, seed=24)
    X["a"] = _changed(X, op)
    before = len(X)
    X = X.dropna()
    if op in ("diff", "rolling(3).mean()", "rolling(3).std()") or (gaps and op == "cumsum"):
        assert len(X) < before  # (rows were dropped; a mean carried over gaps leaves none)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    noted = [n for n in pipe.lineage_.notes if n.startswith("input column(s) a ")]
    unchecked = [n for n in pipe.lineage_.notes if "column a of X" in n]
    # (warned, or, where a gap's row dropped breaks the windows, said unchecked: more
    # than the changed-column note, which names the column always)
    assert found or unchecked, pipe.lineage_.notes
    assert noted
