"""SIMD intrinsics for the dense projection kernel, in LLVM IR.

A block of ``ROWS`` accumulators kept in vector registers:

Numba allocates arrays on the heap, so a small accumulator array is loaded and stored
at every update and each update waits on the previous store. These intrinsics keep
``ROWS`` values of one output component (one per row of a block) in a stack slot that
is only ever read and written as whole SIMD vectors, which LLVM promotes to registers:
``acc += s * xt[f, :ROWS]`` then costs one load and one multiply-add per vector.

Arithmetic is plain IEEE ``fmul`` then ``fadd`` per lane (no reassociation, no
contraction), so results equal the same sum written as a scalar loop.

:func:`transpose_square` reads a ``W x W`` square of ``X`` (``W`` values per 32-byte
vector: 8 float32, 4 float64) as ``W`` row vectors, transposes it in registers with
``log2(W)`` stages of shuffles and stores it as ``W`` column vectors, testing the
exponent bits of every value on the way: about one shuffle per value, where a scalar
transpose costs a load, a store and a test.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: Rows of a block, summed side by side: 4 vectors of float32 (8 of float64) in
#: flight, enough independent additions to hide the latency of each. (The kernels' cache
#: is also keyed on this file: see ``sktraceprop.utils._numba_cache``.)
ROWS = 32
_VECTOR_BYTES = 32  # AVX2; LLVM splits wider vectors on narrower machines


def _vector_type(context, dtype):
    scalar = context.get_value_type(dtype)
    width = _VECTOR_BYTES // (dtype.bitwidth // 8)
    return scalar, width, ir.VectorType(scalar, width)


def _slices(builder, ptr, width, vector):
    """Pointers to the ``ROWS // width`` vectors starting at ``ptr``."""
    for q in range(ROWS // width):
        at = builder.gep(ptr, [ir.Constant(ir.IntType(64), q * width)])
        yield builder.bitcast(at, vector.as_pointer())


def _row_pointer(context, builder, array_type, array, index, index_type):
    """Pointer to ``array[index, 0]`` (no wraparound: callers pass valid indices)."""
    zero = context.get_constant(types.intp, 0)
    return _item_pointer(
        context, builder, array_type, array, index, zero, (index_type, types.intp)
    )


@intrinsic
def vector_lanes(typingctx, arr):
    """Values of ``arr``'s dtype in one SIMD vector (the side of a transposed square)."""
    lanes = _VECTOR_BYTES // (arr.dtype.bitwidth // 8)

    def codegen(context, builder, sig, args):
        return context.get_constant(types.intp, lanes)

    return types.intp(arr), codegen


@intrinsic
def block_new(typingctx, dtype):
    """A stack slot of ``ROWS`` values of ``dtype`` (contents undefined)."""
    dt = dtype.dtype

    def codegen(context, builder, sig, args):
        scalar = context.get_value_type(dt)
        with builder.goto_entry_block():
            slot = builder.alloca(ir.ArrayType(scalar, ROWS))
            slot.align = _VECTOR_BYTES
        return builder.bitcast(slot, scalar.as_pointer())

    return types.CPointer(dt)(dtype), codegen


@intrinsic
def block_zero(typingctx, block):
    """``block[:] = 0``."""

    def codegen(context, builder, sig, args):
        _, width, vector = _vector_type(context, block.dtype)
        for slot in _slices(builder, args[0], width, vector):
            builder.store(ir.Constant(vector, [0.0] * width), slot)
        return context.get_dummy_value()

    return types.void(block), codegen


@intrinsic
def block_axpy(typingctx, block, xt, f, s):
    """``block[:] += s * xt[f, :ROWS]`` (``xt`` C-contiguous, at least ``ROWS`` wide)."""

    def codegen(context, builder, sig, args):
        ptr, arr, index, scale = args
        scalar, width, vector = _vector_type(context, block.dtype)
        row = _row_pointer(context, builder, sig.args[1], arr, index, sig.args[2])
        scale = context.cast(builder, scale, sig.args[3], block.dtype)
        lanes = ir.Constant(ir.VectorType(ir.IntType(32), width), [0] * width)
        splat = builder.insert_element(
            ir.Constant(vector, ir.Undefined), scale, ir.Constant(ir.IntType(32), 0)
        )
        splat = builder.shuffle_vector(splat, ir.Constant(vector, ir.Undefined), lanes)
        align = block.dtype.bitwidth // 8
        pairs = zip(_slices(builder, ptr, width, vector), _slices(builder, row, width, vector))
        for slot, x in pairs:
            value = builder.load(slot, align=_VECTOR_BYTES)
            term = builder.fmul(splat, builder.load(x, align=align))
            builder.store(builder.fadd(value, term), slot)
        return context.get_dummy_value()

    return types.void(block, xt, f, s), codegen


@intrinsic
def block_add_to(typingctx, block, acc, c):
    """``acc[c, :ROWS] += block`` (``acc`` C-contiguous, at least ``ROWS`` wide)."""

    def codegen(context, builder, sig, args):
        ptr, arr, index = args
        _, width, vector = _vector_type(context, block.dtype)
        row = _row_pointer(context, builder, sig.args[1], arr, index, sig.args[2])
        align = block.dtype.bitwidth // 8
        pairs = zip(_slices(builder, ptr, width, vector), _slices(builder, row, width, vector))
        for slot, a in pairs:
            value = builder.load(slot, align=_VECTOR_BYTES)
            # the alignment is explicit: LLVM's default for a vector store is the
            # vector's size (an aligned store, which faults on an address numba or NumPy
            # only aligned to the element)
            builder.store(builder.fadd(builder.load(a, align=align), value), a, align=align)
        return context.get_dummy_value()

    return types.void(block, acc, c), codegen


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
def row_axpy(typingctx, acc, j, s, buf, c):
    """``acc[j, :L] += s * buf[c, :L]``, ``L`` values in two vectors (16 float32, 8
    float64: one 64-byte cache line); both C-contiguous, at least ``L`` wide."""
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
def transpose_square(typingctx, src, r, f, dst, g, step, q):
    """``dst[g + l * step, q + i] = src[r + i, f + l]`` for ``i, l < W``; True if any of these
    values has all its exponent bits set (NaN or infinity).

    ``src`` and ``dst`` are integer views (of the float width) of C-contiguous arrays;
    only bits are moved, so every value, NaN payloads included, is copied exactly.
    """
    bits = src.dtype.bitwidth
    exponent = {32: 0x7F800000, 64: 0x7FF0000000000000}[bits]

    def codegen(context, builder, sig, args):
        s_arr, s_r, s_f, d_arr, d_g, d_step, d_q = args
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
        step = context.cast(builder, d_step, sig.args[5], types.intp)
        col_types = (types.intp, sig.args[6])
        for column in _butterfly(builder, rows, width):
            ptr = _item_pointer(context, builder, sig.args[3], d_arr, l_index, d_q, col_types)
            builder.store(column, builder.bitcast(ptr, vector.as_pointer()), align=align)
            l_index = builder.add(l_index, step)
        packed = builder.bitcast(flags, ir.IntType(width))
        return builder.icmp_unsigned("!=", packed, ir.Constant(ir.IntType(width), 0))

    return types.boolean(src, r, f, dst, g, step, q), codegen
