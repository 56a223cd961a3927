"""Row positions of traced JAX arrays past int32: exact with 64-bit JAX, else refused.

The rules of the data-moving primitives run the primitive on an array of row
positions. Those were int32 whatever the array's length: past ``2**31 - 1`` rows they
wrapped to negative numbers, read as "no row", without a word.
"""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageError

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from sktraceprop.arrays import _jax_rules  # noqa: E402


@pytest.fixture
def x64():
    """Set ``jax_enable_x64`` for one test, restored after it."""
    before = jax.config.jax_enable_x64

    def set_x64(on):
        jax.config.update("jax_enable_x64", on)

    yield set_x64
    jax.config.update("jax_enable_x64", before)


def _lines(x):
    frame = stp.provenance(x).rows(list(range(x.shape[0])))
    return list(zip(frame["row"], frame["line"]))


def _moves(a):
    """Data movement through gather, slice, rev, pad, dynamic_slice and concatenate."""
    return [
        a[jnp.array([4, 0, 5, 5, 2])],
        a[::-2],
        stp.arrays.apply(lambda x: jnp.pad(x, ((2, 1), (0, 0))), a),
        stp.arrays.apply(lambda x: jax.lax.dynamic_slice_in_dim(x, 3, 2), a),
        stp.arrays.apply(lambda x: jnp.flip(x, 0)[1:4] * 2, a),
    ]


def test_positions_past_int32_are_refused_without_64_bit_jax(x64):
    x64(False)
    with pytest.raises(LineageError, match="beyond int32"):
        # shapes only: nothing of 2**31 rows is allocated
        jax.eval_shape(lambda: _jax_rules._positions((2**31 + 3, 2)))
    assert jax.eval_shape(lambda: _jax_rules._positions((2**31 - 1, 2))).dtype == jnp.int32


def test_positions_past_int32_are_int64_with_64_bit_jax(x64):
    x64(True)
    out = jax.eval_shape(lambda: _jax_rules._positions((2**31 + 3, 2)))
    assert out.dtype == jnp.int64 and out.shape == (2**31 + 3, 2)


def test_int64_positions_follow_rows_exactly_and_int32_jax_refuses(x64, monkeypatch):
    # the int32 bound lowered to 3 rows: the int64 path runs on a small array
    a = stp.array(jnp.arange(18.0).reshape(6, 3), source_id="pos6")
    want = [_lines(m) for m in _moves(a)]
    assert want[0] == [(0, 5), (1, 1), (2, 6), (3, 6), (4, 3)]
    monkeypatch.setattr(_jax_rules, "_INT32_MAX", 3)
    x64(True)  # toggled after the array was made: its rows are unchanged
    assert [_lines(m) for m in _moves(a)] == want
    x64(False)
    with pytest.raises(LineageError, match="beyond int32"):
        a[jnp.array([4, 0])]


@settings(deadline=None, max_examples=25)
@given(
    n=st.integers(1, 9),
    picks=st.lists(st.integers(0, 8), min_size=1, max_size=6),
    pad=st.tuples(st.integers(0, 3), st.integers(0, 3)),
)
@example(n=4, picks=[3, 0, 3], pad=(3, 0))
def test_int64_and_int32_positions_name_the_same_lines(n, picks, pad):
    a = stp.array(jnp.arange(2.0 * n).reshape(n, 2), source_id=f"prop{n}")
    idx = jnp.array([p % n for p in picks])

    def moved():
        return [
            a[idx],
            stp.arrays.apply(lambda x: jnp.pad(x, (pad, (0, 0)))[::-1], a),
        ]

    truth_gather = [(i, p % n + 1) for i, p in enumerate(picks)]
    padded = [None] * pad[0] + list(range(1, n + 1)) + [None] * pad[1]
    truth_pad = [(i, line) for i, line in enumerate(padded[::-1]) if line is not None]
    before = jax.config.jax_enable_x64
    try:
        for bound, on in ((_jax_rules._INT32_MAX, False), (0, True)):
            _jax_rules._INT32_MAX, saved = bound, _jax_rules._INT32_MAX
            jax.config.update("jax_enable_x64", on)
            try:
                gathered, flipped = moved()
            finally:
                _jax_rules._INT32_MAX = saved
            assert _lines(gathered) == truth_gather
            assert [row for row in _lines(flipped) if row[1] == row[1]] == truth_pad
    finally:
        jax.config.update("jax_enable_x64", before)
