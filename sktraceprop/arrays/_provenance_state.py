"""The lineage state of a traced array, DataFrame or Series: what provenance reads.

:func:`state_of` gives its row map, operation-graph node, shape and framework, and
refuses an object that is not traced (naming how traced arrays are made).
"""

import numpy as np
import pandas as pd

from .._lineage._ids import codes_of
from .._lineage._rows import has_id_level, row_ids
from . import _rowmap as rmap
from ._sources import source_node


def state_of(x):
    """``(row map, node, shape, framework)`` of a traced array, DataFrame or Series."""
    getter = getattr(x, "__stp_state__", None)
    if getter is not None:
        rm, node = getter()
        return rm, node, tuple(x.shape), x.__stp_framework__
    if isinstance(x, pd.DataFrame | pd.Series) and has_id_level(x.index):
        ids = row_ids(x)
        rm = rmap.of_ids(ids)
        return (
            rm,
            source_node(np.unique(codes_of(ids)), type(x).__name__, rows=rm),
            x.shape,
            "pandas",
        )
    raise TypeError(
        f"{type(x).__name__} is not traced: make traced arrays with sktraceprop.array(...) "
        "(np.asarray and np.array of a traced array give plain arrays back, and so do "
        "torch.func transforms such as vmap and grad of traced tensors)."
    )
