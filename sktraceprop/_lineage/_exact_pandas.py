"""A pandas object's exact content for fit-parameter digests (scheme ``fit-param-3``).

Fit-parameter digests of scheme ``fit-param-2`` walked a frame's columns by
``str(dtype)`` and ``to_numpy()``, which names some different columns alike: ``pd.NA``
and ``NaN`` of one ``Float64`` column (both NaN in NumPy), a pyarrow null and a NaN,
``string[pyarrow]`` and ``string[python]`` (both ``"string"``), time stamps of one
instant in two time zones held as objects. Here each column, each index level and the
column labels are fed as :func:`._frame_digest.feed_values` feeds a frame's columns (by
dtype, missing mask and every value by type), and a Series' name by type.
"""

from ._frame_digest import _PACK_Q, _cell, _Unpicklable, feed_values


def feed_pandas(h, obj, fallback):
    """Feed a DataFrame, Series or Index into ``h`` by its exact content.

    Parameters
    ----------
    h : hashlib hash
        Where the bytes go.
    obj : pandas.DataFrame, pandas.Series or pandas.Index
        What to feed.
    fallback : callable
        ``fallback(h, values)`` feeds a column or index level holding cells that can be
        neither serialized nor pickled (by the fingerprint walk's own rules).
    """
    import pandas as pd

    if isinstance(obj, pd.Index):
        h.update(b"i")
        _feed_index(h, obj, fallback)
    elif isinstance(obj, pd.Series):
        h.update(b"s" + _cell(obj.name, 0))
        _feed_index(h, obj.index, fallback)
        _feed_column(h, obj.array, fallback)
    else:
        h.update(b"f")
        _feed_index(h, obj.columns, fallback)
        _feed_index(h, obj.index, fallback)
        for j in range(obj.shape[1]):
            _feed_column(h, obj.iloc[:, j].array, fallback)


def _feed_index(h, index, fallback):
    h.update(_PACK_Q(index.nlevels) + _PACK_Q(len(index)))
    for level in range(index.nlevels):
        h.update(_cell(index.names[level], 0))
        _feed_column(h, index.get_level_values(level).array, fallback)


def _feed_column(h, values, fallback):
    try:
        part = _Part()
        feed_values(part, values)
    except _Unpicklable:
        h.update(b"~")
        fallback(h, values)
    else:
        h.update(b"=" + part.digest())


class _Part:
    """A column's own SHA-256, so a column refused half-way adds nothing to ``h``."""

    def __init__(self):
        import hashlib

        self._h = hashlib.sha256()

    def update(self, data):
        self._h.update(data)

    def digest(self):
        return self._h.digest()
