"""An exponentially weighted mean with ``adjust=False`` run on a load in its order over a
column with gaps (empty fields), or before a subset dropped some lines, checked at the
witness rows that keep the lines around them (:mod:`._witness_runs`; see
:mod:`._over_rows_file_order`).

pandas (``ignore_na=False``, its default) carries the mean over a missing value and
decays the old weight once per row, gap or not: from the mean ``y`` at a line with a
value (old weight 1), each line after multiplies the old weight ``w`` by ``1 - alpha``,
and one with a value ``x`` makes ``y = (w * y + alpha * x) / (w + alpha)`` (then ``w``
is 1 again). From the nearest line before a witness row that the data still holds and
whose loaded value is not missing, the run's loaded values give every step to the
witness row: its mean follows, whatever the data dropped between. ``alpha`` is read
from a witness row whose line before it is such a line (the one with the largest
step, for the least rounding), and every row compared must agree with it to a relative
``1e-9``. With ``adjust=True`` the weights' sum past a gap depends on every gap before,
beyond the lines kept: not decided here (the run's note says the column could not be
checked, :mod:`._over_rows_unchecked`).
"""

import numpy as np

from ._over_rows_chain import MIN_ROWS
from ._witness_runs import BEFORE


def _start(near, now, held):
    """Per run, the nearest line before the witness row the data holds (a finite value
    now) whose loaded value is not missing; -1 where none."""
    ok = held[:, :BEFORE] & ~np.isnan(near[:, :BEFORE]) & np.isfinite(now[:, :BEFORE])
    last = BEFORE - 1 - np.argmax(ok[:, ::-1], axis=1)
    return np.where(ok.any(axis=1), last, -1)


def _recomputed(near, y, start, alpha):
    """The mean at each run's witness row, from ``y`` (the mean at line ``start``) on,
    through the loaded values ``near`` as pandas steps (``adjust=False``)."""
    w = np.ones(y.size)
    y = y.copy()
    for col in range(int(start.min()) + 1, BEFORE + 1):
        on = start < col
        w = np.where(on, w * (1 - alpha), w)
        x = near[:, col]
        step = on & ~np.isnan(x)
        y = np.where(step, (w * y + alpha * np.where(step, x, 0.0)) / (w + alpha), y)
        w = np.where(step, 1.0, w)
    return y


def ewm_past_gaps(near, now, held, scale):
    """``(operation, witness rows compared)`` of the ``ewm(alpha=..., adjust=False)``
    that explains the data's values ``now`` at the runs' witness rows from the runs'
    loaded values ``near`` (runs whose witness row has a value), or None. ``held``:
    whether the data holds each line of the runs."""
    start = _start(near, now, held)
    loaded, here = near[:, BEFORE], now[:, BEFORE]
    usable = (start >= 0) & np.isfinite(loaded) & np.isfinite(here)
    if int(usable.sum()) < MIN_ROWS:
        return None
    near, now, start, loaded, here = (
        near[usable],
        now[usable],
        start[usable],
        loaded[usable],
        here[usable],
    )
    y = now[np.arange(start.size), start]
    step = loaded - y
    plain = np.flatnonzero((start == BEFORE - 1) & (np.abs(step) > 1e-9 * scale))
    if not plain.size:
        return None
    j = plain[int(np.argmax(np.abs(step[plain])))]
    alpha = float((here[j] - y[j]) / step[j])
    if not 1e-9 < alpha < 1 - 1e-9:
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        expected = _recomputed(near, y, start, alpha)
        fits = np.abs(expected - here) <= 1e-9 * scale
    if not fits.all() or int(np.count_nonzero(loaded != here)) < MIN_ROWS:
        return None
    return f"ewm(alpha={alpha:.6g}, adjust=False).mean()", int(usable.sum())
