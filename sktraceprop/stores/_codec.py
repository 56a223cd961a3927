"""Row ids as bytes: compact, fast to write, and never decoded beyond a declared size.

A blob is ``b"STPI2"``, a method byte, the number of ids (``<u8``), then the method's
payload. The writer picks the smallest of three layouts, each a few passes of numpy
(no general-purpose compressor: zlib took 2 s for 5M shuffled ids, more than the fit):

- ``runs``: consecutive ids as ``(start, length)`` pairs (a file read in order: 16
  bytes for the whole run);
- ``deltas``: increasing ids as 1- or 2-byte gaps (filtered rows of one file);
- ``packed``: each id split into its source code (an index into the run's few codes:
  none for one source, else 1, 2, 4 or 8 bytes) and its line (1, 2, 4 or 8 bytes):
  shuffled rows of one or several files, 2 to 5 bytes per row instead of 8;
- ``raw``: little-endian int64, when nothing else is smaller.

Decoding is told how many ids the run says it holds and refuses a blob that holds any
other number, or whose payload is not exactly the size its header implies: a crafted
blob cannot make a read allocate more than the run declares. Blobs of schema version 1
(``b"STPI1"``, zlib over deltas) are decompressed with the same bound.
"""

import struct
import zlib

import numpy as np
import pandas as pd

from .._lineage._ids import LINE_BITS, MAX_LINE
from ..exceptions import CorruptStoreError

MAGIC = b"STPI2"
LEGACY_MAGIC = b"STPI1"
_HEADER = struct.Struct("<BQ")  # method, number of ids
_RUNS, _DELTAS, _PACKED, _RAW = 0, 1, 2, 3
_INT64_MAX = np.iinfo(np.int64).max
_SHIFT = np.int64(LINE_BITS)
_PROBE = 65_536  # ids looked at to decide whether runs or gaps can pay off


def _width(max_value):
    """Bytes of the smallest of uint8/16/32/64 holding ``max_value``.

    Only these widths: numpy reads and writes them as strided views, where 3 or 5
    bytes a value would cost a byte-by-byte copy (slower to write and read than the
    bytes it saves).
    """
    for width in (1, 2, 4):
        if max_value < 1 << (8 * width):
            return width
    return 8


def _low_bytes(values, width):
    """The low ``width`` bytes of each little-endian int64 (values below 256**width)."""
    if width == 8:
        return values.tobytes()
    return values.view(f"<u{width}")[:: 8 // width].tobytes()


def _from_low_bytes(buffer, width, count, offset):
    """Inverse of :func:`_low_bytes`: ``count`` unsigned ``width``-byte values."""
    return np.frombuffer(buffer, dtype=f"<u{width}", count=count, offset=offset)


def encode_ids(ids):
    """Encode an int64 array (row ids, or merge parents flattened) as bytes."""
    ids = np.ascontiguousarray(ids, dtype="<i8")
    n = ids.size
    if n == 0:
        return MAGIC + _HEADER.pack(_RAW, 0)
    candidates = {_RAW: 8 * n}
    # Runs and gaps pay off for ids in (near) order; a shuffled prefix rules them out
    # without two more passes over the whole array.
    probe = np.diff(ids[: _PROBE + 1])
    if probe.size == 0 or np.count_nonzero(probe != 1) <= probe.size // 8 or probe.min() > 0:
        gaps = np.diff(ids)
        n_runs = int(np.count_nonzero(gaps != 1)) + 1
        candidates[_RUNS] = 8 + 16 * n_runs  # payload: count, then pairs
        if n > 1 and int(gaps.min()) > 0:
            gap_width = _width(int(gaps.max()))
            if gap_width <= 2:
                candidates[_DELTAS] = 9 + gap_width * (n - 1)  # width, first id, gaps
    if min(candidates.values()) > n:  # the others cannot beat one byte per id
        low, high = int(ids.min()), int(ids.max())  # an id's code grows with the id
        if low >> LINE_BITS == high >> LINE_BITS:
            n_codes, code_width, table = 1, 0, np.array([low >> LINE_BITS], dtype="<i8")
            line_width = _width(high & MAX_LINE)
        else:
            index, uniques = pd.factorize(ids >> _SHIFT, sort=True)
            n_codes, table = uniques.size, uniques.astype("<i8")
            code_width = _width(n_codes - 1)
            lines = ids & np.int64(MAX_LINE)
            line_width = _width(int(lines.max()))
        candidates[_PACKED] = 6 + (code_width + line_width) * n + 8 * n_codes
    method = min(candidates, key=candidates.get)
    head = MAGIC + _HEADER.pack(method, n)
    if method == _RUNS:
        starts = np.flatnonzero(gaps != 1) + 1
        bounds = np.concatenate(([0], starts, [n]))
        lengths = np.diff(bounds).astype("<i8")
        first = ids[bounds[:-1]].tobytes()
        return b"".join((head, struct.pack("<Q", n_runs), first, lengths.tobytes()))
    if method == _RAW:
        return head + ids.tobytes()
    if method == _DELTAS:
        return b"".join(
            (head, struct.pack("<Bq", gap_width, int(ids[0])), _low_bytes(gaps, gap_width))
        )
    if n_codes == 1:
        # one code: below 2**32 a line is the id's low bytes (bits 32..35 are 0)
        index_bytes = b""
        lines = ids if line_width <= 4 else ids & np.int64(MAX_LINE)
    else:
        index_bytes = _low_bytes(index.astype("<i8", copy=False), code_width)
    line_bytes = _low_bytes(lines, line_width)
    return b"".join(
        (
            head,
            struct.pack("<IBB", n_codes, code_width, line_width),
            table.tobytes(),
            index_bytes,
            line_bytes,
        )
    )


def _corrupt(what, detail):
    return CorruptStoreError(f"{what} are corrupt: {detail}")


def _exact(payload, size, what):
    if len(payload) != size:
        raise _corrupt(what, f"{len(payload)} bytes where the header implies {size}")


def decode_ids(blob, count, what="stored row ids"):
    """Decode :func:`encode_ids` output holding exactly ``count`` ids.

    Parameters
    ----------
    blob : bytes, memoryview or ndarray
        The stored value; an int64 array (what :class:`MemoryStore` keeps) is checked
        for its length and returned as is.
    count : int
        How many ids the record says the blob holds; the bound on what is decoded.
    what : str
        Named in the error.

    Raises
    ------
    CorruptStoreError
        The blob is not an encoding this module writes, holds another number of ids,
        or its payload does not match its header.
    """
    count = int(count)
    if count < 0:
        raise _corrupt(what, f"a negative count ({count}) was declared")
    if isinstance(blob, np.ndarray):
        if blob.dtype != np.int64 or blob.ndim != 1 or blob.size != count:
            raise _corrupt(what, f"{blob.size} ids of {blob.dtype} where {count} are declared")
        return blob
    if not isinstance(blob, bytes | bytearray | memoryview):
        # bytes(n) of an integer n would allocate n bytes
        raise _corrupt(what, f"a {type(blob).__name__} is stored where ids are bytes")
    blob = bytes(blob)
    if blob.startswith(LEGACY_MAGIC):
        return _decode_legacy(blob, count, what)
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + _HEADER.size:
        raise _corrupt(what, "unknown encoding")
    method, n = _HEADER.unpack_from(blob, len(MAGIC))
    if n != count:
        raise _corrupt(what, f"the blob holds {n} ids where the record declares {count}")
    body = memoryview(blob)[len(MAGIC) + _HEADER.size :]
    if method == _RUNS:
        return _decode_runs(body, count, what)
    if method == _DELTAS:
        return _decode_deltas(body, count, what)
    if method == _PACKED:
        return _decode_packed(body, count, what)
    if method == _RAW:
        _exact(body, 8 * count, what)
        return np.frombuffer(body, dtype="<i8").astype(np.int64)
    raise _corrupt(what, f"unknown method {method}")


def _decode_runs(body, count, what):
    if len(body) < 8:
        raise _corrupt(what, "truncated")
    (n_runs,) = struct.unpack_from("<Q", body)
    if n_runs > count or (count > 0 and n_runs == 0):
        raise _corrupt(what, f"{n_runs} runs for {count} ids")
    _exact(body, 8 + 16 * n_runs, what)
    starts = np.frombuffer(body, dtype="<i8", count=n_runs, offset=8).astype(np.int64)
    lengths = np.frombuffer(body, dtype="<i8", count=n_runs, offset=8 + 8 * n_runs)
    lengths = lengths.astype(np.int64)
    if n_runs and (lengths.min() < 1 or int(lengths.sum()) != count):
        raise _corrupt(what, "run lengths do not add up to the declared count")
    if n_runs and np.any(starts > _INT64_MAX - (lengths - 1)):
        raise _corrupt(what, "a run overflows int64")
    offsets = np.arange(count, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def _decode_deltas(body, count, what):
    if len(body) < 9:
        raise _corrupt(what, "truncated")
    width, first = struct.unpack_from("<Bq", body)
    if width not in (1, 2) or count == 0:
        raise _corrupt(what, f"gap width {width} for {count} ids")
    _exact(body, 9 + width * (count - 1), what)
    gaps = np.frombuffer(body, dtype=f"<u{width}", offset=9)
    out = np.empty(count, dtype=np.int64)
    out[0] = first
    np.cumsum(gaps, dtype=np.int64, out=out[1:])
    out[1:] += first
    if count > 1 and (gaps.min() == 0 or out[-1] < first):
        raise _corrupt(what, "gaps are not positive, or overflow int64")
    return out


def _decode_packed(body, count, what):
    if len(body) < 6:
        raise _corrupt(what, "truncated")
    n_codes, code_width, line_width = struct.unpack_from("<IBB", body)
    if code_width not in (0, 1, 2, 4, 8) or line_width not in (1, 2, 4, 8) or n_codes < 1:
        raise _corrupt(what, "bad header")
    if (code_width == 0) != (n_codes == 1) or n_codes > max(count, 1):
        raise _corrupt(what, f"{n_codes} codes with {code_width}-byte indexes")
    _exact(body, 6 + 8 * n_codes + (code_width + line_width) * count, what)
    table = np.frombuffer(body, dtype="<i8", count=n_codes, offset=6).astype(np.int64)
    start = 6 + 8 * n_codes
    lines = _from_low_bytes(body, line_width, count, start + code_width * count)
    if count and int(lines.max()) > MAX_LINE:
        raise _corrupt(what, "a line exceeds the line field")
    if code_width == 0:
        codes = table[0]
    else:
        index = _from_low_bytes(body, code_width, count, start)
        if count and int(index.max()) >= n_codes:
            raise _corrupt(what, "a code index is out of range")
        codes = table[index]
    return (codes << _SHIFT) | lines.astype(np.int64)


def _decode_legacy(blob, count, what):
    """Schema version 1: zlib over int64 deltas, inflated to at most ``count`` ids."""
    inflate = zlib.decompressobj()
    limit = 8 * count
    try:
        raw = inflate.decompress(blob[len(LEGACY_MAGIC) :], limit + 1)
    except zlib.error as exc:
        raise _corrupt(what, str(exc)) from None
    if len(raw) != limit or inflate.unconsumed_tail or not inflate.eof:
        raise _corrupt(what, f"the blob does not inflate to the declared {count} ids")
    return np.cumsum(np.frombuffer(raw, dtype="<i8"), dtype=np.int64)
