"""Loaded columns rewritten whole, under their own names: maybe with another source's
column by position (``a["x"] = b["x"].to_numpy()``), which :mod:`._attached` looks for.

Such a column is compared with its own source (:mod:`._witness`) and noted as changed;
every row may hold another file's value, on a line its lineage does not name. The
attached-column search hashes a column whole: it runs only on a column that holds
enough values of other sources' witness rows (a column scaled in place holds none).
"""

import numpy as np
import pandas as pd

from ._attached import MIN_PAIRS
from ._witness import WITNESSES


def overwritten(changed):
    """Loaded columns of the data (under their own names) that differ from what was
    loaded on half their witness rows compared or more, and hold no value moved from
    another row of theirs: rewritten whole, maybe with another source's column
    (``a["x"] = b["x"].to_numpy()``), which :mod:`._attached` looks for."""
    moved = {m[0] for m in getattr(changed, "moved", ()) or ()}
    rows = getattr(changed, "rows", None) or {}
    return [
        name
        for name, (compared, differ, _) in rows.items()
        if name not in moved and differ.size and 2 * differ.size >= compared.size
    ]


def holding_others(X, columns, own):
    """Of ``columns`` (loaded columns of ``X`` rewritten), those holding at least
    ``MIN_PAIRS`` values of the witness rows of sources not ``own``, as float32 (what
    :mod:`._attached` needs at least): a column scaled in place holds none, and is not
    hashed whole for the search."""
    theirs = [
        column.values[~column.missing]
        for code, load in WITNESSES.every_load()[1]
        if int(code) not in own
        for column in load.columns.values()
        if column.numeric
    ]
    if not theirs:
        return []
    theirs = pd.Index(np.unique(np.concatenate(theirs).astype(np.float32)))
    by_name = {str(c): c for c in X.columns}
    out = []
    for name in columns:
        values = X[by_name[name]] if name in by_name else None
        if not isinstance(values, pd.Series) or not pd.api.types.is_numeric_dtype(values):
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            mine = values.to_numpy(dtype=np.float64, na_value=np.nan).astype(np.float32)
        if np.count_nonzero(theirs.get_indexer(mine) >= 0) >= MIN_PAIRS:
            out.append(name)
    return out
