"""A moving window over the data's rows (``rolling(w)`` mean, sum, standard deviation
or variance, centred or not; ``diff``, ``pct_change``) run on a sampled load's rows in
the data's order (after a random subset, in the subset's order), checked where the
loaded value of every row of a window is kept: a witness row's, or a line of a run
(:mod:`._witness_runs`).

A running sum or a difference is rebuilt from the data's rows up to a constant
(:mod:`._over_rows_chain`), but a standard deviation is not (it is no sum of the rows'
values), and neither is any of them over a column with gaps (a window holding a missing
value gives none: the chain breaks there, filled or not). Here the window is computed
from loaded values alone, as pandas does (NaN where one is missing, a row whose window
holds a line whose value is not kept not compared), so it holds after a subset in any
order; it needs every line of the window kept, which in a shuffled subset is the case
for few rows, and for narrow windows only (a window of ``w`` rows at about the share of
lines kept to the power ``w - 1``): a wider window there is not checked, and the run's
note says so (:mod:`._over_rows_unchecked`). See :mod:`._over_rows` for what must hold
(every row compared explained, at least ``MIN_ROWS`` changed).
"""

import numpy as np

from ._over_rows_chain import MIN_ROWS, WINDOWS
from ._over_rows_known_search import explained_on, first_explaining, values_at
from ._witness import positions_in

#: Rows of the data first tried (spread over it) before those of a whole large load.
FIRST = 256


def kept_values(load, name, cache=None):
    """``(ids, values)``: every line of ``load`` whose loaded value of column ``name``
    is kept (its witness rows and the lines of its runs), ids sorted, values NaN where
    missing in the file; None where the column is not a numeric one kept. ``cache``: a
    dict kept for one fit, where the ids (the same for every column of a load kept in
    its runs) are found once."""
    column = load.columns.get(name)
    if column is None or not column.numeric:
        return None
    ids = load.ids
    values = np.where(column.missing, np.nan, column.values).astype(np.float64)
    runs = load.runs
    if runs is not None and name in runs.kept:
        key = ("kept ids", id(load))
        found = cache.get(key) if cache is not None else None
        if found is None or found[0] is not load:
            both = np.concatenate([ids, runs.line_ids])
            found = (load, *np.unique(both, return_index=True))  # (a line kept twice: once)
            if cache is not None:
                cache[key] = found  # (the load held: its id stays its own)
        ids, first = found[1], found[2]
        values = np.concatenate([values, runs.kept[name][0]])[first]
    return ids, values


def kept_positions(kept, ids, cache=None):
    """Position of each of the data's rows ``ids`` among the lines ``kept``
    (:func:`kept_values`), ``-1`` where not kept; found once per kept ids and ``ids``
    where ``cache`` (a dict kept for one fit) is given."""
    if cache is None:
        return positions_in(kept[0], ids)
    key = ("kept at", id(kept[0]), id(ids))
    found = cache.get(key)
    if found is None or found[0] is not kept[0] or found[1] is not ids:
        found = cache[key] = (kept[0], ids, positions_in(kept[0], ids))  # (both held)
    return found[2]


def _whole_windows(unknown, rows, w):
    """Of ``rows`` (sorted positions), those whose window of ``w`` rows ending there
    holds no unknown value (``unknown``: the running count of them, from 0)."""
    ends = rows[rows >= w - 1]
    return ends[unknown[ends + 1] - unknown[ends + 1 - w] == 0]


def kept_rows(kept, ids, cache=None):
    """``(positions, rows)``: :func:`kept_positions`, and the positions in the data of
    the rows kept (sorted), found once per kept ids and ``ids`` as it is."""
    at = kept_positions(kept, ids, cache)
    if cache is None:
        return at, np.flatnonzero(at >= 0)
    key = ("kept rows", id(at))
    found = cache.get(key)
    if found is None or found[0] is not at:
        found = cache[key] = (at, np.flatnonzero(at >= 0))  # (the positions held)
    return found


def in_windows(kept, ids, now, cache=None):
    """The moving window over the data's rows (``ids``, in the order the operation
    ran; ``now``: the column's values there) that explains the column on every row
    whose window's loaded values are all ``kept`` (:func:`kept_values`), of at least
    ``MIN_ROWS``, or None. Returns ``(operation, rows compared)``. ``cache``: as for
    :func:`kept_positions`. It costs what the lines kept do, not the data's rows
    (:mod:`._over_rows_known_search`)."""
    at, rows = kept_rows(kept, ids, cache)
    x = values_at(at, kept[1])
    loaded = x(rows)
    known = ~np.isnan(loaded)
    rows, loaded = rows[known], loaded[known]
    if rows.size < MIN_ROWS:
        return None
    finite = np.abs(np.concatenate([loaded, now[rows]]))
    finite = finite[np.isfinite(finite)]
    scale = max(float(finite.max()), 1.0) if finite.size else 1.0
    # (first at some rows spread over the data: a column none explains, the usual case,
    # costs a pass over those alone; the one found is then checked at every row)
    some = rows[np.unique(np.linspace(0, rows.size - 1, min(rows.size, FIRST)).astype(int))]
    found = first_explaining(x, some, now, scale, ids.size)
    if found is None or some.size == rows.size:
        return None if found is None else found[:2]
    compared = explained_on(x, rows, now, scale, found[2])
    return None if compared is None else (found[0], compared)


def unchecked_width(loads, name, ids, cache=None):
    """The narrowest window (of :data:`WINDOWS`) that :func:`in_windows` could not
    check on the data's rows ``ids`` (fewer than ``MIN_ROWS`` of them with their
    window's loaded values all kept) in any of the sampled ``loads`` holding column
    ``name``, or 0 where each was checked. ``cache``: as for :func:`kept_values`
    (the width depends on the lines kept alone, not on their values)."""
    narrowest = 0
    for load in loads:
        kept = kept_values(load, name, cache)
        if kept is None:
            continue
        key = ("width", id(kept[0]), id(ids))
        found = cache.get(key) if cache is not None else None
        if found is None or found[0] is not kept[0] or found[1] is not ids:
            found = (kept[0], ids, _narrowest(kept_positions(kept, ids, cache) >= 0, ids.size))
            if cache is not None:
                cache[key] = found
        width = found[2]
        if width:
            narrowest = width if not narrowest else min(narrowest, width)
    return narrowest


def _narrowest(held, size):
    """The narrowest window not checked on rows ``held`` of ``size``, or 0."""
    unknown = np.concatenate([[0], np.cumsum(~held)])
    rows = np.flatnonzero(held)
    for w in WINDOWS:
        if w >= size:
            break
        if _whole_windows(unknown, rows, w).size < MIN_ROWS:
            return w
    return 0
