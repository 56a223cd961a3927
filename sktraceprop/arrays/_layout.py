"""TracedArray's layout: shape, dtype and strides, reshapes, transposes, views, copies,
and the reorderings done in place (``sort``, ``partition``, ``resize``).

A C-order reshape keeps each row's elements together, so the rows follow
(:func:`~._index.reshaped`); a move of the row axis mixes rows (the map is collapsed).
The methods are collected in :class:`Layout` and copied onto
:class:`~._array.TracedArray` by :mod:`._numpy`.
"""

import operator

import numpy as np

from . import _rowmap as rmap
from ._array import (
    TracedArray,
    _nd,
    _node_of,
    _record,
    _result,
    _rows_of,
    _same_rows,
    _set_rows,
    _view,
    _writable,
)
from ._graph import _MODE, NOT_RECORDED, note_rows, operand, record
from ._index import reshaped


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


def _shaped(arr, plain, out, name, params):
    rm = reshaped(_rows_of(arr), plain, out.shape, params.get("order", "C"), name)
    return _result(out, rm, name, (_node_of(arr),), params)


class Layout:
    """TracedArray's layout methods (copied onto it by :mod:`._numpy`)."""

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

    def sort(self, axis=-1, kind=None, order=None):
        plain = _writable(self)
        plain.sort(axis, kind, order)
        _reorder_in_place(self, plain, axis, "sort")

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        plain = _writable(self)
        plain.partition(kth, axis, kind, order)
        _reorder_in_place(self, plain, axis, "partition")

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
