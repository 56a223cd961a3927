"""Rows that hold another loaded row's values: row ids no longer with their rows.

pandas keeps an index with its rows through every operation that moves rows, but not
through those that move values past the index: an index assigned (``df.index = ...``,
``set_axis``), values assigned without alignment (``df[cols] = other.to_numpy()``,
``df.iloc[:] = ...``), a whole frame shifted (``df.shift()``), rows replaced from another
frame (``where``/``mask``). The ids then name lines whose records the rows do not hold,
a wrong line for every row, and a column-by-column note (:mod:`._witness`) would only
say that every column changed.

The witness rows tell the two apart. A witness row whose every compared column differs
from what was loaded for its id, and whose values equal, in all those columns, the
values loaded for exactly one *other* witness row of its source, holds that other row:
no computation from the row's own values gives another row's values in every column.
Loaded values that were missing are no evidence (a row filled from its neighbour), and
one column is too little (a column shifted alone is a value moved, which the notes
name); at least two columns must differ, and the values matched must be unique among
the witness rows (low-cardinality rows repeat, and a recoding could map one onto
another).
"""

from collections import Counter

import numpy as np

from ._ids import codes_of, distinct_codes
from ._witness import WITNESSES, _equal, _take_columns, is_witness

#: Columns that must differ (each loaded non-missing) before a row counts as moved.
MIN_COLUMNS = 2


def _key(column, k):
    """A hashable form of one cell: numbers at float32 precision (a cast to float32 is
    no change, see :func:`._witness._equal`), ``None`` where missing."""
    if column.missing[k]:
        return None
    value = column.values[k]
    if column.numeric:
        return ("n", float(np.float32(value)))
    try:
        hash(value)
    except TypeError:  # lists, arrays in cells
        return ("r", type(value).__name__, repr(value))
    return ("o", value)


def _rows_moved(X, names, ids, loads, hit, skip):
    """Of the witness rows ``hit`` of ``X`` (one source's), which differ from what every
    load holds for their ids in at least ``MIN_COLUMNS`` loaded values (``moved``), and
    which equal what a load holds for them (``own``); with their columns taken."""
    mine = dict(zip(names, _take_columns(X, hit)))
    moved = np.zeros(hit.size, dtype=bool)
    own = np.zeros(hit.size, dtype=bool)
    for w in loads:
        here = w.positions(ids[hit])
        inside = np.flatnonzero(here >= 0)
        cols = [n for n in names if n not in skip and n in w.columns]
        if not inside.size or len(cols) < MIN_COLUMNS:
            own[inside] = True
            continue
        evidence = np.zeros(inside.size, dtype=np.int64)
        for name in cols:
            theirs = w.columns[name].take(here[inside])
            eq = _equal(mine[name].take(inside), theirs)
            evidence += ~eq & ~theirs.missing  # a missing value filled is no evidence
        moved[inside[evidence >= MIN_COLUMNS]] = True
        own[inside[evidence == 0]] = True
    # a row equal to what any load holds for its id is its own row (a source read with
    # two dtypes is two loads, and X comes from one of them)
    return moved & ~own, own, mine


class _Index:
    """The witness rows of one load keyed by their values in ``cols``: the row of each
    combination of values that occurs once, and how often each value occurs per column."""

    def __init__(self, w, cols):
        loaded = [w.columns[n] for n in cols]
        keys = [tuple(_key(c, k) for c in loaded) for k in range(w.ids.size)]
        self.ids = w.ids
        self.rows = {}
        for k, key in enumerate(keys):
            self.rows[key] = -1 if key in self.rows else k
        self.counts = [Counter(key[j] for key in keys) for j in range(len(cols))]

    def match(self, row):
        """The id of the one witness row whose values equal ``row``, where one of them
        alone names that row; else None."""
        if all(v is None for v in row):
            return None
        at = self.rows.get(row, -1)
        if at < 0:
            return None  # no row, or values that repeat: they name no row
        # a value no other witness row has, in one column: a recoding of low-cardinality
        # values (flipped bits) maps rows onto each other's combinations, never onto this
        if any(v is not None and n[v] == 1 for n, v in zip(self.counts, row)):
            return int(self.ids[at])
        return None


def misplaced_row(X, ids, sources, skip=()):
    """The first row of ``X`` found holding the values loaded for another row, or None.

    Parameters
    ----------
    X : DataFrame
        Data indexed by row ids.
    ids : ndarray of int64
        Its row ids, aligned with its rows.
    sources : dict
        Source code -> :class:`~sktraceprop._lineage._source.Source`, covering ``ids``.
    skip : iterable of str
        Columns not compared (written by a traced step outside the pipeline).

    Returns
    -------
    found : tuple or None
        ``(position, id, holds, columns)``: row ``position`` of ``X`` has the id ``id``
        but holds, in ``columns``, the values loaded for the row id ``holds``.
    """
    if X.columns.has_duplicates or not len(ids):
        return None
    names = [str(c) for c in X.columns]
    skip = set(skip)
    ids = np.asarray(ids, dtype=np.int64)
    distinct = distinct_codes(ids)
    codes = codes_of(ids) if len(distinct) > 1 else None
    all_loads, candidates, own_rows = [], [], set()
    for code in distinct:
        source = sources.get(int(code))
        loads = WITNESSES.loads(code, source.sha256) if source is not None else []
        if not loads:
            continue
        all_loads += loads
        maybe = np.zeros(len(ids), dtype=bool)
        for every in {w.stride for w in loads}:
            maybe |= is_witness(ids, every)
        if codes is not None:
            maybe &= codes == code
        hit = np.flatnonzero(maybe)
        if not hit.size:
            continue
        moved, own, mine = _rows_moved(X, names, ids, loads, hit, skip)
        own_rows.update(ids[hit[own]].tolist())
        candidates += [(int(hit[c]), mine, c) for c in np.flatnonzero(moved)]
    # the rows' values may be another source's (two frames' indexes swapped)
    indexes = {}
    for position, mine, c in candidates:
        for k, w in enumerate(all_loads):
            cols = [n for n in names if n not in skip and n in w.columns]
            if len(cols) < MIN_COLUMNS:
                continue
            if k not in indexes:
                indexes[k] = _Index(w, cols)
            holds = indexes[k].match(tuple(_key(mine[n], c) for n in cols))
            if holds is None or holds == int(ids[position]) or holds in own_rows:
                # (the row loaded with these values is in X with them too: a row made
                # equal to it, by capped or recoded values, not a row moved)
                continue
            return position, int(ids[position]), holds, cols
    return None
