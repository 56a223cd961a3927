"""Loaded columns overwritten with values computed over rows (``cumsum``, ``diff``,
``rolling(...).mean()``, ``groupby(...).transform("mean")``...).

A loaded column changed in place keeps each row's line, which is right where the new
value is computed from the row's own values (a unit conversion). A running total, a
difference with the row before, a moving or group mean is not: the row's value comes
from other lines too, its lineage names its own line alone, and unlearning one line
leaves what it gave to the rows after it (or its group). The library does not see the
operation; it sees the result on the witness rows, and tries the usual ones.

A load whose every row is a witness (under 512 rows) is known whole: each operation
(there also a moving standard deviation and a group's sum or standard deviation) is
computed on the loaded column (in the load's order, and in the data's order over its
rows) and compared with the column now, on every row compared (an exponentially weighted
mean is checked there as in a larger load). A larger load keeps a sample: there the
running ones (``cumsum``, ``cummax``, ``cummin``, ``expanding().mean()``) are checked
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
step by step, :mod:`._over_rows_ewm_gaps`). A witness row whose loaded value is missing
is left out of each check; where nothing explains a column that changed on such rows,
holds missing values now, or whose load kept too few runs, the run's note says it could
not be checked (:mod:`._over_rows_unchecked`). A group's sum or count needs the loaded
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

from ._over_rows_chain import MIN_ROWS, WINDOWS, _chained, _Ordered
from ._over_rows_ewm import ewm_mean
from ._over_rows_file_order import in_file_order
from ._over_rows_group_std import CHECKED_SPREAD, group_std
from ._over_rows_group_sums import group_cumsum
from ._over_rows_groups import CHECKED, UNDECIDED, group_mean
from ._over_rows_unchecked import earlier_known, unchecked_of
from ._witness import WITNESSES, is_witness, positions_in

#: How the rows were checked where the operation ran on the load in its order, the data
#: a subset of it (:mod:`._over_rows_file_order`).
_RUNS_CHECKED = (
    "each of the {} of them whose neighbouring lines' loaded values are kept explained by "
    "it, in the file's order"
)


def _scale(b):
    """The size of ``b``'s largest finite value, at least 1."""
    finite = np.abs(b[np.isfinite(b)])
    return max(float(finite.max()), 1.0) if finite.size else 1.0


def _close(a, b, scale=None):
    """Equal within float error (of ``scale``, default :func:`_scale` of ``b``), NaN
    equal to NaN (element-wise)."""
    scale = _scale(b) if scale is None else scale
    with np.errstate(invalid="ignore", over="ignore"):
        near = np.abs(a - b) <= 1e-9 * scale
    return near | (np.isnan(a) & np.isnan(b))


def _enough(values, loaded, now):
    """Whether at least ``MIN_ROWS`` rows the operation gives a value differ from the
    value loaded (``loaded``, the data's rows in its order, or the load's)."""
    if loaded.size != now.size:
        return int(np.count_nonzero(~np.isnan(values))) >= MIN_ROWS
    # (exactly: both are values as loaded or as they are now, not recomputed; within
    # 1e-9 a column of near-equal values overwritten by its cummax differed nowhere)
    with np.errstate(invalid="ignore"):
        same = (loaded == now) | (np.isnan(loaded) & np.isnan(now))
    differ = ~np.isnan(values) & ~same
    return int(np.count_nonzero(differ)) >= MIN_ROWS


def _whole_ops(series, keys):
    """``(name, values)`` of each operation over rows tried on ``series`` (a float
    Series in the order the operation would have run), ``keys``: ``(name, array)`` of
    the candidate group keys, aligned with it."""
    values = series.to_numpy(dtype=np.float64)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    if np.isnan(sums[-1]):  # (pandas skips missing values)
        yield "cumsum", series.cumsum()
        yield "cummax", series.cummax()
        yield "cummin", series.cummin()
        yield "diff", series.diff()
        yield "pct_change", series.pct_change(fill_method=None)
        yield "expanding().mean()", series.expanding().mean()
    else:  # (the same, by NumPy: a few microseconds each)
        yield "cumsum", sums[1:]
        yield "cummax", np.maximum.accumulate(values)
        yield "cummin", np.minimum.accumulate(values)
        yield "diff", np.concatenate([[np.nan], np.diff(values)])
        with np.errstate(divide="ignore", invalid="ignore"):
            yield "pct_change", np.concatenate([[np.nan], values[1:] / values[:-1] - 1])
        yield "expanding().mean()", sums[1:] / np.arange(1, values.size + 1)
    for w in WINDOWS:
        if w >= series.size:
            break
        if np.isnan(sums[-1]):
            yield f"rolling({w}).mean()", series.rolling(w).mean()
            yield f"rolling({w}).sum()", series.rolling(w).sum()
            yield f"rolling({w}, center=True).mean()", series.rolling(w, center=True).mean()
            continue
        total = np.full(values.size, np.nan)  # (pandas' rolling sum, by running sums)
        total[w - 1 :] = sums[w:] - sums[:-w]
        yield f"rolling({w}).mean()", total / w
        yield f"rolling({w}).sum()", total
        # (centred: the trailing window's value, (w - 1) // 2 rows later, as pandas does)
        centred = np.full(values.size, np.nan)
        lag = (w - 1) // 2
        centred[: values.size - lag] = total[lag:] / w
        yield f"rolling({w}, center=True).mean()", centred
    for w in WINDOWS:  # (after the means, tried last: a pass of pandas each, whose
        # running sums the column holds; a two-pass std differs from them by more than
        # 1e-9 on values far from 0)
        if w >= series.size:
            break
        yield f"rolling({w}).std()", series.rolling(w).std()
    for key_name, key in keys:
        for how in ("mean", "sum", "std"):
            out = series.groupby(key, dropna=False).transform(how)
            yield f"groupby({key_name}).transform({how!r})", out
        yield f"groupby({key_name}).cumsum()", series.groupby(key, dropna=False).cumsum()


def _distinct(column):
    """How many distinct values a kept column holds (0 for one of unhashable cells, a
    pyarrow list column's arrays: no group key)."""
    if column.numeric:
        return np.unique(column.values).size
    try:
        return len(set(column.values.tolist()))
    except TypeError:
        return 0


def _in_whole_load(load, name, X_ids, now):
    """The operation that explains ``name`` now (``now``: its values, in the data's
    order, on the rows ``X_ids`` of this load), for a load whose every row is a witness,
    or None. Tried in the load's order over all its rows, then in the data's order over
    its rows (an operation run after a filter, a sort or a split)."""
    order = np.argsort(load.frame_positions, kind="stable")  # sorted id -> load order
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    at = load.positions(X_ids)
    if (at < 0).any():
        return None
    where = rank[at]  # each row of the data: its position in the load
    column = load.columns[name]
    loaded = np.where(column.missing, np.nan, column.values.astype(np.float64))[order]
    keys = [
        (k, c.values[order])
        for k, c in load.columns.items()
        if k != name and 1 < _distinct(c) <= max(2, order.size // 3)
    ]
    scale = _scale(now)
    same = where.size == order.size and (where == np.arange(where.size)).all()
    for rows in (None,) if same else (None, where):
        base = loaded if rows is None else loaded[rows]
        part = [(k, v if rows is None else v[rows]) for k, v in keys]
        for op, values in _whole_ops(pd.Series(base), part):
            if isinstance(values, pd.Series):
                values = values.to_numpy(dtype=np.float64, na_value=np.nan)
            values = values if rows is not None else values[where]
            # (a row the operation leaves empty, a window's first rows, may have been
            # filled or dropped since: not compared)
            if (_close(values, now, scale) | np.isnan(values)).all() and _enough(
                values, base, now
            ):
                return op
    return None


def _running(column, witnesses, now, chained=True):
    """The running operation that explains a column (``now``: its values in the data's
    order; ``column``: its loaded values on a sampled load's witness rows) on every
    witness row, from the row before each in the data, or None. ``witnesses``: per
    order tried (the data's, then its ids' where not the same: the file's), the order
    (None: the data's), the witness rows' positions in it (the first row left out) and
    their positions among the load's. Each is tried first on one pair of witness rows,
    so that a column none explains costs no pass over the data per operation.
    ``chained``: False to try the exponentially weighted mean alone (a whole load, where
    the others are computed on the loaded column)."""
    for order, rows, at in witnesses:
        values = now if order is None else _Ordered(now, order)
        if rows.size < MIN_ROWS:
            return None
        loaded = np.where(column.missing[at], np.nan, column.values[at]).astype(np.float64)
        # (a witness row whose loaded value is missing decides nothing here: left out,
        # the others compared; see :mod:`._over_rows_unchecked`)
        own = ~np.isnan(loaded)
        rows, loaded = rows[own], loaded[own]
        if rows.size < MIN_ROWS:
            continue
        here, before = values[rows], earlier_known(values, rows)
        if _close(loaded, here).all():
            continue
        if not chained:
            op = ewm_mean(here, before, loaded, rows)
            if op is not None:
                return op
            continue
        tried = {
            "cumsum": before + loaded,
            "cummax": np.maximum(before, loaded),
            "cummin": np.minimum(before, loaded),
            "expanding().mean()": (before * rows + loaded) / (rows + 1),
        }
        for op, computed in tried.items():
            if _explained(computed, here):
                return op
        op = _chained(values, rows, loaded)
        if op is None:
            op = ewm_mean(here, before, loaded, rows)
        if op is not None:
            return op
    return None


def _explained(computed, here):
    """Whether ``computed`` (NaN where the row before held no value: not compared) is
    ``here`` on every row compared, of at least ``MIN_ROWS``."""
    known = ~np.isnan(computed)
    return int(known.sum()) >= MIN_ROWS and bool(_close(computed[known], here[known]).all())


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
            op, how = _found(code, sources[code], name, rows_of, now, maybe)
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
            if gap is not None or filled_ids.size or empty:
                source_id = sources[code].source_id
                found = (int(differ_ids.size), int(filled_ids.size), empty)
                unchecked.append((name, source_id, *found, *(gap or (0,))))
                break
    changed.over_rows_undecided = undecided
    return out


class _RowsOf:
    """Per source code, the data's rows of it (their positions and ids), their ids'
    order and their positions among each load's witness rows: found once per fit and
    shared by the columns compared."""

    def __init__(self, ids):
        self.ids = ids
        self._kept = {}

    def of(self, code):
        """``(positions in the data, ids)`` of the rows of source ``code``."""
        if code not in self._kept:
            from ._ids import codes_of

            mine = np.flatnonzero(codes_of(self.ids) == code)
            self._kept[code] = (mine, self.ids[mine])
        return self._kept[code]

    def order(self, code):
        """The order of the ids of ``code``'s rows (None where they are in order)."""
        key = ("order", code)
        if key not in self._kept:
            ids = self.of(code)[1]
            in_order = bool((ids[1:] >= ids[:-1]).all())  # (the file's order already)
            self._kept[key] = None if in_order else np.argsort(ids)  # (ids are unique)
        return self._kept[key]

    def now_at(self, code, values):
        """A function of row ids (any shape) giving ``(values now, held)``: ``values``
        (the column now on ``code``'s rows) at each id the data holds, NaN and False
        where it does not."""
        key = ("sorted", code)
        if key not in self._kept:
            order = self.order(code)
            ids = self.of(code)[1]
            self._kept[key] = ids if order is None else ids[order]
        sorted_ids, order = self._kept[key], self.order(code)

        def at(ids):
            where = positions_in(sorted_ids, ids)
            held = where >= 0
            if order is not None:
                where = np.where(held, order[np.maximum(where, 0)], -1)
            return np.where(held, values[np.maximum(where, 0)], np.nan), held

        return at

    def witnesses(self, code, load):
        """Per order to try (the data's, then its ids' where not the same): ``(order
        or None, positions of ``load``'s witness rows among ``code``'s rows in that
        order, but the first, their positions among the load's)``."""
        key = ("at", code, id(load))
        if key not in self._kept:
            ids = self.of(code)[1]
            if load.chosen is None and load.stride > 1:  # (the hash first: a multiply)
                at = np.full(ids.size, -1, dtype=np.intp)
                maybe = np.flatnonzero(is_witness(ids, load.stride))
                at[maybe] = load.positions(ids[maybe])
            else:
                at = load.positions(ids)
            out = []
            for order in (None, self.order(code)):
                if order is None and out:
                    break
                ordered = at if order is None else at[order]
                rows = np.flatnonzero(ordered[1:] > -1) + 1
                out.append((order, rows, ordered[rows]))
            self._kept[key] = out
        return self._kept[key]


def _whole(load):
    """Whether ``load`` keeps every row of its frame (under 512 rows)."""
    return load.chosen is None and load.stride == 1 and load.frame_rows == load.ids.size


def _found(code, source, name, rows_of, now, maybe=None):
    """``(operation, how checked)`` found for column ``name`` of source ``code``, else
    ``(None, None)``; a group mean the sample could not tell from a lookup is appended
    to ``maybe`` (for the run's note)."""
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
        else:
            op = _running(column, rows_of.witnesses(code, load), values)
            if op is None and load.runs is not None:
                found = in_file_order(load.runs, name, rows_of.now_at(code, values))
                if found is not None:
                    return found[0], _RUNS_CHECKED.format(found[1])
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


def over_rows_message(found, name="X"):
    """The warning (and run note) for :func:`over_rows`' columns."""
    column, op, source, n_differ, how = found[0]
    more = ""
    if len(found) > 1:
        more = " (also " + ", ".join(f"{f[0]}: {f[1]}" for f in found[1:]) + ")"
    return (
        f"column {column} of {name} holds the {column} loaded from {source!r} "
        f"computed over rows ({column}.{op}: {n_differ} rows compared differ from their "
        f"loaded value, {how or 'each explained by it'}){more}, under the loaded column's "
        "name. "
        "A row's value there comes from other rows' lines too (the rows before it, its "
        "window or its group), while its lineage names its own line alone, and unlearning "
        "a line leaves what it gave to the other rows. Compute such features into a new "
        f"column beside the loaded one (df['{column}_{op.split('(')[0]}'] = ...), which "
        "the run records as a column of no known source, or in the pipeline."
    )


def over_rows_undecided_note(undecided, name="X"):
    """The run's note for columns that may hold a group's mean, which the witness sample
    could not tell from a value looked up per group (:data:`UNDECIDED`): not warned."""
    parts = [
        f"column {column} of {name} (loaded from {source!r}; {n_differ} rows compared "
        f"differ from their loaded value) may be {column}.{op}"
        for column, op, source, n_differ in undecided
    ]
    return (
        "; ".join(parts) + f": {UNDECIDED}. If it is, a row's value there comes from "
        "its group's other lines too, while its lineage names its own line alone: compute "
        "such features into a new column beside the loaded one, or in the pipeline."
    )
