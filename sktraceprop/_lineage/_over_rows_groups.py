"""A loaded column overwritten with its group's mean (``groupby(g).transform("mean")``),
seen from a sampled load's witness rows (see :mod:`._over_rows`).

A load of more than 512 rows keeps a sample of witness rows, so the group's mean of the
loaded values cannot be computed. What the sample shows is enough to say it: on the
witness rows the data holds, grouped by their loaded key (a column of the load with few
distinct values), the column now holds one value per group, a value differing from the
row's loaded one on at least ``MIN_ROWS`` rows and lying within the loaded values of the
group's witness rows (a mean always lies within its values), in at least two groups,
with different values. A value looked up per group (``g.map(table)``) is one per group
too, but its own row's: it lies within every group's values by chance only, and is left
to the run's note of a changed column, as a sum or a count per group (not within the
values) is. The warning says the statistic was checked on a sample, and that another
statistic within the group's values (a median) looks the same there.
"""

import numpy as np
import pandas as pd

from ._over_rows_chain import MIN_ROWS

#: How the warning says a group mean seen on a sample was checked.
CHECKED = (
    "checked on the load's witness rows, a sample: one value per group, within the "
    "loaded values of the group's rows compared (a mean, or another statistic within "
    "them, a median)"
)


def _keys(load, name):
    """``(key name, column)`` of the load's columns with few distinct values on its
    witness rows (more than one, at most a third of the rows)."""
    for key, column in load.columns.items():
        if key == name:
            continue
        present = column.values[~column.missing]
        distinct = np.unique(present).size if column.numeric else len(set(present.tolist()))
        if 1 < distinct <= max(2, column.values.size // 3):
            yield key, column


def _close(a, b, scale):
    return np.abs(a - b) <= 1e-9 * scale


def group_mean(load, name, rows, at, values):
    """``"groupby(key).transform('mean')"`` where the column ``name`` is its group's mean
    on the witness rows the data holds (``values``: the column now, in the data's order;
    ``rows``: positions there of witness rows, ``at``: their positions among the
    load's), else None."""
    return group_statistic(load, name, rows, at, values, _is_group_mean, "mean")


def group_statistic(load, name, rows, at, values, is_statistic, label):
    """``"groupby(key).transform('<label>')"`` for the first key of the load (a column of
    few values, :func:`_keys`) by whose groups ``is_statistic(codes, loaded, here,
    scale)`` holds of the column ``name`` on the witness rows the data holds, differing
    from their loaded values on ``MIN_ROWS`` rows or more; else None."""
    if rows.size < MIN_ROWS:
        return None
    column = load.columns[name]
    loaded = np.where(column.missing[at], np.nan, column.values[at]).astype(np.float64)
    here = np.asarray(values[rows], dtype=np.float64)
    finite = np.isfinite(loaded) & np.isfinite(here)
    if not finite.any():
        return None
    scale = max(float(np.abs(loaded[finite]).max()), float(np.abs(here[finite]).max()), 1.0)
    differ = finite & ~_close(loaded, here, scale)
    if int(differ.sum()) < MIN_ROWS:
        return None
    for key, kept in _keys(load, name):
        ok = finite & ~kept.missing[at]
        codes, _ = pd.factorize(pd.Series(kept.values[at][ok]), use_na_sentinel=False)
        if is_statistic(codes, loaded[ok], here[ok], scale):
            return f"groupby({key}).transform('{label}')"
    return None


def _is_group_mean(codes, loaded, here, scale):
    """Whether ``here`` is one value per group (``codes``) that lies within the group's
    ``loaded`` values, on at least half the rows (and ``MIN_ROWS``) in groups of two
    rows or more, with two such groups or more of different values."""
    n_groups = int(codes.max()) + 1 if codes.size else 0
    counts = np.bincount(codes, minlength=n_groups)
    order = np.argsort(codes, kind="stable")
    begin = np.concatenate([[0], np.cumsum(counts)[:-1]])
    lo = np.minimum.reduceat(here[order], begin) if codes.size else here
    hi = np.maximum.reduceat(here[order], begin) if codes.size else here
    if not _close(lo, hi, scale).all():
        return False  # (not one value per group)
    low = np.minimum.reduceat(loaded[order], begin)
    high = np.maximum.reduceat(loaded[order], begin)
    several = counts >= 2
    if int(several.sum()) < 2 or int(counts[several].sum()) < max(MIN_ROWS, codes.size // 2):
        return False
    value = lo[several]
    within = (value >= low[several] - 1e-9 * scale) & (value <= high[several] + 1e-9 * scale)
    return bool(within.all()) and np.unique(value).size >= 2
