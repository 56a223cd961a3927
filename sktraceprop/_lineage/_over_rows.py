"""Loaded columns overwritten with values computed over rows (``cumsum``, ``diff``,
``rolling(...).mean()``, ``groupby(...).transform("mean")``...).

A loaded column changed in place keeps each row's line, which is right where the new
value is computed from the row's own values (a unit conversion). A running total, a
difference with the row before, a moving or group mean is not: the row's value comes
from other lines too, its lineage names its own line alone, and unlearning one line
leaves what it gave to the rows after it (or its group). The library does not see the
operation; it sees the result on the witness rows, and tries the usual ones.

A load whose every row is a witness (under 512 rows) is known whole: each operation
(there also a moving standard deviation or variance and a group's sum or standard
deviation) is computed on the loaded column (in the load's order, and in the data's
order over its rows) and compared with the column now, on every row compared (an
exponentially weighted mean is checked there as in a larger load). A larger load keeps
a sample: there the running ones (``cumsum``, ``cummax``, ``cummin``,
``expanding().mean()``) are checked
from each witness row and the row before it in the data, which the data holds, and so is
an exponentially weighted mean (:mod:`._over_rows_ewm`); a difference, a percentage
change, a moving mean or sum (centred or not) is rebuilt from the data's rows up to a
constant (:mod:`._over_rows_chain`); a running sum per group from the earlier row of the
data that holds a witness row's value less its loaded value
(:mod:`._over_rows_group_sums`); a group's mean is seen as one value per group within
its rows' loaded values (:mod:`._over_rows_groups`, said to be checked on a sample), and
a group's standard deviation as one near the spread of its rows' loaded values
(:mod:`._over_rows_group_std`, said to be checked on a sample, statistically). Where
none of these explains it, an operation run on the load in its order before a random
subset (the data's order and its ids' both no longer the file's lines one after
another) is checked from the loaded values kept around some witness rows
(:mod:`._over_rows_file_order`; there also a moving standard deviation, and a column
with gaps, past which an exponentially weighted mean with ``adjust=False`` is followed
step by step, :mod:`._over_rows_ewm_gaps`); one run on such a subset in its own order
(a moving mean, sum, standard deviation or variance, a difference, a percentage change,
over a column with gaps or not) wherever the loaded value of each row of a window of the
data's rows is kept (:mod:`._over_rows_known`); an expanding mean or an exponentially
weighted mean run on the data's rows over a column with gaps (past a gap its count or
weights are not the running ones) at every kept line, which rows were gaps read from
the column, as pandas carries the mean over them (:mod:`._over_rows_gaps`, in a load
under 512 rows too). A witness row whose loaded value is missing is left out of each
check; where nothing explains a column that changed on such
rows, holds missing values now, whose load kept too few runs, or whose wider windows
hold lines whose loaded values are not kept, the run's note says it could not be
checked (:mod:`._over_rows_unchecked`). A group's sum or count needs the loaded
value of other rows, which is not kept, and is left to the run's note of a changed
column. The column must be
explained on every row compared (the operation recomputed here agrees with it to a
relative ``1e-9``: a sum in another order rounds otherwise) and differ on at least
``MIN_ROWS`` of them (exactly: a loaded value and the value now are compared as they
are, and a value moved from a row within ``1e-9`` of it is still moved). A new column
under a new name is a feature computed beside the loaded one, not a loaded value: the
run records it as a column of no known source, and nothing here warns.
"""

import numpy as np
import pandas as pd

from ._over_rows_chain import MIN_ROWS
from ._over_rows_file_order import in_file_order
from ._over_rows_gaps import over_gaps
from ._over_rows_group_std import CHECKED_SPREAD, group_std
from ._over_rows_group_sums import group_cumsum
from ._over_rows_groups import CHECKED, group_mean
from ._over_rows_known import in_windows, kept_values, unchecked_width
from ._over_rows_rows_of import _RowsOf
from ._over_rows_running import _running
from ._over_rows_unchecked import unchecked_of
from ._over_rows_whole import _in_whole_load, _whole
from ._witness import WITNESSES

#: How the rows were checked where the operation ran on the load in its order, the data
#: a subset of it (:mod:`._over_rows_file_order`).
_RUNS_CHECKED = (
    "each of the {} of them whose neighbouring lines' loaded values are kept explained by "
    "it, in the file's order"
)

#: How the rows were checked where the operation ran on the data's rows in its order and
#: a window's loaded values are kept (:mod:`._over_rows_known`).
_KEPT_CHECKED = (
    "each of the {} of them whose window's loaded values are all kept explained by it, "
    "in the data's order"
)

#: How the rows were checked where the operation ran on the data's rows in its order over
#: a column with gaps (:mod:`._over_rows_gaps`).
_GAPS_CHECKED = (
    "each of the {} of them whose loaded value is kept explained by it, in the data's "
    "order, the gaps before them read from the column (a row holding the value of the "
    "row before carried it over a gap)"
)


def over_rows(X, ids, changed, sources):
    """Loaded columns of ``X``, under their loaded name, whose values now are an
    operation over rows of the values loaded.

    Parameters
    ----------
    X : DataFrame
        The data, rows in the order of ``ids``.
    ids : ndarray of int64
        Row ids of ``X``.
    changed : Changes
        The columns of ``X`` changed after loading (its ``by_source`` and ``rows``).
    sources : dict
        Source code -> :class:`~._source.Source`.

    Returns
    -------
    found : list of tuple
        ``(column, operation, source id, rows that differ, how checked)`` per column
        found (``how checked``: None where every row compared is explained exactly).
    """
    out, undecided, unchecked = [], [], []
    changed.over_rows_unchecked = unchecked
    if not changed.by_source:
        return out
    names = [str(c) for c in X.columns]
    rows_of = _RowsOf(ids)  # (each source's rows, their order, taken once for all columns)
    for name, (_, differ_ids, filled_ids) in changed.rows.items():
        if name not in names or differ_ids.size < MIN_ROWS:
            continue
        series = X[X.columns[names.index(name)]]
        if not pd.api.types.is_numeric_dtype(series.dtype) or series.dtype == bool:
            continue
        now = series.to_numpy(dtype=np.float64, na_value=np.nan)
        for code, columns in changed.by_source.items():
            if name not in columns or columns[name][0] != name or code not in sources:
                continue  # (a new column, or one identified by its values: a feature)
            maybe = []
            fill = _filled_with(now, ids, filled_ids)
            op, how = _found(code, sources[code], name, rows_of, now, maybe, fill)
            if op is not None:
                out.append((name, op, sources[code].source_id, int(differ_ids.size), how))
                break
            if maybe:
                undecided.append((name, maybe[0], sources[code].source_id, int(differ_ids.size)))
                break
            loads = WITNESSES.loads(code, sources[code].sha256)
            if all(_whole(w) for w in loads):
                continue  # (every row compared, as pandas computes each operation)
            mine = rows_of.of(code)[0]
            empty = int(np.isnan(now if mine.size == now.size else now[mine]).sum())
            gap = unchecked_of(loads, name)
            wide = unchecked_width(
                [w for w in loads if not _whole(w)], name, rows_of.of(code)[1], rows_of.cache
            )
            if gap is not None or filled_ids.size or empty or wide:
                source_id = sources[code].source_id
                found = (int(differ_ids.size), int(filled_ids.size), empty)
                unchecked.append((name, source_id, *found, *(gap or (0,)), wide))
                break
    changed.over_rows_undecided = undecided
    return out


def _filled_with(now, ids, filled_ids):
    """The one value the column holds now (``now``, on the data's rows ``ids``) at the
    witness rows whose loaded value was missing (``filled_ids``), or None."""
    if not filled_ids.size:
        return None
    held = now[np.isin(ids, filled_ids)]
    held = np.unique(held[~np.isnan(held)])
    return float(held[0]) if held.size == 1 else None


def _found(code, source, name, rows_of, now, maybe=None, fill=None):
    """``(operation, how checked)`` found for column ``name`` of source ``code``, else
    ``(None, None)``; a group mean the sample could not tell from a lookup is appended
    to ``maybe`` (for the run's note). ``fill``: the value the gaps were filled with
    (:func:`_filled_with`), or None."""
    mine, X_ids = rows_of.of(code)
    values = now if mine.size == now.size else now[mine]
    for load in WITNESSES.loads(code, source.sha256):
        column = load.columns.get(name)
        if column is None or not column.numeric:
            continue
        if _whole(load):
            op = _in_whole_load(load, name, X_ids, values)
            if op is None:
                op = _running(column, rows_of.witnesses(code, load), values, chained=False)
            kept = kept_values(load, name) if op is None else None
            found = over_gaps(kept, X_ids, values) if kept is not None else None
            if found is not None:
                return found[0], _GAPS_CHECKED.format(found[1])
        else:
            op = _running(column, rows_of.witnesses(code, load), values)
            if op is None and fill is not None:
                # (a running op that skipped the gaps, filled since with one value: rows
                # holding it are gaps again, each witness row's running value continuing
                # from the nearest earlier row that holds another)
                gaps = np.where(values == fill, np.nan, values)
                op = _running(column, rows_of.witnesses(code, load), gaps)
            if op is None and load.runs is not None:
                found = in_file_order(load.runs, name, rows_of.now_at(code, values))
                if found is not None:
                    return found[0], _RUNS_CHECKED.format(found[1])
            kept = kept_values(load, name, rows_of.cache) if op is None else None
            if kept is not None:
                found = in_windows(kept, X_ids, values, rows_of.cache)
                if found is not None:
                    return found[0], _KEPT_CHECKED.format(found[1])
                found = over_gaps(kept, X_ids, values, rows_of.cache)
                if found is not None:
                    return found[0], _GAPS_CHECKED.format(found[1])
            if op is None:
                _, rows, at = rows_of.witnesses(code, load)[0]  # (the data's order)
                op = group_std(load, name, rows, at, values)
                if op is not None:
                    return op, CHECKED_SPREAD
                mean = group_mean(load, name, rows, at, values)
                if mean is not None and mean[1]:
                    return mean[0], CHECKED
                if mean is not None and maybe is not None and not maybe:
                    maybe.append(mean[0])
                op = group_cumsum(load, name, rows, at, values)
        if op is not None:
            return op, None
    return None, None
