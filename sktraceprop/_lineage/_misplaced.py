"""Rows that hold another loaded row's values: row ids no longer with their rows.

pandas keeps an index with its rows through every operation that moves rows, but not
through those that move values past the index: an index assigned (``df.index = ...``,
``set_axis``), values assigned without alignment (``df[cols] = other.to_numpy()``,
``df.iloc[:] = ...``), a whole frame shifted (``df.shift()``), rows replaced from another
frame (``where``/``mask``). The ids then name lines whose records the rows do not hold,
a wrong line for every row, and a column-by-column note (:mod:`._witness`) would only
say that every column changed.

The witness rows tell the two apart. A witness row that differs from its own record
in at least two loaded values, holds a value found in one other witness row's record
and in no other, and shares more values with that record than with its own (at least
two) holds that other row, more than its own. Loaded values that were missing are no
evidence (a row filled from its neighbour), and one column is too little (a column
shifted alone is a value moved, which the notes name). A value no other witness row has
is what names a row: a recoding of low-cardinality values (flipped bits) maps rows onto
each other's combinations, rarely onto such a value; but in a file of a few rows one row
alone may hold a value of a 0/1 column, and a recoding lands others on it by chance. So
the record a row shares values with must be beyond chance: fewer than ``BY_CHANCE`` rows
expected to share them by chance, from how many values each column draws from (distinct
floats: as many as their range holds at the file's precision, not as many as the rows;
:mod:`._misplaced_chance`). In a many-to-many merge every
value repeats (once per row of its join group), yet each still names one row of the
parent it was merged from: the merged rows a row may hold are named through their
parents (:mod:`._misplaced_merge`), witnesses or not. And a row whose record is in the
data with its own values is not taken as moved: another row was made equal to it
(values capped). The record a row holds may be of any source loaded in this process,
one X has no row of too (a frame's ids moved onto another's rows, its own rows then
dropped): the witness rows of every load kept are searched. Among so many records (50
files of 256 to 512 witness rows each) two values meet by chance, so another source's
record must share two values that name it and all of the row's compared values but one.
Each load's index of witness rows is kept while the loads kept stay the same, and the
loads whose records a row may name are found by set operations over the values, not a
lookup per row and load. What stays possible: a moved row whose own record is no
witness row, taken for a record of its own source that shares two of its values by
chance; the refusal is right (its id names a record it does not hold), the line named
as the one it holds may not be.
"""

import numpy as np

from ._ids import codes_of, distinct_codes
from ._misplaced_chance import BY_CHANCE
from ._misplaced_columns import MIN_COLUMNS, _compared, _shown
from ._misplaced_elsewhere import _held_elsewhere
from ._misplaced_index import _names_own
from ._misplaced_merge import RowsOfX, held_merged_row
from ._misplaced_search import _other_loads, _Searched
from ._witness import WITNESSES, _equal, _take_columns, witness_mask


def _rows_moved(X, names, ids, loads, hit, skip, as_loaded):
    """What the witness rows ``hit`` of ``X`` (one source's) share with their records.

    Returns ``moved`` (rows differing from what every load holds for their ids in at
    least ``MIN_COLUMNS`` loaded values), ``own`` (rows equal to what a load holds for
    them: a source read with two dtypes is two loads, and X comes from one of them),
    ``agree`` (the most columns a row shares with its record, over the loads) and the
    rows' columns.
    """
    mine = dict(zip(names, _take_columns(X, hit)))
    moved = np.zeros(hit.size, dtype=bool)
    own = np.zeros(hit.size, dtype=bool)
    agree = np.zeros(hit.size, dtype=np.int64)
    for w in loads:
        here = w.positions(ids[hit])
        inside = np.flatnonzero(here >= 0)
        cols = _compared(names, w, skip, as_loaded)
        if not inside.size or len(cols) < MIN_COLUMNS:
            own[inside] = True
            continue
        evidence = np.zeros(inside.size, dtype=np.int64)
        equal = np.zeros(inside.size, dtype=np.int64)
        for name, loaded in cols:
            theirs = w.columns[loaded].take(here[inside])
            eq = _equal(mine[name].take(inside), theirs)
            evidence += ~eq & ~theirs.missing  # a missing value filled is no evidence
            equal += eq
        moved[inside[evidence >= MIN_COLUMNS]] = True
        own[inside[evidence == 0]] = True
        agree[inside] = np.maximum(agree[inside], equal)
    return moved & ~own, own, agree, mine


def misplaced_row(X, ids, sources, skip=(), renamed=None, undecided=None):
    """The first row of ``X`` found holding another loaded row's values, or None.

    A witness row is taken for another row ``j`` when it differs from its own record
    in at least ``MIN_COLUMNS`` loaded values, one of its values is found in ``j``'s
    record and in no other witness row's (for a merge: ``j`` joins the parent rows its
    values name, see :mod:`._misplaced_merge`), and it shares more values (at least
    ``MIN_COLUMNS``) with ``j``'s record than with its own; and ``j``, where ``X`` has
    it, no longer holds its record either. ``j`` may be of any source whose loads this
    process keeps, whether ``X`` has rows of it or not.

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
    renamed : Renamed, optional
        Columns of ``X`` identified as loaded columns under other names
        (:func:`._renamed.loaded_names`): compared with those.
    undecided : list, optional
        Where given and no row is found: the first row that holds another witness
        row's record in as many values as a row moved would, yet in values so few
        distinct that as many rows would by chance (:data:`BY_CHANCE`) is appended as
        ``(position, id, holds, columns, expected)``: whether it was moved (its line
        wrong) or recoded could not be told (:func:`misplaced_undecided_note`).

    Returns
    -------
    found : tuple or None
        ``(position, id, holds, columns, own)``: row ``position`` of ``X`` has the id
        ``id`` but holds the values loaded for the row id ``holds`` in ``columns`` (a
        renamed column as ``"name (loaded as column)"``), more than the ``own`` values it
        shares with its own record.
    """
    if X.columns.has_duplicates or not len(ids):
        return None
    names = [str(c) for c in X.columns]
    skip = set(skip)
    ids = np.asarray(ids, dtype=np.int64)
    distinct = distinct_codes(ids)
    codes = codes_of(ids) if len(distinct) > 1 else None
    all_loads, load_sources, candidates, own_rows = [], [], [], set()
    load_names = []  # per load: the X column -> loaded column map of its source
    for code in distinct:
        source = sources.get(int(code))
        loads = WITNESSES.loads(code, source.sha256) if source is not None else []
        if not loads:
            continue
        all_loads += loads
        load_sources += [source] * len(loads)
        as_loaded = renamed.of(code) if renamed is not None else {}
        load_names += [as_loaded] * len(loads)
        maybe = witness_mask(ids, loads)
        if codes is not None:
            maybe &= codes == code
        hit = np.flatnonzero(maybe)
        if not hit.size:
            continue
        moved, own, agree, mine = _rows_moved(X, names, ids, loads, hit, skip, as_loaded)
        own_rows.update(ids[hit[own]].tolist())
        candidates += [(int(hit[c]), int(agree[c]), mine, c) for c in np.flatnonzero(moved)]
    if not candidates:
        return None
    # the rows' values may be another source's (two frames' indexes swapped), one X
    # may have no row of (a frame's rows moved under another's ids, then dropped)
    n_own = len(all_loads)
    for source, load in _other_loads(distinct):
        all_loads.append(load)
        load_sources.append(source)
        load_names.append({})
    columns = [_compared(names, w, skip, m) for w, m in zip(all_loads, load_names)]
    searched = _Searched(all_loads, load_sources, columns)
    indexes, merges, row_in = searched.indexes, searched.merges, searched.row
    rows_of_x = RowsOfX(X, ids)
    for position, agree, mine, c in candidates:
        own = int(ids[position])
        # a row still holding a value that names its own record (a key) has had values
        # replaced, not moved: another source's record it matches is a copy of the same
        # rows (a cleaned version loaded too), no evidence its id is wrong
        keeps_own = any(
            own in all_loads[k].ids and _names_own(k, row_in(k, mine, c), own, indexes)
            for k in range(n_own)
            if len(columns[k]) >= MIN_COLUMNS
        )
        searching = [k for k in range(n_own) if len(columns[k]) >= MIN_COLUMNS]
        if not keeps_own:
            searching += searched.others(mine, c, n_own)
        for k in searching:
            cols = columns[k]
            row = row_in(k, mine, c)
            if merges[k] is not None:
                found = held_merged_row(
                    cols, row, own, agree, merges[k], rows_of_x, MIN_COLUMNS, own not in own_rows
                )
                if found is not None:
                    shared = [_shown(*cols[j]) for j in found[1]]
                    return position, own, found[0], shared, agree
            holds, equal = indexes[k].closest(row)
            if holds is None or equal < MIN_COLUMNS or equal <= agree:
                continue
            expected = indexes[k].by_chance(row, holds)
            if expected >= BY_CHANCE:
                # (values any row of few distinct values meets by chance, a recoding's
                # rows among them: no evidence this row holds that record, nor that it
                # does not: said in the run's notes)
                if undecided is not None and not undecided and holds != own:
                    keys = indexes[k].keys_of(holds)
                    shared = [_shown(n, m) for (n, m), a, b in zip(cols, row, keys) if a == b]
                    undecided.append((position, own, holds, shared, expected))
                continue
            if k >= n_own and (
                indexes[k].naming(row, holds) < MIN_COLUMNS or equal < len(cols) - 1
            ):
                # another source's record, searched among every load kept: two values
                # meet by chance in one of thousands of records (50 files loaded; a
                # column scaled in place, or a row whose own record there is no witness
                # row): it must share two values that name it, and all its values but one
                continue
            if holds == int(ids[position]) or (holds in own_rows and own not in own_rows):
                # (the row loaded with these values is in X with them too: a row made
                # equal to it, by capped or recoded values, not a row moved; unless this
                # row's id is in X with its own record too: an id twice, once wrong)
                continue
            keys = indexes[k].keys_of(holds)
            shared = [_shown(n, m) for (n, m), a, b in zip(cols, row, keys) if a == b]
            return position, int(ids[position]), holds, shared, agree
    moved_ids = {int(ids[position]) for position, _, _, _ in candidates}
    if not moved_ids:
        return None
    return _held_elsewhere(
        X, names, ids, all_loads[:n_own], columns[:n_own], moved_ids, indexes, own_rows
    )


def misplaced_undecided_note(found, name="X"):
    """The run's note for :func:`misplaced_row`'s ``undecided`` row: not warned (a
    recoding of few distinct values looks the same)."""
    from ._capture import describe_id  # (it builds on the registry)

    position, own, holds, columns, expected = found
    return (
        f"row {position} of {name}, whose row id names {describe_id(own)}, holds the "
        f"values loaded for {describe_id(holds)} in {', '.join(columns)}, more than it "
        "keeps of its own record; but those columns hold so few distinct values that "
        f"about {expected:.2g} of the rows compared would share them by chance (values "
        "recoded, bits flipped): could not tell whether its row id was moved off it. If "
        "rows were moved, the lineage names the lines of the ids, which may not hold "
        "these rows: keep each row's index with it (assign Series or frames, which "
        "pandas aligns by index; reorder with .loc[index])."
    )
