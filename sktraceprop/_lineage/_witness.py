"""Witness rows: a sample of each load's values, to notice columns changed later.

Row ids survive every pandas operation that keeps the index, including those that move
values between rows (``shift``, ``ffill``, ``rolling``, a column replaced under the same
name): the row keeps its file and line while its value came from another row. The
library cannot see pandas operations, but it can see their result. Each load
(``read_csv``, ``from_pandas``, ``from_numpy``, and the result of ``merge`` and
``aggregate``) keeps the values of a few hundred rows picked by a hash of their ids
(:func:`is_witness`), in this process only (they never travel in a pickle or a store);
rows an unlearner removes are dropped from them (:meth:`_Witnesses.forget`).
A traced fit compares the rows it is given that are witnesses with what was loaded for
them, column by column, and its run names the columns whose values changed
(:func:`changed_columns`). A change found proves the column was altered after loading;
no change found proves nothing about the rows that are not witnesses.

A merge or aggregate made from inputs changed after loading keeps, per witness row and
column, whether the value it made differs from the files' (its input rows were
compared, and found changed), so that a fit counts each of its rows once, changed
before or after the merge. Its witness rows are then not picked by the hash of their
ids but chosen among the rows made from its changed inputs' witness rows
(:mod:`._derived_witness`; a fit finds them by their ids, :class:`Chosen`): a merged row
whose input rows were not compared holds a value nothing saw, and is counted apart, as
not known (a row chosen for one changed input, in the columns of another; or a row the
hash adds where too few were made from witness rows).
"""

import numpy as np
import pandas as pd

from ._ids import distinct_codes
from ._replaced_rows import common_values, emptied_rows, replaced_rows

# (importable from here, as before: which rows are witnesses, the loads kept, and
# their values compared)
from ._witness_loads import (  # noqa: F401
    _CHUNK,
    _GOLDEN,
    MAX_LOADS,
    N_WITNESS,
    WITNESSES,
    Chosen,
    _Load,
    _Witnesses,
    is_witness,
    positions_in,
    selected,
    selector,
    stride,
    witness_mask,
)
from ._witness_values import (  # noqa: F401
    _arrow_chunks,
    _arrow_take,
    _Column,
    _equal,
    _float_bits,
    _is_numeric,
    _scalar_equal,
    _take_columns,
    cell_keys,
)


def changed_columns(X, ids, sources, skip=(), renamed=None):
    """Columns of ``X`` whose values differ from what was loaded for the same rows.

    Parameters
    ----------
    X : DataFrame
        The data given to a traced fit.
    ids : ndarray of int64
        Its row ids, aligned with its rows.
    sources : dict
        Source code -> :class:`~sktraceprop._lineage._source.Source`, covering ``ids``.
    skip : iterable of str
        Columns not to compare (written by a traced step outside the pipeline).
    renamed : Renamed, optional
        Columns of ``X`` identified as loaded columns under other names
        (:func:`._renamed.loaded_names`): compared with those.

    Returns
    -------
    changed : ChangedColumns
        Column -> ``(rows that differ, witness rows compared, of those that differ the
        rows whose loaded value was missing)``, for the columns with at least one
        difference, in ``X``'s column order. A row of a merge or aggregate differs too
        where it holds the value the merge or aggregate made from an input value that
        had changed (each witness row counted once). Its ``by_source``, ``through``,
        ``rows_compared`` and ``rows`` say more (see :class:`ChangedColumns`).
    """
    if not isinstance(X, pd.DataFrame) or X.columns.has_duplicates or not len(ids):
        return ChangedColumns()  # (nothing compared: by_source None)
    from ._witness_view import witness_view  # (it builds on this module)

    names = [str(c) for c in X.columns]
    skip = set(skip)
    ids = np.asarray(ids, dtype=np.int64)
    counts = {n: [0, 0, 0] for n in names}  # differ, compared, filled
    by_source, through, rows_of, uncertain, replaced = {}, {}, {}, set(), []
    emptied, common = [], {}  # (common: column -> common_values of the view's rows)
    # witness rows compared, per source (distinct_codes: no hash of a million codes)
    compared = {int(c): 0 for c in distinct_codes(ids)}
    compared_at = [np.zeros(0, dtype=np.intp)]  # their positions in X
    view = witness_view(X, ids, sources)  # (taken once per fit: see taken_once)
    codes = view.codes if view is not None else np.zeros(0, np.int64)
    for code in np.unique(codes):
        source = sources.get(int(code))
        loads = WITNESSES.loads(code, source.sha256) if source is not None else []
        if not loads:
            continue
        rows = np.flatnonzero(codes == code)  # its witness rows, among the view's
        as_loaded = renamed.of(code) if renamed is not None else {}
        mine = {}  # this source's counts
        # per row: held by a load (found equal), equal to a load's value that is the
        # files' value, or to one that is not (made from inputs changed before a merge)
        covered, matched, clean, made_changed = (
            {n: np.zeros(rows.size, dtype=bool) for n in names} for _ in range(4)
        )
        # missing in the files for every load that has the row: a difference fills a gap
        was_missing = {n: np.ones(rows.size, dtype=bool) for n in names}
        for w in loads:
            where = view.positions(w)
            inside = np.flatnonzero(where[rows] >= 0)
            if not inside.size:
                continue
            for name in names:
                loaded = as_loaded.get(name, name)
                if name in skip or loaded not in w.columns:
                    continue
                at, eq = view.equal(w, name, loaded)
                ours = codes[at] == code  # (then at holds rows[inside], in order)
                eq, kept = eq[ours], where[at[ours]]
                gaps = w.columns[loaded].missing[kept]
                made = w.inherited.get(loaded)
                matched[name][inside] |= eq
                if made is None:
                    clean[name][inside] |= eq
                else:  # the load's value, compared with the files' where known
                    differs_in, filled_in, known = (m[kept] for m in made)
                    clean[name][inside] |= eq & known & ~differs_in
                    made_changed[name][inside] |= eq & known & differs_in
                    gaps = gaps | filled_in
                covered[name][inside] = True
                was_missing[name][inside] &= gaps
        masks, per_column = {}, []
        seen = np.zeros(rows.size, dtype=bool)
        for name in names:
            # a row equal only to a load value made from inputs whose values were not
            # compared (not witness rows of theirs) is not known to hold the files' value
            differs = covered[name] & ~clean[name] & (made_changed[name] | ~matched[name])
            checked = clean[name] | differs
            unknown = covered[name] & ~checked
            filled = differs & was_missing[name]
            seen |= checked
            found = (int(differs.sum()), int(checked.sum()), int(filled.sum()))
            if found[1]:
                missing = view.columns[name].missing[rows]
                per_column.append((name, checked, differs, filled, missing))
            counts[name] = [a + b for a, b in zip(counts[name], found)]
            if found[1] or unknown.any():
                _add_rows(rows_of, name, view.ids[rows], checked, differs, filled)
            if found[0] or unknown.any():
                mine[name] = (as_loaded.get(name, name), *found, int(unknown.sum()))
                masks[name] = (as_loaded.get(name, name), checked, differs, filled, unknown)
                uncertain.update([name] if unknown.any() else [])
        compared[int(code)] = int(seen.sum())
        hit, columns = replaced_rows(per_column, lambda n, r=rows: _common(view, n, common)[r])
        replaced += [
            (int(i), int(p), c)
            for i, p, c in zip(view.ids[rows][hit], view.hit[rows][hit], columns)
        ]
        hit, columns = emptied_rows(per_column)
        emptied += [
            (int(i), int(p), c)
            for i, p, c in zip(view.ids[rows][hit], view.hit[rows][hit], columns)
        ]
        compared_at.append(view.hit[rows[seen]])
        if masks and source.kind == "merge":
            from ._changed_leaves import leaf_counts  # (it builds on _rows)

            found = leaf_counts(sources, int(code), view.ids[rows], masks)
            for (leaf, column, name), c in (found or {}).items():
                _add(through, (leaf, column, name, int(code)), c)
        if mine:  # (only a source with a change is listed)
            by_source[int(code)] = mine
    out = ChangedColumns((n, tuple(c)) for n, c in counts.items() if c[0])
    out.by_source, out.through, out.rows_compared = by_source, through, compared
    out.replaced = sorted(replaced, key=lambda r: r[1])
    out.emptied = sorted(emptied, key=lambda r: r[1])
    out.compared_at = np.sort(np.concatenate(compared_at))
    from ._derived_witness import compared_through  # (it builds on this module)

    out.compared_through = compared_through(sources, compared)
    out.rows = {
        n: tuple(np.concatenate(part) for part in held)
        for n, held in rows_of.items()
        if n in out or n in uncertain  # (a column with no difference: nothing to carry)
    }
    return out


def _common(view, name, held):
    """:func:`._replaced_rows.common_values` of the witness rows' column ``name`` (every
    source's), taken once per call of :func:`changed_columns` (``held``)."""
    if name not in held:
        held[name] = common_values(view.columns[name])
    return held[name]


def _add(counts, key, more):
    """``counts[key]`` plus ``more``, elementwise (a tuple of counts)."""
    held = counts.get(key)
    counts[key] = tuple(more) if held is None else tuple(a + b for a, b in zip(held, more))


def _add_rows(rows_of, name, ids, *masks):
    """Add to ``rows_of[name]`` the ids of the rows each of ``masks`` holds."""
    held = rows_of.setdefault(name, tuple([] for _ in masks))
    for part, mask in zip(held, masks):
        part.append(ids[mask])


class ChangedColumns(dict):
    """:func:`changed_columns`' counts by column of the data, and:

    ``by_source``: source code -> {column of the data: ``(loaded column, rows that
    differ, witness rows compared, of those that differ the rows whose loaded value was
    missing, rows not known)``}, for the sources with at least one difference or row
    not known (a merge's rows equal to the values it made from input rows that were not
    compared, in a column whose inputs had changed on rows compared; not counted among
    the rows compared). The loaded column is the
    one the column was compared with: its own name, or the name it was identified by its
    values as); None where nothing was compared (the data has duplicate column names, or
    no rows).
    ``through``: ``{(source code, its column, column of the data, merge code): (rows
    that differ, rows compared, missing filled, rows not known)}``, the share of a
    merge's witness rows built from a row of each parent source its changed column
    comes from (see
    :func:`._changed_leaves.leaf_counts`).
    ``rows_compared``: source code -> the witness rows of the data from that source
    compared with what was loaded (in at least one column), for every source of its rows: 0 where
    none could be (its loads are not kept in this process, none of its rows is a
    witness row, no column of the data is one of its loaded columns).
    ``rows``: column of the data -> ``(ids of the witness rows compared, of those that
    differ, of those whose value was missing in the files)``, for the columns with a
    difference, for :func:`._derive.merge` and :func:`._derive.aggregate` to carry to
    the rows they make.
    ``compared_at``: the positions in the data of the witness rows compared (in at
    least one column), sorted: of those, :func:`._derived_witness.merge_witnesses` makes
    a merge's witness rows.
    ``replaced``: ``[(row id, position in the data, columns)]`` of the witness rows
    that hold none of the values loaded for their id's line (see :mod:`._replaced_rows`),
    in the data's row order.
    ``emptied``: the same for the witness rows whose every compared value is missing
    now, where the files had values (see :func:`._replaced_rows.emptied_rows`).
    ``compared_through``: ``{(source code, merge code): rows}`` for each ancestor of a
    merge or aggregate among the data's sources: the merge's rows compared, or 0 where
    the ancestor's values given to it were not compared with what was loaded (see
    :func:`._derived_witness.compared_through`).
    """

    by_source = None  # (None: nothing was compared; set by changed_columns)
    through = {}  # (set per instance by changed_columns)
    rows_compared = None
    rows = {}
    compared_at = np.zeros(0, dtype=np.intp)
    compared_through = {}
    replaced = ()
    emptied = ()


def describe(changed):
    """``"bp (12 of 256 rows checked, 3 of them missing values filled), ..."``."""
    out = []
    for name, (k, n, filled) in changed.items():
        gaps = f", {filled} of them missing values filled" if filled else ""
        out.append(f"{name} ({k} of {n} rows checked{gaps})")
    return ", ".join(out)


def sample_words(n_rows=None):
    """The sentence saying that the rows checked are a sample: a note or warning
    counting "k of n rows checked" must not read as a check of every row."""
    of = f" of the {n_rows:,} rows given" if n_rows else ""
    return (
        f"The rows checked are witness rows{of}, a sample of each load's rows (every row "
        "of a load of fewer than 512): a column changed only on other rows is not "
        "noticed, and the rows that differ are counted among the rows checked only."
    )


def changed_note(changed, n_rows=None):
    """The run's note naming ``changed`` (from :func:`changed_columns`), of a fit given
    ``n_rows`` rows."""
    return (
        f"input column(s) {describe(changed)} hold values that differ from what was "
        "loaded for the same rows, or for the rows they were merged or aggregated from "
        "(read_csv, from_pandas, from_numpy): they were changed outside the pipeline, "
        "and the run does not record how. Their lineage names the loaded column, which "
        "is right where each row's new value was computed from that row alone (a unit "
        "conversion, fillna with a constant); values moved between rows or computed over "
        "rows (shift, ffill/bfill, fillna with a mean, rolling, groupby().transform, a "
        "column replaced under the same name) carry data of other rows that the lineage "
        "does not name, and that unlearning those rows does not remove. Do such steps in "
        "the pipeline, or with sktraceprop.merge / sktraceprop.aggregate / a "
        "TracedEstimator. " + sample_words(n_rows)
    )
