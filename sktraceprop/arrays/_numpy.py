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
in-place operations write and update the row ids (see :func:`._array._writable`).

The class is made in :mod:`._array`; this module gives it its methods, each group from
its own module (operators and ufuncs, indexing, layout, reductions), and the methods
that are NumPy functions of the array (``x.take``, ``x.clip``...), and keeps the names
the function handlers and the rest of the package import from here.
"""

import types

import numpy as np

# Besides the groups of methods, the names others import from here (the function
# handlers, stp.array, tests; _rebuild: arrays pickled before the class moved to _array).
from ._array import (  # noqa: F401
    TracedArray,
    _rebuild,
    make,
    node_of,
    plain_of,
    rows_of,
    set_rows,
    split,
    wrap,
    wrap_foreign,
    writable,
)
from ._indexing import Indexing, plain_key  # noqa: F401
from ._layout import Layout
from ._numpy_functions import HANDLED as _HANDLED
from ._numpy_functions import unmodelled as _unmodelled
from ._reductions import Reductions, _mean, reduce_map  # noqa: F401
from ._ufuncs import Operators

__all__ = ["TracedArray"]


class _Functions:
    """TracedArray's methods that are NumPy functions of the array, and
    ``__array_function__``, which dispatches those to their handlers."""

    def round(self, decimals=0, out=None):
        return self.__array_function__(np.round, (), (self,), {"decimals": decimals, "out": out})

    def dot(self, b, out=None):
        return self.__array_function__(np.dot, (), (self, b), {"out": out})

    def argpartition(self, kth, axis=-1, *args, **kwargs):
        return self.__array_function__(np.argpartition, (), (self, kth), {"axis": axis, **kwargs})

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

    def put(self, indices, values, mode="raise"):
        _HANDLED[np.put](self, indices, values, mode=mode)

    def __array_function__(self, func, types, args, kwargs):
        handler = _HANDLED.get(func)
        if handler is None:
            return _unmodelled(func, args, kwargs)
        return handler(*args, **kwargs)


def _install(*groups):
    """Copy each group's methods and properties onto TracedArray, as if written in its body."""
    for group in groups:
        for name, value in vars(group).items():
            if isinstance(value, types.FunctionType):
                value.__qualname__ = f"TracedArray.{name}"
            elif not isinstance(value, property):
                continue
            setattr(TracedArray, name, value)


_install(Operators, Indexing, Layout, Reductions, _Functions)
