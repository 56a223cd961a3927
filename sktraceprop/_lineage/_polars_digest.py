"""SHA-256 naming a polars DataFrame's content: its column names, dtypes and every cell.

Two polars frames get one digest only when they have the same number of rows, the same
column names in the same order, the same dtypes (``Int32`` is not ``Int64``; a
``Datetime``'s unit and time zone, an ``Enum``'s categories, a ``Struct``'s fields and
a ``Decimal``'s precision and scale count: the dtype's ``repr``) and, cell by cell, the
same values; a null is not a NaN, and every NaN is one value; ``-0.0`` is not ``0.0``.
How polars holds the data (chunks, a slice of a larger buffer, the bytes under a null)
is not named: the same frame gets the same digest.

The bytes hashed are length-prefixed and tagged like those of
:mod:`._frame_digest` (scheme ``"frame-2"``, for pandas): per column, its name, its
dtype's ``repr``, its null mask, then numbers, booleans and times by their raw
little-endian memory (nulls written as 0), text by its byte lengths and UTF-8 bytes,
and every other column (``Decimal``, ``Int128``, ``List``, ``Array``, ``Struct``,
``Binary``, ``Object``) cell by cell as Python values, serialized as
:mod:`._frame_digest` serializes object cells.
"""

import hashlib

import numpy as np

from ._frame_digest import _PACK_Q, _cells, _feed_numbers, _text

#: The name a source record gives this digest (``Source.digest_scheme``).
SCHEME = "polars-1"

#: polars dtypes numpy holds as they are (with nulls filled), by class name.
_NUMPY = frozenset(
    "Int8 Int16 Int32 Int64 UInt8 UInt16 UInt32 UInt64 Float16 Float32 Float64 Boolean".split()
)
#: polars dtypes whose physical values are integers numpy holds.
_TEMPORAL = frozenset(("Date", "Datetime", "Duration", "Time"))
#: polars dtypes whose values are text.
_TEXT = frozenset(("String", "Categorical", "Enum"))


def polars_digest(df):
    """SHA-256 (hex) of a polars DataFrame's names, dtypes and cells (see the module
    docstring)."""
    h = hashlib.sha256(b"sktraceprop polars digest 1\0")
    h.update(_PACK_Q(df.height) + _PACK_Q(df.width))
    for series in df.get_columns():
        h.update(_text(series.name))
        feed_series(h, series)
    return h.hexdigest()


def feed_series(h, series):
    """Feed one polars Series' dtype, null mask and values into ``h``."""
    kind = type(series.dtype).__name__
    h.update(_text(repr(series.dtype)))
    nulls = series.is_null().to_numpy()
    _feed_numbers(h, nulls)
    if kind in _NUMPY or kind in _TEMPORAL:
        physical = series.to_physical() if kind in _TEMPORAL else series
        if nulls.any():  # a null's slot may hold any bytes: written as 0
            physical = physical.fill_null(False if kind == "Boolean" else 0)
        h.update(b"N")
        _feed_numbers(h, physical.to_numpy())
    elif kind in _TEXT:
        import polars as pl

        text = (series if kind == "String" else series.cast(pl.String)).fill_null("")
        h.update(b"T")
        _feed_numbers(h, text.str.len_bytes().to_numpy().astype("<u8"))
        body = "".join(text.to_list()).encode("utf-8", "surrogatepass")
        h.update(_PACK_Q(len(body)) + body)
    elif kind == "Null":
        h.update(b"0")
    else:
        # one Python value per row (a list stays one cell)
        cells = np.fromiter(series.to_list(), dtype=object, count=series.len())
        h.update(b"O" + _cells(cells))
