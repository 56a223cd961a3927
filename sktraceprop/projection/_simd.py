"""A block of ``ROWS`` accumulators kept in vector registers, for numba kernels.

Numba allocates arrays on the heap, so a small accumulator array is loaded and stored
at every update and each update waits on the previous store. These intrinsics keep
``ROWS`` values of one output component (one per row of a block) in a stack slot that
is only ever read and written as whole SIMD vectors, which LLVM promotes to registers:
``acc += s * xt[f, :ROWS]`` then costs one load and one multiply-add per vector.

Arithmetic is plain IEEE ``fmul`` then ``fadd`` per lane (no reassociation, no
contraction), so results equal the same sum written as a scalar loop.
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
    arr = context.make_array(array_type)(context, builder, array)
    i = context.cast(builder, index, index_type, types.intp)
    zero = context.get_constant(types.intp, 0)
    return cgutils.get_item_pointer2(
        context,
        builder,
        data=arr.data,
        shape=cgutils.unpack_tuple(builder, arr.shape),
        strides=cgutils.unpack_tuple(builder, arr.strides),
        layout=array_type.layout,
        inds=[i, zero],
        wraparound=False,
    )


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
            builder.store(builder.fadd(builder.load(a, align=align), value), a)
        return context.get_dummy_value()

    return types.void(block, acc, c), codegen
