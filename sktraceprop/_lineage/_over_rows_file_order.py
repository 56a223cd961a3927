"""A loaded column overwritten with an operation over rows run on a large load in its
order (the file's), then a random subset taken (``train_test_split``, ``sample``, a
boolean mask), sorted back or not: checked at the witness rows that keep a run of their
neighbours' loaded values (:mod:`._witness_runs`), wherever they now sit.

A moving mean, sum, standard deviation or variance (centred or not, up to ``rolling(30)``), a
difference and a percentage change are recomputed from the run's loaded values alone,
as pandas computes them (a window holding a missing value gives none; ``pct_change``
with ``fill_method=None`` or padded, either). A running sum, maximum, minimum and an
expanding mean are checked from the value the data holds now at the nearest earlier
line of the run whose loaded value is not missing (pandas skips missing values; the
expanding mean's count is the lines before less the values missing there), where the
data still holds that line; an exponentially weighted mean the same from the line just
before, where the column has no gap before the witness row (past a gap its weights are
not the running ones; with ``adjust=False`` they follow from the gaps just before it,
:mod:`._over_rows_ewm_gaps`). A witness row whose loaded value is missing, or whose value the
operation leaves empty (a window's first rows, filled or dropped since), is not
compared. See :mod:`._over_rows` for what must hold (every row compared explained, at
least ``MIN_ROWS`` changed).
"""

import numpy as np

from ._over_rows_chain import MIN_ROWS, WINDOWS
from ._over_rows_ewm import ewm_mean
from ._over_rows_ewm_gaps import ewm_past_gaps
from ._witness_runs import BEFORE


def _close(a, b, scale):
    with np.errstate(invalid="ignore"):
        return np.abs(a - b) <= 1e-9 * scale


def _explains(expected, here, loaded, scale):
    """Whether ``expected`` (NaN: not compared) is ``here`` on every row compared, and
    differs from ``loaded`` on at least ``MIN_ROWS`` of them; ``expected`` one array
    over the rows, or a matrix (rows, candidates): then per candidate."""
    flat = expected.ndim == 1
    expected = expected[:, None] if flat else expected
    here, loaded = here[:, None], loaded[:, None]
    known = ~np.isnan(expected)
    with np.errstate(invalid="ignore"):
        fits = (_close(expected, here, scale) | ~known).all(axis=0)
        same = (loaded == here) | (np.isnan(loaded) & np.isnan(here))
    differ = (known & ~same).sum(axis=0)
    out = fits & (known.sum(axis=0) >= MIN_ROWS) & (differ >= MIN_ROWS)
    return bool(out[0]) if flat else out


def _window_sums(near, lo, hi):
    """Per run, the sum of ``near[:, lo:hi]`` (``lo`` and ``hi`` arrays of bounds, one
    per window), NaN where the window holds a missing value."""
    gap = np.isnan(near)
    zero = np.zeros((near.shape[0], 1))
    sums = np.concatenate([zero, np.cumsum(np.where(gap, 0.0, near), axis=1)], axis=1)
    gaps = np.concatenate([zero, np.cumsum(gap, axis=1)], axis=1)
    total = sums[:, hi] - sums[:, lo]
    total[gaps[:, hi] - gaps[:, lo] > 0] = np.nan
    return total


def _windows(near, here, loaded, scale):
    """``(name, values at the witness rows)`` of the first moving window over the runs'
    loaded values ``near`` (as pandas: NaN where a value of the window is missing) that
    explains ``here``, or None. Each kind is computed for every width at once; the
    standard deviation, by running sums of the values less the witness row's (a
    shortcut for the search), is recomputed in two passes for the width found."""
    c = BEFORE
    w = np.array([w for w in WINDOWS if w <= c + 1])
    lag = (w - 1) // 2
    total = _window_sums(near, c + 1 - w, np.full(w.size, c + 1))
    inside = c + 1 + lag <= near.shape[1]
    end = np.minimum(c + 1 + lag, near.shape[1])
    centred = _window_sums(near, end - w, end) / w
    centred[:, ~inside | (lag == 0)] = np.nan  # (no lag: the trailing mean's name)
    shifted = near - near[:, c : c + 1]  # (the sums of squares near 0: little cancelling)
    s1 = _window_sums(shifted, c + 1 - w, np.full(w.size, c + 1))
    s2 = _window_sums(shifted**2, c + 1 - w, np.full(w.size, c + 1))
    approx = np.sqrt(np.maximum(s2 - s1**2 / w, 0.0) / (w - 1))
    found = {
        "mean": _explains(total / w, here, loaded, scale),
        "sum": _explains(total, here, loaded, scale),
        "centred": _explains(centred, here, loaded, scale),
        # (near enough: checked in two passes below)
        "std": _explains(approx, here, loaded, scale * 1e3),
        "var": _explains(approx**2, here, loaded, scale * 1e3),
    }
    for k, width in enumerate(w.tolist()):
        if found["mean"][k]:
            return f"rolling({width}).mean()", total[:, k] / width
        if found["sum"][k]:
            return f"rolling({width}).sum()", total[:, k]
        if found["centred"][k]:
            return f"rolling({width}, center=True).mean()", centred[:, k]
    for k, width in enumerate(w.tolist()):
        for kind in ("std", "var") if found["std"][k] or found["var"][k] else ():
            var = np.var(near[:, c + 1 - width : c + 1], axis=1, ddof=1)
            spread = np.sqrt(var) if kind == "std" else var
            if _explains(spread, here, loaded, scale):
                return f"rolling({width}).{kind}()", spread
    return None


def _last_known(near):
    """Per run, the column of the nearest line before the witness row whose loaded value
    is not missing (-1 where none in the run)."""
    known = ~np.isnan(near[:, :BEFORE])
    last = BEFORE - 1 - np.argmax(known[:, ::-1], axis=1)
    return np.where(known.any(axis=1), last, -1)


def in_file_order(runs, name, now_at):
    """The operation over rows run on the load in its order that explains column
    ``name`` at the witness rows with a run the data holds, or None.

    ``runs``: the load's :class:`~._witness_runs.Runs`; ``now_at``: ids -> ``(values
    now, held)``, arrays shaped as the ids (NaN and False for a row the data lacks).
    Returns ``(operation, witness rows compared)`` or None.
    """
    kept = runs.values.get(name)
    if kept is None:
        return None
    near, gaps_before = kept
    now, held = now_at(runs.around)
    keep = held[:, BEFORE] & ~np.isnan(near[:, BEFORE])
    if int(keep.sum()) < MIN_ROWS:
        return None
    near, now, held = near[keep], now[keep], held[keep]
    start, gaps_before = runs.start[keep], gaps_before[keep]
    loaded, here = near[:, BEFORE], now[:, BEFORE]
    finite = np.abs(np.concatenate([near[np.isfinite(near)], here[np.isfinite(here)]]))
    scale = max(float(finite.max()), 1.0) if finite.size else 1.0
    rows = np.arange(near.shape[0])
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        last = _last_known(near)
        ok = (last >= 0) & held[rows, np.maximum(last, 0)]
        before = np.where(ok, now[rows, np.maximum(last, 0)], np.nan)
        count = start - gaps_before + 1  # (values not missing, up to the witness row)
        previous = near[:, BEFORE - 1]
        padded = np.where(last >= 0, near[rows, np.maximum(last, 0)], np.nan)
        tried = [
            ("cumsum", before + loaded),
            ("cummax", np.fmax(before, loaded)),  # (NaN before: not compared)
            ("cummin", np.fmin(before, loaded)),
            ("diff", loaded - previous),
            ("pct_change", loaded / previous - 1),
            ("pct_change", loaded / padded - 1),  # (pandas before 3: fill_method="pad")
            ("expanding().mean()", (before * (count - 1) + loaded) / count),
        ]
        tried[1] = ("cummax", np.where(ok, tried[1][1], np.nan))
        tried[2] = ("cummin", np.where(ok, tried[2][1], np.nan))
        for op, expected in tried:
            expected = np.where(np.isfinite(expected), expected, np.nan)
            if _explains(expected, here, loaded, scale):
                return op, int((~np.isnan(expected)).sum())
        window = _windows(near, here, loaded, scale)
        if window is not None:
            return window[0], int((~np.isnan(window[1])).sum())
        # (an exponentially weighted mean: no gap before the witness row in the column)
        plain = (gaps_before == 0) & ~np.isnan(near[:, : BEFORE + 1]).any(axis=1)
        plain &= held[:, BEFORE - 1] & (start > 0)
        if int(plain.sum()) >= MIN_ROWS:
            op = ewm_mean(here[plain], now[plain, BEFORE - 1], loaded[plain], start[plain])
            if op is not None:
                return op, int(plain.sum())
        return ewm_past_gaps(near, now, held, scale)
