"""An expanding mean or an exponentially weighted mean run on the data's rows in its
order (after a random subset, in the subset's order: rows dropped between, the order
changed) over a column with gaps (empty fields in the file), checked at every line
whose loaded value is kept (witness rows and the runs' lines, :mod:`._over_rows_known`).

pandas skips a missing value in both: at a gap the mean is the one before, carried
(``expanding().mean()`` of ``[1, NaN, 3]`` is ``[1, 1, 2]``), and before the first value
there is none (NaN, or a fill since). The checks from the row before a witness row
(:mod:`._over_rows_running`) take every row before it for a value; past a gap the count
of an expanding mean and the weights of an exponentially weighted one (``ignore_na=
False``, pandas' default: the weights decay over a gap too) are not those, and the
column was only said unchecked in the run's note. Here which of the data's rows were
gaps is read from the column as pandas leaves it: a row holding exactly the value of
the row before carried it (a gap), a row holding another value had one; a kept line
settles its own row from the file (its loaded value, missing or not), and a kept line
missing in the file whose row does not carry the value before contradicts both
operations (nothing is explained). From these each kept line's value now is recomputed
from its loaded value and the value of the row before it: the expanding mean from the
number of values before it, the exponentially weighted mean from the decayed weights
of the values before it (``alpha`` from one witness row, ``adjust`` either way). Rows
before the first value that hold one value since (a fill) are tried as gaps too. A row
whose loaded value equals the mean before it exactly (whole numbers can) is taken for
a gap: a count is then wrong, nothing is explained, and the run's note stays. See
:mod:`._over_rows` for what must hold (every row compared explained, at least
``MIN_ROWS`` changed).
"""

import numpy as np

from ._over_rows_chain import MIN_ROWS
from ._over_rows_known import kept_positions

#: Witness rows tried (the first ones in the data's order) for the one ``alpha`` is
#: read from: few, so that the weights summed there cover few rows.
_FIRST = 64


def _close(a, b, scale):
    with np.errstate(invalid="ignore"):
        return np.abs(a - b) <= 1e-9 * scale


def _starts(now):
    """The positions tried for the data's first value: the first row holding one, and
    past the rows holding that same value after it (gaps filled since with one value)."""
    finite = np.isfinite(now)
    if not finite.any():
        return []
    first = int(np.argmax(finite))
    out = [first]
    same = np.flatnonzero(now[first:] != now[first])
    if same.size:
        out.append(first + int(same[0]))
    return out


def _values_at(now, start, gap, value):
    """Which rows had a value (from ``start`` on): those not holding the value of the
    row before, and the kept lines with a loaded value (``value``); None where a kept
    line missing in the file (``gap``) does not carry it (every row from ``start`` on
    holds a value now)."""
    had = np.zeros(now.size, dtype=bool)
    had[start] = True
    had[start + 1 :] = now[start + 1 :] != now[start:-1]
    if (had & gap).any() or (value[:start]).any():
        return None
    had[start:] |= value[start:]
    return had


def _ewm_before(had, alpha, adjust):
    """Per row, the weight of the mean before it as pandas decays it there
    (``ignore_na=False``): with ``adjust``, the values' decayed weights summed, each
    row (a gap too) multiplying them by ``1 - alpha``; without, ``(1 - alpha)`` to the
    rows since the last value. NaN before the first value."""
    q = 1.0 - alpha
    rows = np.arange(had.size)
    last = np.maximum.accumulate(np.where(had, rows, -1))
    before = np.concatenate([[-1], last[:-1]])  # (the last value before each row)
    if not adjust:
        with np.errstate(over="ignore", under="ignore"):
            return np.where(before >= 0, q ** (rows - before).astype(np.float64), np.nan)
    # a running sum with decay (w[t] = q * w[t - 1] + had[t]), by doubling: after the
    # step of ``k`` each row holds the values within 2k rows before it
    w, k, qk = had.astype(np.float64), 1, q
    while k < had.size and qk > 1e-30:
        w[k:] = w[k:] + qk * w[:-k]
        k, qk = 2 * k, qk * qk
    out = np.full(had.size, np.nan)
    out[1:] = q * w[:-1]
    return np.where(before >= 0, out, np.nan)


def _ewm_alpha(had, t, r, adjust):
    """The ``alpha`` giving the step ``r`` (the share of the way from the mean before
    witness row ``t`` to its loaded value) at ``t``, by bisection (the step rises with
    ``alpha``), or None where none in (0, 1) does."""
    if not 1e-9 < r < 1 - 1e-9:
        return None
    earlier = t - np.flatnonzero(had[:t]).astype(np.float64)
    lo, hi = 0.0, 1.0
    for _ in range(64):
        a = (lo + hi) / 2
        q = 1.0 - a
        with np.errstate(under="ignore"):
            if adjust:
                step = 1.0 / (1.0 + float(np.sum(q**earlier)))
            else:
                step = a / (q ** float(earlier.min()) + a)
        lo, hi = (a, hi) if step < r else (lo, a)
    a = (lo + hi) / 2
    return a if 1e-9 < a < 1 - 1e-9 else None


def _explained(earlier, new, here, scale):
    """Whether the mean recomputed (``earlier``, the part the rows before give, plus
    ``new``, the loaded value's) is ``here`` on every row compared, of at least
    ``MIN_ROWS``, where the rows before give some on at least ``MIN_ROWS`` of them: a
    column scaled, its gaps filled with 0, follows an ewm of the loaded values at rows
    after a filled gap alone (a mean before of 0 gives nothing)."""
    if int(here.size) < MIN_ROWS or not _close(earlier + new, here, scale).all():
        return False
    return int(np.count_nonzero(np.abs(earlier) > 1e-9 * scale)) >= MIN_ROWS


def over_gaps(kept, ids, now, cache=None):
    """The ``expanding().mean()`` or ``ewm(...).mean()`` run on the data's rows (``ids``,
    in the order it ran; ``now``: the column's values there) over gaps that explains
    the column at every kept line (:func:`._over_rows_known.kept_values`) of the data,
    of at least ``MIN_ROWS`` with a value, or None. Returns ``(operation, rows
    compared)``. ``cache``: as for :func:`._over_rows_known.kept_positions`."""
    if now.size <= MIN_ROWS:
        return None
    if np.isfinite(now[0]) and not (now[1:] == now[:-1]).any():
        return None  # (no gap the column shows: the checks of the row before decide)
    starts = [s for s in _starts(now) if np.isfinite(now[s:]).all()]
    if not starts:
        return None  # (a row past the first value holds none: neither mean leaves one)
    at = kept_positions(kept, ids, cache)
    known = at >= 0
    loaded = np.full(now.size, np.nan)
    loaded[known] = kept[1][at[known]]
    gap, value = known & np.isnan(loaded), known & ~np.isnan(loaded)
    scale = max(1.0, float(np.abs(now[starts[0] :]).max()))  # (finite from there)
    told = np.abs(loaded[value])
    told = told[np.isfinite(told)]  # (a loaded inf: no scale)
    if told.size:
        scale = max(scale, float(told.max()))
    for start in starts:
        had = _values_at(now, start, gap, value)
        if had is None:
            continue
        found = _explaining(had, start, now, loaded, value, gap, scale)
        if found is not None:
            return found
    return None


def _explaining(had, start, now, loaded, value, gap, scale):
    """:func:`over_gaps` for one reading of the rows that had a value (``had``, the
    first at ``start``)."""
    rows = np.flatnonzero(value & (np.arange(now.size) > start))
    filled = int(np.count_nonzero(gap[start + 1 :]))  # (they hold a value now)
    if rows.size < MIN_ROWS or int(np.count_nonzero(loaded[rows] != now[rows])) + filled < (
        MIN_ROWS
    ):
        return None
    x, here, y = loaded[rows], now[rows], now[rows - 1]
    compared = int(rows.size) + filled + bool(value[start])
    if value[start] and not _close(now[start], loaded[start], scale):
        return None  # (the first value's mean is that value)
    count = (np.cumsum(had) - had)[rows].astype(np.float64)  # (values before each)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if _explained(count * y / (count + 1), x / (count + 1), here, scale):
            return "expanding().mean()", compared
        # (either mean moves from the mean before toward the loaded value, never past
        # either: a row's value outside them, beyond rounding, rules both out cheaply
        # before alpha is searched for)
        slack = 2e-9 * scale
        if ((here < np.minimum(x, y) - slack) | (here > np.maximum(x, y) + slack)).any():
            return None
        # alpha from the row it is read from best: a step of the way from the mean
        # before to the loaded value far from both (r near 0 or 1 tells little)
        first = slice(0, min(_FIRST, rows.size))
        away, r = np.abs(x - y)[first], ((here - y) / (x - y))[first]
        told = np.where(np.isfinite(r), away * np.clip(r * (1 - r), 0, None), -1.0)
        j = int(np.argmax(told))
        if not told[j] > 1e-9 * scale:
            return None
        r = float(r[j])
        for adjust in (True, False):
            alpha = _ewm_alpha(had, int(rows[j]), r, adjust)
            if alpha is None:
                continue
            w = _ewm_before(had, alpha, adjust)[rows]
            new = 1.0 if adjust else alpha
            if _explained(w * y / (w + new), new * x / (w + new), here, scale):
                named = f"alpha={alpha:.6g}" + ("" if adjust else ", adjust=False")
                return f"ewm({named}).mean()", compared
    return None
