"""A row of X that is not a witness holding the record of a witness row whose own row
moved (:mod:`._misplaced`): in a load of more than 512 rows, a moved row and the row it
took are rarely both witnesses, so the row is found by a value of that record that only
one witness row has and only one row of X holds."""

from collections import Counter

import numpy as np

from ._misplaced_chance import BY_CHANCE
from ._misplaced_columns import MIN_COLUMNS, _shown
from ._misplaced_index import _Index
from ._witness import _is_numeric, _take_columns, cell_keys

#: Columns of X searched, per load, for the records of moved witness rows.
SEARCHED = 4


def _positions_holding(column, numeric, values):
    """``(position, value key)`` of the rows of ``column`` (a Series) holding one of
    ``values`` (keys of :func:`._witness.cell_keys`) that no other row of the column
    holds."""
    if numeric:
        if not _is_numeric(column.dtype):
            return []
        wanted = np.array([float(v[1]) for v in values], dtype=np.float32)
        data = column.to_numpy(dtype=np.float64, na_value=np.nan).astype(np.float32)
        hits = np.flatnonzero(np.isin(data, wanted))  # (then keyed as the records are:
        # integers float32 rounds exactly, neighbouring account numbers told apart)
        found = cell_keys(_take_columns(column.to_frame(), hits)[0]) if hits.size else []
        # (a value repeated, once per row of a join group, names none)
        counts = Counter(found)
        once = [counts[key] == 1 for key in found]
        hits, found = hits[np.asarray(once, dtype=bool)], [k for k, o in zip(found, once) if o]
    else:
        raw = [v[1] for v in values if v[0] == "o"]
        if not raw:
            return []
        hits = np.flatnonzero(column.isin(raw).to_numpy(dtype=bool))
        held = column.iloc[hits]
        hits = hits[~held.duplicated(keep=False).to_numpy(dtype=bool)]
        found = [("o", column.iloc[r]) for r in hits]
    return [(int(r), v) for r, v in zip(hits, found) if v in values]


def _held_elsewhere(X, names, ids, loads, columns, moved_ids, indexes, own_rows):
    """A row of ``X`` that is not a witness holding the record of a witness row whose
    own row moved: found by a value of that record that only one witness row has and
    only one row of ``X`` holds (in a load of more than 512 rows, a moved row and the
    row it took are rarely both witnesses). It must share more than half of the values
    compared, and at least ``MIN_COLUMNS``, with that record; what it keeps of its own
    record is not known. Returns as :func:`._misplaced.misplaced_row`, with ``None``
    for that. ``columns``: per load, the ``(column of X, loaded column)`` compared
    (:func:`._misplaced_columns._compared`);
    ``indexes``: the :class:`_Index` of each load by position in ``loads``, where made;
    ``own_rows``: ids of witness rows equal to their own record, which hold their own
    values, not another's (two files holding one record, joined on the index)."""
    for at, w in enumerate(loads):
        cols = columns[at]
        targets = [k for k in range(w.ids.size) if int(w.ids[k]) in moved_ids]
        if len(cols) < MIN_COLUMNS or not targets:
            continue
        index = indexes[at] if at in indexes else _Index(w, [m for _, m in cols])
        searched = []
        for j, (name, loaded) in enumerate(cols):
            values = {}
            for k in targets:
                value = index.keys[k][j]
                if value is not None and index.unique[j].get(value) == k:
                    values[value] = k
            if values:
                searched.append((-len(values), j, name, loaded, values))
        # each search reads a whole column of X: the columns that name the most rows
        for _, _j, name, loaded, values in sorted(searched, key=lambda t: t[:2])[:SEARCHED]:
            column = X.iloc[:, names.index(name)]
            numeric = w.columns[loaded].numeric
            for position, value in _positions_holding(column, numeric, values):
                holds = int(w.ids[values[value]])
                if holds == int(ids[position]) or int(ids[position]) in own_rows:
                    continue
                one = X.iloc[[position], [names.index(n) for n, _ in cols]]
                row = tuple(cell_keys(c)[0] for c in _take_columns(one, [0]))
                keys = index.keys[values[value]]
                shared = [_shown(n, m) for (n, m), a, b in zip(cols, row, keys) if a == b]
                if (
                    len(shared) >= MIN_COLUMNS
                    and 2 * len(shared) > len(cols)
                    and index.by_chance(row, holds) < BY_CHANCE  # (beyond a recoding's)
                ):
                    return position, int(ids[position]), holds, shared, None
    return None
