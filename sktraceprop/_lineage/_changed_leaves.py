"""Which sources a merged column found changed after loading took the changed values from.

A column of a merge holds its parents' values (``Source.columns_from``): when the data
given to fit holds other values there than the merge loaded, the statistics counted for
the parent sources over the merged rows (``source_stats["through_merges"]``) are of the
changed values too. :func:`leaf_counts` says, for the witness rows of a merge compared
(see :func:`._witness.changed_columns`), how many of them were built from each parent
source that the column comes from, and how many of those differ, so the parent's column
can be marked with counts of its own rows, never with another source's.
"""

import numpy as np

from ..exceptions import LineageError
from ._ids import codes_of
from ._merged_parents import expand

_MAX_DEPTH = 64


def leaf_columns(sources, code, column, depth=0):
    """``{(leaf code, leaf column)}`` whose values ``column`` of merge ``code`` holds,
    through merges of merges (an aggregate is a leaf here, as in :func:`._rows.expand`).
    Empty where the record does not say (or ``code`` is no merge of ``sources``)."""
    source = sources.get(int(code))
    if source is None or depth > _MAX_DEPTH:
        return set()
    if source.kind != "merge":
        return {(int(code), str(column))} if column in source.columns_read() else set()
    out = set()
    for parent, parent_column in (source.columns_from or {}).get(column, ()):
        out |= leaf_columns(sources, parent, parent_column, depth + 1)
    return out


def leaf_counts(sources, code, ids, masks):
    """Per parent source of merge ``code``, its share of the rows compared.

    Parameters
    ----------
    sources : dict
        Source code -> :class:`~._source.Source`, the merge's parents included.
    code : int
        The merge's code.
    ids : ndarray of int64
        Row ids of the merge's rows compared.
    masks : dict
        Column of the data -> ``(loaded column of the merge, covered, differs,
        filled, unknown)``, the masks boolean over ``ids``: compared, found different,
        of those missing when loaded, and not known (see
        :attr:`._witness.ChangedColumns.by_source`).

    Returns
    -------
    counts : dict or None
        ``{(leaf code, leaf column, column of the data): (rows that differ, rows
        compared, missing filled, rows not known)}`` over the rows built from a row of
        that leaf, for the leaves with a difference or a row not known; None when the
        merge's parent rows are not in this process.
    """
    try:
        pos, leaf_ids, _ = expand(
            np.asarray(ids, dtype=np.int64), lambda c: sources[int(c)], with_via=False
        )
    except (LineageError, KeyError):  # parents not here (a record that travelled)
        return None
    leaf_codes = codes_of(leaf_ids)
    out = {}
    for name, (column, covered, differs, filled, unknown) in masks.items():
        for leaf, leaf_column in sorted(leaf_columns(sources, code, column)):
            built = np.zeros(len(ids), dtype=bool)
            built[pos[leaf_codes == leaf]] = True
            changed, unsure = int((differs & built).sum()), int((unknown & built).sum())
            if changed or unsure:
                out[leaf, leaf_column, name] = (
                    changed,
                    int((covered & built).sum()),
                    int((filled & built).sum()),
                    unsure,
                )
    return out
