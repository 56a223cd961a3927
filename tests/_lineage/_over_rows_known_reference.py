"""The windows check of a subset as it was before it was made faster (session 71):
``in_windows`` and its helpers verbatim from ``_over_rows_known``, over a data-sized
array of the kept values and a running count of the unknown ones, every window width
tried one at a time: the truth the faster search is tested against
(``test_over_rows_known_fast.py``)."""

import numpy as np

from sktraceprop._lineage._over_rows_chain import MIN_ROWS, WINDOWS
from sktraceprop._lineage._over_rows_file_order import _explains
from sktraceprop._lineage._over_rows_known import FIRST, kept_positions


def _whole_windows(unknown, rows, w):
    """Of ``rows`` (sorted positions), those whose window of ``w`` rows ending there
    holds no unknown value (``unknown``: the running count of them, from 0)."""
    ends = rows[rows >= w - 1]
    return ends[unknown[ends + 1] - unknown[ends + 1 - w] == 0]


def _tried(x, rows):
    """``(operation, positions, expected values there)`` for each window tried on ``x``
    (the loaded values in the data's order, NaN where not kept or missing), at the rows
    of ``rows`` (those of a value) whose window is wholly kept: only those, so that a
    large load costs what its lines kept do."""
    unknown = np.concatenate([[0], np.cumsum(np.isnan(x))])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = _whole_windows(unknown, rows, 2)
        yield "diff", p, x[p] - x[p - 1]
        yield "pct_change", p, x[p] / x[p - 1] - 1
    spreads = []
    for w in WINDOWS:
        if w >= x.size:
            break
        ends = _whole_windows(unknown, rows, w)
        if ends.size < MIN_ROWS:
            break  # (wider windows hold no fewer lines not kept)
        windows = x[ends[:, None] + np.arange(1 - w, 1)]
        total = windows.sum(axis=1)
        yield f"rolling({w}).mean()", ends, total / w
        yield f"rolling({w}).sum()", ends, total
        lag = (w - 1) // 2
        if lag:  # (centred: the trailing window's value, lag rows earlier, as pandas)
            yield f"rolling({w}, center=True).mean()", ends - lag, total / w
        spreads.append((w, ends, np.var(windows, axis=1, ddof=1)))  # (two passes)
    for w, ends, var in spreads:  # (after the means, as :mod:`._over_rows` tries them)
        yield f"rolling({w}).std()", ends, np.sqrt(var)
        yield f"rolling({w}).var()", ends, var


def in_windows(kept, ids, now, cache=None):
    """The moving window over the data's rows (``ids``, in the order the operation
    ran; ``now``: the column's values there) that explains the column on every row
    whose window's loaded values are all ``kept`` (:func:`kept_values`), of at least
    ``MIN_ROWS``, or None. Returns ``(operation, rows compared)``. ``cache``: as for
    :func:`kept_positions`."""
    kept_at = kept[1]
    at = kept_positions(kept, ids, cache)
    rows = np.flatnonzero(at >= 0)
    x = np.full(ids.size, np.nan)
    x[rows] = kept_at[at[rows]]
    rows = rows[~np.isnan(x[rows])]
    if rows.size < MIN_ROWS:
        return None
    finite = np.abs(np.concatenate([x[rows], now[rows]]))
    finite = finite[np.isfinite(finite)]
    scale = max(float(finite.max()), 1.0) if finite.size else 1.0
    # (first at some rows spread over the data: a column none explains, the usual case,
    # costs a pass over those alone; the one found is then checked at every row)
    some = rows[np.unique(np.linspace(0, rows.size - 1, min(rows.size, FIRST)).astype(int))]
    op = _explaining(x, some, now, scale)
    if op is None or some.size == rows.size:
        return op
    found = _explaining(x, rows, now, scale, only=op[0])
    return found if found is not None and found[0] == op[0] else None


def _explaining(x, rows, now, scale, only=None):
    """``(operation, rows compared)`` of the first window of :func:`_tried` (``only``
    that one, where given) that explains ``now`` on ``rows``, or None."""
    for op, where, expected in _tried(x, rows):
        if only is not None and op != only:
            continue
        expected = np.where(np.isfinite(expected), expected, np.nan)
        known = ~np.isnan(expected)  # (a value the window gives: NaN now is not it)
        if int(known.sum()) < MIN_ROWS:
            continue
        where, expected = where[known], expected[known]
        if _explains(expected, now[where], x[where], scale):
            return op, int(where.size)
    return None
