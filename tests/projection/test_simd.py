"""The SIMD intrinsics of the dense projection kernel on arrays aligned only to their
element (NumPy's views; numba's own arrays are more aligned than these)."""

import numpy as np
import pytest
from numba import njit

from sktraceprop.projection._simd import ROWS, block_add_to, block_axpy, block_new, block_zero


@njit(nogil=True)
def _sum_rows(xt, cols, signs, acc):
    block = block_new(xt.dtype)
    for c in range(acc.shape[0]):
        block_zero(block)
        for e in range(cols.shape[0]):
            block_axpy(block, xt, cols[e], signs[e])
        block_add_to(block, acc, c)


def _misaligned(shape, dtype, offset):
    """A C-contiguous array whose data starts ``offset`` elements past a 64-byte line."""
    n = int(np.prod(shape))
    raw = np.zeros(n + 64, dtype=dtype)
    skip = (-raw.ctypes.data % 64) // raw.itemsize + offset
    return raw[skip : skip + n].reshape(shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [0, 1, 3])
def test_block_sums_on_element_aligned_arrays(dtype, offset):
    # block_add_to stored with LLVM's default alignment of a vector (its size): an
    # aligned store that faulted (SIGSEGV) on an accumulator not aligned to 32 bytes
    rng = np.random.default_rng(offset)
    xt = _misaligned((16, ROWS), dtype, offset)
    xt[:] = rng.standard_normal((16, ROWS))
    acc = _misaligned((3, ROWS), dtype, offset)
    acc[:] = 1.0
    cols = np.array([0, 5, 5, 15], dtype=np.int32)
    signs = np.array([1, -1, 1, -1], dtype=dtype)
    _sum_rows(xt, cols, signs, acc)
    expected = np.zeros(ROWS, dtype=dtype)
    for col, sign in zip(cols, signs):
        expected = expected + sign * xt[col]
    np.testing.assert_array_equal(acc, np.broadcast_to(1 + expected, acc.shape))
