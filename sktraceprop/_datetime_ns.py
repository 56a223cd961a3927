"""Datetimes as int64 nanoseconds since the epoch, refused where they do not fit.

The rows' records (:func:`~sktraceprop.compliance.hash_rows`, :mod:`._row_digests`) hold
a datetime as int64 nanoseconds since the epoch in UTC, whatever the column's unit. A
coarser unit holds instants beyond that range (``9999-12-31``, a common "no end"
sentinel, in pandas' ``datetime64[s]`` or ``[us]``), and numpy's cast wraps them
silently: ``9999-12-31`` became ``1816-03-29T05:56:08.066277376``, so two frames holding
those two instants had one digest. Such a value is refused, naming the range.
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
