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

This module holds the array and :func:`apply`; the jaxpr is evaluated by
:mod:`._jax_interpret`, with the row rules of :mod:`._jax_rules`.
"""

import operator
import sys

import jax
import jax.numpy as jnp
import numpy as np

from ..exceptions import LineageError
from ._graph import _MODE, NOT_RECORDED, note_rows, record, without_rows
from ._jax_interpret import _interpret
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


def make(value, rm, node, convert):
    """A TracedJaxArray of ``value`` (from a source, or converted from another framework)."""
    if convert:
        node = record("asarray", (node,), None, "jax", _MODE.get())
    value = jnp.asarray(np.asarray(value) if not isinstance(value, jax.Array) else value)
    return TracedJaxArray(value, rm, node)
