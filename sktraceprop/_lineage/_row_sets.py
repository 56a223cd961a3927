"""Compact sets of row ids: which rows of a run an op fitted outside it transformed.

A step fitted outside the pipeline on part of a source (one scaler per hospital of one
file, before ``pd.concat``) transformed some of that source's rows and not the others;
the run must list it for those rows only. The set is kept in the run's record, so it
must be small and exact: per source code, a bitmap over the lines from the lowest to the
highest in the set (one bit per line, compressed), never a sample. A set of a random
half of a 1M-row file costs about 125 KB before compression; a contiguous block a few
bytes.

A set is a tuple of ``(first id, n bits, base64 of the zlib-compressed packed bits)``
segments, one per source code, sorted: hashable and comparable, and JSON-safe as
``[[str(first id), n bits, text], ...]`` (the first id as text: a JSON number past
2**53 loses digits in some readers).
"""

import base64
import zlib

import numpy as np

from ._ids import codes_of


def encode(ids):
    """The set of ``ids`` (array-like of int64, any order, repeats allowed)."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size > 1 and not (ids[1:] > ids[:-1]).all():
        ids = np.sort(ids)  # (then repeats dropped: faster than np.unique's hash here)
        ids = ids[np.r_[True, ids[1:] != ids[:-1]]]
    if not ids.size:
        return ()
    segments = []
    codes = codes_of(ids)
    bounds = np.flatnonzero(np.diff(codes)) + 1
    for part in np.split(ids, bounds):
        first = int(part[0])
        n = int(part[-1] - part[0]) + 1
        bits = np.zeros(n, dtype=bool)
        bits[part - part[0]] = True
        packed = zlib.compress(np.packbits(bits).tobytes(), 1)
        segments.append((first, n, base64.b64encode(packed).decode("ascii")))
    return tuple(segments)


def _bits(text):
    """The bits of one segment (0/1 uint8, padded to a multiple of 8)."""
    return np.unpackbits(np.frombuffer(zlib.decompress(base64.b64decode(text)), np.uint8))


def contains(segments, ids):
    """Bool mask: which of ``ids`` are in the set ``segments`` (from :func:`encode`)."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.zeros(ids.shape, dtype=bool)
    for first, n, text in segments:
        offset = ids - np.int64(first)
        inside = (ids >= first) & (offset < n)
        if not inside.any():
            continue
        bits = _bits(text)
        out[inside] = bits[offset[inside]].astype(bool)
    return out


def count(segments):
    """The number of ids in the set."""
    return sum(int(_bits(t).sum()) for _, _, t in segments)


def to_json(segments):
    """JSON-safe form of a set (None stays None)."""
    if segments is None:
        return None
    return [[str(first), n, text] for first, n, text in segments]


def from_json(value):
    """A set from :func:`to_json`'s form, checked: a malformed one is a ValueError."""
    if value is None:
        return None
    try:
        segments = tuple((int(first), int(n), str(text)) for first, n, text in value)
        for _, n, text in segments:
            bits = _bits(text)
            if n <= 0 or bits.size < n or bits.size - n >= 8:
                raise ValueError(f"{n} bits recorded, {bits.size} stored")
    except (TypeError, ValueError, zlib.error, base64.binascii.Error) as e:
        raise ValueError(f"malformed set of row ids: {e}") from None
    return segments
