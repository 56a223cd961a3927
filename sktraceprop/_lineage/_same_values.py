"""Whether two tables of a step's rows hold the same values: integers exactly.

The row-order check (:mod:`._row_order`) and the check of declared feature dependencies
(:mod:`._declared`) compare a step's output run twice. Floats are compared within a
relative ``1e-9`` (a row run alone may round otherwise than in a batch); integers are
compared exactly. Through ``float64`` they were not: past ``2**53`` a cast rounds them,
and ``1e-9`` of a nanosecond timestamp (``1.7e18``) is 1.7 seconds, so a step that sorted
rows of such timestamps passed the order check and paired rows with other rows' targets.
"""

import numpy as np
import pandas as pd

#: Relative tolerance of floats compared.
RTOL = 1e-9


def as_rows(frame):
    """A DataFrame's values as one 2-D array, integers kept exact: a mix of integer and
    other columns (which ``to_numpy`` gives as float64) as objects."""
    rows = frame.to_numpy()
    if rows.dtype.kind in "fc" and any(
        pd.api.types.is_integer_dtype(t) and not pd.api.types.is_bool_dtype(t)
        for t in frame.dtypes
    ):
        rows = frame.to_numpy(dtype=object)
    return rows


def _integers(a):
    """Cells of an object array that hold integers (not booleans)."""
    return np.frompyfunc(
        lambda v: isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_), 1, 1
    )(a).astype(bool)


def equal_cells(a, b, rtol=RTOL):
    """Per cell of the equal-shaped 2-D arrays ``a`` and ``b``: the same value (integers
    exactly, other numbers within ``rtol`` (0: exactly), NaN equal to NaN, others by
    ``==``)."""
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        return np.asarray(a == b, dtype=bool)
    try:
        x, y = a.astype(float), b.astype(float)
    except (TypeError, ValueError):
        equal = (a == b) | (pd.isna(a) & pd.isna(b))
        return np.asarray(equal, dtype=bool)
    equal = np.isclose(x, y, rtol=rtol, atol=0.0, equal_nan=True)
    if a.dtype == object or b.dtype == object or a.dtype.kind != b.dtype.kind:
        ints = _integers(np.asarray(a, dtype=object)) & _integers(np.asarray(b, dtype=object))
        if ints.any():
            exact = np.asarray(a, dtype=object)[ints] == np.asarray(b, dtype=object)[ints]
            equal[ints] = np.asarray(exact, dtype=bool)
    return equal
