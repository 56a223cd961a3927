"""The bytes :func:`~sktraceprop.compliance.hash_rows` digests for a frame of numbers and
pyarrow strings: what a logged call takes before the model predicts
(:func:`frame_parts`: its numbers copied, its text referenced), so that the SHA-256 of
those bytes, and the rows' keyed digests read from them put into one buffer
(:func:`assemble`), can run on the hashing thread meanwhile (:mod:`._call_hashes`).

It covers the common input of ``predict``: a frame of numbers and text (pandas 3 reads
text as pyarrow-backed ``str``), or numbers alone (a frame, or a numpy array), exactly
as :func:`~sktraceprop._row_hash.hash_rows` feeds it
(:func:`~sktraceprop._row_hash._feed_numbers` and
:func:`~sktraceprop._row_hash._arrow_text`), and nothing else: any other column (objects,
categoricals, datetimes, nullable numbers) sends the frame back to ``hash_rows``. The
pyarrow buffers are immutable (Arrow's contract: pandas gives a column written to a new
array, never writes into the old one's buffers), so the text is not copied; the numbers
are.
"""

import numpy as np
import pandas as pd

from ._frame_columns import column_arrays
from ._row_hash import _F8, _I8, _VERSION, _int, _text_bytes
from ._signed_zeros import hashed_floats

__all__ = ["assemble", "frame_bytes", "frame_layout", "frame_parts"]

_U8 = np.dtype("<u8")


#: Each column's kind in :func:`frame_layout`'s table, and the tag its row digests give
#: it (:mod:`._row_digests`: an unsigned column is ``int``, its values above the int64
#: range coded apart).
INT, UINT, FLOAT, BOOL, TEXT = range(5)
DIGEST_TAGS = ("int", "int", "float", "bool", "text")
_KINDS = {"int": INT, "uint": UINT, "float": FLOAT, "bool": BOOL}


def _number_part(values):
    """``(head, data)`` of a numpy column of numbers as ``_feed_numbers`` feeds it."""
    kind = values.dtype.kind
    if kind == "b":
        tag, data = "bool", np.asarray(values, dtype=np.uint8)
    elif kind == "i" or (kind == "u" and (values.size == 0 or values.max() < 2**63)):
        tag, data = "int", np.array(values, dtype=_I8)
    elif kind == "u":
        tag, data = "uint", np.array(values, dtype=_U8)
    else:
        tag, data = "float", hashed_floats(values, _F8)
    missing = b""
    count = 0
    if kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.add.reduce(data)
        if not np.isfinite(total):
            where = np.flatnonzero(np.isnan(data))
            if where.size:
                data[where] = 0
                count, missing = where.size, where.astype(_I8).tobytes()
    return _KINDS[tag], [_text_bytes(tag) + _int(count), missing, data.view(np.uint8)], count


#: The head of a float column without missing values (see :func:`_number_part`).
_FLOAT_HEAD = _text_bytes("float") + _int(0)


def _float_block(X):
    """A frame's floats as one new ``(n_cols, n_rows)`` C-ordered float64 array, each
    -0.0 as 0.0 (:func:`_number_part`'s values of every column, in one copy), when the
    frame is one block of numpy floats with its columns in order and no NaN; else None
    (the columns are then taken one by one).

    The common input of ``predict`` (a frame of numbers read from one file or array):
    one copy and one sum instead of a copy, a sum and some Python per column, on the
    caller's path before the model answers."""
    try:
        (block,) = X._mgr.blocks
        values, places = block.values, block.mgr_locs.as_array
    except (AttributeError, ValueError):  # several blocks, other internals, or an array
        return None
    if not (
        type(X) is pd.DataFrame
        and isinstance(values, np.ndarray)
        and values.dtype.kind == "f"
        and values.shape == (X.shape[1], X.shape[0])
        and np.array_equal(places, np.arange(X.shape[1]))
    ):
        return None
    data = np.ascontiguousarray(hashed_floats(values, _F8))
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(data, axis=None)
    # a NaN makes the sum NaN; an overflow or an infinity only sends the columns one by one
    return data if np.isfinite(total) else None


def _text_part(values):
    """``(head, data)`` of a pyarrow string column as ``_arrow_text`` feeds it, or None
    for another kind of array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    nulls = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
    if nulls is not None:
        arr = pc.fill_null(arr, "")  # null slots may hold bytes: made canonical
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    lengths = np.diff(offsets).astype(_I8)
    if nulls is not None:
        lengths[nulls] = -1
    buffer = arr.buffers()[2]
    body = np.zeros(0, np.uint8)
    if buffer is not None:
        body = np.frombuffer(buffer, np.uint8)[int(offsets[0]) : int(offsets[-1])]
    return TEXT, [_text_bytes("text"), lengths.view(np.uint8), body], 0


def _columns(X):
    """``(n_rows, names, [(dtype, values)])`` of a pandas DataFrame, or of a numpy array
    of numbers (one or two dimensions; its columns unnamed, as ``hash_rows`` reads it),
    else None."""
    if type(X) is pd.DataFrame:
        return X.shape[0], [str(c) for c in X.columns.tolist()], column_arrays(X)
    if type(X) is np.ndarray and X.ndim in (1, 2) and X.dtype.kind in "iubf":
        values = X[:, None] if X.ndim == 1 else X
        arrays = [(values.dtype, values[:, j]) for j in range(values.shape[1])]
        return values.shape[0], [""] * values.shape[1], arrays
    return None


def frame_parts(X):
    """``(pieces, size, table)``: the bytes ``hash_rows(X)`` digests as the pieces that
    :func:`assemble` puts into one buffer of ``size`` bytes, and the :func:`frame_layout`
    table of that buffer; None for input :func:`frame_layout` does not take.

    The pieces are a snapshot of ``X`` as it is now: its numbers copied (a step may
    modify them in place), its text read from pyarrow's immutable buffers without a
    copy. The caller takes them before the model predicts; :func:`assemble` may run
    later, on the hashing thread (:mod:`._call_hashes`), and hashlib may digest the
    pieces one after the other without it (the same SHA-256).
    """
    found = _columns(X)
    if found is None:
        return None
    n_rows, names, arrays = found
    floats = _float_block(X)
    if floats is not None:
        arrays = [(floats.dtype, None)] * len(names)  # (the columns need not be asked)
    pieces = [_VERSION + _int(n_rows) + _int(len(names))]
    columns = []
    for j, (name, (dtype, values)) in enumerate(zip(names, arrays)):
        if floats is not None:
            found = FLOAT, [_FLOAT_HEAD, b"", floats[j].view(np.uint8)], 0
        elif isinstance(dtype, np.dtype) and dtype.kind in "iubf":
            found = _number_part(np.asarray(values))
        elif isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
            found = _text_part(values)
            if found is None:
                return None
        else:
            return None
        kind, column, count = found
        pieces += [_text_bytes(name), *column]
        columns.append((kind, len(pieces) - 2, count))
    sizes = [len(p) if isinstance(p, bytes) else p.size for p in pieces]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    # the pieces of column c: [head, missing positions or lengths, values or text]
    kinds = np.array([k for k, _, _ in columns], np.int64)
    second = np.array([i for _, i, _ in columns], np.int64)
    values_at = np.where(kinds == TEXT, starts[second], starts[second + 1])
    body = np.where(kinds == TEXT, starts[second + 1], 0)
    missing_at = np.where(kinds == TEXT, 0, starts[second])
    counts = np.array([c for _, _, c in columns], np.int64)
    return pieces, int(starts[-1]), (names, kinds, values_at, body, missing_at, counts)


def assemble(pieces, size):
    """The pieces of :func:`frame_parts` one after the other in one new buffer (uint8,
    read-only).

    One ``bytes.join``, which holds the GIL from start to end: on the hashing thread, a
    copy per piece (numpy releases the GIL for each large one) would give the GIL back to
    the model's thread up to once per piece, and wait for it as often."""
    out = np.frombuffer(b"".join(pieces), np.uint8)
    if out.size != size:
        raise ValueError(f"the pieces hold {out.size} bytes, not the {size} expected")
    return out


def frame_layout(X):
    """``(buffer, table)``: the bytes ``hash_rows(X)`` digests, in one new buffer
    (uint8, read-only), and where each column's parts lie in it, for a pandas DataFrame whose
    columns are all numpy numbers (int, uint, float, bool) or pyarrow strings, or a
    numpy array of numbers; None for any other input.

    ``table`` is ``(names, kinds, at, body, missing_at, missing_count)``: per column, its
    name, kind (:data:`INT`, :data:`UINT`, :data:`FLOAT`, :data:`BOOL` or :data:`TEXT`),
    the offset of its values (numbers: 8 bytes each, 1 for a boolean; text: the int64
    byte lengths, -1 where missing), of its UTF-8 bytes (text), and of the int64 row
    positions of its missing values (numbers) and their count.
    """
    found = frame_parts(X)
    if found is None:
        return None
    pieces, size, table = found
    return assemble(pieces, size), table


def frame_bytes(X):
    """The bytes ``hash_rows(X)`` digests, in one new buffer (see :func:`frame_layout`),
    or None."""
    found = frame_layout(X)
    return None if found is None else found[0]
