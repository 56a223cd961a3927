"""SIMD intrinsics for the dense projection kernel (:mod:`._dense`), in LLVM IR.

numba does not vectorise the two steps the kernel is made of, so they are written here
as whole-vector operations:

- :func:`transpose_square` reads a ``W x W`` square of ``X`` (``W`` values per 32-byte
  vector: 8 float32, 4 float64) as ``W`` row vectors, transposes it in registers with
  ``log2(W)`` stages of shuffles and stores it as ``W`` column vectors, testing the
  exponent bits of every value on the way. A scalar transpose costs a load, a store
  and a test per value; this costs about one shuffle.
- a *block* is the ``BLOCK_BYTES`` of one feature's values over a block of rows (two
  vectors), kept in a stack slot that is only read and written as whole vectors, which
  LLVM promotes to registers; :func:`block_scatter` adds ``s * block`` to one row of the
  accumulator (two vector loads, multiplies, adds and stores, no dependency between
  consecutive calls on different rows).

Arithmetic is plain IEEE ``fmul`` then ``fadd`` per lane (no reassociation, no
contraction), so results equal the same sums written as scalar loops.
"""

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_VECTOR_BYTES = 32  # AVX2; LLVM splits wider vectors on narrower machines
#: Bytes of one feature's values over a block of rows: two vectors. (The kernels' cache
#: is also keyed on this file: see ``sktraceprop.utils._numba_cache``.)
BLOCK_BYTES = 2 * _VECTOR_BYTES


def rows_per_block(dtype):
    """Rows of ``X`` in a block for ``dtype``: 16 float32, 8 float64."""
    return BLOCK_BYTES // np.dtype(dtype).itemsize


def _vector_type(context, dtype):
    scalar = context.get_value_type(dtype)
    width = _VECTOR_BYTES // (dtype.bitwidth // 8)
    return scalar, width, ir.VectorType(scalar, width)


def _item_pointer(context, builder, array_type, array, i, j, index_types):
    """Pointer to ``array[i, j]`` (no wraparound: callers pass valid indices)."""
    arr = context.make_array(array_type)(context, builder, array)
    inds = [context.cast(builder, v, t, types.intp) for v, t in zip((i, j), index_types)]
    return cgutils.get_item_pointer2(
        context,
        builder,
        data=arr.data,
        shape=cgutils.unpack_tuple(builder, arr.shape),
        strides=cgutils.unpack_tuple(builder, arr.strides),
        layout=array_type.layout,
        inds=inds,
        wraparound=False,
    )


def _vector_pointers(builder, ptr, width, vector, count):
    """Pointers to ``count`` consecutive vectors starting at ``ptr``."""
    for q in range(count):
        at = builder.gep(ptr, [ir.Constant(ir.IntType(64), q * width)])
        yield builder.bitcast(at, vector.as_pointer())


@intrinsic
def block_rows(typingctx, arr):
    """Rows of a block for the dtype of ``arr`` (see :func:`rows_per_block`)."""
    rows = BLOCK_BYTES // (arr.dtype.bitwidth // 8)

    def codegen(context, builder, sig, args):
        return context.get_constant(types.intp, rows)

    return types.intp(arr), codegen


@intrinsic
def row_axpy(typingctx, acc, j, s, buf, c):
    """``acc[j, :rows] += s * buf[c, :rows]`` (both C-contiguous, a block wide)."""
    dt = acc.dtype

    def codegen(context, builder, sig, args):
        acc_arr, j_index, scale, buf_arr, c_index = args
        zero = context.get_constant(types.intp, 0)
        a_row = _item_pointer(context, builder, acc, acc_arr, j_index, zero, (j, types.intp))
        b_row = _item_pointer(context, builder, buf, buf_arr, c_index, zero, (c, types.intp))
        _, width, vector = _vector_type(context, dt)
        scale = context.cast(builder, scale, s, dt)
        splat = builder.insert_element(
            ir.Constant(vector, ir.Undefined), scale, ir.Constant(ir.IntType(32), 0)
        )
        lanes = ir.Constant(ir.VectorType(ir.IntType(32), width), [0] * width)
        splat = builder.shuffle_vector(splat, ir.Constant(vector, ir.Undefined), lanes)
        align = dt.bitwidth // 8
        pairs = zip(
            _vector_pointers(builder, a_row, width, vector, 2),
            _vector_pointers(builder, b_row, width, vector, 2),
        )
        for a, x in pairs:
            term = builder.fmul(splat, builder.load(x, align=align))
            builder.store(builder.fadd(builder.load(a, align=align), term), a, align=align)
        return context.get_dummy_value()

    return types.void(acc, j, s, buf, c), codegen


def _butterfly(builder, rows, width):
    """Transpose of the ``width x width`` matrix whose rows are the vectors ``rows``.

    Stage ``h`` swaps the off-diagonal ``h x h`` sub-blocks of every ``2h x 2h`` block:
    rows ``i`` and ``i + h`` exchange the lanes ``j`` with ``j & h`` set and ``j + h``.
    """
    v = list(rows)
    h = width // 2
    while h:
        mask_a = [j if not j & h else width + j - h for j in range(width)]
        mask_b = [j + h if not j & h else width + j for j in range(width)]
        index = ir.VectorType(ir.IntType(32), width)
        for i in range(width):
            if i & h:
                continue
            a, b = v[i], v[i + h]
            v[i] = builder.shuffle_vector(a, b, ir.Constant(index, mask_a))
            v[i + h] = builder.shuffle_vector(a, b, ir.Constant(index, mask_b))
        h //= 2
    return v


@intrinsic
def transpose_square(typingctx, src, r, f, dst, g, q):
    """``dst[g + l, q + i] = src[r + i, f + l]`` for ``i, l < W``; True if any of these
    values has all its exponent bits set (NaN or infinity).

    ``src`` and ``dst`` are integer views (of the float width) of C-contiguous arrays;
    only bits are moved, so every value, NaN payloads included, is copied exactly.
    """
    bits = src.dtype.bitwidth
    exponent = {32: 0x7F800000, 64: 0x7FF0000000000000}[bits]

    def codegen(context, builder, sig, args):
        s_arr, s_r, s_f, d_arr, d_g, d_q = args
        scalar = ir.IntType(bits)
        width = _VECTOR_BYTES // (bits // 8)
        vector = ir.VectorType(scalar, width)
        align = bits // 8
        one = context.get_constant(types.intp, 1)
        mask = ir.Constant(vector, [exponent] * width)
        flags = None
        rows = []
        row_types = (types.intp, sig.args[2])
        i = context.cast(builder, s_r, sig.args[1], types.intp)
        for _ in range(width):
            ptr = _item_pointer(context, builder, sig.args[0], s_arr, i, s_f, row_types)
            value = builder.load(builder.bitcast(ptr, vector.as_pointer()), align=align)
            hit = builder.icmp_unsigned("==", builder.and_(value, mask), mask)
            flags = hit if flags is None else builder.or_(flags, hit)
            rows.append(value)
            i = builder.add(i, one)
        l_index = context.cast(builder, d_g, sig.args[4], types.intp)
        col_types = (types.intp, sig.args[5])
        for column in _butterfly(builder, rows, width):
            ptr = _item_pointer(context, builder, sig.args[3], d_arr, l_index, d_q, col_types)
            builder.store(column, builder.bitcast(ptr, vector.as_pointer()), align=align)
            l_index = builder.add(l_index, one)
        packed = builder.bitcast(flags, ir.IntType(width))
        return builder.icmp_unsigned("!=", packed, ir.Constant(ir.IntType(width), 0))

    return types.boolean(src, r, f, dst, g, q), codegen
