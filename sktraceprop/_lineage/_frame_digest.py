"""SHA-256 naming a frame's content: its column labels, dtypes and every cell, by type.

Two frames get one digest only when they have the same number of rows, the same column
labels (by type: ``1`` is not ``"1"``) in the same order, the same dtypes (``int32`` is
not ``int64``; a categorical's categories, their order and ``ordered`` count; a
string dtype's storage counts) and, cell by cell, the same values of the same types
(``1``, ``1.0``, ``True``, ``"1"``, ``b"1"``, ``np.int64(1)`` and ``Decimal("1")`` are seven
values; ``None``, ``NaN``, ``pd.NA`` and ``NaT`` are four). Every NaN is one value
(pandas' missing value: its bit pattern is no data); ``-0.0`` is not ``0.0``. The index
is not named: registration replaces it by row ids.

The bytes hashed are a type-tagged, length-prefixed serialization, so no two contents
give the same bytes: numeric, datetime and masked columns by their raw little-endian
memory, pyarrow text by its buffers, pyarrow lists, structs and maps by pyarrow's Python
values (a null inside a list apart from a NaN), object cells grouped by exact type (text as UTF-8,
numbers exactly, containers element by element, and only other objects by their pickle:
what pickling keeps of them, which may tell two equal objects apart, and names two
objects alike only when their pickles drop what tells them apart).
"""

import hashlib
import pickle
import re
import struct
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from ..exceptions import LineageError

#: The name a source record gives this digest (``Source.digest_scheme``). Frame
#: records without one were written before it: their SHA-256 is over pandas' 64-bit
#: ``hash_pandas_object``, which named some different frames alike.
SCHEME = "frame-2"

_PACK_Q = struct.Struct("<Q").pack
_PACK_D = struct.Struct("<d").pack
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_MASKED = pd.arrays.IntegerArray | pd.arrays.FloatingArray | pd.arrays.BooleanArray
_BY_INT64 = pd.arrays.DatetimeArray | pd.arrays.TimedeltaArray | pd.arrays.PeriodArray
#: Nesting of containers in a cell beyond which the rest is pickled.
_MAX_DEPTH = 32


def frame_digest(df):
    """SHA-256 (hex) of ``df``'s labels, dtypes and cells (see the module docstring)."""
    h = hashlib.sha256(b"sktraceprop frame digest 2\0")
    h.update(_PACK_Q(len(df)) + _PACK_Q(df.shape[1]))
    for j, label in enumerate(df.columns.tolist()):
        name = f"column {label!r}"
        try:
            h.update(_cell(label, 0))
            feed_values(h, df.iloc[:, j].array)
        except _Unpicklable as exc:
            raise LineageError(
                f"{name} holds cells (or a label) of type {exc.args[0]} that can be "
                f"neither serialized nor pickled ({exc.args[1]}), so the frame's content "
                "cannot be named; convert such values (say, to text) before registering "
                "the frame."
            ) from exc.__cause__
    return h.hexdigest()


def _text(value):
    data = value.encode("utf-8", "surrogatepass")
    return _PACK_Q(len(data)) + data


def feed_values(h, values):
    """Feed one column's dtype and values (a pandas array or an ndarray) into ``h``."""
    if type(values) is pd.arrays.NumpyExtensionArray:
        # (not its subclass StringArray: a python-storage string column is not an
        # object column of the same cells, and was named as one)
        values = values.to_numpy()
    dtype = values.dtype
    if isinstance(values, pd.Categorical):
        h.update(b"C" + _text(f"categorical ordered={dtype.ordered}"))
        feed_values(h, dtype.categories.array)
        _feed_numbers(h, np.asarray(values.codes))
    elif isinstance(values, _MASKED):
        h.update(b"M" + _text(_dtype_text(dtype)))
        numbers = values.to_numpy(dtype=dtype.numpy_dtype, na_value=dtype.numpy_dtype.type(0))
        _feed_numbers(h, np.asarray(values.isna(), dtype=bool))
        _feed_numbers(h, numbers)
    elif isinstance(values, _BY_INT64):
        h.update(b"D" + _text(_dtype_text(dtype)))
        _feed_numbers(h, np.asarray(values.asi8))
    elif isinstance(values, pd.arrays.IntervalArray):
        h.update(b"I" + _text(_dtype_text(dtype)))
        feed_values(h, values.left.array)
        feed_values(h, values.right.array)
    elif isinstance(values, pd.arrays.SparseArray):
        h.update(b"S" + _text(_dtype_text(dtype)))
        feed_values(h, np.asarray(values))  # the dense values: one content, one digest
    elif _arrow_text(values):
        h.update(b"P" + _text(_dtype_text(dtype)))
        _feed_arrow_text(h, values)
    elif _arrow_numbers(values):
        h.update(b"W" + _text(_dtype_text(dtype)))
        _feed_arrow_numbers(h, values)
    elif _arrow_nested(values):
        # pandas gives a list cell as a float ndarray: a null and a NaN, 2**53 and
        # 2**53 + 1, one number; pyarrow's Python values keep them apart
        h.update(b"L" + _text(_dtype_text(dtype)))
        cells = _pa_cells(values)
        h.update(_cells(np.fromiter(cells, dtype=object, count=len(cells))))
    elif isinstance(dtype, np.dtype) and dtype.kind not in "OT":
        arr = np.asarray(values)
        h.update(b"N" + _text(_dtype_text(dtype)))
        _feed_numbers(h, arr)
    else:
        # object columns, strings, pyarrow and other extension arrays: cell by cell
        h.update(b"O" + _text(_dtype_text(dtype)))
        h.update(_cells(np.asarray(values, dtype=object).reshape(-1)))


def _arrow_text(values):
    """Whether ``values`` is a pyarrow-backed string array of (large) strings."""
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return False
    import pyarrow as pa

    kind = pa.array(values).type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _arrow_numbers(values):
    """Whether ``values`` is a pyarrow array of numbers, booleans, times or durations."""
    if not isinstance(values.dtype, pd.ArrowDtype):
        return False
    import pyarrow as pa

    kind = values.dtype.pyarrow_dtype
    return any(
        test(kind)
        for test in (
            pa.types.is_integer,
            pa.types.is_floating,
            pa.types.is_boolean,
            pa.types.is_timestamp,
            pa.types.is_duration,
        )
    )


def _arrow_nested(values):
    """Whether ``values`` is a pyarrow array of lists, structs or maps."""
    if not isinstance(values.dtype, pd.ArrowDtype):
        return False
    import pyarrow as pa

    return pa.types.is_nested(values.dtype.pyarrow_dtype)


def _pa_cells(values):
    """A pyarrow-backed array's cells as pyarrow's Python values (None for a null)."""
    import pyarrow as pa

    return pa.array(values).to_pylist()


def _feed_arrow_numbers(h, values):
    """A pyarrow column of numbers: its missing rows, then its values (0 where missing)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    _feed_numbers(h, arr.is_null().to_numpy(zero_copy_only=False))
    if arr.null_count:
        zero = False if pa.types.is_boolean(arr.type) else 0
        arr = pc.fill_null(arr, pa.scalar(zero, type=arr.type))
    _feed_numbers(h, arr.to_numpy(zero_copy_only=False))


def _feed_arrow_text(h, values):
    """A pyarrow-backed text column: its missing rows, byte lengths and UTF-8 bytes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    missing = arr.is_null().to_numpy(zero_copy_only=False)
    _feed_numbers(h, missing)
    if arr.null_count:
        arr = pc.fill_null(arr, "")  # null slots may hold any bytes
    width = "<i8" if pa.types.is_large_string(arr.type) else "<i4"
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    _feed_numbers(h, np.diff(offsets).astype("<u8"))
    data = arr.buffers()[2]
    body = b"" if data is None else memoryview(data)[int(offsets[0]) : int(offsets[-1])]
    h.update(_PACK_Q(len(body)))
    h.update(body)


def _dtype_text(dtype):
    if isinstance(dtype, np.dtype):
        if dtype.kind == "V":  # structured and foreign (ml_dtypes) dtypes share .str
            return f"{dtype.str}|{dtype.name}|{dtype.descr}"
        return dtype.str
    # an extension dtype: its class, name and repr (a string dtype's storage and
    # missing value show only there)
    cls = type(dtype)
    return _ADDRESS.sub("", f"{cls.__module__}.{cls.__qualname__}|{dtype}|{dtype!r}")


def _feed_numbers(h, arr):
    """Length, then raw little-endian bytes, every NaN made the same NaN."""
    arr = np.asarray(arr)
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    arr = np.ascontiguousarray(arr).reshape(-1)
    if arr.dtype.kind in "fc":
        parts = arr.view(arr.real.dtype) if arr.dtype.kind == "c" else arr
        nan = np.isnan(parts)
        if nan.any():
            parts = parts.copy()
            parts[nan] = np.nan
            arr = parts
    data = arr.view(np.uint8)
    h.update(_PACK_Q(data.size))
    h.update(data)


def _cells(cells, depth=0):
    """The serialization of a 1-D object array's cells (``depth``: its nesting).

    Cells are grouped by exact type: each group of a common type (text, numbers, the
    missing markers) is written at once, as its tag, its row positions and its values;
    every other cell one by one, tagged (see :func:`_cell`)."""
    kinds = list(set(map(type, cells)))
    if len(kinds) > 1:
        types = np.fromiter(map(type, cells), dtype=object, count=cells.size)
        codes, kinds = pd.factorize(types)
    out = [b"*", _PACK_Q(len(kinds))]
    for k, kind in sorted(enumerate(kinds), key=lambda e: _GROUPS.get(e[1], ("~",))[0]):
        where = np.flatnonzero(codes == k) if len(kinds) > 1 else np.arange(cells.size)
        group = cells[where] if len(kinds) > 1 else cells
        tag, encode = _GROUPS.get(kind, ("~", None))
        out.append(tag.encode() + _PACK_Q(where.size) + where.astype("<u8").tobytes())
        if encode is None:
            out.append(b"".join([_cell(c, depth) for c in group]))
        else:
            out.append(encode(group))
    return b"".join(out)


def _text_group(group):
    joined = "".join(group.tolist())
    data = joined.encode("utf-8", "surrogatepass")
    if len(data) == len(joined):  # ASCII: byte lengths are character counts
        lengths = np.fromiter(map(len, group), dtype="<u8", count=group.size)
    else:
        sizes = (len(c.encode("utf-8", "surrogatepass")) for c in group)
        lengths = np.fromiter(sizes, dtype="<u8", count=group.size)
    return lengths.tobytes() + data


def _int_group(group):
    try:
        return b"8" + np.array(group, dtype="<i8").tobytes()
    except OverflowError:  # beyond int64: each one's exact bytes
        return b"*" + b"".join([_int(c) for c in group])


def _float_group(group):
    h = hashlib.sha256()
    _feed_numbers(h, np.array(group, dtype="<f8"))
    return h.digest()


#: Types whose cells are written as one group: (tag, writer of the group's values).
_GROUPS = {
    str: ("s", _text_group),
    int: ("i", _int_group),
    float: ("f", _float_group),
    bool: ("b", lambda g: np.array(g, dtype=bool).tobytes()),
    type(None): ("N", lambda g: b""),
    type(pd.NA): ("A", lambda g: b""),
    type(pd.NaT): ("T", lambda g: b""),
}


class _Unpicklable(Exception):
    pass


def _qualname(value):
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def _int(value):
    data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return _PACK_Q(len(data)) + data


def _float(value):
    return b"n" if value != value else b"f" + _PACK_D(value)


def _sorted_items(items, depth):
    return b"".join(sorted(_cell(i, depth + 1) for i in items))


_EXACT = {
    str: lambda v, d: b"s" + _text(v),
    bytes: lambda v, d: b"y" + _PACK_Q(len(v)) + v,
    bool: lambda v, d: b"T" if v else b"F",
    int: lambda v, d: b"i" + _int(v),
    float: lambda v, d: _float(v),
    complex: lambda v, d: b"c" + _float(v.real) + _float(v.imag),
    type(None): lambda v, d: b"N",
    type(pd.NA): lambda v, d: b"A",
    type(pd.NaT): lambda v, d: b"t",
    Decimal: lambda v, d: b"d" + _text(str(v)),
    tuple: lambda v, d: b"(" + _PACK_Q(len(v)) + b"".join(_cell(i, d + 1) for i in v),
    list: lambda v, d: b"[" + _PACK_Q(len(v)) + b"".join(_cell(i, d + 1) for i in v),
    dict: lambda v, d: (
        b"{" + _PACK_Q(len(v)) + _sorted_items((_Pair(k, x) for k, x in v.items()), d)
    ),
    set: lambda v, d: b"<" + _PACK_Q(len(v)) + _sorted_items(v, d),
    frozenset: lambda v, d: b">" + _PACK_Q(len(v)) + _sorted_items(v, d),
}
#: Values whose repr is exact and names their type and time zone.
_BY_REPR = (datetime, date, time, timedelta, pd.Timestamp, pd.Timedelta, pd.Period)


class _Pair:
    """A dict item, serialized as its key then its value."""

    __slots__ = ("key", "value")

    def __init__(self, key, value):
        self.key, self.value = key, value


def _cell(value, depth):
    """One cell's self-delimiting, type-tagged serialization."""
    encode = _EXACT.get(type(value))
    if encode is not None and depth < _MAX_DEPTH:
        return encode(value, depth)
    if isinstance(value, _Pair):
        return _cell(value.key, depth) + _cell(value.value, depth)
    if isinstance(value, np.ndarray) and value.dtype.kind not in "OT":
        h = hashlib.sha256()  # the array's bytes can be large: their digest stands in
        _feed_numbers(h, value)
        return b"a" + _text(_dtype_text(value.dtype)) + _text(str(value.shape)) + h.digest()
    if isinstance(value, np.generic) and value.dtype.kind not in "OT":
        h = hashlib.sha256()
        _feed_numbers(h, np.asarray(value))
        return b"g" + _text(_dtype_text(value.dtype)) + h.digest()
    if isinstance(value, _BY_REPR):
        return b"r" + _text(_qualname(value)) + _text(repr(value))
    if isinstance(value, pd.Interval):
        ends = _cell(value.left, depth + 1) + _cell(value.right, depth + 1)
        return b"v" + _text(value.closed) + ends
    if isinstance(value, np.ndarray) and depth < _MAX_DEPTH:
        cells = value.reshape(-1).astype(object)
        head = b"a" + _text(_dtype_text(value.dtype)) + _text(str(value.shape))
        return head + _cells(cells, depth + 1)
    for base in (str, bytes, int, float, complex):
        if isinstance(value, base) and not isinstance(value, np.generic) and depth < _MAX_DEPTH:
            # a subclass (an IntEnum, np.str_): its type, then its value as the base's
            return b"u" + _text(_qualname(value)) + _EXACT[base](base(value), depth)
    try:
        data = pickle.dumps(value, protocol=5)
    except Exception as exc:  # noqa: BLE001 - any object's own pickling error
        raise _Unpicklable(_qualname(value), f"{type(exc).__name__}: {exc}") from exc
    return b"p" + _text(_qualname(value)) + _PACK_Q(len(data)) + data
