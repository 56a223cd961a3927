"""polars frames: recognised without importing polars, and read as pandas frames.

A polars ``DataFrame`` has no index, so it carries no row ids: a traced fit records it
as an anonymous source named by its content (:mod:`._lineage._polars_digest`), and the
checks made of untraced pandas data (an id column, the columns or values of a loaded
source) read it through :func:`as_pandas`, as does the prediction log's
:func:`~sktraceprop.compliance.hash_rows`. Within one traced fit
(:func:`one_conversion`) a frame is converted once, however many checks read it.
"""

import contextlib
import contextvars
import sys

import numpy as np
import pandas as pd

__all__ = ["as_pandas", "is_polars", "one_conversion"]

#: ``[frame, its pandas frame or None]`` while :func:`one_conversion` of it runs.
_ONE = contextvars.ContextVar("sktraceprop_polars_conversion", default=None)

_INTEGERS = frozenset("Int8 Int16 Int32 Int64 UInt8 UInt16 UInt32 UInt64".split())


def is_polars(X):
    """Whether ``X`` is a polars DataFrame or Series (polars is never imported here: a
    polars object exists only once the user imported it)."""
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(X, pl.DataFrame | pl.Series)


def as_pandas(X):
    """A pandas DataFrame of a polars DataFrame's (or Series') names and values.

    Each column keeps what it says: an integer or boolean column with nulls becomes a
    nullable pandas array (``Int64``, ``boolean``: never floats, where a null would be a
    NaN), a float column a float array (a null as NaN, pandas' missing value), text,
    categories and enums strings (a null as pandas' missing value of the column's
    dtype: NaN in pandas 3's default ``str`` dtype, ``None`` in an ``object`` column),
    times numpy times (in
    their time zone), and every other column its Python values. pyarrow is not needed.
    """
    held = _ONE.get()
    if held is not None and held[0] is X:
        if held[1] is None:
            held[1] = _converted(X)
        return held[1]
    return _converted(X)


@contextlib.contextmanager
def one_conversion(X):
    """Within it, :func:`as_pandas` of ``X`` converts it once and returns that frame
    each time (its readers do not change it; a polars frame changed in place in between
    is not: the scope is one traced fit)."""
    token = _ONE.set([X, None] if is_polars(X) else None)
    try:
        yield
    finally:
        _ONE.reset(token)


def _converted(X):
    if isinstance(X, sys.modules["polars"].Series):
        X = X.to_frame()
    data = {series.name: _column(series) for series in X.get_columns()}
    return pd.DataFrame(data, index=pd.RangeIndex(X.height), columns=list(X.columns))


def _column(series):
    import polars as pl

    kind = type(series.dtype).__name__
    nulls = series.null_count() > 0
    if kind in _INTEGERS or kind == "Boolean":
        if not nulls:
            return series.to_numpy()
        mask = series.is_null().to_numpy()
        values = series.fill_null(False if kind == "Boolean" else 0).to_numpy()
        if kind == "Boolean":
            return pd.arrays.BooleanArray(values, mask)
        return pd.arrays.IntegerArray(values, mask)
    if kind in ("Float32", "Float64"):
        return series.to_numpy()  # a null as NaN
    if kind == "Float16":
        return series.cast(pl.Float32).to_numpy()  # pandas has no float16 columns
    if kind in ("String", "Categorical", "Enum"):
        return series.cast(pl.String).to_numpy()
    if kind == "Datetime":
        zone = series.dtype.time_zone
        if zone is None:
            return series.to_numpy()
        utc = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None).to_numpy()
        return pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(zone).array
    if kind in ("Date", "Duration"):
        return series.to_numpy()
    return np.fromiter(series.to_list(), dtype=object, count=series.len())
