"""Each column's part of the rows' records that :mod:`._row_digests` keys: per value a
2-bit code (0 value, 1 missing, 2 an unsigned integer at or above ``2**63``, 3 a
non-text object) and its words (integers as int64, floats as float64, booleans as 0 or
1, datetimes as nanoseconds since the epoch in UTC), or, for text, its UTF-8 bytes
(:class:`_Texts`), which the kernel hashes under each call's key. The kinds come from
the dtypes, never from the values (see :mod:`._row_digests`).
"""

import numpy as np
import pandas as pd

from ._datetime_ns import arrow_instants, as_ns
from ._signed_zeros import hashed_floats

_U8 = np.dtype("<u8")


def _codes(n):
    return np.zeros(n, np.uint64)


class _Texts(tuple):
    """A text column's UTF-8 bytes, byte lengths and present mask (None: all present),
    hashed under each call's key (:func:`_keyed`)."""

    __slots__ = ()


def _text_words(values, missing):
    """``(codes, texts)`` of a text or object column."""
    n = values.size
    codes = _codes(n)
    present = None if missing is None else ~missing
    texts = values.tolist() if present is None else values[present].tolist()
    if pd.api.types.infer_dtype(texts, skipna=False) not in ("string", "empty"):
        kinds = np.array([not isinstance(v, str) for v in texts], dtype=bool)
        texts = [f"{type(v).__name__}\0{v}" if k else v for v, k in zip(texts, kinds)]
        if present is None:
            codes[kinds] = 3
        else:
            codes[np.flatnonzero(present)[kinds]] = 3
    if present is not None:
        codes[missing] = 1
    joined = "".join(texts)
    data = joined.encode("utf-8", "surrogatepass")
    if len(data) == len(joined):  # ASCII: byte lengths are character counts
        sizes = np.fromiter(map(len, texts), np.int64, len(texts))
    else:
        sizes = np.fromiter((len(t.encode("utf-8", "surrogatepass")) for t in texts), np.int64)
    lengths = sizes if present is None else np.zeros(n, np.int64)
    if present is not None:
        lengths[present] = sizes
    return codes, _Texts((np.frombuffer(data, np.uint8), lengths, present))


def _arrow_words(values):
    """``(codes, texts)`` of a pyarrow-backed text column, from its buffers."""
    import pyarrow as pa

    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    present = None
    if arr.null_count:
        present = ~arr.is_null().to_numpy(zero_copy_only=False)
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    lengths = np.diff(offsets).astype(np.int64)
    if present is not None:
        lengths[~present] = 0  # (a null slot may hold bytes: skipped over below)
    buffer = arr.buffers()[2]
    data = np.frombuffer(buffer, np.uint8) if buffer is not None else np.zeros(0, np.uint8)
    start = int(offsets[0])
    if present is not None and lengths.sum() != int(offsets[-1]) - start:
        # null slots with bytes: copy the present values together
        keep = np.concatenate(
            [data[int(a) : int(b)] for a, b, p in zip(offsets[:-1], offsets[1:], present) if p]
            or [np.zeros(0, np.uint8)]
        )
        data, start = keep, 0
    codes = _codes(len(arr))
    if present is not None:
        codes[~present] = 1
    return codes, _Texts((data[start:], lengths, present))


def _number_words(values, missing):
    """``(codes, (n, 1) words, tag)`` of a column of numpy numbers (int, uint, float, bool)."""
    kind = values.dtype.kind
    codes = _codes(values.size)
    if kind == "b":
        tag, words = "bool", values.astype(_U8)
    elif kind in "iu":
        tag, words = "int", values.astype(_U8)  # (int64 bits; uint64 above 2**63: coded 2)
        if kind == "u":
            codes[words >= np.uint64(2**63)] = 2
    else:
        tag = "float"
        floats = hashed_floats(values)
        nan = np.isnan(floats)
        missing = nan if missing is None else (missing | nan)
        words = floats.view(_U8).copy()
    if missing is not None:
        codes[missing] = 1
        words = np.where(missing, np.uint64(0), words)
    return codes, words[:, None], tag


def _datetime_words(values):
    values = as_ns(values)
    missing = np.isnat(values)
    words = values.view(np.int64).astype(_U8)
    words[missing] = 0
    codes = _codes(values.size)
    codes[missing] = 1
    return codes, words[:, None], "datetime-ns-utc"


def _categorical_words(values):
    values = pd.Categorical(values)
    categories = values.categories
    kind = getattr(categories.dtype, "kind", None)
    missing = values.codes < 0
    if kind not in ("i", "u", "b", "f", "M") or not categories.size:
        as_objects = np.asarray(values, dtype=object)
        return (*_text_words(as_objects, missing if missing.any() else None), "text")
    take = np.where(missing, 0, values.codes)
    if kind == "M":
        times = pd.DatetimeIndex(categories)
        if times.tz is not None:
            times = times.tz_convert("UTC").tz_localize(None)
        data = as_ns(times.to_numpy())[take]
        data[missing] = np.datetime64("NaT")
        return _datetime_words(data)
    dtype = getattr(categories.dtype, "numpy_dtype", categories.dtype)
    data = categories.to_numpy(dtype=dtype)[take]
    return _number_words(data, missing if missing.any() else None)


def _column_words(dtype, values):
    """``(codes, words, tag)`` of one column of a frame."""
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical_words(values)
    if isinstance(dtype, np.dtype) and dtype.kind in "iubf":
        return _number_words(np.asarray(values), None)
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return _datetime_words(values)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _datetime_words(np.asarray(values.tz_convert("UTC").tz_localize(None)))
    instants = arrow_instants(dtype, values)
    if instants is not None:  # a pyarrow time stamp, as a datetime64 one
        return _datetime_words(instants)
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        found = _arrow_words(values)
        if found is not None:
            return (*found, "text")
    if getattr(dtype, "kind", None) in ("i", "u", "f", "b"):
        # nullable Int64 / Float64 / boolean: values with a missing mask
        missing = np.asarray(values.isna(), dtype=bool)
        numpy_dtype = getattr(dtype, "numpy_dtype", np.dtype(np.float64))
        fill = False if numpy_dtype.kind == "b" else 0
        data = values.to_numpy(dtype=numpy_dtype, na_value=fill)
        return _number_words(data, missing if missing.any() else None)
    values = np.asarray(values, dtype=object)
    missing = pd.isna(values)
    return (*_text_words(values, missing if missing.any() else None), "text")


def _array_column_words(values):
    if values.dtype.kind in "iubf":
        return _number_words(values, None)
    if values.dtype.kind == "M":
        return _datetime_words(values)
    values = values.astype(object)
    missing = pd.isna(values)
    return (*_text_words(values, missing if missing.any() else None), "text")
