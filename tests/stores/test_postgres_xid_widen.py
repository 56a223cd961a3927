"""A server process's 32-bit transaction id read as the 64-bit one it is (epoch and id),
next to the next id to be assigned: the comparison deciding whether a snapshot is older
than an erasure (a wrong answer marks a wipe done that kept the erased values)."""

from hypothesis import given
from hypothesis import strategies as st

from sktraceprop.stores._postgres_scrub_snapshots import _widen

NEXT = st.integers(min_value=2**31, max_value=2**62)


@given(NEXT, st.integers(min_value=-(2**31) + 1, max_value=2**31 - 1))
def test_an_id_within_half_the_ring_of_the_next_is_widened_to_itself(next64, offset):
    xid64 = next64 + offset
    assert _widen(xid64 % 2**32, next64) == xid64
    assert _widen(str(xid64 % 2**32), next64) == xid64  # as the server's text


def test_ids_across_a_wraparound_keep_their_order():
    next64 = 5 * 2**32 + 10  # the 32-bit ids just wrapped: 10 is newer than 4294967200
    old, new = _widen(2**32 - 96, next64), _widen(3, next64)
    assert old == 5 * 2**32 - 96 < new == 5 * 2**32 + 3
