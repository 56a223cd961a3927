"""Gaps of a merged row filled with another merged row's values: moved, not imputed.

A row of a left, right or outer merge that matched no row on one side has that side's
columns missing (as has a cell left empty in a file). Filling them with a value of no row
(a constant, a column's mean) is imputation: the run's notes count those values as
missing values filled, and no other line's values are in the row. Filling them with
another merged row's values (``X.loc[i, cols] = X.loc[j, cols]``, the side's columns
permuted or shifted) is a move: the model sees values of lines that the row's lineage
does not name, and the notes would call them missing values filled.

The values tell the two apart. A witness row whose values filling at least
``MIN_COLUMNS`` gaps of its record equal, in as many columns, the record of another
merged row, named through its parents' values (:mod:`._misplaced_merge`: in a
many-to-many merge no value of the merge names one of its rows), holds that row's values.
Where the data holds those values on no more rows than it holds merged rows whose records
hold them (by id), plus this one, they were moved onto it (or among those rows, a side's
columns permuted): the fit is refused. Where they fill several gaps, a fill with a value
of one row (a column's mode or median) and a copy of that row onto every gap look the
same: the run's notes name the row whose values they are.

Like every check of witness rows, it is a sample: a gap that is no witness row of the
merge is not compared, and values are named only by a parent row that is a witness row
of its file (all rows below 512, one in ``stride`` above), so in large files a move onto
a gap compared is often left to the note on filled values.
"""

import numpy as np
import pandas as pd

from ._ids import codes_of, distinct_codes
from ._misplaced_columns import MIN_COLUMNS, _compared, _shown
from ._misplaced_merge import MergeRows
from ._witness import WITNESSES, _take_columns, cell_keys, positions_in, witness_mask
from ._witness_values import series_integers

#: Rows of the data named in the run's note per merged row whose values fill gaps.
SHOWN = 6


def filled_from_rows(X, ids, sources, skip=(), renamed=None):
    """Rows of ``X`` whose gaps (values missing in their records) hold another merged
    row's values.

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
    moved : tuple or None
        ``(position, id, holds, columns, parents)``: row ``position`` of ``X``, whose
        record (row id ``id``) has no values in ``columns``, holds there the values of
        merged row ``holds`` (row id), made of the rows ``parents`` (row ids), and ``X``
        holds them on no more rows than it has merged rows holding them, plus this one:
        values moved onto it.
    shared : list of tuple
        ``(holds, columns, parents, positions, n_rows)`` for values of merged row
        ``holds`` that fill gaps of several rows (``positions``: witness rows of ``X``
        found holding them; ``n_rows``: rows of ``X`` holding them, the merged rows whose
        records hold them included).
    """
    if not isinstance(X, pd.DataFrame) or X.columns.has_duplicates or not len(ids):
        return None, []
    names = [str(c) for c in X.columns]
    skip = set(skip)
    ids = np.asarray(ids, dtype=np.int64)
    distinct = distinct_codes(ids)
    codes = codes_of(ids) if len(distinct) > 1 else None
    shared, of_x = [], _OfX(X, ids)
    for code in distinct:
        source = sources.get(int(code))
        if source is None or source.kind != "merge" or source.parents is None:
            continue
        loads = [w for w in WITNESSES.loads(code, source.sha256) if w.sides is not None]
        if not loads:
            continue
        maybe = witness_mask(ids, loads)
        if codes is not None:
            maybe &= codes == code
        hit = np.flatnonzero(maybe)
        if not hit.size:
            continue
        as_loaded = renamed.of(code) if renamed is not None else {}
        mine = dict(zip(names, _take_columns(X, hit)))
        for w in loads:
            cols = _compared(names, w, skip, as_loaded)
            found = _gaps_filled(of_x, hit, mine, source, w, cols)
            if found is None:
                continue
            moved, here = found
            if moved is not None:
                return moved, []
            shared += here
    return None, shared


def _gaps_filled(of_x, hit, mine, source, w, cols):
    """:func:`filled_from_rows` for the witness rows ``hit`` of ``X`` (``of_x``: its
    :class:`_OfX`) in load ``w`` of merge ``source`` (``mine``: their columns), compared
    in ``cols``; ``None`` where no row fills ``MIN_COLUMNS`` gaps."""
    ids = of_x.ids
    if len(cols) < MIN_COLUMNS:
        return None
    here = w.positions(ids[hit])
    inside = np.flatnonzero(here >= 0)
    gaps = np.zeros((inside.size, len(cols)), dtype=bool)
    for j, (name, loaded) in enumerate(cols):
        gaps[:, j] = w.columns[loaded].take(here[inside]).missing
        gaps[:, j] &= ~mine[name].missing[inside]
    rows = np.flatnonzero(gaps.sum(axis=1) >= MIN_COLUMNS)
    if not rows.size:
        return None
    taken = [cell_keys(mine[name].take(inside[rows])) for name, _ in cols]
    # witness rows filling the same gaps with the same values: one question each
    groups = {}
    for k, r in enumerate(rows.tolist()):
        filled = tuple(np.flatnonzero(gaps[r]).tolist())
        key = tuple(taken[j][k] if j in filled else None for j in range(len(cols)))
        groups.setdefault((filled, key), []).append(int(hit[inside[r]]))
    merge, shared = MergeRows(source, w, cols), []
    for (filled, key), positions in groups.items():
        held = _held(merge, key, filled)
        if held is None:
            continue
        columns, best = held
        positions = [p for p in positions if all(merge.row_id(r) != ids[p] for r in best)]
        if not positions:  # its own record, its parent on the other side (a self-merge)
            continue
        holds = merge.row_id(best[0])
        parents = _parents(source, best[0])
        shown = [_shown(*cols[j]) for j in columns]
        n_rows = of_x.holding([cols[j][0] for j in columns], [key[j] for j in columns])
        if n_rows <= of_x.count([merge.row_id(r) for r in best]) + 1:
            position = positions[0]
            return (position, int(ids[position]), holds, shown, parents), []
        shared.append((holds, shown, parents, positions, n_rows))
    return None, shared


class _OfX:
    """What is asked of the whole of ``X``: how many of some row ids it holds (its ids
    sorted once), and how many of its rows hold some values (each column read once)."""

    def __init__(self, X, ids):
        self.X, self.ids, self._sorted, self._columns = X, ids, None, {}
        self._at = {str(c): j for j, c in enumerate(X.columns)}

    def count(self, wanted):
        """How many of ``wanted`` (distinct row ids) are ids of ``X``."""
        if self._sorted is None:
            self._sorted = np.unique(self.ids)
        return int((positions_in(self._sorted, np.asarray(wanted, np.int64)) >= 0).sum())

    def holding(self, names, keys):
        """Rows of ``X`` holding ``keys`` (:func:`._witness.cell_keys`) in the columns
        ``names``."""
        held = np.ones(len(self.X), dtype=bool)
        for name, key in zip(names, keys):
            exact = self._integers(name) if key[0] == "n" else None
            if exact is not None and float(key[1]).is_integer():
                # an integer column exactly: float32 makes integers past 2**24 one apart
                # one value, and every row near a moved one held it (no refusal)
                held &= ~exact[1] & (exact[0] == int(key[1]))
            elif key[0] == "n":
                held &= self._numbers(name) == np.float32(key[1])
            elif key[0] == "o":
                held &= self.X.iloc[:, self._at[name]].isin([key[1]]).to_numpy(dtype=bool)
            else:  # (lists, arrays in cells: not counted, so not taken for a fill)
                return 0
        return int(held.sum())

    def _integers(self, name):
        """Column ``name`` as int64 and its missing mask
        (:func:`._witness_values.series_integers`), or None: not integers."""
        key = ("int", name)
        if key not in self._columns:
            self._columns[key] = series_integers(self.X.iloc[:, self._at[name]])
        return self._columns[key]

    def _numbers(self, name):
        """Column ``name`` as float32 (NaN where missing or not a number)."""
        if name not in self._columns:
            column = pd.to_numeric(self.X.iloc[:, self._at[name]], errors="coerce")
            with np.errstate(over="ignore", invalid="ignore"):
                values = column.to_numpy(np.float64, na_value=np.nan).astype(np.float32)
            self._columns[name] = values
        return self._columns[name]


def _held(merge, key, filled):
    """``(columns, merged rows)``: the positions among ``filled`` where ``key`` (a row's
    keys, ``None`` outside ``filled``) holds the records of the merged rows (0-based)
    sharing the most of them, at least ``MIN_COLUMNS``; ``None`` for none."""
    scored = []
    for r in merge.candidates(key):
        equal = [j for j in merge.shared(key, r) if j in filled]
        scored.append((equal, r))
    most = max((len(s) for s, _ in scored), default=0)
    if most < MIN_COLUMNS:
        return None
    best = [(s, r) for s, r in scored if len(s) == most]
    return best[0][0], [r for _, r in best]


def _parents(source, merged):
    """The row ids merged row ``merged`` (0-based) was made of."""
    lo, hi = source.parents.indptr[merged], source.parents.indptr[merged + 1]
    return [int(p) for p in source.parents.ids[lo:hi]]


def _lines(parents):
    from ._capture import describe_id

    return " and ".join(describe_id(p) for p in parents)


def filled_message(found, name):
    """The error for a row of ``name`` whose gaps hold another merged row's values."""
    from ._capture import describe_id

    position, own, holds, columns, parents = found
    return (
        f"row {position} of {name} holds the values loaded for {describe_id(holds)} "
        f"({', '.join(columns)}; made of {_lines(parents)}) where the record its row id "
        f"names has none, yet its row id names {describe_id(own)}: its record has no "
        "values in these columns (a row of a left, right or outer merge that matched no "
        "row on that side, or cells left empty in the file), and they hold another "
        "merged row's, which no other row of the data holds beyond that row's: values "
        "moved onto it from another row (X.loc[i, cols] = X.loc[j, cols], a side's "
        "columns permuted or shifted), not missing values filled. Its lineage would "
        "name only its own lines, not the lines whose values the model is trained on. "
        "Fill gaps with a value of no row (a constant, the column's mean) or in the "
        "pipeline (SimpleImputer); keep each row's values with its index (assign Series "
        "or frames, which pandas aligns by index); values deliberately taken from other "
        "rows belong in new columns (df['c_prev'] = df['c'].shift()), which the run "
        "records as columns of no known source."
    )


def filled_note(shared):
    """The run's note for the values of merged rows filling gaps of several rows
    (``shared`` of :func:`filled_from_rows`)."""
    from ._capture import describe_id

    parts = []
    for holds, columns, parents, positions, n_rows in shared:
        shown = ", ".join(map(str, positions[:SHOWN]))
        more = f" and {len(positions) - SHOWN} more" if len(positions) > SHOWN else ""
        parts.append(
            f"{', '.join(columns)} of rows {shown}{more} of the data (of the rows "
            f"compared with what was loaded; {n_rows} rows hold them) hold the values "
            f"loaded for {describe_id(holds)} (made of {_lines(parents)})"
        )
    return (
        f"missing values filled with the values of another merged row: {'; '.join(parts)}, "
        "where their own records have none (a row that matched no row on that side of "
        "the merge, or cells left empty in the file). The same values fill several "
        "gaps, as a fill with a value of one row (the column's mode or median) or that "
        "row's values copied onto every gap leaves: the lineage of these rows names only "
        "their own lines, not the line(s) named here, whose values the model is trained "
        "on, and unlearning those lines does not remove them from these rows. Fill gaps "
        "with a value of no row (a constant, the column's mean) or in the pipeline "
        "(SimpleImputer)."
    )
