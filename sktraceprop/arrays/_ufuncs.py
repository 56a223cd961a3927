"""TracedArray's operators and ufuncs, collected in :class:`Operators`.

Every use of a ufunc comes here: an operator (``x + 1``, ``a @ b``; the fast path,
skipping NumPy's override machinery: :mod:`._operators`), a ufunc call and its methods
(``reduce``, ``accumulate``, ``reduceat``, ``outer``, ``at``) through
``__array_ufunc__`` (:mod:`._ufunc_calls`), and the in-place operators (``x += v``).
The methods are collected in :class:`Operators` and copied onto
:class:`~._array.TracedArray` by :mod:`._numpy`.
"""

import numpy as np

from ._array import _ARG, UNMODELLED, _nd, _plain, _record, _rows_of, _wrap
from ._graph import _MODE, NOT_RECORDED
from ._operators import _operator
from ._state import _WRITES
from ._ufunc_calls import _ufunc_call


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
