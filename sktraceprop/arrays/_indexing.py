"""TracedArray's indexing: ``x[key]``, ``x[key] = v``, ``x.flat``, ``setfield``, ``fill``.

Reads give the indexed rows' map (:func:`~._index.index_map`; one element is a 0-d
traced array, see :func:`_element`); writes replace or add the written rows' parents
(:func:`~._index.assign_map`). The methods are collected in :class:`Indexing` and
copied onto :class:`~._array.TracedArray` by :mod:`._numpy`.
"""

import numpy as np

from . import _rowmap as rmap
from ._array import (
    _nd,
    _node_of,
    _rows_of,
    _set_rows,
    _split,
    _view,
    _wrap,
    _writable,
)
from ._graph import _MODE, NOT_RECORDED, operand, record
from ._index import assign_map, index_map
from ._labelled_keys import check_labelled
from ._numpy_functions import flat_write
from ._state import _WRITES
from ._text import element as text_element

#: dtype kinds whose elements are numbers to compute with (see _element)
_NUMBER_KINDS = "biufcmM"


class Indexing:
    """TracedArray's indexing methods (copied onto it by :mod:`._numpy`)."""

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
        if plain.shape:
            check_labelled(lambda: _rows_of(self), plain.shape[0], key)
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
        if plain.shape:
            check_labelled(lambda: _rows_of(self), plain.shape[0], key)
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

    def fill(self, value):
        pv, rv, nv = _split(value)
        _writable(self).fill(pv)
        mode = _MODE.get()
        rm = NOT_RECORDED if mode == "none" else (rmap.EMPTY if rv is None else rv)
        nodes = (_node_of(self), *nv)
        node = None if mode == "none" else record("fill", nodes, None, "numpy", mode)
        _set_rows(self, rm, node, False)


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
