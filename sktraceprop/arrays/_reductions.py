"""TracedArray's reductions: ``x.sum(axis)``, ``x.mean()``, ``x.argsort()``...

A reduction over the row axis mixes every row into each result element (the map is
collapsed); over another axis each row keeps its own. A traced ``where`` (or other
argument read) adds its rows. The methods are collected in :class:`Reductions` and
copied onto :class:`~._array.TracedArray` by :mod:`._numpy`.
"""

import operator

import numpy as np

from . import _rowmap as rmap
from ._array import (
    TracedArray,
    _nd,
    _node_of,
    _plain,
    _rows_of,
    _set_rows,
    _split_out,
    _wrap,
    _wrap_foreign,
)
from ._graph import _MODE, NOT_RECORDED, record
from ._state import _WRITES


def reduce_map(rm, shape, axis, name):
    """Map of a reduction (or accumulation) of an array of ``shape`` over ``axis``."""
    if rm.n is None or rm.dropped is not None:
        return rm
    if axis is None:
        return rmap.collapse(rm, name)
    ndim = len(shape)
    axes = axis if isinstance(axis, tuple | list) else (axis,)
    if any(operator.index(a) % ndim == 0 for a in axes):
        return rmap.collapse(rm, name)
    return rm


def _hits_rows(axis, ndim):
    """True when reducing over ``axis`` (None, an int or a tuple) mixes rows."""
    if axis is None or ndim == 0:
        return True
    if type(axis) is int:
        return axis % ndim == 0
    return any(operator.index(a) % ndim == 0 for a in axis)


_add_reduce = np.add.reduce
_true_divide = np.true_divide
_intp = np.intp


def _mean(plain, axis):
    """``plain.mean(axis)`` without NumPy's Python wrapper (``_methods._mean``), for a
    non-empty float32 or float64 array and an int or None axis: the same sum, divided by
    the same ``intp`` count, so the result is identical bit for bit. None where NumPy's
    own wrapper must answer (other dtypes, empty reductions, bad axes)."""
    if plain.dtype.char not in "fd":
        return None
    shape = plain.shape
    if axis is None:
        count = plain.size
    elif type(axis) is int and -len(shape) <= axis < len(shape):
        count = shape[axis]
    else:
        return None
    if not count:
        return None
    total = _add_reduce(plain, axis)
    if type(total) is _nd:
        return _true_divide(total, _intp(count), out=total, casting="unsafe")
    return total.dtype.type(total / _intp(count))


def _reduction(name, default=None):
    """An ndarray reduction (or accumulation) method that records it and mixes rows
    when the reduction runs over the row axis."""
    base = getattr(_nd, name)
    fast = _mean if name == "mean" else None

    def method(self, axis=default, *args, **kwargs):
        plain = _plain(self)
        read = ()
        if fast is not None and not args and not kwargs:
            target = None
            out = fast(plain, axis)
            if out is None:
                out = base(plain, axis)
        elif args or kwargs:
            out, target, read = _call_unwrapped(base, plain, axis, args, kwargs)
        else:
            target = None
            out = base(plain, axis)
        mode = _MODE.get()
        if mode == "none":
            rm, node = NOT_RECORDED, None
        else:
            # inline: this runs once per reduction
            try:
                rm, parent = self._stp_rows, self._stp_node
            except AttributeError:
                rm, parent = _rows_of(self), _node_of(self)
            if _WRITES:
                rm = _rows_of(self)
            if rm.n is not None and rm.dropped is None:
                ndim = plain.ndim
                if (
                    axis is None
                    or ndim == 0
                    or (axis % ndim == 0 if type(axis) is int else _hits_rows(axis, ndim))
                ):
                    rm = rmap.collapse(rm, name)
            parents = (parent,)
            if read:
                # a traced ``where`` (or other argument) decides what counts
                rm = _with_read(rm, plain.shape, read, name)
                parents += tuple(n for _, _, nodes in read for n in nodes)
            if mode == "op":
                node = (name, parents, {"axis": axis}, "numpy", rm)
            else:
                node = record(name, parents, {"axis": axis}, "numpy", mode)
        if target is not None and type(target) is TracedArray:
            _set_rows(target, rm, node, False)
            return target
        if type(out) is not _nd:
            if not isinstance(out, np.generic):
                return out
            out = np.asarray(out)
        # a plain ``out`` given is NumPy's result: the caller's array
        return (_wrap_foreign if args or kwargs else _wrap)(out, rm, node)

    method.__name__ = name
    method.__doc__ = getattr(_nd, name).__doc__
    return method


def _call_unwrapped(base, plain, axis, args, kwargs):
    """``base(plain, axis, *args, **kwargs)`` with traced arguments unwrapped:
    ``(result, out target or None, [(map, shape, nodes)] of the traced arguments read)``.
    An ``out`` given by position is found as the argument NumPy returns."""
    # a traced argument may be ``out`` (by position too): written, so a writable view
    split_args = [_split_out(a) for a in args]
    split_kwargs = {k: _split_out(v) for k, v in kwargs.items()}
    out = base(
        plain, axis, *[p for p, _, _ in split_args], **{k: v[0] for k, v in split_kwargs.items()}
    )
    target = kwargs.get("out")
    read = []
    for a, (p, rm, nodes) in zip(args, split_args):
        if target is None and p is out and type(a) is TracedArray:
            target = a
        elif rm is not None:
            read.append((rm, np.shape(p), nodes))
    for k, (p, rm, nodes) in split_kwargs.items():
        if k != "out" and rm is not None:
            read.append((rm, np.shape(p), nodes))
    return out, target, read


def _with_read(rm, shape, read, name):
    """``rm`` (the map of a reduction of an array of ``shape`` that kept its rows, or
    not) after reading the traced arguments ``read``: an argument with the array's rows
    (a ``where`` mask) gives each row its own row, any other is pooled into every row."""
    for m, s, _ in read:
        if rm.dropped is not None:
            return rm
        if m.dropped is not None:
            return m
        if rm.n is not None and m.n is not None and len(s) == len(shape) and s[0] == rm.n:
            rm = rmap.merge([rm, m], rm.n)
        elif rm.n is not None and m.n is not None and len(s) == len(shape) and s[0] == 1:
            rm = rmap.merge([rm, rmap.spread(m, rm.n)], rm.n)
        elif rm.n is None:
            rm = rmap.merge([rm, rmap.collapse(m, name)], None)
        else:
            rm = rmap.with_parents(rm, rmap.collapse(m, name))
    return rm


class Reductions:
    """TracedArray's reduction methods (copied onto it by :mod:`._numpy`)."""

    sum = _reduction("sum")
    prod = _reduction("prod")
    mean = _reduction("mean")
    std = _reduction("std")
    var = _reduction("var")
    min = _reduction("min")
    max = _reduction("max")
    all = _reduction("all")
    any = _reduction("any")
    argmax = _reduction("argmax")
    argmin = _reduction("argmin")
    cumsum = _reduction("cumsum")
    cumprod = _reduction("cumprod")
    argsort = _reduction("argsort", default=-1)
