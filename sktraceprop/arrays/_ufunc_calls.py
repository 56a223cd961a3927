"""Any use of a ufunc on traced arrays (a call, ``reduce``, ``accumulate``,
``reduceat``, ``outer``, ``at``, through ``__array_ufunc__``): the result and its row map.
"""

import numpy as np

from . import _rowmap as rmap
from ._array import (
    _ARG,
    TracedArray,
    _nd,
    _rows_of,
    _set_rows,
    _split,
    _wrap,
    _wrap_foreign,
    _writable,
)
from ._graph import _MODE, NOT_RECORDED, operand, record
from ._index import written_rows
from ._reductions import reduce_map


def _matmul_map(parts, shapes, out_shape, name):
    """Row map of ``a @ b``: rows of ``a`` stay rows; ``b``'s rows are contracted away."""
    (ra, rb), (sa, sb) = parts, shapes
    if len(sa) > 2 or len(sb) > 2:
        return rmap.elementwise(
            [(r, s) for r, s in zip(parts, shapes) if r is not None], out_shape, name
        )
    maps = []
    if ra is not None:
        maps.append(ra if len(sa) == 2 and ra.n is not None else rmap.collapse(ra, name))
    if rb is not None:
        maps.append(rmap.collapse(rb, name))
    if not out_shape or len(sa) < 2:
        return rmap.merge([rmap.collapse(m, name) for m in maps], None)
    n = out_shape[0]
    if len(maps) == 1 and maps[0].n is not None:
        return maps[0]
    return rmap.merge([m if m.n is not None else rmap.spread(m, n) for m in maps], n)


def _ufunc_call(ufunc, method, inputs, kwargs):
    """Any use of a ufunc: a call, ``reduce``, ``accumulate``, ``reduceat``, ``outer``, ``at``."""
    mode = _MODE.get()
    plain, maps, nodes, args = [], [], [], []
    for x in inputs:
        p, rm, node = _split(x)
        plain.append(p)
        maps.append(rm)
        if rm is not None:
            nodes.extend(node)
            args.append(_ARG)
        else:
            args.append(operand(p))
    targets = kwargs.get("out")
    if targets is not None:
        if not isinstance(targets, tuple):
            targets = (targets,)
        kwargs["out"] = tuple(
            _writable(t) if type(t) is TracedArray else _split(t)[0] for t in targets
        )
    extra = []
    for key, value in kwargs.items():
        # a traced ``where`` chooses the elements, a traced ``initial`` is reduced in:
        # both are read (``out`` is written)
        if key != "out" and value is not None and not isinstance(value, bool):
            pv, rv, nv = _split(value)
            if rv is not None:
                kwargs[key] = pv
                extra.append((rv, np.shape(pv)))
                nodes.extend(nv)
    where = kwargs.get("where")
    if method == "at" and type(inputs[0]) is TracedArray:
        plain[0] = _writable(inputs[0])
    result = getattr(ufunc, method)(*plain, **kwargs)
    name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
    if method == "at":
        _at(inputs[0], plain, maps, nodes, name, mode)
        return result
    outputs = result if isinstance(result, tuple) else (result,)
    if mode == "none":
        rm = NOT_RECORDED
    else:
        rm = _ufunc_map(method, ufunc, plain, maps, extra, outputs[0], kwargs, name)
    params = {"args": args}
    for key in ("axis", "keepdims", "dtype"):
        if key in kwargs and method != "__call__":
            params[key] = operand(kwargs[key])
    node = None if mode == "none" else record(name, tuple(nodes), params, "numpy", mode)
    wrapped = []
    for k, out in enumerate(outputs):
        target = targets[k] if targets is not None and k < len(targets) else None
        if type(target) is TracedArray:
            _set_rows(target, rm, node, where is not None and where is not True)
            wrapped.append(target)
            continue
        if type(out) is not _nd:
            if not isinstance(out, np.generic):
                wrapped.append(out)
                continue
            out = np.asarray(out)
        wrapped.append((_wrap if target is None else _wrap_foreign)(out, rm, node))
    return tuple(wrapped) if isinstance(result, tuple) else wrapped[0]


def _ufunc_map(method, ufunc, plain, maps, extra, out, kwargs, name):
    traced = [(rm, np.shape(p)) for rm, p in zip(maps, plain) if rm is not None] + extra
    if not traced:
        return rmap.EMPTY
    out_shape = np.shape(out)
    if method == "__call__":
        if ufunc is np.matmul:
            return _matmul_map(maps, [np.shape(p) for p in plain], out_shape, name)
        return rmap.elementwise(traced, out_shape, name)
    rm, shape = traced[0]
    if method in ("reduce", "accumulate", "reduceat") and maps[0] is not None:
        reduced = reduce_map(rm, shape, kwargs.get("axis", 0), name)
        if not extra:
            return reduced
        # a traced ``where`` decides which elements count: pooled in, never left out
        pooled = rmap.merge([rmap.collapse(m, name) for m, _ in extra], None)
        if reduced.n is None:
            return rmap.merge([reduced, pooled], None)
        return rmap.with_parents(reduced, pooled)
    if method == "outer":
        a = maps[0]
        rows = []
        if a is not None:
            rows.append(a if np.ndim(plain[0]) >= 1 else rmap.collapse(a, name))
        if maps[1] is not None:
            rows.append(rmap.collapse(maps[1], name))
        return rmap.elementwise(
            [(m, out_shape if m.n is not None else ()) for m in rows], out_shape, name
        )
    return rmap.merge([rmap.collapse(m, name) for m, _ in traced], None)


def _at(target, plain, maps, nodes, name, mode):
    """``ufunc.at(a, indices, b)``: rows at ``indices`` gain the parents of ``b``."""
    if type(target) is not TracedArray:
        return
    if mode == "none":
        _set_rows(target, NOT_RECORDED, None, False)
        return
    shape = plain[0].shape
    old = rmap.written_map(_rows_of(target), shape)
    written = np.zeros(shape, bool)
    written[plain[1]] = True
    if old.n is None or not shape:
        new = old
        if len(maps) > 2 and maps[2] is not None:
            new = rmap.merge([old, rmap.collapse(maps[2], name)], None)
    else:
        _, touched = written_rows(written)
        value = rmap.EMPTY
        if len(maps) > 2 and maps[2] is not None:
            value = rmap.spread(rmap.collapse(maps[2], name), shape[0])
        new = rmap.overwrite(old, np.zeros(shape[0], bool), touched, value)
    node = record(name, tuple(nodes), None, "numpy", mode)
    _set_rows(target, new, node, False, old=old)
