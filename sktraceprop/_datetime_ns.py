"""Datetimes as int64 nanoseconds since the epoch, refused where they do not fit.

The rows' records (:func:`~sktraceprop.compliance.hash_rows`, :mod:`._row_digests`) hold
a datetime as int64 nanoseconds since the epoch in UTC, whatever the column's unit. A
coarser unit holds instants beyond that range (``9999-12-31``, a common "no end"
sentinel, in pandas' ``datetime64[s]`` or ``[us]``), and numpy's cast wraps them
silently: ``9999-12-31`` became ``1816-03-29T05:56:08.066277376``, so two frames holding
those two instants had one digest. Such a value is refused, naming the range.

A pyarrow time-stamp column (``read_csv(dtype_backend="pyarrow", parse_dates=...)``) is
recorded as pandas' own datetime columns are (:func:`arrow_instants`): calls logged
before hashed its text, so the same rows held as ``datetime64`` were other rows.
"""

import numpy as np

#: The instants int64 nanoseconds can hold (NaT is the int64 minimum).
NS_RANGE = (
    np.datetime64(np.iinfo(np.int64).min + 1, "ns"),
    np.datetime64(np.iinfo(np.int64).max, "ns"),
)


def as_ns(values):
    """``values`` (a numpy datetime64 array of any unit) as ``datetime64[ns]``, exactly.

    Raises
    ------
    ValueError
        A value (not NaT) that int64 nanoseconds since the epoch cannot hold: outside
        ``1677-09-21T00:12:43.145224193 .. 2262-04-11T23:47:16.854775807``, or finer
        than a nanosecond.
    """
    values = np.asarray(values)
    ns = values.astype("datetime64[ns]")
    if values.dtype == ns.dtype:
        return ns
    lost = (ns.astype(values.dtype) != values) & ~np.isnat(values)
    if lost.any():
        bad = values[np.flatnonzero(lost)[0]]
        raise ValueError(
            f"a datetime value ({bad}) cannot be recorded: the rows' digests hold "
            "datetimes as int64 nanoseconds since the epoch, which hold the instants from "
            f"{NS_RANGE[0]} to {NS_RANGE[1]} only (a cast would wrap it to another "
            "instant). Replace such values (a far-future sentinel such as 9999-12-31 by "
            "NaT, or the column by its text) before the call."
        )
    return ns


def arrow_instants(dtype, values):
    """A pyarrow time-stamp column's UTC instants as numpy ``datetime64`` (NaT for a
    null), as a ``datetime64`` or ``DatetimeTZDtype`` column of them is recorded; None for
    any other column, and inside :func:`~._signed_zeros.signed_zeros` (rows hashed as
    calls logged before were: such a column as its text)."""
    import pandas as pd

    from ._signed_zeros import logged_before

    if not isinstance(dtype, pd.ArrowDtype) or logged_before():
        return None
    import pyarrow as pa

    kind = dtype.pyarrow_dtype
    if not pa.types.is_timestamp(kind):
        return None
    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    # a zoned time stamp holds its UTC instant: the cast drops the zone, not the instant
    return arr.cast(pa.timestamp(kind.unit)).to_numpy(zero_copy_only=False)
