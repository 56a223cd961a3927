"""NumPy functions on traced arrays (``__array_function__``): one row rule per function.

Every handler unwraps its traced arguments, calls the NumPy function on plain arrays,
and asks its rule for the result's row map. A rule names the arguments it reasoned
about; any other traced argument is pooled into every output row, so an argument a rule
forgot can only add parents, never leave one out. A function with no handler pools all
its traced inputs ("depends on every row"), which is never wrong.
"""

import functools
import operator

import numpy as np

from . import _rowmap as rmap
from ._array import (
    TracedArray,
    node_of,
    rows_of,
    set_rows,
    split,
    wrap,
    wrap_foreign,
    writable,
)
from ._graph import _MODE, NOT_RECORDED, operand, record
from ._state import freeze, owner_of

HANDLED = {}


def _shape(a):
    return a.shape if type(a) is np.ndarray else np.shape(a)


def _unwrap_one(value, where, maps, nodes):
    plain, rm, node = split(value)
    if rm is not None:
        maps[where] = (rm, _shape(plain))
        nodes.extend(node)
    return plain


def _unwrap_top(value, where, maps, nodes):
    if type(value) in (list, tuple):
        items = [_unwrap_one(v, (where, k), maps, nodes) for k, v in enumerate(value)]
        if any((where, k) in maps for k in range(len(items))):
            return type(value)(items)
        return value
    return _unwrap_one(value, where, maps, nodes)


def _unwrap(args, kwargs):
    """Plain arguments, and ``{where: (map, shape)}`` / nodes of the traced ones.

    ``where`` is a position, a keyword, or ``(position, k)`` for the ``k``-th element of
    a list or tuple argument (``np.concatenate([a, b])``).
    """
    maps, nodes = {}, []
    plain_args = [_unwrap_top(a, k, maps, nodes) for k, a in enumerate(args)]
    plain_kwargs = {
        k: (v if k == "out" else _unwrap_top(v, k, maps, nodes)) for k, v in kwargs.items()
    }
    return plain_args, plain_kwargs, maps, nodes


def _params(args, kwargs, maps):
    out = {}
    for k, a in enumerate(args):
        listed = type(a) in (list, tuple) and any((k, j) in maps for j in range(len(a)))
        if k not in maps and not listed:
            out[f"arg{k}"] = operand(a)
    for k, v in kwargs.items():
        if k not in maps and k != "out" and v is not None:
            out[k] = operand(v)
    return out or None


def implements(*funcs, name=None):
    """Register a row rule ``rule(out, args, kwargs, maps) -> (map or list, used keys)``;
    a ``None`` in ``funcs`` (a name this NumPy lacks, see :func:`_since_numpy_2`) is skipped."""

    def decorate(rule):
        for func in funcs:
            if func is None:
                continue
            HANDLED[func] = functools.partial(_handle, func, rule, name or func.__name__)
        return rule

    return decorate


def _since_numpy_2(name):
    """``np.<name>``, or None before NumPy 2.0, which added these Array API names."""
    return getattr(np, name, None)


def _wrap_all(out, rm, node, owners=()):
    """Traced arrays of a function's results; ``owners``: the memory of its untraced
    array arguments (see :func:`_caller_owners`)."""
    if isinstance(out, tuple | list):
        maps = rm if isinstance(rm, list) else [rm] * len(out)
        items = [_wrap_all(o, m, node, owners) for o, m in zip(out, maps)]
        return type(out)._make(items) if hasattr(out, "_fields") else type(out)(items)
    if type(out) is np.ndarray:
        if owners:
            owner = owner_of(out)
            if any(owner is w for w in owners):
                # the caller's array given back, or a view of it (a plain ``out=``,
                # np.broadcast_arrays): never made read-only, never unlocked
                if isinstance(owner, np.ndarray) and not owner.flags.writeable:
                    freeze(owner, True, permanent=True)
                return wrap_foreign(out, rm, node)
        return wrap(out, rm, node)
    if isinstance(out, np.generic):
        return wrap(np.asarray(out), rm, node)
    return out


def _caller_owners(args, kwargs):
    """The memory owners of the untraced arrays among the arguments (lists included)."""
    found = []
    for v in (*args, *kwargs.values()):
        for a in v if type(v) in (list, tuple) else (v,):
            if isinstance(a, np.ndarray) and type(a) is not TracedArray:
                found.append(owner_of(a))
    return found


def _pooled(rm, extra, out, name):
    """Add every unconsumed traced argument to every row of the result."""
    if not extra:
        return rm
    pooled = rmap.merge([rmap.pooled_in(m, name) for m in extra], None)
    if isinstance(rm, list):
        return [_pooled(r, extra, o, name) for r, o in zip(rm, out)]
    if rm.dropped is not None:
        return rm
    if pooled.dropped is not None:
        return pooled
    if rm.n is None:
        return rmap.merge([rm, pooled], None)
    return rmap.merge([rm, rmap.spread(pooled, rm.n)], rm.n)


def _out_plain(target):
    """The plain array to give NumPy as ``out``: a traced one is written through
    :func:`writable` (traced arrays are read-only to others)."""
    return writable(target) if type(target) is TracedArray else split(target)[0]


#: ``out``'s position in the handled functions that NumPy 1.x implements in C with no
#: signature ``inspect`` can read (NumPy 2 gives them one)
_C_OUT_POSITIONS = {np.dot: 2, np.concatenate: 2}


@functools.cache
def _out_position(func):
    """Position of ``func``'s ``out`` parameter, or None."""
    import inspect

    try:
        names = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return _C_OUT_POSITIONS.get(func)
    return names.index("out") if "out" in names else None


def _positional_out_plain(func, args, plain_args):
    """A traced ``out`` given by position is written: a writable view of it."""
    k = _out_position(func)
    if k is not None and k < len(args) and type(args[k]) is TracedArray:
        plain_args[k] = writable(args[k])


def _positional_out(args, plain_args, out, maps):
    """The traced array given as ``out`` by position (NumPy returns it), or None; its
    old rows are not read, so its map is taken out of ``maps``."""
    for k in range(1, len(args)):
        if plain_args[k] is out and type(args[k]) is TracedArray:
            maps.pop(k, None)
            return args[k]
    return None


def _handle(func, rule, name, *args, **kwargs):
    mode = _MODE.get()
    plain_args, plain_kwargs, maps, nodes = _unwrap(args, kwargs)
    target = kwargs.get("out")
    if target is not None:
        plain_kwargs["out"] = _out_plain(target)
    elif len(args) > 2:
        _positional_out_plain(func, args, plain_args)
    out = func(*plain_args, **plain_kwargs)
    if target is None and len(args) > 2:
        target = _positional_out(args, plain_args, out, maps)
    if mode == "none":
        rm = NOT_RECORDED
        node = None
    else:
        rm, used = rule(out, plain_args, plain_kwargs, maps)
        extra = [m for k, (m, _) in maps.items() if k not in used and k != "out"]
        rm = _pooled(rm, extra, out, name)
        node = record(name, tuple(nodes), _params(args, kwargs, maps), "numpy", mode)
    if type(target) is TracedArray:
        set_rows(target, rm, node, "where" in kwargs and kwargs["where"] is not None)
        return target
    return _wrap_all(out, rm, node, _caller_owners(args, kwargs))


def unmodelled(func, args, kwargs):
    """Any NumPy function without a rule: every output row depends on every input row."""
    mode = _MODE.get()
    found = _deep_traced(args, kwargs)
    # from the arguments as given: nested lists keep their nesting (np.block)
    plain_args = [_deep_plain(a) for a in args]
    plain_kwargs = {k: _deep_plain(v) for k, v in kwargs.items()}
    if kwargs.get("out") is not None:
        plain_kwargs["out"] = _out_plain(kwargs["out"])
    elif len(args) > 2:
        _positional_out_plain(func, args, plain_args)
    out = func(*plain_args, **plain_kwargs)
    target = kwargs.get("out")
    if target is None:
        # an ``out`` given by position is what NumPy returns: written, not read
        for a, p in zip(args[1:], plain_args[1:]):
            if p is out and type(a) is TracedArray:
                target = a
                found = [x for x in found if x is not a]
                break
    if mode == "none":
        if type(target) is TracedArray:
            set_rows(target, NOT_RECORDED, None)
            return target
        return _wrap_all(out, NOT_RECORDED, None, _caller_owners(args, kwargs))
    name = getattr(func, "__name__", "function")
    maps_all = [rows_of(x) if type(x) is TracedArray else x._stp_rows for x in found]
    rm = rmap.merge([rmap.pooled_in(m, name) for m in maps_all], None)
    nodes = tuple(node_of(x) if type(x) is TracedArray else x._stp_node for x in found)
    node = record(name, nodes, {"modelled": False}, "numpy", mode)
    if type(target) is TracedArray:
        set_rows(target, rm, node)
        return target
    return _wrap_all(out, rm, node, _caller_owners(args, kwargs))


def _deep_traced(args, kwargs):
    found = []

    def walk(v):
        if type(v) is TracedArray or getattr(v, "_stp_rows", None) is not None:
            found.append(v)
        elif type(v) in (list, tuple):
            for item in v:
                walk(item)
        elif type(v) is dict:
            for item in v.values():
                walk(item)

    for a in args:
        walk(a)
    for v in kwargs.values():
        walk(v)
    return found


def _deep_plain(v):
    if type(v) in (list, tuple):
        return type(v)(_deep_plain(x) for x in v)
    if type(v) is dict:
        return {k: _deep_plain(x) for k, x in v.items()}
    return split(v)[0]


# -- helpers ------------------------------------------------------------------------------


def _arg(args, kwargs, pos, name, default=None):
    if len(args) > pos:
        return args[pos]
    return kwargs.get(name, default)


def _axes(axis, ndim):
    if axis is None:
        return None
    seq = axis if isinstance(axis, tuple | list) else (axis,)
    return tuple(operator.index(a) % max(ndim, 1) for a in seq)


def _first(maps, key=0):
    return maps.get(key, (None, None))


#: The general handler of a function whose entry in :data:`HANDLED` is a faster or more
#: exact special case that falls back to it.
GENERAL = {}

# Each rule module registers its rules in HANDLED when imported.
from . import _np_combine, _np_elementwise, _np_shape, _np_write  # noqa: E402, F401
from ._np_write import flat_write  # noqa: E402, F401
