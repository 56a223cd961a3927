"""SHA-256 of a batch of input rows, independent of how pandas, numpy or polars store them.

The prediction log records this hash for every call, so whoever keeps the rows a model
was asked about can show which logged decision they belong to. The hash depends on the
values, the column names and the column order, never on the storage: an ``int32`` and
an ``int64`` column, an ``object``, ``str`` or pyarrow-backed text column, a ``float32``
and a ``float64`` column with the same values, a nullable ``Int64`` column without
missing values and an ``int64`` one, a categorical column and the column of its values
all hash alike, and so do the same rows as a polars frame, and -0.0 and 0.0 (see
:mod:`._signed_zeros`: calls logged before kept the sign). An integer and a float
column differ (``44`` and ``44.0``), as do numbers held as Python objects (``object``
dtype: hashed as their text).

:func:`~._row_hash_start.start_hash_rows` gives the same digest, computed on a helper
thread while the model predicts.
"""

import hashlib

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._datetime_ns import arrow_instants, as_ns
from ._frame_columns import column_arrays as _columns
from ._polars_frame import as_pandas, is_polars
from ._signed_zeros import hashed_floats

__all__ = ["hash_rows"]

_VERSION = b"sktraceprop-rows-v1\0"
_I8 = np.dtype("<i8")
_F8 = np.dtype("<f8")


def _int(n):
    return int(n).to_bytes(8, "little", signed=True)


def _text_bytes(name):
    data = str(name).encode("utf-8")
    return _int(len(data)) + data


def _feed_missing(h, missing):
    """The number of missing values, then their row positions (int64 each)."""
    where = np.flatnonzero(missing) if missing is not None else np.empty(0, np.int64)
    h.update(_int(where.size))
    h.update(np.ascontiguousarray(where, dtype=_I8))


def _feed_numbers(h, values, missing):
    """``int``, ``uint``, ``float`` or ``bool`` column: missing positions, then values."""
    kind = values.dtype.kind
    # one contiguous little-endian copy at most (none when the column already is one)
    if kind == "b":
        tag, data = b"bool", np.ascontiguousarray(values, dtype=np.uint8)
    elif kind == "i" or (kind == "u" and (values.size == 0 or values.max() < 2**63)):
        tag, data = b"int", np.ascontiguousarray(values, dtype=_I8)
    elif kind == "u":
        tag, data = b"uint", np.ascontiguousarray(values, dtype="<u8")
    else:
        tag, data = b"float", hashed_floats(values, _F8)  # (-0.0 as 0.0: a new array)
        # a NaN makes the sum NaN (else there is none); huge or infinite values may make
        # it overflow or inf - inf, which only sends us to the exact check
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.add.reduce(data)
        if not np.isfinite(total):
            nan = np.isnan(data)
            missing = nan if missing is None else (missing | nan)
    if missing is not None and missing.any():
        data = data.copy() if kind != "f" else data  # never write into the caller's data
        data[missing] = 0
    else:
        missing = None
    h.update(_text_bytes(tag.decode()))
    _feed_missing(h, missing)
    h.update(data)


def _feed_text(h, lengths, data, tag="text"):
    """Text column: byte lengths (int64, -1 where missing), then the UTF-8 bytes."""
    h.update(_text_bytes(tag))
    h.update(np.ascontiguousarray(lengths, dtype=_I8))
    h.update(data)


def _arrow_text(h, values):
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    nulls = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
    if nulls is not None:
        # null slots may hold arbitrary bytes; filling them makes the buffers canonical
        arr = pc.fill_null(arr, "")
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    lengths = np.diff(offsets).astype(_I8)
    if nulls is not None:
        lengths[nulls] = -1
    data = arr.buffers()[2]
    body = b"" if data is None else memoryview(data)[int(offsets[0]) : int(offsets[-1])]
    _feed_text(h, lengths, body)


def _python_text(h, values, missing):
    """Text from Python objects (strings, or ``str()`` of other objects, tagged)."""
    present = values[~missing] if missing is not None else values
    inferred = pd.api.types.infer_dtype(present, skipna=False) if present.size else "empty"
    tag = "text"
    if inferred not in ("string", "empty"):
        tag = f"object:{inferred}"
        present = np.array([str(v) for v in present], dtype=object)
    joined = "".join(present.tolist())
    data = joined.encode("utf-8")
    if len(data) == len(joined):  # ASCII: byte lengths are character counts
        sizes = np.fromiter(map(len, present), dtype=_I8, count=present.size)
    else:
        sizes = np.fromiter((len(v.encode("utf-8")) for v in present), _I8, present.size)
    lengths = np.full(values.size, -1, dtype=_I8)
    if missing is None:
        lengths[:] = sizes
    else:
        lengths[~missing] = sizes
    _feed_text(h, lengths, data, tag)


def _feed_categorical(h, values):
    """A categorical column as the column of its values: categories of numbers,
    booleans or datetimes hash as those (a missing value as one), others as text."""
    values = pd.Categorical(values)
    categories = values.categories
    kind = getattr(categories.dtype, "kind", None)
    if kind not in ("i", "u", "b", "f", "M"):
        values = np.asarray(values, dtype=object)
        missing = pd.isna(values)
        _python_text(h, values, missing if missing.any() else None)
        return
    missing = values.codes < 0
    # one category per row (the first where missing: the mask says so); categories
    # never hold a missing value, so they convert to numpy as they are
    codes = np.where(missing, 0, values.codes)
    if kind == "M":
        times = pd.DatetimeIndex(categories)
        if times.tz is not None:
            times = times.tz_convert("UTC").tz_localize(None)
        data = np.full(missing.size, np.datetime64("NaT"), "datetime64[ns]")
        if categories.size:
            data = as_ns(times.to_numpy())[codes]
            data[missing] = np.datetime64("NaT")
        _feed_datetime(h, data)
        return
    dtype = getattr(categories.dtype, "numpy_dtype", categories.dtype)
    data = np.zeros(codes.size, dtype)
    if categories.size:
        data = categories.to_numpy(dtype=dtype)[codes]
    _feed_numbers(h, data, missing if missing.any() else None)


def _feed_column(h, dtype, values):
    if isinstance(dtype, pd.CategoricalDtype):
        _feed_categorical(h, values)
    elif isinstance(dtype, np.dtype) and dtype.kind in "iubf":
        _feed_numbers(h, np.asarray(values), None)
    elif isinstance(dtype, np.dtype) and dtype.kind == "M":
        _feed_datetime(h, np.asarray(values))
    elif isinstance(dtype, pd.DatetimeTZDtype):
        _feed_datetime(h, np.asarray(values.tz_convert("UTC").tz_localize(None)))
    elif (instants := arrow_instants(dtype, values)) is not None:
        _feed_datetime(h, instants)  # a pyarrow time stamp, as a datetime64 one
    elif isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        _arrow_text(h, values)
    elif getattr(dtype, "kind", None) in ("i", "u", "f", "b") and not isinstance(
        dtype, pd.CategoricalDtype
    ):
        # nullable Int64 / Float64 / boolean: values with a missing mask
        missing = np.asarray(values.isna(), dtype=bool)
        numpy_dtype = getattr(dtype, "numpy_dtype", np.dtype(np.float64))
        fill = False if numpy_dtype.kind == "b" else 0
        _feed_numbers(h, values.to_numpy(dtype=numpy_dtype, na_value=fill), missing)
    else:
        values = np.asarray(values, dtype=object)
        missing = pd.isna(values)
        _python_text(h, values, missing if missing.any() else None)


def _feed_datetime(h, values):
    missing = np.isnat(values)
    data = as_ns(values).astype(_I8)
    if missing.any():
        data = data.copy()
        data[missing] = 0
    else:
        missing = None
    h.update(_text_bytes("datetime-ns-utc"))
    _feed_missing(h, missing)
    h.update(np.ascontiguousarray(data))


def _feed_array_column(h, values):
    if values.dtype.kind in "iubf":
        _feed_numbers(h, values, None)
    elif values.dtype.kind == "M":
        _feed_datetime(h, values)
    else:
        values = values.astype(object)
        missing = pd.isna(values)
        _python_text(h, values, missing if missing.any() else None)


def hash_rows(X):
    """SHA-256 of a batch of input rows (what the prediction log records per call).

    The digest covers, in order: a version tag, the number of rows and of columns,
    then each column's name (empty for arrays) and its values in a canonical form:

    - numbers: ``int`` (int64), ``uint`` (uint64, only above the int64 range),
      ``float`` (float64, -0.0 as 0.0: numbers that compare equal hash alike) or
      ``bool`` (uint8), little-endian, after the count and the row positions of
      missing values (NaN of any payload, None, ``pd.NA``; written as 0);
    - a categorical column: as the column of its values (categories of numbers,
      booleans or datetimes as those, a missing value as one; others as text, as
      are the categories pandas gives no type, when every row is missing);
    - text (``object``, ``str``, pyarrow strings, categories of strings): the byte
      length of each value as int64 (-1 for a missing value), then the UTF-8 bytes;
      other objects are hashed as the text of ``str()``, tagged with their
      inferred type;
    - datetimes: int64 nanoseconds since the epoch, in UTC, whatever the column's
      unit, time zone or storage (numpy, pandas or pyarrow; an instant that int64
      nanoseconds cannot hold is refused);
    - a sparse matrix: its shape and canonical CSR arrays (sorted indices, summed
      duplicates) as int64 and float64;
    - a polars DataFrame or Series: as the pandas frame of its names and values (an
      integer or boolean column with nulls as a nullable one, a null of a float
      column as NaN), so it hashes as the same rows given as a pandas frame.

    Every length is an int64 prefix, so no two different batches give the same bytes.

    Parameters
    ----------
    X : DataFrame, Series, ndarray, sparse matrix, polars DataFrame or array-like
        The rows given to ``predict`` (one-dimensional input is one column).

    Returns
    -------
    sha256 : str
        Hexadecimal digest.

    Raises
    ------
    ValueError
        A datetime outside ``1677-09-21T00:12:43.145224193 ..
        2262-04-11T23:47:16.854775807`` (such as a ``9999-12-31`` sentinel held in
        ``datetime64[s]``): int64 nanoseconds cannot hold it, and a cast would wrap it
        to another instant.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sktraceprop.compliance import hash_rows
    >>> a = pd.DataFrame({"age": np.array([30, 41], dtype="int32"), "sex": ["F", "M"]})
    >>> b = pd.DataFrame({"age": [30, 41], "sex": pd.array(["F", "M"], dtype=object)})
    >>> hash_rows(a) == hash_rows(b)
    True
    >>> hash_rows(a) == hash_rows(a.iloc[::-1])
    False
    """
    h = hashlib.sha256(_VERSION)
    if is_polars(X):
        X = as_pandas(X)  # hashed as the pandas frame of its names and values
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        h.update(_int(X.shape[0]) + _int(X.shape[1]))
        for name, (dtype, values) in zip(X.columns.tolist(), _columns(X)):
            h.update(_text_bytes(name))
            _feed_column(h, dtype, values)
        return h.hexdigest()
    if sp.issparse(X):
        csr = sp.csr_matrix(X, copy=True)
        csr.sum_duplicates()
        csr.sort_indices()
        h.update(_text_bytes("sparse") + _int(csr.shape[0]) + _int(csr.shape[1]))
        for part in (csr.indptr, csr.indices):
            h.update(np.asarray(part, dtype=_I8).tobytes())
        h.update(hashed_floats(csr.data, _F8).tobytes())
        return h.hexdigest()
    values = np.asarray(X)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"hash_rows expects 1-D or 2-D input, got shape {values.shape}")
    h.update(_int(values.shape[0]) + _int(values.shape[1]))
    for j in range(values.shape[1]):
        h.update(_text_bytes(""))
        _feed_array_column(h, values[:, j])
    return h.hexdigest()
