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
"""

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._frame_columns import column_arrays as _columns
from ._polars_frame import as_pandas, is_polars
from ._signed_zeros import copy_floats, hashed_floats

__all__ = ["hash_rows", "start_hash_rows"]

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
            data = times.to_numpy("datetime64[ns]")[codes]
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
    data = values.astype("datetime64[ns]").astype(_I8)
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
    - datetimes: int64 nanoseconds since the epoch, in UTC;
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


#: Inputs smaller than this are hashed at once (a hand-over to the helper thread costs
#: more than hashing them); larger than ``_SNAPSHOT_MAX`` they are hashed at once too,
#: rather than held twice in memory while the model predicts.
_SNAPSHOT_MIN = 1 << 16
_SNAPSHOT_MAX = 1 << 26

_worker_lock = threading.Lock()
_worker = (None, None)  # (pid, executor): a forked child starts its own


def _executor():
    global _worker
    with _worker_lock:
        pid, executor = _worker
        if pid != os.getpid():
            executor = ThreadPoolExecutor(1, thread_name_prefix="sktraceprop-row-hash")
            _worker = (os.getpid(), executor)
        return executor


#: The tag and dtype each kind of number is hashed as (see :func:`_feed_numbers`).
_HASHED_AS = {
    "f": (_text_bytes("float"), _F8),
    "i": (_text_bytes("int"), _I8),
    "b": (_text_bytes("bool"), np.dtype(np.uint8)),
}


def _frame_matrix(X):
    """A frame's values as one ``(n_cols, n_rows)`` numpy array (a view), when the frame
    is one block of numpy numbers with its columns in order, else None."""
    try:
        (block,) = X._mgr.blocks
        values, places = block.values, block.mgr_locs.as_array
    except (AttributeError, ValueError):  # several blocks, or other internals
        return None
    if not (
        isinstance(values, np.ndarray)
        and values.shape == (X.shape[1], X.shape[0])
        and values.dtype.kind in _HASHED_AS
        and np.array_equal(places, np.arange(X.shape[1]))
    ):
        return None
    return values


def _numeric_columns(X):
    """``(names, arrays, matrix)`` of a frame or 2-D array whose columns are all numpy
    floats, ints or bools (the common input of ``predict``), or None for anything else.

    ``matrix`` is the columns as one ``(n_cols, n_rows)`` array (a view) when they are
    one (a 2-D array's, or a frame's one block), else None; ``names`` a list, or a
    frame's (immutable) column index.
    """
    if isinstance(X, pd.DataFrame):
        matrix = _frame_matrix(X)
        if matrix is not None:
            return X.columns, list(matrix), matrix
        columns = list(_columns(X))
        if not all(isinstance(d, np.dtype) and d.kind in _HASHED_AS for d, _ in columns):
            return None
        return X.columns, [np.asarray(v) for _, v in columns], None
    if type(X) is np.ndarray and X.ndim == 2 and X.dtype.kind in _HASHED_AS:
        return [""] * X.shape[1], list(X.T), X.T
    return None


def _nan_positions(values):
    """Row positions of the NaNs of a float column (None when there is none)."""
    # a NaN makes the sum NaN; an overflow or an infinity only sends us to the exact check
    if np.isfinite(np.add.reduce(values)):
        return None
    where = np.flatnonzero(np.isnan(values))
    return where if where.size else None


def _missing(arrays, matrix):
    """The NaN positions of each column (None for a column with none)."""
    with np.errstate(over="ignore", invalid="ignore"):
        # one sum over all the columns in memory order, when they are one matrix
        if matrix is not None and (
            matrix.dtype.kind != "f" or np.isfinite(np.add.reduce(matrix, axis=None))
        ):
            return [None] * len(arrays)
        return [_nan_positions(v) if v.dtype.kind == "f" else None for v in arrays]


def _canonical_bytes(n_rows, names, arrays, matrix):
    """The exact bytes :func:`hash_rows` digests for the columns, in one buffer.

    Per column: its name, its tag, the count and row positions of its NaNs, then its
    values in the dtype they are hashed in, the NaNs written as 0 (see
    :func:`_feed_numbers`).
    """
    names = names.tolist() if isinstance(names, pd.Index) else names
    missing = _missing(arrays, matrix)
    header = _VERSION + _int(n_rows) + _int(len(names))
    heads = []
    for name, values, where in zip(names, arrays, missing):
        count = 0 if where is None else where.size
        positions = b"" if where is None else where.astype(_I8).tobytes()
        tag = _HASHED_AS[values.dtype.kind][0]
        heads.append(_text_bytes(name) + tag + _int(count) + positions)
    size = sum(v.size * _HASHED_AS[v.dtype.kind][1].itemsize for v in arrays)
    buffer = np.empty(len(header) + sum(map(len, heads)) + size, dtype=np.uint8)
    buffer[: len(header)] = np.frombuffer(header, dtype=np.uint8)
    if matrix is not None and len(set(map(len, heads))) == 1:
        # evenly spaced in the buffer too: all heads, then all values, in one copy each
        dtype = _HASHED_AS[matrix.dtype.kind][1]
        head = len(heads[0])
        slot = head + n_rows * dtype.itemsize
        places = np.ndarray((len(heads), head), np.uint8, buffer, len(header), (slot, 1))
        places[:] = np.frombuffer(b"".join(heads), dtype=np.uint8).reshape(places.shape)
        values = np.ndarray(
            (len(heads), n_rows), dtype, buffer, len(header) + head, (slot, dtype.itemsize)
        )
        # exact conversions (to float64, int64, bytes 0 or 1; -0.0 as 0.0)
        copy_floats(values, matrix)
        for j, where in enumerate(missing):
            if where is not None:
                values[j, where] = 0
        return buffer
    offset = len(header)
    for head, values, where in zip(heads, arrays, missing):
        buffer[offset : offset + len(head)] = np.frombuffer(head, dtype=np.uint8)
        offset += len(head)
        dtype = _HASHED_AS[values.dtype.kind][1]
        end = offset + values.size * dtype.itemsize
        copy = buffer[offset:end].view(dtype)
        copy_floats(copy, values)
        if where is not None:
            copy[where] = 0
        offset = end
    return buffer


def _snapshot(X):
    """:func:`_canonical_bytes` of a numeric frame or array as it is now, or None (other
    input, or a size outside the bounds)."""
    found = _numeric_columns(X)
    if found is None:
        return _text_snapshot(X)
    names, arrays, matrix = found
    size = sum(v.size * _HASHED_AS[v.dtype.kind][1].itemsize for v in arrays)
    if not _SNAPSHOT_MIN <= size <= _SNAPSHOT_MAX:
        return None
    return _canonical_bytes(int(X.shape[0]), names, arrays, matrix)


def _text_snapshot(X):
    """:func:`~._row_hash_frames.frame_bytes` of a frame of numbers and pyarrow text (at
    least one text column) of 64 KiB to 64 MiB (taking its numbers at 8 bytes a cell), or None."""
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 2:
        return None
    if not _SNAPSHOT_MIN <= 8 * shape[0] * shape[1] <= _SNAPSHOT_MAX:
        return None
    from ._row_hash_frames import TEXT, frame_layout

    found = frame_layout(X) if type(X) is pd.DataFrame else None
    if found is None or TEXT not in found[1][1] or found[0].size > _SNAPSHOT_MAX:
        return None  # (numbers alone, where _numeric_columns took none: unsigned)
    return found[0]


def _digest(buffer):
    """SHA-256 of a buffer by one ``update``, which releases the GIL from start to end."""
    h = hashlib.sha256()
    h.update(buffer)
    return h.hexdigest()


def start_hash_rows(X):
    """Start :func:`hash_rows` of ``X`` as it is now; call the result for the digest.

    A frame or 2-D array of numbers (numpy floats, ints or bools), or a frame of such
    numbers and pyarrow strings (:mod:`._row_hash_frames`), of 64 KiB to 64 MiB is
    copied into one buffer laid out as :func:`hash_rows` reads it (names, counts and
    values as bytes; a copy is a fraction of the hash's cost), which a helper thread
    hashes with one ``update``, so that the model can predict meanwhile where a second
    core is free (the ``update`` releases the GIL from start to end). The copy makes
    the digest that of the rows as given, even if a step then modifies them in
    place. If the helper has not started when the digest is asked (no core was free),
    the caller hashes the copy itself instead of waiting for it. Anything else is
    hashed here and now. An error of :func:`hash_rows` is raised by the call of the
    result, not here.

    Returns
    -------
    result : callable
        Returns the hexadecimal digest, or raises what :func:`hash_rows` raised.
    """
    try:
        snapshot = _snapshot(X)
    except Exception:  # whatever hash_rows makes of it is said when the result is asked
        snapshot = None
    if snapshot is not None:
        try:
            future = _executor().submit(_digest, snapshot)
        except RuntimeError:  # the interpreter is shutting down: no new threads
            return lambda: _digest(snapshot)

        def result():
            # not started yet: hashing here is sooner than waiting for the helper
            return _digest(snapshot) if future.cancel() else future.result()

        return result
    try:
        digest = hash_rows(X)
    except Exception as exc:
        error = exc

        def fail():
            raise error

        return fail
    return lambda: digest
