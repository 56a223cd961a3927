"""TracedArray's binary operators (``x + 1``, ``a - b``, ``x < y``): the fast path.

An operator skips NumPy's override machinery: a traced array with a Python number or
with another traced array is handled inline, and a large temporary of our own is
computed in place (:mod:`._elide`). :class:`~._ufuncs.Operators` binds these functions
as TracedArray's methods.
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
    _rows_of,
    _setflags,
    _split,
    _view,
    _wrap,
)
from ._elide import ENABLED as _ELIDE
from ._elide import MIN_BYTES as _MIN_ELIDE
from ._elide import RECENT as _RECENT
from ._elide import note, temporary
from ._graph import _MODE, NOT_RECORDED, operand, record
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
