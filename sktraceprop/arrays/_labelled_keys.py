"""A pandas boolean Series used as a key of a traced NumPy array (``x[mask]``).

NumPy reads a Series as its values: row ``i`` of ``x`` is kept where the mask's
``i``-th value is true, whatever the mask's index says. pandas aligns a Series mask by
label (``df[mask]``): a mask taken from a frame whose rows were then sorted, sampled or
filtered, applied to the array of that frame, keeps other rows in NumPy than in pandas.
The array's lineage follows what NumPy did, so it is not wrong, but the rows are likely
not the ones meant. Where the two readings agree (the mask's index is ``0 .. n - 1``, or
the array's own row ids in its order) the key is used as NumPy reads it; elsewhere it is
refused, naming both ways to say which is meant.
"""

import sys

import numpy as np

from .._lineage._ids import ROW_INDEX_NAME
from ..exceptions import LineageError
from . import _rowmap as rmap


def _own_ids(rm, n):
    """The array's row ids, one per row, or None (rows made of several or of none)."""
    if rm.n != n or rm.dropped is not None or rm.pools or len(rm.ids) != 1:
        return None
    ids = np.asarray(rm.ids[0])
    return ids if ids.shape == (n,) and bool(ids.all()) else None


def check_labelled(rows_of, n, key):
    """Refuse a pandas boolean Series ``key`` whose index makes NumPy's reading (by
    position) differ from pandas' (by label) for an array of ``n`` rows whose row map
    ``rows_of()`` gives (see the module docstring)."""
    pd = sys.modules.get("pandas")
    if pd is None or not isinstance(key, pd.Series):
        return
    if not (pd.api.types.is_bool_dtype(key.dtype) and len(key) == n):
        return
    index = key.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return  # (labels are positions)
    if index.nlevels == 1 and index.name == ROW_INDEX_NAME:
        rm = rows_of()
        ids = _own_ids(rmap.spread(rm, n) if rm.n is None else rm, n)
        if ids is not None and np.array_equal(index.to_numpy(), ids):
            return  # (labels are the array's own rows, in its order)
    raise LineageError(
        "x[mask] with a pandas boolean Series whose index is not the array's rows in "
        f"order (it is {type(index).__name__}"
        + (f" named {index.name!r}" if index.name is not None else "")
        + "): NumPy applies a mask by position, pandas by label, and the two keep "
        "different rows here. Say which is meant: x[mask.to_numpy()] keeps row i where "
        "the mask's i-th value is true; x[mask.reindex(df.index).to_numpy()] (df the "
        "frame the array was made from, in its order) keeps the rows whose label is true."
    )
