"""The row hash of a logged call started on a helper thread while the model predicts.

:func:`start_hash_rows` copies a frame or array of numbers (or of numbers and pyarrow
text) into one buffer laid out as :func:`~._row_hash.hash_rows` reads it, and hashes that
buffer on the library's one helper thread (:func:`_executor`, shared with
:mod:`._call_hashes` and :mod:`._row_digests`); anything else is hashed at once.
"""

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ._frame_columns import column_arrays as _columns
from ._row_hash import _F8, _I8, _VERSION, _int, _text_bytes, hash_rows
from ._signed_zeros import copy_floats

__all__ = ["start_hash_rows"]

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


#: The tag and dtype each kind of number is hashed as (see :func:`~._row_hash._feed_numbers`).
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
    :func:`~._row_hash._feed_numbers`).
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
