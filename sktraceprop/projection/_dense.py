"""Dense projection kernel: blocks of rows transposed once, then scattered by feature.

``out[rows] = X[rows, j0:j1] @ R[:, j0:j1].T`` for a block of ``B`` rows (two SIMD
vectors: 16 float32, 8 float64) at a time:

1. a tile of ``_TILE`` features of the block is transposed into a small buffer
   (``_TILE x B``, 16 KB, in L1), in ``W x W`` squares of SIMD shuffles
   (:func:`._simd.transpose_square`) that also test every value's exponent bits for
   NaN and infinity. ``X`` is read once, row by row, in long contiguous pieces.
2. the nonzeros of ``R`` are walked by input feature ``c`` (compressed by column, as
   :func:`._kernels.column_entries` writes them): the feature's ``B`` values are loaded
   into registers once, and each nonzero ``(c -> j, s)`` adds ``s * values`` to row
   ``j`` of the block's accumulator (``k x B``: 64 KB at ``k = 1024`` float32, in L2).
   Consecutive nonzeros of a feature go to different rows, so the adds do not wait on
   each other.

Each output entry is the sum of its terms in increasing feature order, starting from
zero, as :func:`._kernels.project_csr` sums them (``s * x`` is exact: ``s = +-1``; a
zero feature adds ``+-0``, which changes no sum), so dense and sparse input give
bitwise the same values, for any row blocking and thread count.
"""

import numpy as np
from numba import njit

from ..utils import _numba_cache  # noqa: F401  (registers the cache locators first)
from ._simd import block_rows, row_axpy, transpose_square

# Features of a tile: the transposed tile (_TILE x B values, 8 KB) stays in L1 ...
TILE = 128
# ... with the accumulator's rows of one chunk of output components (16 KB).
CHUNK = 256
# Accumulator rows copied to the output at a time (both sides stay in L1).
_OUT_SQUARE = 16


@njit(nogil=True, cache=True)
def _aligned(shape, dtype):
    """An uninitialised C-contiguous array whose data starts on a 64-byte boundary."""
    n = shape[0] * shape[1]
    itemsize = np.empty(1, dtype=dtype).itemsize
    raw = np.empty(n + 64 // itemsize, dtype=dtype)
    skip = (-raw.ctypes.data % 64) // itemsize
    return raw[skip : skip + n].reshape(shape)


@njit(nogil=True, cache=True)
def tile_entries(colptr, rows, signs):
    """The nonzeros of the columns ``colptr`` (see :func:`._kernels.column_entries`) in
    the order the kernel walks them: by tile of ``TILE`` features, then by chunk of
    ``CHUNK`` output components, then by feature, then by component.

    Returns ``(tileptr, cols, comps, tsigns)``: the nonzeros of tile ``t`` are
    ``tileptr[t]:tileptr[t + 1]``, each with its feature counted from the start of the
    tile, its component and its sign. (A stable counting sort of the column order.)
    """
    n_cols = colptr.shape[0] - 1
    n_tiles = (n_cols + TILE - 1) // TILE
    base = colptr[0]
    n_chunks = 1 + (int(rows.max()) if rows.shape[0] else 0) // CHUNK
    starts = np.zeros(n_tiles * n_chunks + 1, dtype=np.int64)
    for j in range(n_cols):
        key = (j // TILE) * n_chunks + 1
        for e in range(colptr[j] - base, colptr[j + 1] - base):
            starts[key + rows[e] // CHUNK] += 1
    for i in range(n_tiles * n_chunks):
        starts[i + 1] += starts[i]
    tileptr = starts[::n_chunks].copy()
    cols = np.empty(rows.shape[0], dtype=np.int32)
    comps = np.empty(rows.shape[0], dtype=np.int32)
    tsigns = np.empty(rows.shape[0], dtype=signs.dtype)
    for j in range(n_cols):
        key = (j // TILE) * n_chunks
        for e in range(colptr[j] - base, colptr[j + 1] - base):
            d = starts[key + rows[e] // CHUNK]
            starts[key + rows[e] // CHUNK] = d + 1
            cols[d] = j % TILE
            comps[d] = rows[e]
            tsigns[d] = signs[e]
    return tileptr, cols, comps, tsigns


@njit(nogil=True, cache=True)
def project_dense(
    X, bits, exponent, j0, n_cols, tileptr, cols, comps, tsigns, first, scale, out, b0, b1
):
    """Blocks ``b0:b1`` of rows of ``out += X[:, j0:j1] @ R[:, j0:j1].T``
    (``j1 = j0 + n_cols``), the nonzeros of ``R[:, j0:j1]`` given by tile (see :func:`tile_entries`); ``out =`` instead of
    ``out +=`` if ``first``, and ``scale`` (if not 0) then multiplies ``out``.

    ``X`` is C-contiguous and ``bits`` is ``X`` viewed as integers of its width;
    ``exponent`` has the exponent bits of the dtype set. Returns True if some value of
    ``X[:, j0:j1]`` read is NaN or infinite.
    """
    n_samples = X.shape[0]
    n_components = out.shape[1]
    n_tiles = tileptr.shape[0] - 1
    size = block_rows(X)
    width = size // 2  # values per vector
    # a row of acc and of buf is one 64-byte line: aligned, a row costs one line
    acc = _aligned((n_components, size), X.dtype)
    buf_bits = _aligned((TILE, size), bits.dtype)
    buf_bits[:] = 0
    buf = buf_bits.view(X.dtype)
    bad = False
    for b in range(b0, b1):
        r0 = b * size
        m = min(n_samples, r0 + size) - r0
        acc[:] = 0
        for t in range(n_tiles):
            f0 = j0 + t * TILE
            n_tile = min(TILE, n_cols - t * TILE)
            # whole squares of a whole block by shuffles, the rest value by value (the
            # rows of a partial block past m keep stale values: their sums are not used)
            done = n_tile - n_tile % width if m == size else 0
            for i in range(0, done, width):
                for q in range(0, size, width):
                    bad |= transpose_square(bits, r0 + q, f0 + i, buf_bits, i, q)
            for r in range(m):
                for i in range(done, n_tile):
                    w = bits[r0 + r, f0 + i]
                    buf_bits[i, r] = w
                    bad |= (w & exponent) == exponent
            # one flat loop over the tile's nonzeros: no loop per feature whose trip
            # count (often 0, 1 or 2) the branch predictor would miss
            for e in range(tileptr[t], tileptr[t + 1]):
                row_axpy(acc, comps[e], tsigns[e], buf, cols[e])
        # out[r0:r0 + m] (+)= acc.T, in squares so that both sides stay in L1
        for c0 in range(0, n_components, _OUT_SQUARE):
            c1 = min(n_components, c0 + _OUT_SQUARE)
            for r in range(m):
                out_row = out[r0 + r]
                if first and scale != 0:
                    for c in range(c0, c1):
                        out_row[c] = acc[c, r] * scale
                elif first:
                    for c in range(c0, c1):
                        out_row[c] = acc[c, r]
                elif scale != 0:
                    for c in range(c0, c1):
                        out_row[c] = (out_row[c] + acc[c, r]) * scale
                else:
                    for c in range(c0, c1):
                        out_row[c] += acc[c, r]
    return bad
