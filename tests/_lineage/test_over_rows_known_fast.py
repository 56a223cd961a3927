"""The windows check of a subset (``_over_rows_known.in_windows``) finds what it found
when every window was tried one at a time over a data-sized array
(``_over_rows_known_reference``): the same operation and rows compared, or None, on
random files, kept lines, subsets in any order, operations and changes; where it now
computes every width at once by running sums first, those sums' rounding never hides
the window that explains a column (large values of a small spread, huge ones)."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from sktraceprop._lineage import _over_rows_known
from sktraceprop._lineage._over_rows_known import in_windows
from sktraceprop._lineage._over_rows_known_search import candidates
from tests._lineage import _over_rows_known_reference as reference

_OPS = {
    "diff": lambda s: s.diff(),
    "pct_change": lambda s: s / s.shift() - 1,
    "cumsum": lambda s: s.cumsum(),  # (no window: None in both)
    "none": lambda s: s * 2.5,
}
for _w in (2, 3, 4, 5, 10, 30):
    for _kind in ("mean", "sum", "std", "var"):
        _OPS[f"rolling({_w}).{_kind}()"] = lambda s, w=_w, k=_kind: getattr(s.rolling(w), k)()
    _OPS[f"rolling({_w}, center=True).mean()"] = lambda s, w=_w: s.rolling(w, center=True).mean()


def _both(kept, order, now, first):
    """``(fast, reference)`` verdicts, both with a search's first pass of ``first`` rows,
    the fast one with a cache (twice: found, then reused) and without one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_over_rows_known, "FIRST", first)
        patch.setattr(reference, "FIRST", first)
        cache = {}
        fast = [in_windows(kept, order, now, cache) for _ in range(2)]
        fast.append(in_windows(kept, order, now))
        with np.errstate(all="ignore"):  # (np.var of huge values, outside one)
            slow = reference.in_windows(kept, order, now)
    assert fast[0] == fast[1] == fast[2]
    return fast[0], slow


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(2, 90),
    seed=st.integers(0, 2**32 - 1),
    digits=st.sampled_from([0, 3]),
    power=st.sampled_from([0, -3, 8, 120, 170]),
    missing=st.sampled_from([0.0, 0.05]),
    keep=st.sampled_from([1.0, 1.0, 0.9, 0.5]),
    sort=st.booleans(),
    op=st.sampled_from(sorted(_OPS)),
    change=st.sampled_from(["as is", "filled", "one off", "some loaded", "noise", "near"]),
    first=st.sampled_from([256, 5]),
)
@example(30, 0, 3, 0, 0.0, 1.0, False, "rolling(3).std()", "filled", 5)
@example(60, 1, 3, 8, 0.05, 0.9, True, "rolling(10).var()", "as is", 256)
@example(60, 2, 0, 0, 0.0, 1.0, True, "pct_change", "as is", 5)
def test_the_fast_search_finds_what_trying_each_window_found(
    n, seed, digits, power, missing, keep, sort, op, change, first
):
    rng = np.random.default_rng(seed)
    file_values = rng.uniform(-50, 50, n).round(digits) * 10.0**power
    file_values[rng.random(n) < missing] = np.nan
    kept_ids = np.flatnonzero(rng.random(n) < keep).astype(np.int64)
    order = rng.permutation(n)[: rng.integers(1, n + 1)].astype(np.int64)
    if sort:
        order = np.sort(order)
    with np.errstate(all="ignore"):
        now = np.array(_OPS[op](pd.Series(file_values[order])), dtype=np.float64)
    if change == "filled":
        now = np.nan_to_num(now, nan=0.0, posinf=0.0, neginf=0.0)
    elif change == "one off" and now.size:
        now[rng.integers(now.size)] += 0.01 * 10.0**power
    elif change == "some loaded":  # (rows left as loaded: not compared as changed)
        back = rng.random(now.size) < 0.3
        now[back] = file_values[order][back]
    elif change == "noise":
        now = now + rng.normal(size=now.size) * 1e-6 * 10.0**power
    elif change == "near":  # (off by about the comparison's 1e-9 of the scale)
        finite = np.abs(np.concatenate([file_values, now]))
        scale = max(np.max(finite[np.isfinite(finite)], initial=1.0), 1.0)
        off = rng.choice([0.5, 0.99, 1.01, 2.0]) * 1e-9 * scale
        now = np.nan_to_num(now, nan=0.0) + rng.uniform(-1, 1, now.size) * off
    kept = (kept_ids, file_values[kept_ids])
    fast, slow = _both(kept, order, now, first)
    assert fast == slow
    event("found" if fast is not None else "none")


@pytest.mark.parametrize("op", ["rolling(5).var()", "rolling(30).std()", "rolling(4).mean()"])
@pytest.mark.parametrize("offset", [0.0, 1e8, -1e6])
def test_large_values_of_a_small_spread_are_found(op, offset):
    # (running sums of the values themselves would cancel here: those less the row's
    # do not; every line kept, the found window checked at all 600 rows)
    rng = np.random.default_rng(3)
    n = 600
    file_values = offset + rng.uniform(-1, 1, n).round(3)
    order = rng.permutation(n).astype(np.int64)
    now = _OPS[op](pd.Series(file_values[order])).fillna(0.0).to_numpy()
    kept = (np.arange(n, dtype=np.int64), file_values)
    fast, slow = _both(kept, order, now, 256)
    assert fast == slow == (op, n - int(op.split("(")[1].split(")")[0]) + 1)


def test_the_windows_are_tried_in_the_order_each_was():
    # (the first that explains is the one reported: the same order as one at a time)
    n = 40
    x = np.arange(n, dtype=np.float64)
    tried = [op for op, _, _ in reference._tried(x, np.arange(n))]
    assert [c[0] for c in candidates(n)[0]] == tried
    assert len(tried) == 146


@pytest.mark.parametrize("op", ["none", "rolling(3).mean()", "rolling(10).std()"])
def test_a_column_costs_what_the_lines_kept_do_not_the_datas_rows(op):
    # (a million rows, 64 runs of 44 lines kept: once a first column has found the
    # rows' positions among the kept lines for the fit, another column's check makes
    # no array of the data's size; it made several, each a pass over the data)
    rng = np.random.default_rng(5)
    n = 1_000_000
    file_values = rng.uniform(-50, 50, n).round(3)
    starts = np.sort(rng.choice(n - 44, 64, replace=False))
    kept_ids = np.unique((starts[:, None] + np.arange(44)).ravel()).astype(np.int64)
    kept = (kept_ids, file_values[kept_ids])
    order = np.arange(n, dtype=np.int64)  # (the file's order: whole windows in each run)
    now = _OPS[op](pd.Series(file_values)).fillna(0.0).to_numpy()
    expected = reference.in_windows(kept, order, now)
    cache = {}
    in_windows(kept, order, file_values * 2.0, cache)  # (the fit's first column)
    tracemalloc.start()
    try:
        found = in_windows(kept, order, now, cache)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == expected
    assert (found is None) == (op == "none")
    assert peak < 8 * n / 4  # (bytes: a quarter of one array of the data's float64)
