"""The arguments of a torch function as its row rules read them, and the rules of
element-wise functions and reductions (the commonest: the rules of
:mod:`._torch_rules_shape`, :mod:`._torch_rules_combine` and :mod:`._torch_rules_nn`
fall back on them).

A rule is called with the function's plain output, its arguments and the row maps of
its traced arguments (``{where: (map, shape)}``) and returns the output's row map(s)
and the argument positions it used.
"""

import operator

import torch

from . import _rowmap as rmap


def _arg(args, kwargs, pos, names, default=None):
    if len(args) > pos:
        return args[pos]
    for n in (names,) if isinstance(names, str) else names:
        if n in kwargs:
            return kwargs[n]
    return default


def _out_shape(out):
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    return tuple(out[0].shape)


def _elementwise(out, args, kwargs, maps, name):
    if len(maps) == 1:
        ((key, (rm, shape)),) = maps.items()
        out_shape = tuple(out.shape)
        if rm.n is None or (len(shape) == len(out_shape) and shape[0] == out_shape[0]):
            return rm, (key,)
        return rmap.elementwise([(rm, shape)], out_shape, name), (key,)
    parts = list(maps.values())
    return rmap.elementwise(parts, _out_shape(out), name), tuple(maps)


def _hits_rows(dim, ndim):
    if dim is None or ndim == 0:
        return True
    dims = dim if isinstance(dim, tuple | list) else (dim,)
    return any(operator.index(d) % ndim == 0 for d in dims)


def _reduction(default=None, pos=1):
    def rule(out, args, kwargs, maps, name):
        rm, shape = maps.get(0, (None, None))
        if rm is None:
            return rmap.EMPTY, set()
        dim = _arg(args, kwargs, pos, ("dim", "axis"), default)
        if isinstance(dim, torch.Tensor) or "other" in kwargs:
            return _elementwise(out, args, kwargs, maps, name)  # torch.max(a, b)
        if isinstance(dim, bool):
            dim = None  # torch.std(x, True): ``unbiased``, over every element
        if rm.n is not None and rm.dropped is None and _hits_rows(dim, len(shape)):
            return rmap.collapse(rm, name), {0}
        return rm, {0}

    return rule


def _empty(out, args, kwargs, maps, name):
    # rows of no source, as many as ``out`` has: rows written later (``out[i] = t[j]``)
    # take exactly the parents written (a collapsed map would give them all of ``t``'s)
    return (rmap.RowMap(n=out.shape[0]) if out.dim() else rmap.EMPTY), {0}
