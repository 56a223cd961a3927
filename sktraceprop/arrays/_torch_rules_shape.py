"""Row rules of torch functions that reshape, move axes or select rows of one tensor
(``reshape``, ``permute``, ``squeeze``, ``expand``, ``repeat``, ``flip``, ``roll``,
``narrow``, ``select``, ``split``, ``index_select``, ``gather``): which input rows
each output row holds. See :mod:`._torch_rules_basic` for what a rule is given.
"""

import operator

import numpy as np

from . import _rowmap as rmap
from ._torch_rules_basic import _arg, _hits_rows


def _reshape_rule(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    size_in, size_out = args[0].element_size(), out.element_size()
    if size_in != size_out:
        # x.view(dtype): the same bytes, C order, read with another element size
        return rmap.reshape(rm, (*shape, size_in), (*out.shape, size_out), name), {0}
    return rmap.reshape(rm, shape, tuple(out.shape), name), {0}


def _moves(first):
    def rule(out, args, kwargs, maps, name):
        rm, shape = maps.get(0, (None, None))
        if rm is None:
            return rmap.EMPTY, set()
        if len(shape) > 1 and first(args, kwargs, len(shape)) % len(shape) != 0:
            return rmap.collapse(rm, name), {0}
        return rm, {0}

    return rule


def _permute_first(args, kwargs, ndim):
    dims = _arg(args, kwargs, 1, "dims")
    if isinstance(dims, int):
        dims = args[1:]
    return operator.index(dims[0])


def _transpose_first(args, kwargs, ndim):
    d0 = operator.index(_arg(args, kwargs, 1, "dim0")) % ndim
    d1 = operator.index(_arg(args, kwargs, 2, "dim1")) % ndim
    return d1 if d0 == 0 else (d0 if d1 == 0 else 0)


def _movedim_first(args, kwargs, ndim):
    source = _arg(args, kwargs, 1, "source")
    destination = _arg(args, kwargs, 2, "destination")
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    source = [s % ndim for s in source]
    destination = [d % ndim for d in destination]
    order = [k for k in range(ndim) if k not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return order[0]


def _t_first(args, kwargs, ndim):
    return 1 if ndim == 2 else 0


def _squeeze(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    if shape and shape[0] == 1 and (len(out.shape) < len(shape)):
        dim = _arg(args, kwargs, 1, "dim")
        if dim is None or _hits_rows(dim, len(shape)):
            return rmap.single(rm), {0}
    return rm, {0}


def _unsqueeze(out, args, kwargs, maps, name):
    rm, _ = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % out.ndim
    return (rmap.collapse(rm, name) if dim == 0 else rm), {0}


def _expand(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    return rmap.elementwise([(rm, shape)], tuple(out.shape), name), {0}


def _repeat(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    sizes = _arg(args, kwargs, 1, ("repeats", "dims", "sizes"))
    sizes = list(args[1:]) if isinstance(sizes, int) and len(args) > 2 else sizes
    sizes = [sizes] if isinstance(sizes, int) else list(sizes)
    if len(sizes) > len(shape):
        return rmap.collapse(rm, name), {0}
    r0 = sizes[0] if len(sizes) == len(shape) else 1
    if r0 == 1 or rm.n is None:
        return rm, {0}
    return rmap.take(rm, np.tile(np.arange(shape[0]), r0)), {0}


def _flip(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dims = _arg(args, kwargs, 1, "dims")
    dims = list(args[1:]) if isinstance(dims, int) else list(dims)
    if any(d % len(shape) == 0 for d in dims):
        return rmap.take(rm, slice(None, None, -1)), {0}
    return rm, {0}


def _roll(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    shifts = _arg(args, kwargs, 1, "shifts")
    dims = _arg(args, kwargs, 2, "dims")
    if dims is None or dims == ():
        if len(shape) == 1:
            return rmap.take(rm, np.roll(np.arange(shape[0]), shifts)), {0}
        return rmap.collapse(rm, name), {0}
    shifts = np.atleast_1d(shifts)
    dims = np.atleast_1d(dims)
    total = int(sum(s for s, d in zip(shifts, dims) if d % len(shape) == 0))
    if total == 0:
        return rm, {0}
    return rmap.take(rm, np.roll(np.arange(shape[0]), total)), {0}


def _narrow(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % len(shape)
    if dim != 0:
        return rm, {0}
    start = int(_arg(args, kwargs, 2, "start"))
    start = start + shape[0] if start < 0 else start
    length = int(_arg(args, kwargs, 3, "length"))
    return rmap.take(rm, slice(start, start + length)), {0}


def _select(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % len(shape)
    if dim != 0:
        return rm, {0}
    index = int(_arg(args, kwargs, 2, "index")) % shape[0]
    return rmap.single(rmap.take(rm, slice(index, index + 1))), {0}


def _pieces(out, args, kwargs, maps, name, default_dim=0):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return [rmap.EMPTY] * len(out), set()
    dim = _arg(args, kwargs, 2, "dim", default_dim)
    dim = operator.index(dim) % max(len(shape), 1)
    if name == "unbind":
        dim = operator.index(_arg(args, kwargs, 1, "dim", 0)) % max(len(shape), 1)
        if dim == 0:
            return [rmap.single(rmap.take(rm, slice(k, k + 1))) for k in range(len(out))], {0}
        return [rm] * len(out), {0}
    if dim != 0 or rm.n is None:
        return [rm] * len(out), {0}
    bounds = np.cumsum([0] + [o.shape[0] for o in out])
    return [rmap.take(rm, slice(int(b), int(e))) for b, e in zip(bounds[:-1], bounds[1:])], {0}


def _index_select(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, {2, "index"}  # an index's own rows select, they are not data
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % len(shape)
    if dim != 0:
        return rm, {0, 2, "index"}
    index = _arg(args, kwargs, 2, "index")
    return rmap.take(rm, index.detach().cpu().numpy().astype(np.int64)), {0, 2, "index"}


def _gather(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, {2, "index"}
    dim = operator.index(_arg(args, kwargs, 1, "dim")) % len(shape)
    index = _arg(args, kwargs, 2, "index").detach().cpu().numpy()
    if dim != 0:
        return rmap.elementwise([(rm, shape)], tuple(out.shape), name), {0, 2, "index"}
    return rmap.from_positions(rm, index), {0, 2, "index"}
