"""A load whose every row is a witness (under 512 rows), known whole: each operation
over rows tried is computed on the loaded column, in the load's order and in the data's
order over its rows, and compared with the column now on every row (see
:mod:`._over_rows`)."""

import numpy as np
import pandas as pd

from ._over_rows_chain import MIN_ROWS, WINDOWS


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
        yield f"rolling({w}).var()", series.rolling(w).var()
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


def _whole(load):
    """Whether ``load`` keeps every row of its frame (under 512 rows)."""
    return load.chosen is None and load.stride == 1 and load.frame_rows == load.ids.size
