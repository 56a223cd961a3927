"""TracedArray itself: its memory and the steps every one of its operations shares.

A TracedArray is read-only to NumPy (``np.asarray(x)`` is a read-only view), so no write
can change its rows unseen; its own in-place operations write through :func:`_writable`
and give it new row ids (:func:`_set_rows`). Each operation takes its operands apart
(:func:`_split`: plain value, row map, graph node) and wraps its result (:func:`_wrap`).
The class defined here holds what every array has (its slots, flags, pickling, the
protocol :mod:`._provenance` and traced fits use); its operators, indexing, layout and
reductions are defined in :mod:`._ufuncs`, :mod:`._indexing`, :mod:`._layout` and
:mod:`._reductions` and copied onto it by :mod:`._numpy`.
"""

import numpy as np

from .._state_format import check_record, record_of
from ..exceptions import LineageError
from . import _rowmap as rmap
from ._graph import _MODE, NOT_RECORDED, ROWS, note_rows, record, without_rows
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

_nd = np.ndarray
_view = np.ndarray.view
_setflags = np.ndarray.setflags
_SCALARS = (int, float, bool, complex)

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


def _split_out(x):
    """:func:`_split` of an argument that may be written (an ``out``)."""
    if type(x) is TracedArray:
        return _writable(x), _rows_of(x), (_node_of(x),)
    return _split(x)


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


def _record(name, nodes, params, mode):
    if mode == "op":
        return (name, nodes, params, "numpy", [])
    return record(name, nodes, params, "numpy", mode)


def _result(out, rm, name, nodes, params):
    mode = _MODE.get()
    if mode == "none":
        return _wrap(out, NOT_RECORDED, None)
    return _wrap(out, rm, record(name, nodes, params, "numpy", mode))


def _same_rows(arr, out, name, params):
    return _result(out, _rows_of(arr), name, (_node_of(arr),), params)


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
    # (its pickle passes _rebuild the record of sktraceprop._state_format)
    _state_format = 1
    _state_upgrades = {}

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

    # -- pickling ---------------------------------------------------------------------------
    def __reduce__(self):
        from ._fit import sources_of

        plain = _view(self, _nd)
        node = without_rows(_node_of(self))
        return _rebuild, (plain, _rows_of(self), node, sources_of(self), record_of(TracedArray))


def _rebuild(plain, rm, node, sources, record=None):
    from .._lineage._source import REGISTRY

    # (no record: pickled before pickles recorded one, said; a newer one refused)
    check_record(TracedArray, record, holding=sources)
    for source in sources:
        REGISTRY.adopt(source)
    return _wrap(plain, rm, node)


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
