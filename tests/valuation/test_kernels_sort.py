"""The KNN-Shapley kernels' neighbour sort against numpy's stable argsort."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sktraceprop.valuation import _kernels as K


def _sort(row):
    keys = np.empty(row.shape[0], np.uint64)
    K._sortable_keys(row, keys)
    order = np.empty(row.shape[0], np.int64)
    K._stable_argsort(keys, order, np.empty_like(keys), np.empty_like(order))
    return keys, order


def _check(row):
    keys, order = _sort(row)
    # numpy's stable sort of the floats: -0.0 and 0.0 are equal there too
    assert np.array_equal(order, np.argsort(row, kind="stable"))
    assert np.all(keys[:-1] <= keys[1:])
    ranked = K._sorted_values(keys, np.empty_like(keys))
    assert np.array_equal(ranked, row[order])  # (0.0 == -0.0)


# Floats drawn around a few bases, with steps down to one unit in the last place, so
# that many keys share their top 33 bits and differ below (short runs sorted by
# insertion, long ones by the second radix passes).
_bases = st.sampled_from([0.0, 1.0, 1e6, -3.5, 2.0**40, 1e-300])
_offsets = st.lists(st.integers(-40, 40), min_size=0, max_size=300)


@settings(max_examples=150, deadline=None)
@given(base=_bases, offsets=_offsets, ulp_scale=st.sampled_from([1, 7, 1 << 20, 1 << 35]))
def test_sort_matches_numpy_on_keys_sharing_top_bits(base, offsets, ulp_scale):
    bits = np.float64(base if base != 0.0 else 1.0).view(np.int64)
    row = (np.int64(bits) + np.asarray(offsets, np.int64) * ulp_scale).view(np.float64)
    if base == 0.0:
        row = row - 1.0  # values straddling zero, with exact zeros of both signs
    row = row[np.isfinite(row)].copy()
    _check(row)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(0, 400), elements=st.floats(-1e300, 1e300)))
def test_sort_matches_numpy_on_any_finite_floats(row):
    _check(row)


@pytest.mark.parametrize("n", [0, 1, 2, 33, 5000])
def test_sort_long_runs_and_signed_zeros(n):
    rng = np.random.default_rng(n)
    # one long run equal in the top bits (1e6 + a few ulps) among ties and signed zeros
    row = np.concatenate(
        [
            (np.float64(1e6).view(np.int64) + rng.integers(0, 50, n)).view(np.float64),
            np.where(rng.random(n) < 0.5, 0.0, -0.0),
            np.round(rng.normal(size=n), 1),
        ]
    )
    _check(row)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 11),
    width=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_direct_distances_sum_each_row_in_column_order(n, width, seed):
    # four training rows are summed side by side; each sum must still be the plain
    # left-to-right sum of its squared differences, bit for bit
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, width)) * 10.0 ** rng.integers(-8, 8, (n, width))
    rows = rng.normal(size=(3, width))
    shift = np.round(rng.normal(size=width))
    expected = np.empty((3, n))
    for r in range(3):
        for j in range(n):
            acc = 0.0
            for c in range(width):
                diff = (X[j, c] + shift[c]) - rows[r, c]
                acc += diff * diff
            expected[r, j] = acc
    for kernel in (K.direct_squared_distances, K.direct_squared_distances_serial):
        out = np.empty((3, n))
        kernel(X, shift, rows, out)
        assert np.array_equal(out, expected)
