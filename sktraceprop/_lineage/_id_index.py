"""A loaded frame indexed by its row ids (its own index levels kept before them, where
asked), and its witness rows kept: what every read and registration returns.
"""

import numpy as np
import pandas as pd

from ._ids import ROW_INDEX_NAME, TRACED_ATTR
from ._witness import WITNESSES


def _increasing(values):
    """True for a numeric index level whose values strictly increase (so are unique)."""
    if values.dtype.kind not in "iuf" or not isinstance(values.dtype, np.dtype):
        return False
    v = values.to_numpy()
    # (NaN fails every comparison but is alone when there is one value; factorize codes
    # it as missing)
    return bool(v.size and v[0] == v[0] and np.all(v[1:] > v[:-1]))


def _with_ids(df, ids, keep_index=False):
    """``df`` indexed by row ids; with ``keep_index``, its own index levels come first."""
    index = pd.Index(ids, name=ROW_INDEX_NAME, copy=False)  # fresh ids from pack: no copy
    if keep_index:
        levels, codes = [], []
        for k in range(df.index.nlevels):
            values = df.index.get_level_values(k)
            if _increasing(values):
                # what factorize gives (uniques in order of appearance), without hashing:
                # a file's exported RangeIndex, the common case
                levels.append(values)
                codes.append(np.arange(values.size))
                continue
            level_codes, level = pd.factorize(values)
            levels.append(level)
            codes.append(level_codes)
        # Row ids are unique: their level needs no factorizing when they are sorted.
        if ids.size and np.all(ids[1:] > ids[:-1]):
            levels.append(index)
            codes.append(np.arange(ids.size))
        else:
            id_codes, id_level = pd.factorize(ids)
            levels.append(pd.Index(id_level, name=ROW_INDEX_NAME))
            codes.append(id_codes)
        index = pd.MultiIndex(
            levels=levels,
            codes=codes,
            names=[*df.index.names, ROW_INDEX_NAME],
            verify_integrity=False,
        )
    out = df.set_axis(index, axis=0)
    out.attrs[TRACED_ATTR] = True
    return out


def _witnessed(df, ids, source, keep_index=False, every=None, group=None):
    """``df`` indexed by ``ids`` (see :func:`_with_ids`), after keeping its witness rows
    (see :mod:`._witness`; ``every`` and ``group`` for a read in chunks)."""
    out = _with_ids(df, ids, keep_index=keep_index)
    WITNESSES.add(source.code, source.sha256, out, ids=ids, every=every, group=group)
    return out
