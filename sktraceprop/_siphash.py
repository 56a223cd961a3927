"""SipHash-2-4 with a 128-bit output, many messages at once (numba; no policy here).

SipHash (Aumasson and Bernstein, 2012) is a pseudorandom function keyed by 128 bits,
made for short inputs: what :mod:`._row_digests` needs to give every row of a batch its
own keyed digest at a cost of some nanoseconds per row, where one ``hashlib`` call per
row costs about a microsecond in a Python loop. The 128-bit variant is the reference
implementation's (``v1 ^= 0xee`` at the start, ``v2 ^= 0xee`` then ``v1 ^= 0xdd``
before the two halves of the output); both kernels release the GIL.
"""

import numpy as np
from numba import njit

from .utils import _numba_cache  # noqa: F401  (registers the cache locators first)

__all__ = ["sip128_bytes", "sip128_records", "sip128_table", "sip128_words"]


@njit(inline="always", cache=True)
def _rotl(x, b):
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


@njit(inline="always", cache=True)
def _rounds(v0, v1, v2, v3, n):
    for _ in range(n):
        v0 += v1
        v1 = _rotl(v1, 13)
        v1 ^= v0
        v0 = _rotl(v0, 32)
        v2 += v3
        v3 = _rotl(v3, 16)
        v3 ^= v2
        v0 += v3
        v3 = _rotl(v3, 21)
        v3 ^= v0
        v2 += v1
        v1 = _rotl(v1, 17)
        v1 ^= v2
        v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


@njit(inline="always", cache=True)
def _start(k0, k1):
    v0 = k0 ^ np.uint64(0x736F6D6570736575)
    v1 = k1 ^ np.uint64(0x646F72616E646F6D) ^ np.uint64(0xEE)
    v2 = k0 ^ np.uint64(0x6C7967656E657261)
    v3 = k1 ^ np.uint64(0x7465646279746573)
    return v0, v1, v2, v3


@njit(inline="always", cache=True)
def _final(v0, v1, v2, v3, last):
    v3 ^= last
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= np.uint64(0xEE)
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    first = v0 ^ v1 ^ v2 ^ v3
    v1 ^= np.uint64(0xDD)
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    return first, v0 ^ v1 ^ v2 ^ v3


@njit(inline="always", cache=True)
def _finish(v0, v1, v2, v3, last, out, i):
    out[i, 0], out[i, 1] = _final(v0, v1, v2, v3, last)


@njit(inline="always", cache=True)
def _message(k0, k1, data, start, end):
    """SipHash-2-4-128 of ``data[start:end]`` (uint8) as its two halves."""
    v0, v1, v2, v3 = _start(k0, k1)
    full = start + ((end - start) // 8) * 8
    for p in range(start, full, 8):
        m = np.uint64(0)
        for b in range(8):
            m |= np.uint64(data[p + b]) << np.uint64(8 * b)
        v3 ^= m
        v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
        v0 ^= m
    last = np.uint64((end - start) & 0xFF) << np.uint64(56)
    for b in range(end - full):
        last |= np.uint64(data[full + b]) << np.uint64(8 * b)
    return _final(v0, v1, v2, v3, last)


@njit(nogil=True, cache=True)
def sip128_words(k0, k1, words):
    """SipHash-2-4-128 of each row of ``words`` ((n, w) uint64: a message of ``8 w``
    bytes, each word little-endian); returns (n, 2) uint64, the output's two halves."""
    n, w = words.shape
    out = np.empty((n, 2), np.uint64)
    last = np.uint64((8 * w) & 0xFF) << np.uint64(56)
    for i in range(n):
        v0, v1, v2, v3 = _start(k0, k1)
        for j in range(w):
            m = words[i, j]
            v3 ^= m
            v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
            v0 ^= m
        _finish(v0, v1, v2, v3, last, out, i)
    return out


@njit(nogil=True, cache=True)
def sip128_bytes(k0, k1, data, offsets):
    """SipHash-2-4-128 of each message ``data[offsets[i]:offsets[i + 1]]`` (uint8);
    returns (len(offsets) - 1, 2) uint64."""
    n = offsets.size - 1
    out = np.empty((n, 2), np.uint64)
    for i in range(n):
        out[i, 0], out[i, 1] = _message(k0, k1, data, offsets[i], offsets[i + 1])
    return out


@njit(nogil=True, cache=True)
def sip128_records(t0, t1, k0, k1, records, data, offsets, columns, slots):
    """SipHash-2-4-128 under ``(k0, k1)`` of each row of ``records`` ((n, w) uint64, as
    :func:`sip128_words`), after writing into it, for each text column ``c``, the
    SipHash-2-4-128 under ``(t0, t1)`` of row ``i``'s value ``data[offsets[c, i]:offsets[c,
    i + 1]]`` at words ``slots[c]`` and ``slots[c] + 1``, unless the column's 2-bit code
    (bits ``2 (j % 32)`` of word ``j // 32``, ``j = columns[c]``) is 1 (missing: left
    as the zeros given). One pass, no GIL: what :mod:`._row_digests` does in three."""
    n, w = records.shape
    out = np.empty((n, 2), np.uint64)
    last = np.uint64((8 * w) & 0xFF) << np.uint64(56)
    for i in range(n):
        for c in range(columns.size):
            j = columns[c]
            code = (records[i, j // 32] >> np.uint64(2 * (j % 32))) & np.uint64(3)
            if code != np.uint64(1):
                h0, h1 = _message(t0, t1, data, offsets[c, i], offsets[c, i + 1])
                records[i, slots[c]] = h0
                records[i, slots[c] + 1] = h1
        v0, v1, v2, v3 = _start(k0, k1)
        for j in range(w):
            m = records[i, j]
            v3 ^= m
            v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
            v0 ^= m
        out[i, 0], out[i, 1] = _final(v0, v1, v2, v3, last)
    return out


@njit(inline="always", cache=True)
def _word(data, p):
    """The little-endian uint64 at byte ``p`` of ``data`` (uint8, any alignment)."""
    m = np.uint64(0)
    for b in range(8):
        m |= np.uint64(data[p + b]) << np.uint64(8 * b)
    return m


@njit(nogil=True, cache=True)
def sip128_table(t0, t1, k0, k1, data, n, kinds, at, body, missing_at, missing_count):
    """SipHash-2-4-128 under ``(k0, k1)`` of each of ``n`` rows' records, read from
    columns laid out in ``data`` (uint8) as ``kinds`` and offsets say (see
    :func:`sktraceprop._row_hash_frames.frame_layout`: kinds 0 int64, 1 uint64, 2
    float64, 3 uint8 boolean, 4 text). A row's record: the columns' 2-bit codes (0
    value, 1 missing, 2 an unsigned value at or above ``2**63``) packed 32 to a word,
    then per column its value as one word, or a text's SipHash-2-4-128 under ``(t0,
    t1)`` as two (0 where missing). Returns (n, 2) uint64."""
    n_cols = kinds.size
    n_flags = (n_cols + 31) // 32
    w = n_flags
    for c in range(n_cols):
        w += 2 if kinds[c] == 4 else 1
    record = np.zeros(w, np.uint64)
    text_at = body.copy()
    next_missing = np.zeros(n_cols, np.int64)
    out = np.empty((n, 2), np.uint64)
    last = np.uint64((8 * w) & 0xFF) << np.uint64(56)
    for i in range(n):
        for f in range(n_flags):
            record[f] = 0
        s = n_flags
        for c in range(n_cols):
            kind = kinds[c]
            code = np.uint64(0)
            if kind == 4:
                length = np.int64(_word(data, at[c] + 8 * i))
                if length < 0:
                    code = np.uint64(1)
                    record[s] = 0
                    record[s + 1] = 0
                else:
                    start = text_at[c]
                    h0, h1 = _message(t0, t1, data, start, start + length)
                    record[s] = h0
                    record[s + 1] = h1
                    text_at[c] = start + length
                s += 2
                word = np.uint64(0)
            else:
                k = next_missing[c]
                if k < missing_count[c] and np.int64(_word(data, missing_at[c] + 8 * k)) == i:
                    next_missing[c] = k + 1
                    code = np.uint64(1)
                    word = np.uint64(0)
                elif kind == 3:
                    word = np.uint64(data[at[c] + i])
                else:
                    word = _word(data, at[c] + 8 * i)
                    if kind == 1 and (word >> np.uint64(63)) != np.uint64(0):
                        code = np.uint64(2)
                record[s] = word
                s += 1
            if code != np.uint64(0):
                record[c // 32] |= code << np.uint64(2 * (c % 32))
        v0, v1, v2, v3 = _start(k0, k1)
        for j in range(w):
            m = record[j]
            v3 ^= m
            v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
            v0 ^= m
        out[i, 0], out[i, 1] = _final(v0, v1, v2, v3, last)
    return out
