"""The running operations over rows (``cumsum``, ``cummax``, ``cummin``,
``expanding().mean()``, and those rebuilt up to a constant, :mod:`._over_rows_chain`,
or an exponentially weighted mean, :mod:`._over_rows_ewm`) checked from each witness row
of a load and the row before it in the data (see :mod:`._over_rows`)."""

import numpy as np

from ._over_rows_chain import MIN_ROWS, _chained, _Ordered
from ._over_rows_ewm import ewm_mean
from ._over_rows_unchecked import earlier_known
from ._over_rows_whole import _close


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
