"""Row rules of JAX primitives: which input rows each output row of a primitive holds.

Elementwise primitives keep rows; reductions and ``dot_general`` over the row axis
pool them; data movement (``gather``, ``slice``, ``pad``, ``dynamic_slice``...) is
answered exactly by running the same primitive on an array of row positions, and
functional updates (``scatter``, ``dynamic_update_slice``) by the rows they write. A
primitive without a rule gives every output row every input row.
"""

import jax
import jax.numpy as jnp
import numpy as np

from ..exceptions import LineageError
from . import _rowmap as rmap
from ._index import written_rows


def _bind(primitive, operands, params):
    """``primitive`` applied to ``operands``, as ``jax.core.eval_jaxpr`` binds it (JAX
    before 0.5 gives the sub-functions of a call primitive with its bind parameters)."""
    bind_params = primitive.get_bind_params(params)
    if isinstance(bind_params, tuple):
        subfuns, bind_params = bind_params
        return primitive.bind(*subfuns, *operands, **bind_params)
    return primitive.bind(*operands, **bind_params)


_ELEMENTWISE = set(
    """add sub mul div rem pow max min neg sign floor ceil round is_finite exp exp2 log
    log1p expm1 tanh logistic sin cos tan asin acos atan atan2 sinh cosh asinh acosh atanh
    sqrt rsqrt cbrt abs integer_pow square erf erfc erf_inv lgamma digamma eq ne lt le gt
    ge and or not xor select_n convert_element_type clamp nextafter copy copy_p
    reduce_precision real imag conj complex shift_left shift_right_logical
    shift_right_arithmetic population_count optimization_barrier stop_gradient""".split()
)
_REDUCTIONS = set(
    """reduce_sum reduce_max reduce_min reduce_prod reduce_and reduce_or reduce_xor argmax
    argmin""".split()
)
_CUMULATIVE = set("cumsum cumprod cummax cummin cumlogsumexp".split())


def _shape(var_or_value):
    return tuple(np.shape(var_or_value))


def _rule(eqn, inputs, outvals):
    name = eqn.primitive.name
    params = eqn.params
    out_shapes = [_shape(v) for v in outvals]
    traced = [(k, i[1], _shape(i[0])) for k, i in enumerate(inputs) if i[1] is not None]
    rm0, s0 = (inputs[0][1], _shape(inputs[0][0])) if inputs else (None, ())

    def pooled_all():
        merged = rmap.merge([rmap.pooled_in(m, name) for _, m, _ in traced], None)
        return [merged] * len(outvals)

    if name in _ELEMENTWISE:
        parts = [(m, s) for _, m, s in traced]
        return [rmap.elementwise(parts, shape, name) for shape in out_shapes]
    if rm0 is None:
        # the traced inputs are not the operand (indices, padding values, updates)
        if name in ("gather", "dynamic_slice"):
            return [rmap.EMPTY] * len(outvals)
        # an update of, or a padding around, untraced data: rows of no source, but
        # those the traced update or padding value reaches
        if name.startswith("scatter") or name == "dynamic_update_slice":
            return [_scatter(eqn, inputs, rmap.EMPTY, s0, name)]
        if name == "pad":
            return [_pad(eqn, inputs, rmap.EMPTY, s0)]
        return pooled_all()
    if name in _REDUCTIONS:
        axes = params.get("axes", ())
        keep = rm0 if (rm0.n is None or 0 not in axes) else rmap.collapse(rm0, name)
        return _with_rest(keep, traced, name, len(outvals))
    if name in _CUMULATIVE:
        keep = rmap.collapse(rm0, name) if params.get("axis", 0) == 0 else rm0
        return [keep] * len(outvals)
    if name == "broadcast_in_dim":
        dims = params["broadcast_dimensions"]
        shape = out_shapes[0]
        if not s0 or rm0.n is None:
            return [rm0 if rm0.n is None else rmap.collapse(rm0, name)]
        if dims[0] == 0:
            return [rm0 if s0[0] == shape[0] else rmap.spread(rm0, shape[0])]
        return [rmap.collapse(rm0, name)]
    if name == "reshape":
        if params.get("dimensions") is None:
            return [rmap.reshape(rm0, s0, out_shapes[0], name)]
        return [_by_positions(eqn, inputs, rm0, s0)]
    if name == "squeeze":
        dims = params.get("dimensions", ())
        return [rmap.single(rm0) if s0 and 0 in dims else rm0]
    if name == "expand_dims":
        dims = params.get("dimensions", ())
        return [rmap.collapse(rm0, name) if 0 in dims else rm0]
    if name == "transpose":
        perm = params["permutation"]
        return [rm0 if not perm or perm[0] == 0 else rmap.collapse(rm0, name)]
    if name == "rev":
        dims = params.get("dimensions", ())
        return [rmap.take(rm0, slice(None, None, -1)) if 0 in dims else rm0]
    if name == "slice":
        start, limit = params["start_indices"], params["limit_indices"]
        step = (params.get("strides") or (1,) * len(s0))[0]
        return _with_rest(rmap.take(rm0, slice(start[0], limit[0], step)), traced, name, 1)
    if name == "concatenate":
        dim = params["dimension"]
        if dim == 0:
            return [rmap.concat([(i[1], _shape(i[0])[0]) for i in inputs])]
        parts = [(m, s) for _, m, s in traced]
        return [rmap.elementwise(parts, out_shapes[0], name)]
    if name == "stack":
        axis = params.get("axis", 0)
        if axis == 0:
            rows = [(None if i[1] is None else rmap.collapse(i[1], name), 1) for i in inputs]
            return [rmap.concat(rows)]
        parts = [(m, s + (1,)) for _, m, s in traced]
        return [rmap.elementwise(parts, out_shapes[0], name)]
    if name in ("gather", "dynamic_slice"):
        return _with_rest(_by_positions(eqn, inputs, rm0, s0), traced, name, 1, skip_index=True)
    if name == "pad":
        return [_pad(eqn, inputs, rm0, s0)]
    if name == "split":
        axis = params["axis"]
        if axis != 0 or rm0.n is None:
            return [rm0] * len(outvals)
        bounds = np.cumsum([0] + [s[0] for s in out_shapes])
        return [rmap.take(rm0, slice(int(b), int(e))) for b, e in zip(bounds[:-1], bounds[1:])]
    if name == "dot_general":
        return [_dot_general(params, inputs, out_shapes[0])]
    if name in ("sort",):
        if params.get("dimension", 0) == 0:
            merged = rmap.merge([rmap.collapse(m, name) for _, m, _ in traced], None)
        else:
            # within each row, by the keys' order: every output row is made of that row
            # of each operand (a collapsed operand is spread, never taken as the rows)
            merged = rmap.elementwise([(m, s) for _, m, s in traced], out_shapes[0], name)
        return [merged] * len(outvals)
    if name in ("top_k",):
        return [rmap.collapse(rm0, name) if len(s0) == 1 else rm0] * len(outvals)
    if name.startswith("scatter") or name == "dynamic_update_slice":
        return [_scatter(eqn, inputs, rm0, s0, name)]
    return pooled_all()


def _with_rest(rm, traced, name, n_out, skip_index=False):
    """``rm``, plus every other traced input pooled into every row (never left out)."""
    rest = [m for k, m, _ in traced if k != 0]
    if skip_index:
        rest = []  # indices and padding values pick positions; they are not data
    if rest:
        pooled = rmap.merge([rmap.collapse(m, name) for m in rest], None)
        rm = rmap.merge([rm, pooled], None) if rm.n is None else rmap.with_parents(rm, pooled)
    return [rm] * n_out


#: The most rows whose positions int32 holds.
_INT32_MAX = int(np.iinfo(np.int32).max)


def _position_dtype(n):
    """The integer dtype of the row positions of an array of ``n`` rows.

    int32 up to ``2**31 - 1`` rows; int64 beyond where ``jax_enable_x64`` is on. Without
    it JAX has no int64 (``jnp.arange(n, dtype=jnp.int64)`` is int32), and positions at
    and past ``2**31`` would wrap to negative numbers, read as "no row": refused.
    """
    if n <= _INT32_MAX:
        return jnp.int32
    if jax.config.jax_enable_x64:
        return jnp.int64
    raise LineageError(
        f"An array of {n} rows has row positions beyond int32 (2**31 - 1), and JAX runs "
        "without 64-bit integers: its rows cannot be followed exactly through the "
        "operation. Enable them with jax.config.update('jax_enable_x64', True), or "
        "split the array."
    )


def _positions(shape):
    n = shape[0]
    column = jnp.arange(n, dtype=_position_dtype(n)).reshape((n,) + (1,) * (len(shape) - 1))
    return jnp.broadcast_to(column, shape)


def _pad(eqn, inputs, rm0, s0):
    """``pad``: the rows of the operand by position; the padding value (data, unlike
    an index) is a parent of every row it fills."""
    rm0 = rmap.written_map(rm0, s0)
    if rm0.n is None or rm0.dropped is not None or not s0:
        rm, pos = rm0, None
    else:
        pos = _positions_after(eqn, inputs, s0)
        rm = rmap.from_positions(rm0, pos)
    value = inputs[1][1]
    if value is None or rm.dropped is not None:
        return rm
    if value.dropped is not None:
        return value
    filled = rmap.collapse(value, "pad")
    if pos is None:
        return rmap.merge([rm, filled], None)
    padded = (pos.reshape(len(pos), -1) < 0).any(axis=1) if pos.size else np.zeros(len(pos), bool)
    return rmap.overwrite(rm, np.zeros(rm.n, bool), padded, rmap.spread(filled, rm.n))


def _by_positions(eqn, inputs, rm0, s0):
    """Run the data-moving primitive on row positions: output row j holds those rows."""
    if rm0.n is None or rm0.dropped is not None:
        return rm0
    if not s0:
        return rm0
    return rmap.from_positions(rm0, _positions_after(eqn, inputs, s0))


def _positions_after(eqn, inputs, s0):
    """The row position of each output element (``-1``: none) of the primitive."""
    operands = [_positions(s0)] + [i[0] for i in inputs[1:]]
    if eqn.primitive.name == "pad":
        operands[1] = jnp.asarray(-1, operands[0].dtype)
    params = dict(eqn.params)
    if "fill_value" in params and params["fill_value"] is not None:
        params["fill_value"] = -1
    bound = _bind(eqn.primitive, operands, params)
    pos = np.asarray(bound).astype(np.int64)
    return np.where((pos >= 0) & (pos < s0[0]), pos, -1)


def _dot_general(params, inputs, out_shape):
    (lc, rc), (lb, rb) = params["dimension_numbers"]
    (lv, lm, _), (_, rmp, _) = inputs[0], inputs[1]
    maps = []
    for m, contract, batch, first_free in (
        (lm, lc, lb, True),
        (rmp, rc, rb, False),
    ):
        if m is None:
            continue
        if m.n is None or 0 in contract:
            maps.append(rmap.collapse(m, "dot_general"))
        elif batch:
            maps.append(m if batch[0] == 0 else rmap.collapse(m, "dot_general"))
        elif first_free or len(_shape(lv)) == len(lc) + len(lb):
            # row axis is the first free axis of the output (lhs's, or rhs's when the
            # lhs has no free axis)
            maps.append(m)
        else:
            maps.append(rmap.collapse(m, "dot_general"))
    if not out_shape:
        return rmap.merge([rmap.collapse(m, "dot_general") for m in maps], None)
    rowed = [m for m in maps if m.n is not None]
    if not rowed:
        return rmap.merge(maps, None)
    n = out_shape[0]
    return rmap.merge([m if m.n is not None else rmap.spread(m, n) for m in maps], n)


def _scatter(eqn, inputs, rm0, s0, name):
    """Functional updates (``x.at[k].set(v)``, ``dynamic_update_slice``): rows written
    entirely by a replacing update take the update's parents; rows written in part, or
    combined with the old values (``scatter-add``...), keep theirs and gain them."""
    update_index = 1 if name == "dynamic_update_slice" else 2
    update = inputs[update_index]
    rm0 = rmap.written_map(rm0, s0)
    if rm0.n is None or not s0:
        return rmap.merge(
            [rm0] + ([] if update[1] is None else [rmap.collapse(update[1], name)]), None
        )
    ones = jnp.ones(_shape(update[0]), jnp.int32)
    if name == "dynamic_update_slice":
        written = jax.lax.dynamic_update_slice(
            jnp.zeros(s0, jnp.int32), ones, [i[0] for i in inputs[2:]]
        )
    else:
        written = jax.lax.scatter_add(
            jnp.zeros(s0, jnp.int32),
            inputs[1][0],
            ones,
            eqn.params["dimension_numbers"],
            mode=eqn.params.get("mode"),
        )
    full, touched = written_rows(np.asarray(written) > 0)
    if name not in ("scatter", "dynamic_update_slice"):
        full = np.zeros_like(full)
    value = rmap.EMPTY if update[1] is None else rmap.spread(rmap.collapse(update[1], name), s0[0])
    return rmap.overwrite(rm0, full, touched, value)
