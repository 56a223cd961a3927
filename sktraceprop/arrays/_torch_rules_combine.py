"""Row rules of torch functions that join tensors (``cat``, ``stack``, ``vstack``,
``hstack``, ``column_stack``) or multiply them (``matmul``, ``addmm``): rows joined
along the row axis keep their own, other joins and products pool. See
:mod:`._torch_rules_basic` for what a rule is given.
"""

import operator

from . import _rowmap as rmap
from ._torch_rules_basic import _arg


def _concat(out, args, kwargs, maps, name):
    seq = args[0]
    items = [(maps.get((0, k), (None, None))[0], tuple(t.shape)) for k, t in enumerate(seq)]
    dim = operator.index(_arg(args, kwargs, 1, ("dim", "axis"), 0)) % out.ndim
    used = {(0, k) for k in range(len(seq))}
    if dim == 0:
        return rmap.concat([(m, s[0]) for m, s in items]), used
    parts = [(m, s) for m, s in items if m is not None]
    return (rmap.elementwise(parts, tuple(out.shape), name) if parts else rmap.EMPTY), used


def _stack(out, args, kwargs, maps, name):
    seq = args[0]
    dim = operator.index(_arg(args, kwargs, 1, "dim", 0)) % out.ndim
    used = {(0, k) for k in range(len(seq))}
    items = [maps.get((0, k), (None, None)) for k in range(len(seq))]
    if dim == 0:
        rows = [(None if m is None else rmap.collapse(m, name), 1) for m, _ in items]
        return rmap.concat(rows), used
    parts = [(m, s + (1,)) for m, s in items if m is not None]
    return (rmap.elementwise(parts, tuple(out.shape), name) if parts else rmap.EMPTY), used


def _vstack(out, args, kwargs, maps, name):
    seq = args[0]
    used = {(0, k) for k in range(len(seq))}
    rows = []
    for k, t in enumerate(seq):
        m = maps.get((0, k), (None, None))[0]
        if t.ndim < 2:
            rows.append((None if m is None else rmap.collapse(m, name), 1))
        else:
            rows.append((m, t.shape[0]))
    return rmap.concat(rows), used


def _hstack(out, args, kwargs, maps, name):
    seq = args[0]
    used = {(0, k) for k in range(len(seq))}
    if all(t.ndim < 2 for t in seq):
        return rmap.concat(
            [
                (
                    maps.get((0, k), (None, None))[0],
                    max(t.numel(), 1) if t.ndim == 0 else t.shape[0],
                )
                for k, t in enumerate(seq)
            ]
        ), used
    parts = [maps[(0, k)] for k in range(len(seq)) if (0, k) in maps]
    return (rmap.elementwise(parts, tuple(out.shape), name) if parts else rmap.EMPTY), used


def _column_stack(out, args, kwargs, maps, name):
    seq = args[0]
    used = {(0, k) for k in range(len(seq))}
    parts = []
    for k in range(len(seq)):
        if (0, k) in maps:
            m, s = maps[(0, k)]
            parts.append((m, s if len(s) >= 2 else s + (1,)))
    return (rmap.elementwise(parts, tuple(out.shape), name) if parts else rmap.EMPTY), used


def _matmul(out, args, kwargs, maps, name):
    a, sa = maps.get(0, (None, tuple(args[0].shape)))
    b, sb = maps.get(1, (None, tuple(args[1].shape)))
    out_shape = tuple(out.shape)
    if len(sa) > 2 or len(sb) > 2:
        parts = [(m, s) for m, s in ((a, sa), (b, sb)) if m is not None]
        return rmap.elementwise(parts, out_shape, name), {0, 1}
    rows = []
    if a is not None:
        rows.append(a if len(sa) == 2 else rmap.collapse(a, name))
    if b is not None:
        rows.append(rmap.collapse(b, name))
    if not out_shape or len(sa) < 2:
        return rmap.merge([rmap.collapse(m, name) for m in rows], None), {0, 1}
    n = out_shape[0]
    return rmap.merge([m if m.n is not None else rmap.spread(m, n) for m in rows], n), {0, 1}


def _rmatmul(out, args, kwargs, maps, name):
    """``x.__rmatmul__(w)`` is ``w @ x``: the operands as ``_matmul`` reads them."""
    swapped = {1 - k: v for k, v in maps.items() if k in (0, 1)}
    rm, _ = _matmul(out, (args[1], args[0]), kwargs, swapped, name)
    return rm, {0, 1}


def _addmm(out, args, kwargs, maps, name):
    # addmm(bias, mat1, mat2): mat1's rows stay rows, the bias broadcasts
    shifted = {k - 1: v for k, v in maps.items() if isinstance(k, int) and k >= 1}
    rm, used = _matmul(out, args[1:], kwargs, shifted, name)
    used = {k + 1 for k in used}
    if 0 in maps:
        rm = rmap.elementwise([(rm, tuple(out.shape)), maps[0]], tuple(out.shape), name)
        used.add(0)
    return rm, used
