"""Traced JAX arrays: lineage through the jaxpr of each computation.

JAX arrays cannot be subclassed, and the JAX way to watch a computation is to trace it
to a jaxpr and interpret that. :class:`TracedJaxArray` wraps a ``jax.Array``; each
operator or method on it, and any JAX function given to :func:`apply`, is traced to a
jaxpr whose equations are then evaluated one by one, each primitive with a row rule:
elementwise primitives keep rows, reductions and ``dot_general`` over the row axis pool
them, and data movement (``gather``, ``slice``, ``pad``, ``dynamic_slice``...) is
answered exactly by running the same primitive on an array of row positions. A
primitive without a rule (``while``, ``scan``, ``cond``...) gives every output row every
input row. ``jax.jit``-compiled functions are followed inside. A plain ``jnp`` function
given a traced array raises (JAX no longer converts through ``__jax_array__`` while
tracing, and ``__jax_array__`` refuses the jnp functions that convert first, such as
``jnp.roll``); ``jnp.asarray(x)`` gives the plain array, and :func:`apply` keeps lineage.
"""

import operator
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.core import Literal

from ..exceptions import LineageError
from . import _rowmap as rmap
from ._graph import _MODE, NOT_RECORDED, note_rows, record, without_rows
from ._index import written_rows
from ._state import CAPTURED, JAX_TRACING

__all__ = ["TracedJaxArray", "apply"]

#: The first JAX that refuses ``__jax_array__`` in a plain ``jnp`` function: before it,
#: ``b + jnp.mean(a, axis=0)`` converted the traced ``a`` silently and the result named
#: ``b``'s rows only
MIN_JAX = (0, 8)


def check_jax_version(version):
    """Raise ImportError when JAX ``version`` would drop rows of traced arrays silently."""
    if tuple(int(part) for part in version.split(".")[:2]) < MIN_JAX:
        raise ImportError(
            f"traced JAX arrays need jax>={'.'.join(map(str, MIN_JAX))} (found {version}): "
            "older JAX converts a traced array given to a plain jnp function (jnp.mean, "
            "jnp.sum...) without a word, so the result would name too few source rows."
        )


check_jax_version(jax.__version__)


#: The JAX functions whose conversion of a traced array is the user's explicit request
#: for its plain values (``jnp.asarray(x)``, ``jnp.array(x)``, as ``np.asarray`` is)
_CONVERTERS = frozenset({"asarray", "array"})


def _jnp_function_converting():
    """The name of the JAX function (outermost JAX frame of the calling stack) asking a
    traced array for its plain value, or None where that is an explicit conversion
    (``jnp.asarray``/``jnp.array``) or not asked from within JAX.

    Most ``jnp`` functions (``jnp.roll``, ``jnp.concatenate``, ``jnp.flip``...) convert
    their arguments through ``__jax_array__`` before JAX traces anything, so the
    abstractification check of JAX >= 0.8 does not stop them.
    """
    frame = sys._getframe(2)
    outer = None
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module == "jax" or module.startswith("jax."):
            outer = frame
        elif outer is not None:
            break
        frame = frame.f_back
    if outer is None or outer.f_code.co_name in _CONVERTERS:
        return None
    return outer.f_code.co_name


class TracedJaxArray:
    """A ``jax.Array`` with the source row ids of its rows (a wrapper: JAX arrays cannot
    be subclassed).

    Operators, indexing and the common methods return traced arrays; any other JAX
    function keeps lineage through :func:`sktraceprop.arrays.apply` (given to a plain
    ``jnp`` function, JAX refuses it). ``np.asarray`` and ``jnp.asarray`` give the plain
    values.
    """

    __slots__ = ("value", "_stp_rows", "_stp_node", "__weakref__")
    __stp_framework__ = "jax"
    __array_priority__ = 100

    def __init__(self, value, rows, node):
        note_rows(node, rows)
        self.value = value
        self._stp_rows = rows
        self._stp_node = node

    # -- protocol ---------------------------------------------------------------------------
    def __stp_value__(self):
        return self.value

    def __stp_state__(self):
        return self._stp_rows, self._stp_node

    def __stp_row_ids__(self):
        from ._fit import fit_row_ids

        return fit_row_ids(self)

    def __stp_run_ops__(self):
        from ._fit import fit_ops

        return fit_ops(self)

    def __jax_array__(self):
        if JAX_TRACING.get():
            # JAX converting this array inside a function that apply is tracing: it was
            # not one of the arguments (a closure), and its rows would be lost
            raise LineageError(CAPTURED)
        called = _jnp_function_converting()
        if called is None:
            return self.value
        if called.startswith("_operator_"):
            # a plain jax.Array's operator (plain + x): JAX defers to x's reflected
            # operator (which keeps lineage) when this is not an array it accepts
            return self
        raise LineageError(
            f"the JAX function {called!r} was given a traced JAX array: JAX would convert "
            "it to a plain array and its row ids would be lost without a word (a result "
            "computed from it with traced arrays would name their rows only). Use "
            "sktraceprop.arrays.apply(f, x, ...) to keep lineage (f: the function that "
            "calls it, e.g. jnp.roll), or jnp.asarray(x) for the plain values."
        )

    def __array__(self, dtype=None, copy=None):
        out = np.asarray(self.value)
        return out if dtype is None else out.astype(dtype)

    def __reduce__(self):
        from ._fit import sources_of

        node = without_rows(self._stp_node)
        return _rebuild, (np.asarray(self.value), self._stp_rows, node, sources_of(self))

    # -- array attributes ---------------------------------------------------------------------
    shape = property(lambda self: tuple(self.value.shape))
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)

    def __len__(self):
        return len(self.value)

    def __repr__(self):
        return f"TracedJaxArray({self.value!r})"

    def __iter__(self):
        return (self[k] for k in range(len(self)))

    # -- operations ---------------------------------------------------------------------------
    def __getitem__(self, key):
        return apply(lambda x, k: x[k], self, _concrete_masks(key))

    def astype(self, dtype):
        return apply(lambda x: x.astype(dtype), self)

    def reshape(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        return apply(lambda x: x.reshape(shape), self)

    def ravel(self):
        return apply(jnp.ravel, self)

    flatten = ravel

    def transpose(self, *axes):
        return apply(lambda x: x.transpose(*axes), self)

    @property
    def T(self):
        return apply(lambda x: x.T, self)

    def squeeze(self, axis=None):
        return apply(lambda x: x.squeeze(axis), self)


def _reduction(name):
    def method(self, axis=None, **kwargs):
        return apply(lambda x: getattr(x, name)(axis=axis, **kwargs), self)

    method.__name__ = name
    return method


for _name in "sum mean std var prod min max argmax argmin cumsum cumprod any all".split():
    setattr(TracedJaxArray, _name, _reduction(_name))


def _binary(fn, reflected=False):
    if reflected:
        return lambda self, other: apply(fn, other, self)
    return lambda self, other: apply(fn, self, other)


for _name, _fn in (
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("truediv", operator.truediv),
    ("floordiv", operator.floordiv),
    ("mod", operator.mod),
    ("pow", operator.pow),
    ("matmul", operator.matmul),
    ("and", operator.and_),
    ("or", operator.or_),
    ("xor", operator.xor),
):
    setattr(TracedJaxArray, f"__{_name}__", _binary(_fn))
    setattr(TracedJaxArray, f"__r{_name}__", _binary(_fn, reflected=True))
for _name, _fn in (
    ("lt", operator.lt),
    ("le", operator.le),
    ("gt", operator.gt),
    ("ge", operator.ge),
    ("eq", operator.eq),
    ("ne", operator.ne),
):
    setattr(TracedJaxArray, f"__{_name}__", _binary(_fn))
for _name, _fn in (
    ("neg", operator.neg),
    ("pos", operator.pos),
    ("abs", abs),
    ("invert", operator.invert),
):
    setattr(TracedJaxArray, f"__{_name}__", lambda self, _fn=_fn: apply(_fn, self))
TracedJaxArray.__hash__ = None
del _name, _fn


def _concrete_masks(key):
    """Boolean masks as the integer positions they select: under tracing JAX needs
    boolean indices concrete, and a mask given to ``x[mask]`` is."""
    if isinstance(key, tuple):
        return tuple(part for k in key for part in _mask_parts(k))
    parts = _mask_parts(key)
    return parts[0] if len(parts) == 1 else tuple(parts)


def _mask_parts(k):
    if isinstance(k, np.ndarray | jax.Array | list) and np.asarray(k).dtype == bool:
        mask = np.asarray(k)
        if mask.ndim:
            return list(np.nonzero(mask))
    return [k]


def _rebuild(value, rows, node, sources):
    from .._lineage._source import REGISTRY

    for source in sources:
        REGISTRY.adopt(source)
    return TracedJaxArray(jnp.asarray(value), rows, node)


# -- interpreter --------------------------------------------------------------------------


def _is_traced(x):
    return type(x) is TracedJaxArray


def _is_foreign(x):
    """A traced NumPy array or torch tensor (its lineage goes in with its values)."""
    return getattr(type(x), "__stp_framework__", "jax") != "jax" and hasattr(x, "__stp_state__")


def apply(fn, *args, **kwargs):
    """Call ``fn`` on traced arrays, keeping row lineage through its computation.

    For JAX, ``fn`` (any function of ``jax.numpy``/``jax.lax`` code, ``jax.jit``-compiled
    or not) is traced to a jaxpr, which is evaluated equation by equation with a row rule
    per primitive (see the module docstring). Arrays of other frameworks need no
    ``apply``: NumPy and torch operations are traced as they run, so ``fn`` is simply
    called.

    Parameters
    ----------
    fn : callable
    *args, **kwargs
        Arguments; traced arrays anywhere in them (lists, tuples, dicts) are followed.

    Returns
    -------
    result
        ``fn``'s result, with traced arrays in place of the arrays computed from traced
        inputs.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import sktraceprop as stp
    >>> a = stp.array(jnp.arange(6.0).reshape(3, 2), source_id="a")
    >>> z = stp.arrays.apply(lambda x: jnp.concatenate([x, x * 2])[::-1], a)
    >>> stp.provenance(z).rows(0, pooled=False)["line"].tolist()
    [3]
    """
    leaves, tree = jax.tree_util.tree_flatten((args, kwargs))
    dynamic = [
        k
        for k, leaf in enumerate(leaves)
        if _is_traced(leaf) or _is_array(leaf) or _is_foreign(leaf)
    ]
    if not any(_is_traced(leaves[k]) or _is_foreign(leaves[k]) for k in dynamic):
        return fn(*args, **kwargs)
    values = [_value_of(leaves[k]) for k in dynamic]

    def flat_fn(*dyn):
        filled = list(leaves)
        for k, v in zip(dynamic, dyn):
            filled[k] = v
        a, kw = jax.tree_util.tree_unflatten(tree, filled)
        return fn(*a, **kw)

    token = JAX_TRACING.set(True)
    try:
        closed, out_shape = jax.make_jaxpr(flat_fn, return_shape=True)(*values)
    finally:
        JAX_TRACING.reset(token)
    mode = _MODE.get()
    in_maps, in_nodes = [], []
    for k in dynamic:
        leaf = leaves[k]
        if _is_traced(leaf) or _is_foreign(leaf):
            rows, node = leaf.__stp_state__()
            in_maps.append(NOT_RECORDED if mode == "none" else rows)
            in_nodes.append(node)
        else:
            in_maps.append(None)
            in_nodes.append(None)
    outs = _interpret(closed.jaxpr, closed.consts, values, in_maps, in_nodes, mode)
    out_leaves, out_tree = jax.tree_util.tree_flatten(out_shape)
    result = []
    for (value, rm, node), _ in zip(outs, out_leaves):
        result.append(value if rm is None else TracedJaxArray(value, rm, node))
    return jax.tree_util.tree_unflatten(out_tree, result)


def _is_array(x):
    return isinstance(x, jax.Array | np.ndarray)


def _value_of(leaf):
    if _is_traced(leaf):
        return leaf.value
    if _is_foreign(leaf):
        from ._sources import to_numpy

        return jnp.asarray(to_numpy(leaf.__stp_value__()))
    return leaf


_RECURSE = {
    "pjit": "jaxpr",
    "jit": "jaxpr",
    "closed_call": "call_jaxpr",
    "core_call": "call_jaxpr",
    "custom_jvp_call": "call_jaxpr",
    "custom_vjp_call": "call_jaxpr",
    "custom_vjp_call_jaxpr": "fun_jaxpr",
    "remat": "jaxpr",
    "checkpoint": "jaxpr",
}


def _interpret(jaxpr, consts, values, maps, nodes, mode):
    """Evaluate ``jaxpr`` on values, carrying a row map and a node per variable."""
    env = {}

    def read(var):
        if isinstance(var, Literal):
            return var.val, None, None
        return env[var]

    for var, const in zip(jaxpr.constvars, consts):
        env[var] = (const, None, None)
    for var, value, rm, node in zip(jaxpr.invars, values, maps, nodes):
        env[var] = (value, rm, node)
    for eqn in jaxpr.eqns:
        inputs = [read(v) for v in eqn.invars]
        invals = [i[0] for i in inputs]
        name = eqn.primitive.name
        traced = any(i[1] is not None for i in inputs)
        if traced and name in _RECURSE:
            inner = eqn.params[_RECURSE[name]]
            inner_jaxpr = getattr(inner, "jaxpr", inner)
            inner_consts = getattr(inner, "consts", ())
            n_in = len(inner_jaxpr.invars)
            outs = _interpret(
                inner_jaxpr,
                inner_consts,
                invals[-n_in:],
                [i[1] for i in inputs][-n_in:],
                [i[2] for i in inputs][-n_in:],
                mode,
            )
        else:
            with eqn.ctx.manager:
                outvals = _bind(eqn.primitive, invals, eqn.params)
            if not eqn.primitive.multiple_results:
                outvals = [outvals]
            if not traced:
                outs = [(v, None, None) for v in outvals]
            elif mode == "none":
                outs = [(v, NOT_RECORDED, None) for v in outvals]
            else:
                maps_out = _rule(eqn, inputs, outvals)
                node = record(
                    name,
                    tuple(i[2] for i in inputs if i[1] is not None),
                    _params(eqn.params),
                    "jax",
                    mode,
                    list(maps_out),
                )
                outs = [(v, m, node) for v, m in zip(outvals, maps_out)]
        for var, out in zip(eqn.outvars, outs):
            env[var] = out
    return [read(v) for v in jaxpr.outvars]


def _bind(primitive, operands, params):
    """``primitive`` applied to ``operands``, as ``jax.core.eval_jaxpr`` binds it (JAX
    before 0.5 gives the sub-functions of a call primitive with its bind parameters)."""
    bind_params = primitive.get_bind_params(params)
    if isinstance(bind_params, tuple):
        subfuns, bind_params = bind_params
        return primitive.bind(*subfuns, *operands, **bind_params)
    return primitive.bind(*operands, **bind_params)


def _params(params):
    kept = {}
    for key, value in params.items():
        if isinstance(value, bool | int | float | str) or value is None:
            kept[key] = value
        elif isinstance(value, tuple) and all(isinstance(v, int) for v in value):
            kept[key] = value
    return kept or None


# -- rules --------------------------------------------------------------------------------

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


def _positions(shape):
    n = shape[0]
    column = jnp.arange(n, dtype=jnp.int32).reshape((n,) + (1,) * (len(shape) - 1))
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
        operands[1] = jnp.asarray(-1, jnp.int32)
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


def make(value, rm, node, convert):
    """A TracedJaxArray of ``value`` (from a source, or converted from another framework)."""
    if convert:
        node = record("asarray", (node,), None, "jax", _MODE.get())
    value = jnp.asarray(np.asarray(value) if not isinstance(value, jax.Array) else value)
    return TracedJaxArray(value, rm, node)
