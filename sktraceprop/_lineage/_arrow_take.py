"""A few rows of a pyarrow chunked array, taken chunk by chunk.

pyarrow's ``take`` of a chunked array joins every chunk first: a copy of the whole
column (pandas' parallel reader leaves one chunk per part of the file) for the few
hundred values the content check of ``read_csv`` and the witness rows of a fit compare.
"""

import numpy as np


def take_by_chunk(chunked, positions):
    """``chunked.take(positions)`` (a pyarrow array, in the order of ``positions``),
    taken from each chunk in turn."""
    import pyarrow as pa  # (the array is one of its)

    positions = np.asarray(positions, dtype=np.int64)
    order = np.argsort(positions, kind="stable")
    wanted = positions[order]
    bounds = np.cumsum([0] + [len(c) for c in chunked.chunks])
    cuts = np.searchsorted(wanted, bounds)
    parts = [
        chunk.take(pa.array(wanted[cuts[i] : cuts[i + 1]] - bounds[i]))
        for i, chunk in enumerate(chunked.chunks)
        if cuts[i + 1] > cuts[i]
    ]
    values = pa.concat_arrays(parts) if parts else pa.array([], type=chunked.type)
    back = np.empty(order.size, dtype=np.int64)
    back[order] = np.arange(order.size)
    return values.take(pa.array(back))
