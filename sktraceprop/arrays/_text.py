"""One element of a traced string or bytes array: NumPy's own scalar, carrying its row.

``s[i]`` of a ``str`` array is a ``numpy.str_`` (a ``str``: its methods, ``json``,
pandas and ``len`` work on it). A plain one would lose the row it came from, so
``s[0], s[4] = s[4], s[0]`` left both rows naming no source while holding another row's
value, and ``s == s[0]`` did not depend on row 0. These subclasses carry the element's
row map to the traced operations they meet (comparison, assignment, ``np.where``...);
what ``str`` itself computes from them (``s[0].upper()``, ``s[0] + "x"``) is a plain
``str``, as ``float(v[0])`` is a plain number.
"""

import numpy as np

from ._graph import note_rows


def _state(self):
    return self._stp_rows, self._stp_node


def _value(self):
    return np.asarray(self._plain())


def _array(self, dtype=None, copy=None):
    # what NumPy makes of its own scalar (without it, ``np.array([s[0], s[1]])`` would
    # see an unknown np.generic subclass and make an object array)
    return np.array(self._plain(), dtype=dtype)


def _reduce(self):
    # a pickled (or copied) element is its plain value, as float(v[0]) is
    return self._plain().__reduce__()


# The methods are set on each class, not inherited from a mixin: NumPy does not find
# ``__array__`` on a mixin of a scalar subclass.
class TracedStr(np.str_):
    """An element of a traced ``str`` array: a ``numpy.str_`` that carries its row."""

    __stp_framework__ = "numpy"
    _stp_rows = _stp_node = None  # one made by hand carries no row
    __stp_state__, __stp_value__, __array__, __reduce__ = _state, _value, _array, _reduce

    def _plain(self):
        return np.str_(self)


class TracedBytes(np.bytes_):
    """An element of a traced ``bytes`` array: a ``numpy.bytes_`` that carries its row."""

    __stp_framework__ = "numpy"
    _stp_rows = _stp_node = None  # one made by hand carries no row
    __stp_state__, __stp_value__, __array__, __reduce__ = _state, _value, _array, _reduce

    def _plain(self):
        return np.bytes_(self)


TEXT = (TracedStr, TracedBytes)


def element(value, rm, node):
    """The traced element for NumPy's scalar ``value`` of a ``U`` or ``S`` array."""
    out = (TracedStr if isinstance(value, np.str_) else TracedBytes)(value)
    out._stp_rows = rm
    out._stp_node = node
    note_rows(node, rm)
    return out
