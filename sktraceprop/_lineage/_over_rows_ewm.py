"""A loaded column overwritten with its exponentially weighted mean (``ewm(...).mean()``,
any ``alpha``, ``span``, ``com`` or ``halflife``; ``adjust`` either way), checked from
each witness row and the row before it in the data (see :mod:`._over_rows`).

The mean at row ``t`` (of the rows the operation ran over) follows from the mean at the
row before and the row's own loaded value ``x``: ``y[t] = y[t-1] + (x - y[t-1]) / S``,
with ``S = 1 / alpha`` for ``adjust=False`` and ``S = (1 - (1 - alpha) ** (t + 1)) /
alpha`` (the sum of the weights) for ``adjust=True``. The data holds ``y[t]`` and
``y[t-1]``, a witness row holds ``x``: one witness row gives ``alpha`` (the one whose
``x - y[t-1]`` is largest, for the least rounding), and every other must agree with it
to a relative ``1e-9``. Far from the first row the two are the same (the weights' sum is
``1 / alpha`` to float precision), and the warning names pandas' default, ``adjust=True``
(no ``adjust`` named). An ``alpha`` of 0 (a constant) or 1 (the loaded values
themselves) is no such mean.
"""

import numpy as np

from ._over_rows_chain import MIN_ROWS


def _close(a, b, scale):
    return np.abs(a - b) <= 1e-9 * scale


def _beta_for(total, t):
    """``beta`` in (0, 1) whose ``1 + beta + ... + beta ** t`` is ``total`` (``1 <
    total < t + 1``), by bisection (the sum rises with ``beta``)."""
    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if (1 - mid ** (t + 1)) / (1 - mid) < total:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def ewm_mean(here, before, loaded, rows):
    """The ``ewm(...).mean()`` (named with its ``alpha`` and ``adjust``) that gives
    ``here`` (the column now at the witness rows, in the order the operation ran) from
    ``before`` (the column now at the row before each) and ``loaded`` (the witness rows'
    loaded values, at positions ``rows`` of that order), or None."""
    finite = np.isfinite(here) & np.isfinite(before) & np.isfinite(loaded)
    if not finite.all():
        return None
    scale = max(float(np.abs(here).max()), float(np.abs(loaded).max()), 1.0)
    if int(np.count_nonzero(~_close(here, loaded, scale))) < MIN_ROWS:
        return None
    gap = loaded - before
    k = int(np.argmax(np.abs(gap)))
    if not abs(gap[k]) > 1e-9 * scale:
        return None
    ratio = (here[k] - before[k]) / gap[k]  # (1 / S at witness row k)
    if not 1e-9 < ratio < 1 - 1e-9:
        return None
    t = int(rows[k])
    if 1 / ratio < t + 1:  # (pandas' default first: far from the first row, the same)
        beta = _beta_for(1 / ratio, t)
        with np.errstate(over="ignore", under="ignore"):
            weights = (1 - beta ** (rows.astype(np.float64) + 1)) / (1 - beta)
        if _close(here, before + gap / weights, scale).all():
            return f"ewm(alpha={1 - beta:.6g}).mean()"
    if _close(here, before + ratio * gap, scale).all():
        return f"ewm(alpha={ratio:.6g}, adjust=False).mean()"
    return None
