"""Dense projection kernel for sparse ``R``: blocks of rows scattered by nonzero.

Where a feature tile holds few nonzeros of each output component (``tile * density``
small: many features, few components), summing by component
(:func:`._kernels.project_dense`) pays a loop, a register spill and a branch miss per
component and tile for one or two terms. This kernel walks the nonzeros instead, for a
*line* of rows at a time (two SIMD vectors, one 64-byte cache line: 16 float32 or 8
float64 rows):

1. a tile of ``TILE`` features of the line of rows is transposed into a buffer
   (``TILE`` lines, 16 KB, in L1) by SIMD shuffles that also test every value's
   exponent bits for NaN and infinity (:func:`._simd.transpose_square`);
2. the tile's nonzeros, in the column order :func:`._kernels.column_entries` writes
   them, are walked in one flat loop (no loop per feature, whose trip count of 0, 1 or
   2 the branch predictor would miss): nonzero ``(c -> j, s)`` adds ``s`` times feature
   ``c``'s line to component ``j``'s line of the accumulator (``k`` lines, in L2).

Each output entry is the sum of its terms in increasing feature order, from zero: the
order of :func:`._kernels.project_csr` with one tile spanning the whole range.
"""

import numpy as np
from numba import njit

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)
from ._kernels import store_block
from ._simd import row_axpy, transpose_square, vector_lanes

#: Features of a tile: 256 lines of 64 bytes, 16 KB.
TILE = 256


@njit(nogil=True, cache=True)
def _aligned(shape, dtype):
    """An uninitialised C-contiguous array whose data starts on a 64-byte boundary."""
    n = shape[0] * shape[1]
    itemsize = np.empty(1, dtype=dtype).itemsize
    raw = np.empty(n + 64 // itemsize, dtype=dtype)
    skip = (-raw.ctypes.data % 64) // itemsize
    return raw[skip : skip + n].reshape(shape)


@njit(nogil=True, cache=True)
def project_scatter(X, bits, exponent, j0, colptr, rows, signs, first, scale, out, b0, b1):
    """Lines ``b0:b1`` of rows of ``out += X[:, j0:j1] @ R[:, j0:j1].T``, the columns of
    ``R`` compressed by column (``colptr``, ``rows``, ``signs``); ``out =`` instead of
    ``out +=`` if ``first``, and ``scale`` (if not 0) then multiplies ``out``.

    ``X`` is C-contiguous and ``bits`` is ``X`` viewed as integers of its width;
    ``exponent`` has the exponent bits of the dtype set. Returns ``exponent`` if some
    value of ``X[:, j0:j1]`` read is NaN or infinite, else 0 (as ``project_dense``).
    """
    n_samples = X.shape[0]
    n_components = out.shape[1]
    n_cols = colptr.shape[0] - 1
    base = colptr[0]
    width = vector_lanes(X)
    size = 2 * width  # rows of a line
    # each line of acc and buf starts a cache line: one line costs one cache line
    acc = _aligned((n_components, size), X.dtype)
    buf_bits = _aligned((TILE, size), bits.dtype)
    buf_bits[:] = 0
    buf = buf_bits.view(X.dtype)
    # the feature in its tile of each nonzero, for the flat loop
    local = np.empty(rows.shape[0], dtype=np.int32)
    for i in range(n_cols):
        local[colptr[i] - base : colptr[i + 1] - base] = i % TILE
    seen = bits.dtype.type(0)
    for b in range(b0, b1):
        r0 = b * size
        m = min(n_samples, r0 + size) - r0
        acc[:] = 0
        for t0 in range(0, n_cols, TILE):
            n_tile = min(TILE, n_cols - t0)
            f0 = j0 + t0
            # whole squares of a whole line by shuffles, the rest value by value (the
            # rows of a partial line past m keep stale values: their sums are not used)
            done = n_tile - n_tile % width if m == size else 0
            for i in range(0, done, width):
                for q in range(0, size, width):
                    if transpose_square(bits, r0 + q, f0 + i, buf_bits, i, 1, q):
                        seen = exponent
            for r in range(m):
                for i in range(done, n_tile):
                    w = bits[r0 + r, f0 + i]
                    buf_bits[i, r] = w
                    if (w & exponent) == exponent:
                        seen = exponent
            for e in range(colptr[t0] - base, colptr[t0 + n_tile] - base):
                row_axpy(acc, rows[e], signs[e], buf, local[e])
        store_block(out, acc, r0, m, n_components, first, scale)
    return seen
