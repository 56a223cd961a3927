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

__all__ = ["sip128_bytes", "sip128_words"]


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
def _finish(v0, v1, v2, v3, last, out, i):
    v3 ^= last
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= np.uint64(0xEE)
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    out[i, 0] = v0 ^ v1 ^ v2 ^ v3
    v1 ^= np.uint64(0xDD)
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    out[i, 1] = v0 ^ v1 ^ v2 ^ v3


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
        start, end = offsets[i], offsets[i + 1]
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
        _finish(v0, v1, v2, v3, last, out, i)
    return out
