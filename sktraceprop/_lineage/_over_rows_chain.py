"""The operations over rows that rebuild a loaded column from the data's rows up to a
constant (``diff``, ``rolling(w).mean()``, ``rolling(w).sum()``, ``rolling(w,
center=True).mean()``, ``pct_change``), checked from a sampled
load's witness rows: each witness row's loaded value, less the running sum of the
differences (over the running product of the changes), is one number, per class of rows
``w`` apart for a moving mean (see :mod:`._over_rows`)."""

import numpy as np

#: Rows that must differ from the loaded value (and be explained) for a column to count.
MIN_ROWS = 3
#: Windows tried for ``rolling(w).mean()``.
WINDOWS = range(2, 31)


class _Ordered:
    """``values`` taken in ``order``, an element or a slice at a time (the rows a check
    of one pair needs), whole only when asked (:func:`_full`)."""

    __slots__ = ("_full", "order", "values")

    def __init__(self, values, order):
        self.values, self.order, self._full = values, order, None

    def __getitem__(self, key):
        return self.values[self.order[key]]

    @property
    def size(self):
        return self.order.size

    def full(self):
        if self._full is None:
            self._full = self.values[self.order]
        return self._full


def _full(values):
    """``values`` as an array (an :class:`_Ordered` taken whole)."""
    return values.full() if isinstance(values, _Ordered) else values


def _chained(values, rows, loaded):
    """``diff``, ``rolling(w).mean()``, ``rolling(w).sum()``, ``rolling(w,
    center=True).mean()`` or ``pct_change`` where the data's rows
    (``values``, in the order the operation ran) rebuild the loaded values of the
    witness rows (``loaded``, at positions ``rows``) up to a constant: each witness
    row's loaded value, less the running sum of the differences (over the running
    product of the changes), is the same number (per class of rows ``w`` apart for a
    moving mean). Rows the operation left empty at the start (dropped since, or
    filled) are left out."""
    start = int(np.argmax(~np.isnan(_full(values)))) if np.isnan(values[0]) else 0
    if start:
        values = _full(values)[start:]
        keep = rows > start
        rows, loaded = rows[keep] - start, loaded[keep]
    if rows.size < MIN_ROWS:
        return None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if _classes_constant(values, 1, rows, loaded, (1,)):
            return "diff"
        for w in WINDOWS:
            # (a moving mean's steps are w times the change, a moving sum's the change)
            factor = _classes_constant(values, w, rows, loaded, (w, 1))
            if factor is not None:
                return f"rolling({w}).mean()" if factor == w else f"rolling({w}).sum()"
            lag = (w - 1) // 2
            if not lag:
                continue
            # (centred: the trailing window's value lag rows earlier, so a witness row's
            # loaded value closes the window at the data's row lag rows before it; the
            # witness rows whose window starts before the data's are left out)
            keep = rows - lag >= w
            if _classes_constant(values, w, rows[keep] - lag, loaded[keep], (w,)):
                return f"rolling({w}, center=True).mean()"
        if _pct_change(values, rows, loaded):
            return "pct_change"
    return None


def _first_pair(rows, w):
    """The first two of ``rows`` (sorted positions) the same class modulo ``w``."""
    seen = {}
    for k, row in enumerate(rows[: w + 1].tolist()):
        if row % w in seen:
            return seen[row % w], k
        seen[row % w] = k
    return None


def _steps(values, w, lo, hi):
    """The steps summed along a class of rows ``w`` apart, at positions ``lo`` to ``hi``
    (every ``w``-th): the values themselves for a difference (``w`` 1), the change of
    the value for a moving mean or sum of ``w`` rows (times ``w`` for a mean)."""
    if w == 1:
        return values[lo:hi:w]
    return values[lo:hi:w] - values[lo - 1 : hi - 1 : w]


def _classes_constant(values, w, rows, loaded, factors):
    """The first of ``factors`` for which ``loaded`` (at positions ``rows``) less the
    running sums of the steps (:func:`_steps`, times the factor) over the rows ``w``
    apart is one number per class of positions modulo ``w``, on at least ``MIN_ROWS``
    witness rows beyond each class's first, and half of them, or None: ``w`` times the
    change of a moving mean of ``w`` rows (the change of a moving sum) is the row's
    value less the value ``w`` rows before; a difference is one row's less the row's
    before (``w`` 1, factor 1)."""
    pair = _first_pair(rows, w) if rows.size >= 2 * w else None
    if pair is None:
        return None
    a, b = pair  # (one pair first: nearly every column that is none fails here)
    p, q = int(rows[a]), int(rows[b])
    part = _steps(values, w, p + w, q + 1)
    total, spread = float(part.sum()), float(np.abs(part).sum())
    for factor in factors:
        size = max(factor * spread, abs(loaded[a]), abs(loaded[b]), 1.0)
        if abs(factor * total - (loaded[b] - loaded[a])) <= 1e-9 * size:
            if _all_classes(_full(values), w, rows, loaded, factor):
                return factor
    return None


def _all_classes(values, w, rows, loaded, factor):
    """:func:`_classes_constant` on every witness row, for one factor."""
    if np.isnan(values).any():
        return False
    steps = np.zeros_like(values)
    steps[w:] = values[w:] if w == 1 else factor * (values[w:] - values[w - 1 : -1])
    steps[:w] = 0.0  # (each class's first row: its sum starts there)
    sums = np.empty_like(steps)
    for r in range(w):
        sums[r::w] = np.cumsum(steps[r::w])
    first = loaded - sums[rows]
    classes = rows % w
    order = np.lexsort((first, classes))
    first, classes = first[order], classes[order]
    _, begin, counts = np.unique(classes, return_index=True, return_counts=True)
    if int((counts - 1).sum()) < max(MIN_ROWS, rows.size // 2):
        return False
    spread = np.maximum.reduceat(first, begin) - np.minimum.reduceat(first, begin)
    tolerance = 1e-9 * max(float(np.abs(steps).sum()), float(np.abs(loaded).max()), 1.0)
    return bool((spread <= tolerance).all())


def _pct_change(values, rows, loaded):
    """Whether each witness row's loaded value over the running product of ``1 +
    values`` (the percentage changes) is one number."""
    p, q = int(rows[0]), int(rows[1])
    ratio = np.prod(1.0 + values[p + 1 : q + 1])
    if not np.isfinite(ratio) or abs(ratio * loaded[0] - loaded[1]) > 1e-9 * abs(loaded[1]):
        return False
    growth = np.cumprod(1.0 + np.concatenate([[0.0], _full(values)[1:]]))
    first = loaded / growth[rows]
    return bool(np.isfinite(first).all() and np.ptp(first) <= 1e-9 * np.abs(first).max())
