import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop._lineage._ids import pack
from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores._codec import LEGACY_MAGIC, MAGIC, decode_ids, encode_ids

int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(int64, max_size=200))
def test_any_int64_array_roundtrips(values):
    ids = np.array(values, dtype=np.int64)
    out = decode_ids(encode_ids(ids), ids.size)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, ids)


@st.composite
def row_id_arrays(draw):
    """Row ids as traced data holds them: a few sources, runs of lines, shuffles, gaps."""
    codes = draw(st.lists(st.integers(1, 2**27 - 1), min_size=1, max_size=4, unique=True))
    parts = []
    for code in codes:
        start = draw(st.integers(1, 2**36 - 40_000))
        n = draw(st.integers(0, 120))
        step = draw(st.sampled_from([1, 1, 2, 7, 300]))
        parts.append(pack(code, start + step * np.arange(n)))
    ids = np.concatenate(parts)
    if draw(st.booleans()):
        ids = ids[np.random.default_rng(draw(st.integers(0, 99))).permutation(ids.size)]
    return ids


@settings(max_examples=300, deadline=None)
@given(row_id_arrays())
def test_row_id_arrays_roundtrip_and_stay_small(ids):
    blob = encode_ids(ids)
    np.testing.assert_array_equal(decode_ids(blob, ids.size), ids)
    assert len(blob) <= ids.nbytes + 14  # never more than the raw array and a header


def test_each_layout_is_chosen_where_it_is_smallest():
    consecutive = pack(7, np.arange(1, 1_000_001))
    blob = encode_ids(consecutive)
    assert blob[5] == 0 and len(blob) < 64  # one (start, length) run
    filtered = consecutive[::3]
    assert encode_ids(filtered)[5] == 1  # one-byte gaps
    assert len(encode_ids(filtered)) < filtered.size + 64
    shuffled = consecutive[np.random.default_rng(0).permutation(consecutive.size)]
    blob = encode_ids(shuffled)
    assert blob[5] == 2  # packed: one code, 4-byte lines
    assert len(blob) < 4 * shuffled.size + 64
    two = np.concatenate([pack(7, np.arange(1, 501)), pack(9, np.arange(1, 501))])
    blob = encode_ids(two[np.random.default_rng(1).permutation(two.size)])
    assert blob[5] == 2 and len(blob) < 3 * two.size + 64  # 1-byte code index, 2-byte lines


@pytest.mark.parametrize(
    "ids",
    [
        pack(3, np.arange(1, 201)),
        pack(3, np.arange(1, 401, 2)),
        pack(3, np.random.default_rng(0).permutation(np.arange(1, 201))),
    ],
)
def test_decoding_is_bounded_by_the_declared_count(ids):
    blob = encode_ids(ids)
    for wrong in (0, ids.size - 1, ids.size + 1, 2**40):
        with pytest.raises(CorruptStoreError, match="declares"):
            decode_ids(blob, wrong)
    # a truncated or padded payload is refused, never read past or partly
    for bad in (blob[:-1], blob + b"\x00"):
        with pytest.raises(CorruptStoreError):
            decode_ids(bad, ids.size)


def test_a_header_claiming_more_ids_is_refused_before_allocating():
    # 268M ids claimed by a 30-byte blob: refused because the run declares 200
    blob = MAGIC + struct.pack("<BQ", 0, 268_000_000) + struct.pack("<Q", 1)
    blob += struct.pack("<qq", 1, 268_000_000)
    with pytest.raises(CorruptStoreError, match="268000000 ids where the record declares 200"):
        decode_ids(blob, 200)


def test_legacy_zlib_bomb_is_inflated_only_to_the_declared_size():
    # 256 MB of zero deltas compress to ~256 kB: the version-1 decoder stops at 200 ids
    deflate = zlib.compressobj(9)
    chunk = bytes(1 << 24)
    bomb = LEGACY_MAGIC + b"".join(deflate.compress(chunk) for _ in range(16)) + deflate.flush()
    assert len(bomb) < 400_000
    with pytest.raises(CorruptStoreError, match="declared 200 ids"):
        decode_ids(bomb, 200)
    honest = LEGACY_MAGIC + zlib.compress(np.diff(np.arange(1, 201), prepend=0).tobytes())
    np.testing.assert_array_equal(decode_ids(honest, 200), np.arange(1, 201))


def test_arrays_kept_by_a_memory_store_are_checked_too():
    ids = np.arange(5, dtype=np.int64)
    assert decode_ids(ids, 5) is ids
    with pytest.raises(CorruptStoreError):
        decode_ids(ids, 4)
    with pytest.raises(CorruptStoreError, match="unknown encoding"):
        decode_ids(b"garbage", 4)
