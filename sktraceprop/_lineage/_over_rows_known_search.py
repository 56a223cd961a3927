"""The search of :mod:`._over_rows_known`: which moving window over the data's rows (of
:data:`~._over_rows_chain.WINDOWS`, a ``diff`` or a ``pct_change``) explains a column on
the rows whose window's loaded values are kept.

Each is computed exactly as pandas does on the rows compared (:func:`explained_on`).
Tried one at a time, from an array of the data's size, the 146 of them cost a column
146 checks where none explains it (the usual case); here every width is first
computed at once, by running sums over a matrix of the ``max(WINDOWS)`` values before
each row (:func:`_possible`), and only those within a bound of the column's value on
every row, on ``MIN_ROWS`` rows or more (the running sums' rounding is far below the
``1e-9`` of the comparison) are checked exactly, in the same order: the first found is
the one trying each would find. The values are read where a row's window is, from the
lines kept alone (:func:`values_at`), never over the data's rows.
"""

import functools

import numpy as np

from ._over_rows_chain import MIN_ROWS, WINDOWS
from ._over_rows_file_order import _explains

#: Above this scale the running sums could overflow where the exact values do not, and
#: every window is checked exactly.
_HUGE = 1e100


def values_at(at, kept_at):
    """A function of the data's row positions (any shape) giving their loaded values:
    ``kept_at`` (the values of the lines kept) at ``at`` (each row's position among
    them, ``-1`` where not kept), NaN where not kept or outside the data."""
    n = at.size

    def x(positions):
        inside = (positions >= 0) & (positions < n)
        where = at[np.where(inside, positions, 0)]
        return np.where(inside & (where >= 0), kept_at[np.maximum(where, 0)], np.nan)

    return x


@functools.lru_cache(maxsize=8)
def candidates(n):
    """``(operation, kind, width, column in :func:`_possible`)`` of each window tried
    over ``n`` rows, in the order tried (a difference, then each width's mean, sum and
    centred mean, then each width's standard deviation and variance); the widths, and
    those of a centred mean (each from 2 on, one after another)."""
    widths = [w for w in WINDOWS if w < n]
    lagged = [w for w in widths if (w - 1) // 2]
    out = [("diff", "diff", 2, 0), ("pct_change", "pct_change", 2, 1)]
    k = len(widths)
    for i, w in enumerate(widths):
        out.append((f"rolling({w}).mean()", "mean", w, 2 + i))
        out.append((f"rolling({w}).sum()", "sum", w, 2 + k + i))
        if w in lagged:
            j = 2 + 2 * k + lagged.index(w)
            out.append((f"rolling({w}, center=True).mean()", "centred", w, j))
    spread = 2 + 2 * k + len(lagged)
    for i, w in enumerate(widths):
        out.append((f"rolling({w}).std()", "std", w, spread + i))
        out.append((f"rolling({w}).var()", "var", w, spread + k + i))
    return tuple(out), np.array(widths, dtype=np.intp), np.array(lagged, dtype=np.intp)


def first_explaining(x, rows, now, scale, n):
    """``(operation, rows compared, candidate)`` of the first window (of
    :func:`candidates` over ``n`` rows) that explains ``now`` at ``rows`` (sorted
    positions of rows whose loaded value is known; ``x``: :func:`values_at`), or None."""
    tried, widths, lagged = candidates(n)
    possible = _possible(x, rows, now, scale, widths, lagged) if scale <= _HUGE else None
    for cand in tried:
        if possible is not None and not possible[cand[3]]:
            continue
        found = explained_on(x, rows, now, scale, cand)
        if found is not None:
            return cand[0], found, cand
    return None


def _possible(x, rows, now, scale, widths, lagged):
    """Per column of :func:`candidates`, whether its value (by running sums) is within
    the bound of ``now`` on every row of ``rows`` where it is finite, on ``MIN_ROWS``
    rows or more."""
    width = int(widths[-1]) if widths.size else 2
    back = x(rows[:, None] - np.arange(width))  # (the row's value, then those before it)
    # (the widths of ``MIN_ROWS`` windows or more wholly known, where a subset in
    # another order keeps few: wider ones are not, and are not computed)
    whole = np.logical_and.accumulate(~np.isnan(back), axis=1).sum(axis=0) >= MIN_ROWS
    widest = int(whole.sum())  # (the row's own value is known: ``whole[0]`` is true)
    some, lags = widths[widths <= widest], lagged[lagged <= widest]
    out = np.zeros(2 + 2 * widths.size + lagged.size + 2 * widths.size, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out[:2] = np.concatenate(
            [
                _near(back[:, :1] - back[:, 1:2], now[rows][:, None], scale),
                _near(back[:, :1] / back[:, 1:2] - 1, now[rows][:, None], scale),
            ]
        )
        if not some.size:
            return out
        back = back[:, :widest]
        sums = np.cumsum(back, axis=1)
        total = sums[:, some - 1]
        # (the spread from sums of the values less the row's: no cancellation of large
        # values; a window holding a missing value is NaN from there on in each)
        less = back - back[:, :1]
        s1 = np.cumsum(less, axis=1)[:, some - 1]
        s2 = np.cumsum(less * less, axis=1)[:, some - 1]
        var = (s2 - s1 * s1 / some) / (some - 1)
        here = now[rows][:, None]
        there = now[np.maximum(rows[:, None] - (lags - 1) // 2, 0)]
        k, at = widths.size, 2
        for value, near, size in [
            (total / some, here, k),
            (total, here, k),
            (sums[:, lags - 1] / lags, there, lagged.size),
            (np.sqrt(var), here, k),
            (var, here, k),
        ]:
            out[at : at + value.shape[1]] = _near(value, near, scale)
            at += size
    return out


def _near(value, now, scale):
    """Per column of ``value``, whether it is finite on at least ``MIN_ROWS`` rows (where
    the exact value is: a window wholly known, of finite values no larger than the
    scale), and within the bound of ``now`` on each: the exact values differ from these
    by under 1e-12 of the scale (or of a spread, itself); the bound is that, well over,
    on top of the comparison's own ``1e-9`` of the scale."""
    bound = 1.1e-9 * scale + 1e-9 * np.abs(value) + 1e-26 * scale * scale
    finite = np.isfinite(value)
    far = (finite & (np.abs(value - now) > bound)).any(axis=0)
    return ~far & (finite.sum(axis=0) >= MIN_ROWS)


def explained_on(x, rows, now, scale, cand):
    """Rows compared where window ``cand`` (of :func:`candidates`) explains ``now`` on
    each of ``rows`` whose window's loaded values are all known (computed as pandas
    does), or None: fewer than ``MIN_ROWS`` compared, or one not explained."""
    _, kind, w, _ = cand
    windows = x(rows[:, None] + np.arange(1 - w, 1))
    whole = ~np.isnan(windows).any(axis=1)
    ends, windows = rows[whole], windows[whole]
    if ends.size < MIN_ROWS:
        return None
    where = ends
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if kind == "diff":
            expected = windows[:, 1] - windows[:, 0]
        elif kind == "pct_change":
            expected = windows[:, 1] / windows[:, 0] - 1
        elif kind in ("std", "var"):
            expected = np.var(windows, axis=1, ddof=1)
            expected = np.sqrt(expected) if kind == "std" else expected
        else:
            total = windows.sum(axis=1)
            expected = total if kind == "sum" else total / w
            if kind == "centred":  # (the trailing window's value, lag rows earlier)
                where = ends - (w - 1) // 2
    expected = np.where(np.isfinite(expected), expected, np.nan)
    known = ~np.isnan(expected)
    if int(known.sum()) < MIN_ROWS:
        return None
    where, expected = where[known], expected[known]
    return int(where.size) if _explains(expected, now[where], x(where), scale) else None
