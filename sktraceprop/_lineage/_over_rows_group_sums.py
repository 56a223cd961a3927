"""A loaded column overwritten with its running sum per group (``groupby(key).cumsum()``),
seen from a sampled load's witness rows (see :mod:`._over_rows`).

The group of a row that is not a witness is not kept, so the row before a witness row in
its group is not known; the data says where it may be: after the group's witness row
before it (or from the start), and not a witness row of another group. There a running
sum per group holds the witness row's value less its loaded value. A witness row
explained by no row is no such sum; one explained by several (a column of few distinct
values, where a match is chance) is no evidence. The first witness row of a group may hold its
loaded value (the group's first row). Every witness row must be explained, at least half
of those searched (and ``MIN_ROWS``) by exactly one row, each of its own (a value the
data holds twice in the rows searched, which a running sum of a long load meets now and
then, does not undo the others), and ``MIN_ROWS`` of them differ from their loaded
value.
"""

import numpy as np
import pandas as pd

from ._over_rows_chain import MIN_ROWS
from ._over_rows_groups import _keys

#: Rows searched, over all witness rows, at most this many times the data's rows.
_MAX_SEARCHED = 8


def group_cumsum(load, name, rows, at, values):
    """``"groupby(key).cumsum()"`` where the column ``name`` is its group's running sum
    on the witness rows the data holds (``values``: the column now, in the data's order;
    ``rows``: positions there of witness rows, ascending, ``at``: their positions among
    the load's), else None."""
    if rows.size < MIN_ROWS:
        return None
    column = load.columns[name]
    loaded = np.where(column.missing[at], np.nan, column.values[at]).astype(np.float64)
    here = np.asarray(values[rows], dtype=np.float64)
    if not (np.isfinite(loaded).all() and np.isfinite(here).all()):
        return None
    scale = np.maximum(np.maximum(np.abs(here), np.abs(loaded)), 1.0)
    if int(np.count_nonzero(np.abs(here - loaded) > 1e-9 * scale)) < MIN_ROWS:
        return None
    for key, kept in _keys(load, name):
        if kept.missing[at].any():
            continue
        codes, _ = pd.factorize(pd.Series(kept.values[at]), use_na_sentinel=False)
        if _explained(values, rows, codes, here - loaded, here, loaded, scale):
            return f"groupby({key}).cumsum()"
    return None


def _explained(values, rows, codes, residual, here, loaded, scale):
    """Whether each witness row's ``residual`` (its value less its loaded value) is the
    value of a row of ``values`` between the group's witness row before it and itself,
    a row of no other group's witness rows (or, for a group's first, the residual is
    0), and of exactly one such row, no other witness row's match, for at least half
    the witness rows searched (and ``MIN_ROWS``)."""
    n_codes = int(codes.max()) + 1
    group_at = np.full(values.size, -1)
    group_at[rows] = codes  # (a witness row's group: a row of another cannot match)
    last = np.full(n_codes, -1)
    used = set()
    searched = searches = unique = 0
    for j in range(rows.size):
        t, g = int(rows[j]), int(codes[j])
        lo = int(last[g])
        last[g] = t
        if lo < 0 and abs(here[j] - loaded[j]) <= 1e-9 * scale[j]:
            continue  # (the group's first row: its own value)
        lo = max(lo, 0)
        searched += t - lo
        if searched > _MAX_SEARCHED * values.size:
            return False
        window = values[lo:t]
        match = np.flatnonzero(
            (np.abs(window - residual[j]) <= 1e-9 * scale[j])
            & ((group_at[lo:t] == -1) | (group_at[lo:t] == g))
        )
        if not match.size:
            return False
        searches += 1
        if match.size == 1:
            unique += 1
            if int(match[0]) + lo in used:
                return False
            used.add(int(match[0]) + lo)
    return unique >= max(MIN_ROWS, (searches + 1) // 2)
