"""TracedArray's operators and ufuncs: elementwise results and their row maps.

Every use of a ufunc comes here: an operator (``x + 1``, ``a @ b``; the fast path,
skipping NumPy's override machinery), a ufunc call and its methods (``reduce``,
``accumulate``, ``reduceat``, ``outer``, ``at``) through ``__array_ufunc__``, and the
in-place operators (``x += v``). The methods are collected in :class:`Operators` and
copied onto :class:`~._array.TracedArray` by :mod:`._numpy`.
"""

import numpy as np

from . import _rowmap as rmap
from ._array import (
    _ARG,
    _SCALARS,
    UNMODELLED,
    TracedArray,
    _nd,
    _plain,
    _record,
    _rows_of,
    _set_rows,
    _setflags,
    _split,
    _view,
    _wrap,
    _wrap_foreign,
    _writable,
)
from ._elide import ENABLED as _ELIDE
from ._elide import MIN_BYTES as _MIN_ELIDE
from ._elide import RECENT as _RECENT
from ._elide import note, temporary
from ._graph import _MODE, NOT_RECORDED, operand, record
from ._index import written_rows
from ._reductions import reduce_map
from ._state import _EPOCH, _WRITES


def _operator(ufunc, name):
    """``self <op> other`` and ``other <op> self`` for a TracedArray ``self``.

    The hottest path of the module, so written out inline, without helper calls: a
    0-d traced operand is passed on as NumPy's own scalar (what ``a - a.mean()`` gives
    NumPy unmodified).
    """

    def apply(left, right, reflected=False):
        tl, tr = type(left), type(right)
        # The common cases first, for operands that cannot be temporaries to reuse (below
        # the size at which temporaries are reused, or not the result our operator last
        # returned to the interpreter): a traced array (not 0-d) and a Python number,
        # whose result has the array's shape and rows; two traced arrays. Nothing is bound
        # here before the general path (a local reference would change the count that
        # proves a temporary).
        if not _WRITES:
            if tl is TracedArray:
                if tr is float or tr is int:
                    if left.ndim and (left.nbytes < _MIN_ELIDE or id(left) not in _RECENT):
                        out = ufunc(_plain(left), right)
                        if out.nbytes < _MIN_ELIDE or not _ELIDE:
                            return _scalar_result(left, out, name, (_ARG, right))
                        r = _scalar_result(left, out, name, (_ARG, right))
                        note(r, reflected)
                        return r
                elif tr is TracedArray:
                    if (left.nbytes < _MIN_ELIDE or id(left) not in _RECENT) and (
                        right.nbytes < _MIN_ELIDE or id(right) not in _RECENT
                    ):
                        r = _pair_result(left, right, ufunc, name)
                        if _ELIDE and type(r) is TracedArray and r.nbytes >= _MIN_ELIDE:
                            note(r, reflected)
                        return r
            elif tr is TracedArray and (tl is float or tl is int):
                if right.ndim and (right.nbytes < _MIN_ELIDE or id(right) not in _RECENT):
                    out = ufunc(left, _plain(right))
                    if out.nbytes < _MIN_ELIDE or not _ELIDE:
                        return _scalar_result(right, out, name, (left, _ARG))
                    r = _scalar_result(right, out, name, (left, _ARG))
                    note(r, reflected)
                    return r
        if tl is TracedArray:
            pl = _plain(left)
            try:
                rl, nl = left._stp_rows, left._stp_node
            except AttributeError:
                rl, nl = UNMODELLED, None
            if _WRITES:
                rl = _rows_of(left)
            if not pl.shape:
                pl = pl[()]
        elif tl in _SCALARS:
            pl, rl = left, None
        else:
            if getattr(tl, "__array_ufunc__", 0) is None:
                return NotImplemented
            pl, rl, nl = _split(left)
            nl = nl[0] if len(nl) == 1 else nl
        if tr is TracedArray:
            pr = _plain(right)
            try:
                rr, nr = right._stp_rows, right._stp_node
            except AttributeError:
                rr, nr = UNMODELLED, None
            if _WRITES:
                rr = _rows_of(right)
            if not pr.shape:
                pr = pr[()]
        elif tr in _SCALARS:
            pr, rr = right, None
        else:
            if getattr(tr, "__array_ufunc__", 0) is None:
                return NotImplemented
            pr, rr, nr = _split(right)
            nr = nr[0] if len(nr) == 1 else nr
        reuse = None
        if _ELIDE:
            # a large temporary of our own, on the interpreter's stack only: compute in
            # place, as NumPy does for plain arrays (see _elide)
            if (
                tl is TracedArray
                and pl.nbytes >= _MIN_ELIDE
                and temporary(left, reflected, pr, ufunc, pl)
            ):
                reuse = left
            elif (
                tr is TracedArray
                and pr.nbytes >= _MIN_ELIDE
                and temporary(right, reflected, pl, ufunc, pr)
            ):
                reuse = right
        if reuse is None:
            out = ufunc(pl, pr)
        else:
            # the temporary's memory (its own, see _elide.temporary) is locked by _wrap
            target = pl if reuse is left else pr
            owner = reuse.base
            _setflags(owner, True)
            if target is not owner:
                _setflags(target, True)
            out = ufunc(pl, pr, out=target)
            _setflags(owner, False)
        if type(out) is not _nd:
            if not isinstance(out, np.generic):
                return out
            out = np.asarray(out)
        mode = _MODE.get()
        if mode == "none":
            rm, node = NOT_RECORDED, None
        elif rr is None:
            rm = rl
            if rm.n is not None and (pl.ndim != out.ndim or pl.shape[0] != out.shape[0]):
                rm = rmap.elementwise([(rl, pl.shape)], out.shape, name)
            args = (_ARG, pr if type(pr) in _SCALARS else operand(pr))
            nodes = (nl,)
        elif rl is None:
            rm = rr
            if rm.n is not None and (pr.ndim != out.ndim or pr.shape[0] != out.shape[0]):
                rm = rmap.elementwise([(rr, pr.shape)], out.shape, name)
            args = (pl if type(pl) in _SCALARS else operand(pl), _ARG)
            nodes = (nr,)
        else:
            # both came from traced operands: arrays or NumPy scalars, with a shape
            rm = rmap.pair(rl, pl.shape, rr, pr.shape, out.shape, name)
            args = None
            nodes = (nl, nr)
        if mode == "op":
            node = (name, nodes, args, "numpy", rm)
        elif mode == "batch":
            node = record(name, nodes, args, "numpy", mode)
        if reuse is None:
            _setflags(out, False)  # as _wrap: the memory, and so the view
            r = _view(out, TracedArray)
            r._stp_plain = out
        else:
            r = reuse
        r._stp_rows = rm
        r._stp_node = node
        if _EPOCH[0]:
            r._stp_epoch = _EPOCH[0]
        if _ELIDE and out.nbytes >= _MIN_ELIDE:
            note(r, reflected)
        return r

    def reflected(self, other):
        return apply(other, self, True)

    return apply, reflected


def _scalar_result(traced, out, name, args):
    """The result of ``traced <op> number`` (or ``number <op> traced``): same rows."""
    try:
        rm = traced._stp_rows
        node = (name, (traced._stp_node,), args, "numpy", rm)
    except AttributeError:
        rm, node = UNMODELLED, (name, (None,), args, "numpy", UNMODELLED)
    mode = _MODE.get()
    if mode != "op":
        if mode == "none":
            rm, node = NOT_RECORDED, None
        else:
            node = record(name, node[1], args, "numpy", mode)
    return _wrap(out, rm, node)


def _pair_result(left, right, ufunc, name):
    """``left <op> right`` for two traced arrays too small for their temporaries to be
    reused: the general path of :func:`_operator`, less what only large arrays need."""
    pl, pr = _plain(left), _plain(right)
    try:
        rl, nl = left._stp_rows, left._stp_node
    except AttributeError:
        rl, nl = UNMODELLED, None
    try:
        rr, nr = right._stp_rows, right._stp_node
    except AttributeError:
        rr, nr = UNMODELLED, None
    if not pl.shape:
        pl = pl[()]
    if not pr.shape:
        pr = pr[()]
    out = ufunc(pl, pr)
    if type(out) is not _nd:
        if not isinstance(out, np.generic):
            return out
        out = np.asarray(out)
    mode = _MODE.get()
    if mode == "none":
        rm, node = NOT_RECORDED, None
    else:
        # both operands came from traced arrays: each is an array or a NumPy scalar
        rm = rmap.pair(rl, pl.shape, rr, pr.shape, out.shape, name)
        node = (name, (nl, nr), None, "numpy", rm)
        if mode != "op":
            node = record(name, node[1], None, "numpy", mode)
    return _wrap(out, rm, node)


def _unary(ufunc, name):
    def method(self):
        return _ufunc_call(ufunc, "__call__", (self,), {})

    method.__name__ = name
    return method


def _inplace(ufunc):
    def method(self, other):
        if not self.ndim and self.base.base is None:
            # a 0-d array of its own (one element, a reduction to a number) stands for
            # NumPy's scalar, which ``+=`` rebinds: a name bound to it before keeps its
            # value (``history.append(total); total += e``)
            return _ufunc_call(ufunc, "__call__", (self, other), {})
        result = _ufunc_call(ufunc, "__call__", (self, other), {"out": (self,)})
        return self if result is NotImplemented else result

    return method


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


class Operators:
    """TracedArray's operators and ``__array_ufunc__`` (copied onto it by :mod:`._numpy`)."""

    # operators: the fast path, skipping NumPy's override machinery
    __add__, __radd__ = _operator(np.add, "add")
    __sub__, __rsub__ = _operator(np.subtract, "subtract")
    __mul__, __rmul__ = _operator(np.multiply, "multiply")
    __truediv__, __rtruediv__ = _operator(np.true_divide, "divide")
    __floordiv__, __rfloordiv__ = _operator(np.floor_divide, "floor_divide")
    __mod__, __rmod__ = _operator(np.remainder, "remainder")
    __pow__, __rpow__ = _operator(np.power, "power")
    __and__, __rand__ = _operator(np.bitwise_and, "bitwise_and")
    __or__, __ror__ = _operator(np.bitwise_or, "bitwise_or")
    __xor__, __rxor__ = _operator(np.bitwise_xor, "bitwise_xor")
    __lshift__, __rlshift__ = _operator(np.left_shift, "left_shift")
    __rshift__, __rrshift__ = _operator(np.right_shift, "right_shift")
    __lt__, __gt__ = _operator(np.less, "less")[0], _operator(np.greater, "greater")[0]
    __le__ = _operator(np.less_equal, "less_equal")[0]
    __ge__ = _operator(np.greater_equal, "greater_equal")[0]
    __eq__ = _operator(np.equal, "equal")[0]
    __ne__ = _operator(np.not_equal, "not_equal")[0]
    __neg__ = _unary(np.negative, "__neg__")
    __pos__ = _unary(np.positive, "__pos__")
    __abs__ = _unary(np.absolute, "__abs__")
    __invert__ = _unary(np.invert, "__invert__")
    __iadd__ = _inplace(np.add)
    __isub__ = _inplace(np.subtract)
    __imul__ = _inplace(np.multiply)
    __itruediv__ = _inplace(np.true_divide)
    __ifloordiv__ = _inplace(np.floor_divide)
    __imod__ = _inplace(np.remainder)
    __ipow__ = _inplace(np.power)
    __iand__ = _inplace(np.bitwise_and)
    __ior__ = _inplace(np.bitwise_or)
    __ixor__ = _inplace(np.bitwise_xor)
    __imatmul__ = _inplace(np.matmul)

    def __matmul__(self, other):
        if type(other) is _nd and other.ndim == 2:
            plain = _plain(self)
            if plain.ndim == 2:
                # rows times weights: every output row is its input row (the weights are
                # untraced)
                out = np.matmul(plain, other)
                mode = _MODE.get()
                if mode == "none":
                    return _wrap(out, NOT_RECORDED, None)
                # inline (once per operation): the node names its map; what operand()
                # keeps of a 2-D ndarray
                try:
                    rm, parent = self._stp_rows, self._stp_node
                except AttributeError:
                    rm, parent = UNMODELLED, None
                if _WRITES:
                    rm = _rows_of(self)
                args = (_ARG, ("<array>", other.shape, other.dtype))
                if mode == "op":
                    return _wrap(out, rm, ("matmul", (parent,), args, "numpy", rm))
                return _wrap(out, rm, _record("matmul", (parent,), args, mode))
        return _ufunc_call(np.matmul, "__call__", (self, other), {})

    def __rmatmul__(self, other):
        return _ufunc_call(np.matmul, "__call__", (other, self), {})

    def __divmod__(self, other):
        return _ufunc_call(np.divmod, "__call__", (self, other), {})

    def __rdivmod__(self, other):
        return _ufunc_call(np.divmod, "__call__", (other, self), {})

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ufunc_call(ufunc, method, inputs, kwargs)
