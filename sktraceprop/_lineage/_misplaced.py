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
each other's combinations, never onto such a value. In a many-to-many merge every
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

from collections import Counter

import numpy as np

from ..exceptions import LineageError
from ._ids import codes_of, distinct_codes
from ._misplaced_merge import MergeRows, RowsOfX, held_merged_row
from ._source import REGISTRY
from ._witness import WITNESSES, _equal, _is_numeric, _take_columns, cell_keys, witness_mask

#: Columns that must differ (each loaded non-missing) before a row counts as moved.
MIN_COLUMNS = 2
#: Columns of X searched, per load, for the records of moved witness rows.
SEARCHED = 4


def _compared(names, w, skip, as_loaded):
    """``[(column of X, loaded column)]`` of X's columns that load ``w`` has, by name or
    identified under another (``as_loaded``, see :mod:`._renamed`), each loaded column
    once (the column of its name first): two copies of one column are one piece of
    evidence, not two."""
    pairs = [(n, as_loaded.get(n, n)) for n in names if n not in skip]
    out, seen = [], set()
    for n, m in sorted(pairs, key=lambda p: p[0] != p[1]):  # (a stable sort)
        if m in w.columns and m not in seen:
            seen.add(m)
            out.append((n, m))
    return out


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


class _Index:
    """The witness rows of one load keyed by their values in ``cols``: each row's
    values, and per column the row of each value no other witness row has."""

    def __init__(self, w, cols):
        self.ids = w.ids
        self.keys = list(zip(*(cell_keys(w.columns[n]) for n in cols)))
        self.unique = []
        for j in range(len(cols)):
            counts = Counter(key[j] for key in self.keys)
            self.unique.append(
                {key[j]: k for k, key in enumerate(self.keys) if counts[key[j]] == 1}
            )

    def naming(self, row, row_id):
        """How many of ``row``'s values name the witness row ``row_id`` (no other witness
        row has them)."""
        at = int(np.flatnonzero(self.ids == row_id)[0])
        return sum(v is not None and u.get(v) == at for u, v in zip(self.unique, row))

    def keys_of(self, row_id):
        return self.keys[int(np.flatnonzero(self.ids == row_id)[0])]

    def closest(self, row):
        """``(id, columns equal)`` of the witness row sharing the most values with
        ``row``, among those one of its values alone names; ``(None, 0)`` for none.

        A value no other witness row has is what names a row: a recoding of
        low-cardinality values (flipped bits) maps rows onto each other's combinations
        of values, never onto such a value.
        """
        named = {u[v] for u, v in zip(self.unique, row) if v is not None and v in u}
        best, most = None, 0
        for k in sorted(named):
            equal = sum(a == b for a, b in zip(row, self.keys[k]))
            if equal > most:
                best, most = int(self.ids[k]), equal
        return best, most


def misplaced_row(X, ids, sources, skip=(), renamed=None):
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


class _ForgetIndexes:
    """Empties :data:`_INDEXES` when witness rows are forgotten or cleared: the indexes
    hold their values, which must not outlive them."""

    def forget(self, ids):
        _INDEXES.clear()

    def clear(self):
        _INDEXES.clear()


#: ``(id(load), loaded columns)`` -> ``(version, load, index)``: a load's
#: :class:`_Index`, built once while the loads kept stay the same (each fit searches
#: every load kept: built anew, about 1.5 ms per load of 256 to 512 witness rows).
_INDEXES = {}
WITNESSES.follow(_ForgetIndexes())


def _index_of(load, cols):
    version = WITNESSES.version
    key = (id(load), cols)
    kept = _INDEXES.get(key)
    if kept is not None and kept[0] == version and kept[1] is load:
        return kept[2]
    index = _Index(load, list(cols))
    if len(_INDEXES) > 4096:  # (bounded: loads come and go in a long session)
        _INDEXES.clear()
    _INDEXES[key] = (version, load, index)
    return index


class _Searched:
    """The loads searched for the records of moved rows, and what is built for each
    when first needed: ``indexes`` (its witness rows by value, :class:`_Index`),
    ``merges`` (a merge's rows, :func:`_merge_rows`) and the candidates' rows as keys of
    its compared columns."""

    def __init__(self, loads, sources, columns):
        self.loads, self.sources, self.columns = loads, sources, columns
        self.indexes, self.merges = {}, {}
        self._keys, self._values, self._named = {}, {}, {}

    def _column_keys(self, name, mine):
        """The candidates' keys in column ``name`` (the same for every load)."""
        if (name, id(mine)) not in self._keys:
            self._keys[name, id(mine)] = cell_keys(mine[name])
        return self._keys[name, id(mine)]

    def build(self, k):
        """Build load ``k``'s index and merge rows, once."""
        if k not in self.indexes:
            cols = self.columns[k]
            self.indexes[k] = _index_of(self.loads[k], tuple(m for _, m in cols))
            self.merges[k] = _merge_rows(self.sources[k], self.loads[k], cols)

    def row(self, k, mine, c):
        """Row ``c`` of the candidates' columns ``mine`` as keys of load ``k``'s compared
        columns."""
        self.build(k)
        return tuple(self._column_keys(n, mine)[c] for n, _ in self.columns[k])

    def _by_value(self, name, mine):
        """Key -> the candidates holding it in column ``name``."""
        if (name, id(mine)) not in self._values:
            by_value = {}
            for c, v in enumerate(self._column_keys(name, mine)):
                by_value.setdefault(v, []).append(c)
            self._values[name, id(mine)] = by_value
        return self._values[name, id(mine)]

    def others(self, mine, c, first):
        """The loads from ``first`` on (other sources') to search for candidate ``c``'s
        record: a merge's, and those where it holds ``MIN_COLUMNS`` values or more that
        name witness rows (no other witness row has them), the only ones whose record
        :meth:`_Index.naming` can find. Found for every candidate at once, by set
        operations over the values (every load kept is searched)."""
        if id(mine) not in self._named:
            named = {}
            for k in range(first, len(self.loads)):
                if len(self.columns[k]) < MIN_COLUMNS:
                    continue
                self.build(k)
                if self.merges[k] is not None:
                    continue
                counts = Counter()
                for j, (name, _) in enumerate(self.columns[k]):
                    by_value = self._by_value(name, mine)
                    for v in self.indexes[k].unique[j].keys() & by_value.keys():
                        counts.update(by_value[v])
                for c_named, n in counts.items():
                    if n >= MIN_COLUMNS:
                        named.setdefault(c_named, []).append(k)
            merges = [k for k in range(first, len(self.loads)) if self.merges.get(k) is not None]
            self._named[id(mine)] = (named, merges)
        named, merges = self._named[id(mine)]
        return sorted(merges + named.get(c, []))


def _names_own(k, row, own, indexes):
    """Whether ``row`` holds a value of ``own``'s record that no other witness row of
    load ``k`` has (a value that names the record, as a key does)."""
    index = indexes[k]
    record = index.keys_of(own)
    return any(
        v is not None and v == r and index.unique[j].get(v) is not None
        for j, (v, r) in enumerate(zip(row, record))
    )


def _other_loads(codes):
    """``[(source, load)]``: the loads kept in this process (:data:`._witness.WITNESSES`)
    of the sources not in ``codes`` whose source is registered with the content
    loaded."""
    mine = {int(c) for c in codes}
    _, every = WITNESSES.every_load()
    out = []
    for code in sorted({int(c) for c, _ in every} - mine):
        try:
            source = REGISTRY.by_code(code)
        except LineageError:  # (a code no source here has: nothing to name it by)
            continue
        out += [(source, load) for load in WITNESSES.loads(code, source.sha256)]
    return out


def _merge_rows(source, load, cols):
    """:class:`._misplaced_merge.MergeRows` of a load of a merge made in this process,
    else ``None``."""
    if source.kind != "merge" or load.sides is None or source.parents is None:
        return None
    return MergeRows(source, load, cols)


def _shown(name, loaded):
    return name if name == loaded else f"{name} (loaded as {loaded})"


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
    record is not known. Returns as :func:`misplaced_row`, with ``None`` for that.
    ``columns``: per load, the ``(column of X, loaded column)`` compared (:func:`_compared`);
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
                if len(shared) >= MIN_COLUMNS and 2 * len(shared) > len(cols):
                    return position, int(ids[position]), holds, shared, None
    return None
