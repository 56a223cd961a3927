"""The loaded values of erased rows that this process keeps to check lineage, dropped.

Reading a file (:func:`sktraceprop.read_csv`, :func:`sktraceprop.from_pandas`), and
merging or aggregating traced frames, keeps the values of a few hundred rows of each
load in the process (:mod:`sktraceprop._lineage._witness`), so that a later fit can
tell columns changed after loading. They are values of rows, so an erasure request
(:meth:`BaseStore.erase_rows`) drops those of the rows it erases, of every row built
from them through merges or aggregates, and of the rows a merged row it names was built
from, as a removal by an unlearner does.
"""

import numpy as np

from .._lineage._depends_on import depends_on
from .._lineage._ids import pack
from .._lineage._merged_parents import rows_behind
from .._lineage._witness import WITNESSES
from ..exceptions import LineageError, UnknownSourceError


def _requested_here(source_ids, rows, registry):
    """``(ids, codes)``: the request in this process's codes (what it has read)."""
    codes = set()
    for name in source_ids or ():
        try:
            codes |= {int(v.code) for v in registry.versions(name)}
        except UnknownSourceError:
            continue
    ids = [np.zeros(0, np.int64)]
    for key, lines in (rows or {}).items():
        try:
            ids.append(pack(registry.code_of_key(key), lines))
        except KeyError:  # a source this process has not read: nothing of it is kept
            continue
    return np.concatenate(ids), codes


def forget_erased(source_ids, rows, registry):
    """Drop the kept values of the rows a request erases (``source_ids``, or ``rows``
    as ``{source key: lines}``) and of the rows built from them; returns how many
    rows' values went."""
    ids, codes = _requested_here(source_ids, rows, registry)
    if not ids.size and not codes:
        return 0
    # a merged row erased by its id holds its parents' values: theirs go too, as an
    # unlearner's removal of merged rows drops its parents' (every level of the merges)
    try:
        gone = [ids, rows_behind(ids, registry.by_code)[0]]
    except LineageError:  # (parents not in this process: nothing of them is kept here)
        gone = [ids]
    _, loads = WITNESSES.every_load()
    for _, load in loads:
        try:
            hit, _ = depends_on(load.ids, registry.by_code, ids, codes)
        except LineageError:  # a load of rows this process cannot trace
            continue
        gone.append(load.ids[hit])
    gone = np.unique(np.concatenate(gone))
    WITNESSES.forget(gone)
    return int(gone.size)
