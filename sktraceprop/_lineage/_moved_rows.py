"""Rows moved under other rows' ids, in columns of few distinct values.

A row holding another row's record is refused (:mod:`._misplaced`) where one of its
values names that record: a value no other witness row holds. Columns of few distinct
values (codes, counts, categories, one-hot bits) hold no such value, and a recoding of
them (flipped bits) maps rows onto each other's combinations, so a row is not refused
for holding another's. Yet after ``df.index = ...``, ``set_axis``, ``shift()`` or
values assigned without alignment (``pd.DataFrame(other.to_numpy(), index=df.index)``)
every row's id names a line whose record it does not hold, and the fit named those
lines without a warning (each column was only noted as changed).

What tells a move from a recoding or a computation is the relation between each row's
loaded value and its value now, per column: a recoding, a scaling, ``age + 1`` or a cap
make the value now a function of the loaded one (or the loaded one a function of the
value now); a move pairs a loaded value with several values now, and a value now with
several loaded values (many to many), each value now one the column was loaded with.
The fit warns where at least ``MIN_COLUMNS`` loaded columns are so, on the rows that
differ from their record in at least ``MIN_COLUMNS`` values, those rows are at least
``MIN_ROWS`` and a tenth (``MIN_SHARE``) of the witness rows compared (some rows
overwritten from others, ``df.iloc[:10] = df.iloc[10:20].to_numpy()``, too), and most
of them hold a loaded record (of any source of X), whole or but for one column (a move,
then a code recoded). A column whose values now are spread otherwise than its loaded values, or
equal on every such row to another of the row's own loaded columns (two columns
swapped), is no evidence; and a column that keeps its own loaded value on every such
row says the rows are their own (``(a + b) % 3`` beside ``c``).
In columns of two values a row moved differs in all of them or in one, and where it
differs in all each column is flipped: on those rows, a function. There the columns
count as moved where they are many to many over every row compared and most such
rows' loaded records (of the columns compared) stand beside three records now or more
(:func:`_scattered`): a recoding or a computation from the row's own makes the record
now a function of the loaded one (of two, with a condition). Columns of two values each
flipped on rows of a condition of its own (of columns outside the data) make it no
function either, as a move does; they are told apart where the rows compared show it
(:mod:`._moved_flips`: flips that do not follow the loaded values, values now that do),
and not warned of there. Rows moved among themselves keep each column's counts
exactly, which flips do by chance only (:mod:`._moved_counts`): warned of where that
chance is ``ALPHA`` or less (however few rows differ in both, none included), said
undecided in the run's note above it (:mod:`._derived_notes`: by a merge, an
aggregate or ``row_lineage``, which have no run, in a warning, and in the notes of the
fits of the rows made).
What stays possible: a move that is a function on every column (a periodic pattern
shifted by its period) leaves each row the values of its own record, so the line its
lineage names holds the values fitted (not noticed, and right); columns edited
many-to-many within their own values on a tenth of the rows (a per-column shuffle),
warned of, as values of other rows; and so are two columns of two values flipped each
on about half the rows, whose loaded values are spread evenly: a move of such values
looks the same (:mod:`._moved_flips`). Rows moved within two columns of two values
where too few differ in both (a quarter of the rows overwritten from others) are only
noted as changed columns: in columns of two values every change, a move included, is a
set of rows flipped per column, and a part of the rows moved differs from rows flipped
on conditions of columns outside the data (which may follow each other, or follow the
loaded values through them) only in which rows are flipped. With the moved rows
unknown, no test tells the two without a model of those conditions, so no sound
warning exists; the run's note of the changed columns stands (a warning there would
be a false alarm as often as not).
"""

import numpy as np

from ._ids import codes_of, distinct_codes
from ._misplaced_columns import MIN_COLUMNS, _compared
from ._moved_counts import ALPHA, UNDECIDED, kept_chance
from ._moved_flips import flipped_apart
from ._witness import WITNESSES, witness_mask
from ._witness_values import _take_columns, cell_keys

#: Rows that must differ from their record in ``MIN_COLUMNS`` values, and the share
#: of the witness rows compared they must be: a few rows edited by hand are no move.
MIN_ROWS = 3
MIN_SHARE = 0.1
#: Largest total variation distance between a column's loaded values and its values
#: now, on the rows that differ, beyond chance, for the column to count as moved.
MAX_SPREAD = 0.1


def _many_to_many(old, new):
    """Whether pairs ``(old[i], new[i])`` pair a value of each side with two of the other."""
    ahead, back = {}, {}
    for a, b in zip(old, new):
        ahead.setdefault(a, set()).add(b)
        back.setdefault(b, set()).add(a)
    return any(len(s) > 1 for s in ahead.values()) and any(len(s) > 1 for s in back.values())


def _alike(old, new):
    """Whether values ``new`` are spread as ``old`` are: their total variation distance
    is at most ``MAX_SPREAD`` beyond what two samples of as many rows differ by chance
    (``sqrt(values / rows)``). Rows moved keep the values, each on another row (or, after
    a resample, repeated); a value computed from the row's own (``abs(a - b)``) is spread
    otherwise."""
    counts = {}
    for a in old:
        counts[a] = counts.get(a, 0) + 1
    for b in new:
        counts[b] = counts.get(b, 0) - 1
    chance = np.sqrt(len(counts) / len(old))
    return sum(abs(c) for c in counts.values()) <= 2 * (MAX_SPREAD + chance) * len(old)


def _kept(was, now, rows):
    """Whether a column holds, on every row of ``rows``, its own loaded value, of two
    or more: the rows are their own, with other columns computed (a move leaves a
    row its own value only by chance)."""
    own = {was[r] for r in rows} - {None}
    return len(own) > 1 and all(now[r] == was[r] for r in rows if was[r] is not None)


def _pairs(was, now):
    """``(loaded values, values now)`` of a column's rows, where neither is missing."""
    return tuple(zip(*[(a, b) for a, b in zip(was, now) if a is not None and b is not None]))


def _scattered(was, now, rows):
    """Whether the records now of most of ``rows`` are no function of the loaded ones:
    their loaded record (of the columns compared) stands, over every row compared,
    beside three records now or more. A recoding or a value computed from the row's
    own makes the record now a function of the loaded one, a flip of some rows (a
    condition) one of two; rows moved put a record beside those of several rows. In
    columns of two values a moved row differs in all of them or in one, and on the
    rows differing in all, each column is flipped (a function): only all rows tell."""
    beside = {}
    for old, new in zip(zip(*was), zip(*now)):
        if None not in old and None not in new:
            beside.setdefault(old, set()).add(new)
    many = sum(len(beside.get(tuple(w[r] for w in was), ())) >= 3 for r in rows)
    return 4 * many >= 3 * rows.size


def _records(loads, names):
    """The loaded records of ``loads`` (``[(load, its X column -> loaded column)]``) as
    tuples of cell keys in the order of X's columns ``names``, each load's tuples under
    the X columns it has; with three columns or more, each also without one of them
    (``(j, tuple)``: a row moved, then one column recoded, holds a record but there)."""
    out = {}
    for load, as_loaded in loads:
        cols = _compared(names, load, (), as_loaded)
        keys = list(zip(*[cell_keys(load.columns[m]) for _, m in cols]))
        held = out.setdefault(tuple(n for n, _ in cols), set())
        held.update(keys)
        if len(cols) >= 3:
            held.update((j, k[:j] + k[j + 1 :]) for k in keys for j in range(len(cols)))
    return out


def _holds(row, records):
    """Whether ``row`` (a tuple of cell keys) is in ``records`` (:func:`_records`),
    whole or, with three columns or more, but for one column."""
    if row in records:
        return True
    return len(row) >= 3 and any((j, row[:j] + row[j + 1 :]) in records for j in range(len(row)))


def _one_load(X, names, ids, hit, load, skip, as_loaded, records):
    """``(columns, rows that differ, rows compared, first position, sure)`` of the
    witness rows ``hit`` of ``X`` in ``load``, or None where they show no move (``sure``:
    False where only columns of two values keeping their counts show it, by too little
    evidence: :mod:`._moved_counts`). ``records()``: the
    loaded records of every source of X (:func:`_records`): a row may hold another
    source's."""
    here = load.positions(ids[hit])
    inside = np.flatnonzero(here >= 0)
    cols = _compared(names, load, skip, as_loaded)
    if inside.size < MIN_ROWS or len(cols) < MIN_COLUMNS:
        return None
    frame = X[[X.columns[names.index(n)] for n, _ in cols]]
    now = [cell_keys(c) for c in _take_columns(frame, hit[inside])]
    was = [cell_keys(load.columns[m].take(here[inside])) for _, m in cols]
    differs = np.zeros(inside.size, dtype=np.int64)
    for mine, theirs in zip(now, was):
        differs += [a is not None and b is not None and a != b for a, b in zip(mine, theirs)]
    rows = np.flatnonzero(differs >= MIN_COLUMNS)
    domain = [set(cell_keys(load.columns[m])) - {None} for _, m in cols]
    two = all(len(d) == 2 for d in domain)
    if rows.size < MIN_ROWS and not two:  # (in columns of two values, the counts kept
        return None  # tell a move however few rows differ in all: _moved_counts)
    moved, scattered = [], []
    if rows.size >= MIN_SHARE * inside.size:
        moved, scattered = _columns_moved(cols, was, now, rows, domain)
    elif not two:  # (a few rows edited: no move, unless every column keeps its counts)
        return None
    if len(moved) < MIN_COLUMNS and len(moved) + len(scattered) >= MIN_COLUMNS:
        if _scattered(was, now, rows) and not flipped_apart(was, now):
            moved = [n for n, _ in cols if n in moved or n in scattered]
    sure = True
    if len(moved) < MIN_COLUMNS and two:
        chance = _counts_kept(was, now)
        if chance is not None:
            moved, sure = [n for n, _ in cols], chance <= ALPHA
    if len(moved) < MIN_COLUMNS or any(_kept(w, v, rows) for w, v in zip(was, now)):
        return None
    # a moved row holds a loaded record (one of the witness rows, mostly), whole or but
    # for one column
    records = records().get(tuple(n for n, _ in cols), set())
    held = sum(_holds(tuple(mine[r] for mine in now), records) for r in rows)
    if 4 * held < 3 * rows.size:
        return None
    example = rows[0] if rows.size else np.flatnonzero(differs)[0]
    return moved, int(rows.size), int(inside.size), int(hit[inside[example]]), sure


def _columns_moved(cols, was, now, rows, domain):
    """``(moved, scattered)``: the names of the columns ``cols`` whose values on ``rows``
    pair many to many with the loaded ones, spread as those (moved), or so over every
    row compared only (scattered), within the values each was loaded with (``domain``)
    and not another of the row's own columns."""
    moved, scattered = [], []
    for j, (name, _) in enumerate(cols):
        pairs = [(was[j][r], now[j][r]) for r in rows if was[j][r] is not None]
        pairs = [(a, b) for a, b in pairs if b is not None]
        if not pairs or any(b not in domain[j] for _, b in pairs):
            continue  # (a value the column was never loaded with: computed, not moved)
        if any(all(now[j][r] == was[k][r] for r in rows) for k in range(len(cols)) if k != j):
            continue  # (another of the row's own columns: columns swapped)
        if _many_to_many(*zip(*pairs)) and _alike(*zip(*pairs)):
            moved.append(name)
        elif _alike(*zip(*pairs)) and _many_to_many(*_pairs(was[j], now[j])):
            scattered.append(name)
    return moved, scattered


def _counts_kept(was, now):
    """:func:`._moved_counts.kept_chance` of columns of two values that are no function
    of the loaded ones: each many to many over every row compared, and a loaded record
    beside three records now or more (the same rows flipped in every column, on one
    condition, put each beside two), else None."""
    if not all(_many_to_many(*_pairs(w, v)) for w, v in zip(was, now)):
        return None
    beside = {}
    for old, new in zip(zip(*was), zip(*now)):
        if None not in old and None not in new:
            beside.setdefault(old, set()).add(new)
    if max(len(s) for s in beside.values()) < 3:
        return None
    return kept_chance(was, now)


def moved_rows(X, ids, sources, skip=(), renamed=None, undecided=None):
    """Evidence that the rows of ``X`` were moved under other rows' ids (see above).

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
        Columns of ``X`` identified as loaded columns under other names.
    undecided : list, optional
        Where given, the first evidence the rows compared could not tell from columns
        of two values flipped on conditions of their own (:mod:`._moved_counts`) is
        appended to it, as ``found`` is made, for the run's note; not returned.

    Returns
    -------
    found : tuple or None
        ``(columns, rows that differ, rows compared, position in X, row id)``: the
        first load showing a move, one such row as an example.
    """
    if X.columns.has_duplicates or not len(ids):
        return None
    names = [str(c) for c in X.columns]
    ids = np.asarray(ids, dtype=np.int64)
    distinct = distinct_codes(ids)
    codes = codes_of(ids) if len(distinct) > 1 else None
    by_code = {}
    for code in distinct:
        source = sources.get(int(code))
        loads = WITNESSES.loads(code, source.sha256) if source is not None else []
        if loads:
            by_code[code] = (loads, renamed.of(code) if renamed is not None else {})
    kept = []  # (the records, built once where a load first shows a move)

    def records():
        if not kept:
            kept.append(_records([(w, m) for loads, m in by_code.values() for w in loads], names))
        return kept[0]

    for code, (loads, as_loaded) in by_code.items():
        maybe = witness_mask(ids, loads)
        if codes is not None:
            maybe &= codes == code
        hit = np.flatnonzero(maybe)
        for load in loads:
            found = _one_load(X, names, ids, hit, load, set(skip), as_loaded, records)
            if found is None:
                continue
            columns, n_rows, n_compared, position, sure = found
            found = columns, n_rows, n_compared, position, int(ids[position])
            if sure:
                return found
            if undecided is not None and not undecided:
                undecided.append(found)
    return None


def moved_rows_undecided_note(found, name="X"):
    """The run's note for :func:`moved_rows`' evidence the rows compared could not tell
    from flips (:data:`._moved_counts.UNDECIDED`): not warned."""
    from ._capture import describe_id  # (it builds on the registry)

    columns, n_rows, n_compared, position, row_id = found
    return (
        f"{n_rows} of the {n_compared} rows of {name} compared differ from the record "
        f"their row id names in two or more of the columns {', '.join(columns)} (row "
        f"{position}, whose row id names {describe_id(row_id)}), which may hold other "
        f"rows' records: {UNDECIDED}. If the rows were moved, the lineage names the lines "
        "of the ids, which may not hold these rows: keep each row's index with it "
        "(assign Series or frames, which pandas aligns by index; reorder with .loc[index])."
    )


def moved_rows_message(found, name="X"):
    """The warning (and run note) for :func:`moved_rows`' evidence."""
    from ._capture import describe_id  # (it builds on the registry)

    columns, n_rows, n_compared, position, row_id = found
    return (
        f"{n_rows} of the {n_compared} rows of {name} compared differ from the record "
        f"their row id names in two or more of the columns {', '.join(columns)}, which "
        "hold values they were loaded with, each loaded value now beside several others "
        f"and each value now where several were loaded: row {position} does not hold "
        f"the values loaded for {describe_id(row_id)}, which its row id names. The row "
        "ids (the index) were likely moved off their rows (df.index = ..., set_axis, "
        "df.shift(), values assigned without alignment: pd.DataFrame(other.to_numpy(), "
        "index=df.index)), or values moved between rows; with so few distinct values "
        "the library cannot tell which line each row came from, and the lineage names "
        "the lines of the ids, which may not hold these rows. Keep each row's index "
        "with it (assign Series or frames, which pandas aligns by index; reorder with "
        ".loc[index]); values deliberately taken from other rows belong in new columns."
    )
