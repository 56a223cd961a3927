"""SipHash-2-4-128 kernels against the reference implementation's published vectors
and a plain-Python SipHash written from the paper (Aumasson and Bernstein, 2012)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop._siphash import sip128_bytes, sip128_words

_M = (1 << 64) - 1
_KEY = bytes(range(16))


def _reference(key, message):
    """SipHash-2-4 with a 128-bit output, one byte at a time, in Python integers."""

    def rotl(x, b):
        return ((x << b) | (x >> (64 - b))) & _M

    def rounds(v, n):
        v0, v1, v2, v3 = v
        for _ in range(n):
            v0 = (v0 + v1) & _M
            v1 = rotl(v1, 13) ^ v0
            v0 = rotl(v0, 32)
            v2 = (v2 + v3) & _M
            v3 = rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _M
            v3 = rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _M
            v1 = rotl(v1, 17) ^ v2
            v2 = rotl(v2, 32)
        return [v0, v1, v2, v3]

    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:], "little")
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D ^ 0xEE]
    v += [k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    n = len(message)
    blocks = [message[i : i + 8] for i in range(0, n - n % 8, 8)]
    blocks.append(message[n - n % 8 :] + bytes(7 - n % 8) + bytes([n & 0xFF]))
    for block in blocks:
        m = int.from_bytes(block, "little")
        v[3] ^= m
        v = rounds(v, 2)
        v[0] ^= m
    v[2] ^= 0xEE
    v = rounds(v, 4)
    first = v[0] ^ v[1] ^ v[2] ^ v[3]
    v[1] ^= 0xDD
    v = rounds(v, 4)
    second = v[0] ^ v[1] ^ v[2] ^ v[3]
    return first.to_bytes(8, "little") + second.to_bytes(8, "little")


def _kernel(key, messages):
    k0, k1 = np.frombuffer(key, "<u8")
    data = np.frombuffer(b"".join(messages), np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(m) for m in messages])]).astype(np.int64)
    out = sip128_bytes(k0, k1, data, offsets)
    return [row.astype("<u8").tobytes() for row in out]


def test_the_reference_vectors():
    # vectors_sip128 of the reference implementation: key 00..0f, message 00..(n-1)
    empty, fifteen = _kernel(_KEY, [b"", bytes(range(15))])
    assert empty.hex() == "a3817f04ba25a8e66df67214c7550293"
    assert fifteen.hex() == "5493e99933b0a8117e08ec0f97cfc3d9"
    assert _reference(_KEY, b"") == empty and _reference(_KEY, bytes(range(15))) == fifteen


@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), messages=st.lists(st.binary(max_size=40)))
def test_the_kernels_agree_with_the_reference(key, messages):
    assert _kernel(key, messages) == [_reference(key, m) for m in messages]


@settings(max_examples=40, deadline=None)
@given(
    key=st.binary(min_size=16, max_size=16),
    n=st.integers(0, 6),
    w=st.integers(0, 5),
    data=st.data(),
)
def test_words_are_the_messages_of_their_bytes(key, n, w, data):
    values = data.draw(st.lists(st.integers(0, 2**64 - 1), min_size=n * w, max_size=n * w))
    words = np.array(values, dtype=np.uint64).reshape(n, w)
    k0, k1 = np.frombuffer(key, "<u8")
    got = sip128_words(k0, k1, words)
    want = [_reference(key, words[i].astype("<u8").tobytes()) for i in range(n)]
    assert [row.astype("<u8").tobytes() for row in got] == want
