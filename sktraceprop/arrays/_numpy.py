"""Traced NumPy arrays: an ``ndarray`` subclass whose rows keep their source row ids.

Operations reach :class:`TracedArray` three ways, and all three are handled:
operators and ufuncs (``__array_ufunc__``), NumPy functions (``__array_function__``), and
``ndarray`` methods (overridden below). Each computes on plain views and gives the
result a row map (:mod:`._rowmap`) and a graph node (:mod:`._graph`). An ``ndarray``
method that is not overridden makes a ``TracedArray`` without a map; such an array says
that an unmodelled operation dropped its row ids, so no row id is ever carried through
an operation that was not reasoned about. ``np.asarray(x)`` and ``np.array(x)`` return
plain arrays: leaving tracking is always explicit. To NumPy a TracedArray is read-only
(``np.asarray(x)`` is a read-only view), so no write can change its rows unseen; its own
in-place operations write and update the row ids (see :func:`_writable`).
"""

import operator

import numpy as np

from ..exceptions import LineageError
from . import _rowmap as rmap
from ._elide import ENABLED as _ELIDE
from ._elide import LAST as _LAST
from ._elide import MIN_BYTES as _MIN_ELIDE
from ._elide import note, temporary
from ._graph import _MODE, NOT_RECORDED, ROWS, note_rows, operand, record, without_rows
from ._index import assign_map, index_map, reshaped, written_rows
from ._state import (
    _EPOCH,
    _FROZEN,
    _WRITES,
    CAPTURED,
    JAX_TRACING,
    STALE,
    freeze,
    is_frozen,
    is_stale,
    note_write,
)
from ._text import TEXT as _TEXT
from ._text import element as text_element

__all__ = ["TracedArray"]

_nd = np.ndarray
_view = np.ndarray.view
_setflags = np.ndarray.setflags
_SCALARS = (int, float, bool, complex)
#: dtype kinds whose elements are numbers to compute with (see _element)
_NUMBER_KINDS = "biufcmM"

UNMODELLED = rmap.dropped(
    "the array was made by an ndarray method that sktraceprop does not model, so its "
    "row ids were dropped rather than guessed"
)
_STALE_MAP = rmap.dropped(STALE)
_ARG = "<input>"  # a traced operand, in a node's "args" parameter


def _rows_of(x, writer=None):
    try:
        rm = x._stp_rows
    except AttributeError:
        return UNMODELLED
    if _WRITES and is_stale(x, getattr(x, "_stp_epoch", 0), writer=writer):
        return _STALE_MAP
    return rm


def _node_of(x):
    try:
        return x._stp_node
    except AttributeError:
        return None


def _wrap(out, rm, node):
    # read-only to NumPy, see _writable: ``out`` itself too (``x.base``), so that neither
    # it nor a view re-flagged writable can write; the view inherits the flag (a
    # positional setflags: keywords cost twice as much)
    _setflags(out, False)
    r = _view(out, TracedArray)
    r._stp_plain = out
    r._stp_rows = rm
    r._stp_node = node
    if _EPOCH[0]:
        r._stp_epoch = _EPOCH[0]
    if node is not None and type(node[ROWS]) is list:
        note_rows(node, rm)
    return r


def _writable(x):
    """A plain view of a TracedArray to write through.

    A TracedArray is read-only, and so are the plain views others take of it
    (``np.asarray(x)``, ``np.nditer``, scikit-learn's ``copy=False``): a write through
    them would change rows behind the lineage's back, so NumPy refuses it. The array's
    own in-place operations (``x[k] = v``, ``x += v``, ``out=x``, ``np.copyto``...)
    write here and update the row ids. Memory that was read-only before it was traced
    stays so (NumPy's own error).
    """
    p = _view(x, _nd)
    if _FROZEN and is_frozen(x):
        return p
    # the last array of the base chain: the memory _wrap locked (past it, a tensor or a
    # buffer may own the memory)
    last = x
    while True:
        base = last.base
        if not isinstance(base, _nd):
            break
        last = base
    if not _nd.flags.__get__(last).writeable:
        # unlocked for as long as it takes to make this one view writable (memory that
        # was read-only before it was traced is frozen, above)
        try:
            _setflags(last, True)
        except ValueError:
            return p  # memory NumPy keeps read-only (a memory map opened "r"): its error
        try:
            _setflags(p, True)
        finally:
            _setflags(last, False)
        return p
    try:
        _setflags(p, True)
    except ValueError:
        pass  # memory NumPy itself keeps read-only: its own error on writing
    return p


def _wrap_foreign(out, rm, node):
    """:func:`_wrap` for a result that may be the caller's own array (a plain ``out=``, an
    input given back): a view of it is made read-only, never the caller's array."""
    return _wrap(_view(out, _nd), rm, node)


class _Flags:
    """``x.flags`` of a TracedArray: NumPy's flags of ``x``, except ``writeable``, which
    says whether ``x``'s own operations may write (``x[k] = v``, ``x += v``: NumPy's
    shuffles ask before writing so). Setting it to False freezes the memory of ``x``
    (every traced array on it; never fewer than NumPy would) until it is set back."""

    __slots__ = ("_array",)

    def __init__(self, array):
        object.__setattr__(self, "_array", array)

    def _writeable(self):
        return _writable(self._array).flags.writeable

    def _set_writeable(self, value):
        if value and not _view(self._array, _nd).flags.writeable:
            freeze(self._array, False)
            if not self._writeable():
                raise ValueError("cannot set WRITEABLE flag to True of this array")
        elif not value:
            freeze(self._array, True)

    def __getattr__(self, name):
        if name in ("writeable", "w"):
            return self._writeable()
        return getattr(_nd.flags.__get__(self._array), name)

    def __setattr__(self, name, value):
        if name in ("writeable", "w"):
            self._set_writeable(bool(value))
        else:
            setattr(_nd.flags.__get__(self._array), name, value)

    def __getitem__(self, key):
        if key in ("WRITEABLE", "W"):
            return self._writeable()
        return _nd.flags.__get__(self._array)[key]

    def __setitem__(self, key, value):
        if key in ("WRITEABLE", "W"):
            self._set_writeable(bool(value))
        else:
            _nd.flags.__get__(self._array)[key] = value

    def __eq__(self, other):
        return _nd.flags.__get__(self._array) == other

    __hash__ = None

    def __repr__(self):
        text = repr(_nd.flags.__get__(self._array))
        return text.replace("WRITEABLE : False", f"WRITEABLE : {self._writeable()}")


def _plain(x):
    """The plain ``ndarray`` behind a TracedArray, for operations that only read it and
    return new arrays (never a view of it: a view would escape a read-only flag set on
    ``x`` afterwards). Kept from when ``x`` was made (a view costs more than the rest of
    a small operator); the layout setters below drop it when ``x`` changes shape."""
    try:
        return x._stp_plain
    except AttributeError:
        return _view(x, _nd)


def _split(x):
    """``(plain value, row map or None, nodes)`` of an operand of any kind."""
    t = type(x)
    if t is TracedArray:
        return _view(x, _nd), _rows_of(x), (_node_of(x),)
    if t is _nd or t in _SCALARS or x is None:
        return x, None, ()
    if isinstance(x, np.generic):
        if t in _TEXT and x._stp_rows is not None:  # an element of a string array (_text)
            return x._plain(), x._stp_rows, (x._stp_node,)
        return x, None, ()
    rm = getattr(x, "_stp_rows", None)
    if rm is not None:
        # A traced torch tensor or JAX array meeting NumPy: its value, with its lineage.
        return np.asarray(x.__stp_value__()), x._stp_rows, (x._stp_node,)
    if t is list or t is tuple:
        found = [_split(v) for v in x]
        if any(f[1] is not None for f in found):
            maps = [rmap.collapse(f[1], "sequence") for f in found if f[1] is not None]
            nodes = tuple(n for f in found for n in f[2])
            return np.asarray([f[0] for f in found]), rmap.merge(maps, None), nodes
    return x, None, ()


# -- elementwise ---------------------------------------------------------------------------


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
                    if left.ndim and (
                        left.nbytes < _MIN_ELIDE or _LAST[0] is None or _LAST[0][0] != id(left)
                    ):
                        out = ufunc(_plain(left), right)
                        if out.nbytes < _MIN_ELIDE or not _ELIDE:
                            return _scalar_result(left, out, name, (_ARG, right))
                        r = _scalar_result(left, out, name, (_ARG, right))
                        note(r, reflected)
                        return r
                elif tr is TracedArray:
                    if (
                        left.nbytes < _MIN_ELIDE or _LAST[0] is None or _LAST[0][0] != id(left)
                    ) and (
                        right.nbytes < _MIN_ELIDE or _LAST[0] is None or _LAST[0][0] != id(right)
                    ):
                        r = _pair_result(left, right, ufunc, name)
                        if _ELIDE and type(r) is TracedArray and r.nbytes >= _MIN_ELIDE:
                            note(r, reflected)
                        return r
            elif tr is TracedArray and (tl is float or tl is int):
                if right.ndim and (
                    right.nbytes < _MIN_ELIDE or _LAST[0] is None or _LAST[0][0] != id(right)
                ):
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
    old = _rows_of(target)
    shape = plain[0].shape
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


def _set_rows(target, rm, node, partial, old=None):
    """Give ``target`` new lineage after an in-place write."""
    if old is None:
        old = _rows_of(target)
    if partial and rm is not NOT_RECORDED:
        rm = (
            rmap.merge([old, rm], old.n)
            if old.n == rm.n
            else rmap.merge([rmap.collapse(old, "where"), rmap.collapse(rm, "where")], None)
        )
    target._stp_node = node
    note_rows(node, rm)
    if rm is not old:
        target._stp_rows = rm
        target._stp_epoch = note_write(target)


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


def _record(name, nodes, params, mode):
    if mode == "op":
        return (name, nodes, params, "numpy", [])
    return record(name, nodes, params, "numpy", mode)


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


def _split_out(x):
    """:func:`_split` of an argument that may be written (an ``out``)."""
    if type(x) is TracedArray:
        return _writable(x), _rows_of(x), (_node_of(x),)
    return _split(x)


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


def _layout(attr):
    """``x.shape = ...``, ``x.dtype = ...``, ``x.strides = ...`` on a TracedArray: NumPy
    changes the array in place; its row map follows (a C-order reshape, a view as
    another dtype) or is dropped (strides), and the kept plain array is let go."""
    descriptor = getattr(_nd, attr)

    def fset(self, value):
        before = _view(self, _nd)
        descriptor.__set__(self, value)
        try:
            del self._stp_plain
        except AttributeError:
            pass
        after = _view(self, _nd)
        rm = _rows_of(self)
        if rm.n is not None and rm.dropped is None:
            if attr == "shape":
                rm = rmap.reshape(rm, before.shape, after.shape)
            elif attr == "dtype":
                rm = _view_map(rm, before, after)
            else:
                rm = rmap.dropped(
                    "the array's strides were set in place, so its row ids were dropped "
                    "rather than guessed"
                )
        mode = _MODE.get()
        if mode == "none":
            rm, node = NOT_RECORDED, None
        else:
            now = getattr(after, attr)
            params = {attr: str(now) if attr == "dtype" else list(now)}
            node = _record(f"set {attr}", (_node_of(self),), params, mode)
        self._stp_rows = rm
        self._stp_node = node
        note_rows(node, rm)

    doc = {
        "shape": "The array's shape (as ``ndarray.shape``); setting it reshapes in place in "
        "C order and the row ids follow.",
        "dtype": "The array's dtype (as ``ndarray.dtype``); setting it views the data as "
        "another dtype in place and the row ids follow.",
        "strides": "The array's strides (as ``ndarray.strides``); setting them in place drops "
        "the row ids (recorded as dropped, never guessed).",
    }[attr]
    return property(descriptor.__get__, fset, doc=doc)


def _view_map(rm, plain, out):
    """Row map of ``out``, a view of ``plain`` as another dtype."""
    if out.dtype.itemsize == plain.dtype.itemsize or plain.ndim > 1:
        return rm
    return rmap.reshape(
        rm, plain.shape + (plain.dtype.itemsize,), out.shape + (out.dtype.itemsize,)
    )


# -- the array class ----------------------------------------------------------------------


class TracedArray(np.ndarray):
    """A NumPy array whose rows carry their source row ids and whose history is recorded.

    Made by :func:`sktraceprop.array`; read with :func:`sktraceprop.provenance`. It is an
    ``ndarray`` (scikit-learn, pandas and plotting libraries accept it as one), and
    ``np.asarray(x)`` gives the plain array back, read-only: ``x`` changes only through
    its own operations (``x[k] = v``, ``x += v``, ``out=x``...), which keep its row ids.
    """

    __slots__ = ("_stp_rows", "_stp_node", "_stp_epoch", "_stp_plain")
    __stp_framework__ = "numpy"

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

    def __hash__(self):
        # a 0-d array (one element: ``x[i, j]``) hashes as NumPy's scalar of it, which
        # is what indexing gave before it was traced; bigger arrays are unhashable
        plain = _view(self, _nd)
        if plain.ndim:
            raise TypeError("unhashable type: 'TracedArray' (only a 0-d one hashes)")
        return hash(plain[()])

    def __round__(self, ndigits=None):
        # ``round(v[0], 2)``: a 0-d array (one element) rounds as NumPy's scalar of it did,
        # to a traced 0-d array; ``round(v[0])`` is a Python int, as ``int(v[0])`` is
        plain = _view(self, _nd)
        if plain.ndim:
            raise TypeError("type TracedArray doesn't define __round__ method (only a 0-d one)")
        if ndigits is None:
            return round(plain[()])
        return np.round(self, ndigits)

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
                node = _record("matmul", (_node_of(self),), (_ARG, operand(other)), mode)
                return _wrap(out, _rows_of(self), node)
        return _ufunc_call(np.matmul, "__call__", (self, other), {})

    def __rmatmul__(self, other):
        return _ufunc_call(np.matmul, "__call__", (other, self), {})

    def __divmod__(self, other):
        return _ufunc_call(np.divmod, "__call__", (self, other), {})

    def __rdivmod__(self, other):
        return _ufunc_call(np.divmod, "__call__", (other, self), {})

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ufunc_call(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        handler = _HANDLED.get(func)
        if handler is None:
            return _unmodelled(func, args, kwargs)
        return handler(*args, **kwargs)

    # -- protocol used by provenance and traced fits ---------------------------------------
    def __stp_value__(self):
        return _view(self, _nd)

    def __jax_array__(self):
        # JAX asks this only of an array it meets as a constant inside a traced function
        if JAX_TRACING.get():
            raise LineageError(CAPTURED)
        import jax.numpy as jnp

        return jnp.asarray(_view(self, _nd))

    def __stp_state__(self):
        return _rows_of(self), _node_of(self)

    def __stp_row_ids__(self):
        from ._fit import fit_row_ids

        return fit_row_ids(self)

    def __stp_run_ops__(self):
        from ._fit import fit_ops

        return fit_ops(self)

    # -- indexing ---------------------------------------------------------------------------
    def __getitem__(self, key):
        plain = _view(self, _nd)
        tk = type(key)
        if tk is slice or tk is int or tk is _nd:
            # the common keys, answered without parsing (and the bookkeeping inline)
            out = plain[key]
            if type(out) is not _nd:
                return _element(self, plain, out, key, ())
            mode = _MODE.get()
            if mode == "none":
                return _wrap(out, NOT_RECORDED, None)
            try:
                rm, parent = self._stp_rows, self._stp_node
            except AttributeError:
                rm, parent = _rows_of(self), _node_of(self)
            if _WRITES:
                rm = _rows_of(self)
            if rm.n is not None and rm.dropped is None and plain.shape:
                if tk is slice or (tk is _nd and key.ndim == 1 and key.dtype.kind in "biu"):
                    rm = rmap.take(rm, key)
                else:
                    rm = index_map(rm, key, plain.shape)
            if tk is _nd:
                # what operand() keeps of it
                key = ("<array>", key.shape, key.dtype) if key.shape else operand(key)
            if mode == "op":
                node = ("getitem", (parent,), {"key": key}, "numpy", rm)
            else:
                node = record("getitem", (parent,), {"key": key}, "numpy", mode)
            return _wrap(out, rm, node)
        key, key_nodes = plain_key(key)
        out = plain[key]
        if type(out) is not _nd:
            return _element(self, plain, out, key, key_nodes)
        mode = _MODE.get()
        if mode == "none":
            return _wrap(out, NOT_RECORDED, None)
        rm = index_map(_rows_of(self), key, plain.shape)
        nodes = (_node_of(self), *key_nodes)
        node = record("getitem", nodes, {"key": operand(key)}, "numpy", mode)
        return _wrap(out, rm, node)

    def __setitem__(self, key, value):
        plain = _writable(self)
        key, key_nodes = plain_key(key)
        pv, rv, nv = _split(value)
        plain[key] = pv
        mode = _MODE.get()
        if mode == "none":
            _set_rows(self, NOT_RECORDED, None, False)
            return
        # ``x[k] += v`` wrote through the view it now assigns back: not a stale write
        old = _rows_of(self, writer=value)
        value_map = rmap.EMPTY if rv is None else rv
        new = assign_map(old, key, plain.shape, value_map, np.shape(pv), keep=bool(key_nodes))
        nodes = [_node_of(self), *key_nodes]
        if rv is not None:
            nodes.extend(nv)
        node = record("setitem", tuple(nodes), {"key": operand(key)}, "numpy", mode)
        _set_rows(self, new, node, False, old=old)

    @property
    def flags(self):
        """NumPy's flags of the array, with ``writeable`` telling whether its own
        operations may write (see :func:`_writable`: to NumPy the array is read-only)."""
        return _Flags(self)

    def setflags(self, write=None, align=None, uic=None):
        if write is not None:
            _Flags(self).writeable = write
        if align is not None or uic is not None:
            _nd.setflags(self, align=align, uic=uic)

    # -- shape ------------------------------------------------------------------------------
    shape = _layout("shape")
    dtype = _layout("dtype")
    strides = _layout("strides")

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
            shape = tuple(shape[0])
        plain = _view(self, _nd)
        out = plain.reshape(shape, order=order)
        return _shaped(self, plain, out, "reshape", {"shape": list(out.shape), "order": order})

    def ravel(self, order="C"):
        plain = _view(self, _nd)
        return _shaped(self, plain, plain.ravel(order), "ravel", {"order": order})

    def flatten(self, order="C"):
        plain = _view(self, _nd)
        return _shaped(self, plain, plain.flatten(order), "flatten", {"order": order})

    def transpose(self, *axes):
        plain = _view(self, _nd)
        out = plain.transpose(*axes)
        if len(axes) == 1 and axes[0] is not None and not isinstance(axes[0], int | np.integer):
            axes = tuple(axes[0])
        first = (axes[0] if axes and axes[0] is not None else plain.ndim - 1) if plain.ndim else 0
        rm = _rows_of(self)
        if plain.ndim > 1 and operator.index(first) % plain.ndim != 0:
            rm = rmap.collapse(rm, "transpose")
        return _result(out, rm, "transpose", (_node_of(self),), {"axes": operand(axes)})

    @property
    def T(self):
        return self.transpose()

    @property
    def mT(self):
        plain = _view(self, _nd)
        out = plain.mT
        rm = _rows_of(self)
        if plain.ndim == 2:
            rm = rmap.collapse(rm, "mT")
        return _result(out, rm, "mT", (_node_of(self),), None)

    @property
    def real(self):
        return _same_rows(self, _view(self, _nd).real, "real", None)

    @property
    def imag(self):
        return _same_rows(self, _view(self, _nd).imag, "imag", None)

    def swapaxes(self, axis1, axis2):
        plain = _view(self, _nd)
        out = plain.swapaxes(axis1, axis2)
        rm = _rows_of(self)
        nd = max(plain.ndim, 1)
        if (axis1 % nd == 0) != (axis2 % nd == 0):
            rm = rmap.collapse(rm, "swapaxes")
        return _result(out, rm, "swapaxes", (_node_of(self),), {"axes": [axis1, axis2]})

    def squeeze(self, axis=None):
        plain = _view(self, _nd)
        out = plain.squeeze(axis)
        rm = _rows_of(self)
        if plain.ndim and plain.shape[0] == 1 and out.ndim < plain.ndim:
            if axis is None or 0 in [a % plain.ndim for a in np.atleast_1d(axis)]:
                rm = rmap.single(rm)
        return _result(out, rm, "squeeze", (_node_of(self),), {"axis": operand(axis)})

    def astype(self, dtype, *args, **kwargs):
        out = _view(self, _nd).astype(dtype, *args, **kwargs)
        return _same_rows(self, out, "astype", {"dtype": str(np.dtype(dtype))})

    def copy(self, order="C"):
        return _same_rows(self, _view(self, _nd).copy(order), "copy", None)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def view(self, *args, **kwargs):
        plain = _view(self, _nd)
        cls = kwargs.pop("type", None)
        if args and isinstance(args[-1], type) and issubclass(args[-1], _nd):
            *args, cls = args
        if cls is TracedArray:
            cls = None
        out = plain.view(*args, **kwargs) if cls is None else plain.view(*args, type=cls)
        if cls is not None:
            # a view as another class, ``ndarray`` included, leaves tracking (read-only,
            # as ``np.asarray(x)``)
            return out
        rm = _view_map(_rows_of(self), plain, out)
        return _result(out, rm, "view", (_node_of(self),), {"dtype": str(out.dtype)})

    @property
    def flat(self):
        """A flat iterator over the array (as ``ndarray.flat``); writes through it update
        the row ids of the rows they reach."""
        return _Flat(self)

    @flat.setter
    def flat(self, value):
        _Flat(self)[...] = value

    def setfield(self, val, dtype, offset=0):
        pv, rv, nv = _split(val)
        plain = _writable(self)
        plain.setfield(pv, dtype, offset)
        mode = _MODE.get()
        if mode == "none":
            _set_rows(self, NOT_RECORDED, None, False)
            return
        old = _rows_of(self)
        value = rmap.EMPTY if rv is None else rv
        new = assign_map(old, Ellipsis, plain.shape, value, np.shape(pv), "setfield")
        whole = offset == 0 and np.dtype(dtype).itemsize == plain.dtype.itemsize
        if not whole and new is not old:
            # only some bytes of each element were written: the rows keep their parents
            new = rmap.merge([old, new], old.n) if old.n == new.n else new
        node = record("setfield", (_node_of(self), *nv), None, "numpy", mode)
        _set_rows(self, new, node, False, old=old)

    def round(self, decimals=0, out=None):
        return self.__array_function__(np.round, (), (self,), {"decimals": decimals, "out": out})

    def dot(self, b, out=None):
        return self.__array_function__(np.dot, (), (self, b), {"out": out})

    # -- reductions -------------------------------------------------------------------------
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

    def argpartition(self, kth, axis=-1, *args, **kwargs):
        return self.__array_function__(np.argpartition, (), (self, kth), {"axis": axis, **kwargs})

    # -- methods that move rows -------------------------------------------------------------
    def take(self, indices, axis=None, out=None, mode="raise"):
        return self.__array_function__(
            np.take, (), (self, indices), {"axis": axis, "out": out, "mode": mode}
        )

    def repeat(self, repeats, axis=None):
        return self.__array_function__(np.repeat, (), (self, repeats), {"axis": axis})

    def compress(self, condition, axis=None, out=None):
        return self.__array_function__(
            np.compress, (), (condition, self), {"axis": axis, "out": out}
        )

    def clip(self, min=None, max=None, out=None, **kwargs):  # noqa: A002 (NumPy's names)
        return self.__array_function__(np.clip, (), (self, min, max), {"out": out, **kwargs})

    def nonzero(self):
        return self.__array_function__(np.nonzero, (), (self,), {})

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return self.__array_function__(
            np.diagonal, (), (self,), {"offset": offset, "axis1": axis1, "axis2": axis2}
        )

    def trace(self, *args, **kwargs):
        return self.__array_function__(np.trace, (), (self, *args), kwargs)

    def searchsorted(self, v, side="left", sorter=None):
        return self.__array_function__(
            np.searchsorted, (), (self, v), {"side": side, "sorter": sorter}
        )

    # -- in place ---------------------------------------------------------------------------
    def sort(self, axis=-1, kind=None, order=None):
        plain = _writable(self)
        plain.sort(axis, kind, order)
        _reorder_in_place(self, plain, axis, "sort")

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        plain = _writable(self)
        plain.partition(kth, axis, kind, order)
        _reorder_in_place(self, plain, axis, "partition")

    def fill(self, value):
        pv, rv, nv = _split(value)
        _writable(self).fill(pv)
        mode = _MODE.get()
        rm = NOT_RECORDED if mode == "none" else (rmap.EMPTY if rv is None else rv)
        nodes = (_node_of(self), *nv)
        node = None if mode == "none" else record("fill", nodes, None, "numpy", mode)
        _set_rows(self, rm, node, False)

    def put(self, indices, values, mode="raise"):
        from ._numpy_functions import HANDLED

        HANDLED[np.put](self, indices, values, mode=mode)

    def resize(self, *new_shape, refcheck=True):
        shape = new_shape[0] if len(new_shape) == 1 else new_shape
        shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
        if self.flags.c_contiguous and int(np.prod(shape)) == self.size:
            self.shape = shape  # same size: a C-order reshape in place; the rows follow
            return
        # on ``self``, not on a view of it (resizing a view left ``self`` as it was);
        # NumPy refuses when ``self`` does not own its memory
        _nd.resize(self, *new_shape, refcheck=refcheck)
        _set_rows(
            self,
            rmap.collapse(_rows_of(self), "resize"),
            record("resize", (_node_of(self),), None, "numpy", _MODE.get()),
            False,
        )

    # -- pickling ---------------------------------------------------------------------------
    def __reduce__(self):
        from ._fit import sources_of

        plain = _view(self, _nd)
        node = without_rows(_node_of(self))
        return _rebuild, (plain, _rows_of(self), node, sources_of(self))


def _element(arr, plain, out, key, key_nodes):
    """``arr[key]`` when it reaches one element, for which NumPy gives a scalar: a 0-d
    TracedArray of that element (a copy, as NumPy's scalar is) whose map is the element's
    row, so that computing with it records the dependence (every row of ``x - x[0, 0]``
    also depends on row 0). An element of a string or bytes array is NumPy's scalar
    carrying its row (:mod:`._text`: a ``str`` keeps its methods); of a structured array,
    a 0-d traced view (NumPy's ``void`` is a view too); of an object array, the object."""
    kind = plain.dtype.kind
    if kind == "O":
        return out
    if kind not in _NUMBER_KINDS and kind != "V":
        value = out
    elif kind == "V":
        value = plain[(*key, Ellipsis) if type(key) is tuple else (key, Ellipsis)]
    else:
        value = np.array(out)
    mode = _MODE.get()
    if mode == "none":
        rm, node = NOT_RECORDED, None
    else:
        rm = _rows_of(arr)
        if rm.n is not None and rm.dropped is None:
            first = key[0] if type(key) is tuple and key else key
            if type(first) is int:
                rm = rmap.row(rm, first + rm.n if first < 0 else first)
            else:
                rm = index_map(rm, key, plain.shape)
        nodes = (_node_of(arr), *key_nodes)
        params = {"key": key if type(key) is int else operand(key)}
        if mode == "op":
            node = ("getitem", nodes, params, "numpy", rm)
        else:
            node = record("getitem", nodes, params, "numpy", mode)
    if value is out:
        return text_element(out, rm, node)
    return _wrap(value, rm, node)


class _Flat:
    """``x.flat`` of a traced array: reads give what ``x.ravel()[key]`` gives (a copy,
    as NumPy's flat iterator does), writes go through :func:`np.put`'s lineage."""

    __slots__ = ("_array",)

    def __init__(self, array):
        self._array = array

    def __getitem__(self, key):
        out = self._array.ravel()[key]
        return out.copy() if isinstance(out, _nd) else out

    def __setitem__(self, key, value):
        from ._numpy_functions import flat_write

        flat_write(self._array, key, value)

    def __iter__(self):
        # one traced element after another (each brings its row), as x.ravel() gives them
        return iter(self._array.ravel())

    def __len__(self):
        return self._array.size

    def __array__(self, dtype=None, copy=None):
        return np.array(_view(self._array, _nd).flat, dtype=dtype)

    @property
    def base(self):
        return self._array

    def copy(self):
        return self._array.flatten()

    def __getattr__(self, name):  # index, coords
        return getattr(_view(self._array, _nd).flat, name)


def _rebuild(plain, rm, node, sources):
    from .._lineage._source import REGISTRY

    for source in sources:
        REGISTRY.adopt(source)
    return _wrap(plain, rm, node)


def _reorder_in_place(arr, plain, axis, name):
    mode = _MODE.get()
    rm = _rows_of(arr)
    if mode == "none":
        new = NOT_RECORDED
    elif plain.ndim and (axis is None or axis % plain.ndim == 0):
        new = rmap.collapse(rm, name)
    else:
        new = rm
    node = (
        None
        if mode == "none"
        else record(name, (_node_of(arr),), {"axis": operand(axis)}, "numpy", mode)
    )
    _set_rows(arr, new, node, False, old=rm)


def _result(out, rm, name, nodes, params):
    mode = _MODE.get()
    if mode == "none":
        return _wrap(out, NOT_RECORDED, None)
    return _wrap(out, rm, record(name, nodes, params, "numpy", mode))


def _same_rows(arr, out, name, params):
    return _result(out, _rows_of(arr), name, (_node_of(arr),), params)


def _shaped(arr, plain, out, name, params):
    rm = reshaped(_rows_of(arr), plain, out.shape, params.get("order", "C"), name)
    return _result(out, rm, name, (_node_of(arr),), params)


def plain_key(key):
    """An indexing key with traced index arrays replaced by plain ones, and their nodes."""
    if isinstance(key, tuple):
        items, nodes = [], []
        for k in key:
            pk, rk, nk = _split(k)
            items.append(pk)
            if rk is not None:
                nodes.extend(nk)
        return tuple(items), tuple(nodes)
    pk, _, nk = _split(key)
    return pk, nk


# For the function handlers (names, not wrappers: each is called once per operation).
#: Make a TracedArray of a plain result.
wrap = _wrap
wrap_foreign = _wrap_foreign
writable = _writable
rows_of = _rows_of
node_of = _node_of
split = _split
plain_of = _plain


def set_rows(target, rm, node, partial=False):
    _set_rows(target, rm, node, partial)


def make(value, rm, node, convert):
    """A TracedArray of ``value`` (from a source, or converted from another framework)."""
    from ._sources import to_numpy

    plain = to_numpy(value)
    if plain.flags.writeable and not isinstance(plain.base, _nd | type(None)):
        # memory owned by a tensor or a buffer: once _wrap made it read-only, NumPy
        # could not make it writable again for the array's own writes
        plain = plain.copy()
    if convert:
        node = record("to_numpy", (node,), None, "numpy", _MODE.get())
    return _wrap(plain, rm, node)


# The function handlers need TracedArray defined; __array_function__ reads them here.
from ._numpy_functions import HANDLED as _HANDLED  # noqa: E402
from ._numpy_functions import unmodelled as _unmodelled  # noqa: E402
