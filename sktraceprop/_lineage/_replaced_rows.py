"""Rows that hold none of the values loaded for the line their id names.

pandas names a row added by enlargement with the label it is given, and the usual one,
``df.loc[df.index.max() + 1] = values``, is the next row id: the next line of the file,
a record this row is not (often a row left out of the frame, a test row). A row
overwritten whole from other rows (``df.iloc[:5] = other.to_numpy()``) keeps an id
whose record it no longer holds too. Neither is a moved row (:mod:`._misplaced`): the
row holds no other witness row's record, or that record's own row still holds it, so
it is not refused; but its lineage names a line none of whose compared values it holds,
and the fit says so (a ``LineageWarning`` and a note of the run).

A witness row counts when it differs from its own record in at least ``MIN_COLUMNS``
loaded values, equals it in no *telling* value, and differs in more columns than it
equals it in. An equal value tells nothing of the row when another row could hold it by
chance: a whole number, a boolean or a text that another witness row of the data holds
too (a label, a code, a category: a row overwritten with the values of another row of
the same class, of another file, still equals its record there). A value no other
witness row holds, or a number not whole, tells: the row kept it, and a column or two
changed in place are changed columns (:mod:`._witness`), not a replaced row. (A row
overwritten from a row that shares as many common values with it as it differs from it
in is not told from a row with columns edited: that is what values can show.)
Differences that are no evidence are left out:
a value missing in the files (filled), a value missing now (blanked: ``where``, a
mask), and a column that differs on half or more of the rows compared (changed
wholesale: a unit conversion or a scaling, which leaves every row its own). Some rows
converted in place, each from its own values, count too: the warning says that there
the line is right; the library cannot tell them from rows given values of elsewhere.

A row whose every compared value is missing now, where the files had at least
``MIN_COLUMNS`` of them, holds nothing of its line either (:func:`emptied_rows`):
``df.reindex`` to labels the frame has no row for (the ids of rows filtered out, of a
test split) makes such rows under real ids, and so does ``where``/``mask`` blanking
whole rows. Whatever fills them later (an imputer, ``fillna``) comes from other rows;
the fit says so with a warning of its own.
"""

import warnings

import numpy as np

from ..exceptions import LineageWarning
from ..utils._stack import user_stacklevel
from ._witness_values import cell_keys

#: Columns in which a row must differ, and keep none, to count as replaced.
MIN_COLUMNS = 2


def replaced_rows(per_column, common=None):
    """Which rows hold none of their record's values (but values any row may hold).

    Parameters
    ----------
    per_column : list of tuple
        For each column compared, ``(name, checked, differs, filled, missing)``: boolean
        arrays over the same witness rows (compared; found different; different where
        the files had no value; missing now).
    common : callable, optional
        ``common(name)``: boolean array over the same rows, True where the row's value
        in column ``name`` is one another row may hold by chance (see
        :func:`common_values`); asked only of rows that might count. None: every equal
        value tells (the rule before: a row equal in any column is not counted).

    Returns
    -------
    replaced : ndarray of bool
        Rows differing, as evidence, in at least ``MIN_COLUMNS`` columns, equal in no
        value that tells, and in fewer columns than they differ in.
    columns : list of list of str
        For each row, the columns it differs in as evidence.
    """
    if not per_column:
        return np.zeros(0, dtype=bool), []
    n = per_column[0][1].size
    evidence = np.zeros(n, dtype=np.int64)
    names, equal = [], []
    for name, checked, differs, filled, missing in per_column:
        equal.append((name, checked & ~differs))
        if 2 * int(differs.sum()) >= int(checked.sum()):
            continue  # (changed wholesale: no row's evidence)
        hard = differs & ~filled & ~missing
        evidence += hard
        names.append((name, hard))
    replaced = evidence >= MIN_COLUMNS
    if replaced.any():
        telling = np.zeros(n, dtype=bool)
        alike = np.zeros(n, dtype=np.int64)  # (equal in a value any row may hold)
        for name, same in equal:
            same = same & replaced
            if not same.any():
                continue
            by_chance = common(name) if common is not None else np.zeros(n, dtype=bool)
            telling |= same & ~by_chance
            alike += same & by_chance
        replaced &= ~telling & (evidence > alike)
    columns = [[name for name, hard in names if hard[i]] for i in np.flatnonzero(replaced)]
    return replaced, columns


def common_values(column):
    """Which cells of ``column`` (a :class:`._witness_values._Column` of the witness rows
    of the data, every source) another row may hold by chance: a whole number, a boolean
    or a text (any value not a number) that at least one other of these rows holds too.
    A number not whole, or a value held once, is told apart."""
    keys = cell_keys(column)
    counts = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    out = np.zeros(len(keys), dtype=bool)
    for i, key in enumerate(keys):
        if key is None or counts[key] < 2:
            continue
        out[i] = key[0] != "n" or float(key[1]).is_integer()
    return out


def emptied_rows(per_column):
    """Which rows hold no value of their record: every value compared is missing now.

    Parameters
    ----------
    per_column : list of tuple
        As for :func:`replaced_rows`.

    Returns
    -------
    emptied : ndarray of bool
        Rows compared in at least ``MIN_COLUMNS`` columns that had a value in the files,
        each missing now, and equal to their record in none.
    columns : list of list of str
        For each such row, the columns compared.
    """
    if not per_column:
        return np.zeros(0, dtype=bool), []
    n = per_column[0][1].size
    gone_everywhere = np.ones(n, dtype=bool)
    gone = np.zeros(n, dtype=np.int64)
    names = []
    for name, checked, differs, filled, missing in per_column:
        lost = checked & differs & missing & ~filled  # (a value in the files, none now)
        gone_everywhere &= ~checked | lost
        gone += lost
        names.append((name, lost))
    emptied = gone_everywhere & (gone >= MIN_COLUMNS)
    columns = [[name for name, lost in names if lost[i]] for i in np.flatnonzero(emptied)]
    return emptied, columns


def warn_replaced(changed, name):
    """Warn where :func:`._record.changes` of an input ``name`` of
    :func:`sktraceprop.merge` or :func:`sktraceprop.aggregate` found rows holding none of
    their record's values, rows or values moved, or values computed over rows: the rows
    made from them record the lines their ids name as their parents. Returns the
    messages warned, in order (a merge or aggregate keeps them for the notes of the fits
    of its rows: :mod:`._derived_notes`)."""
    said = []
    if getattr(changed, "replaced", None):
        said.append(replaced_message(changed.replaced, sum(changed.rows_compared.values()), name))
    if getattr(changed, "emptied", None):
        said.append(emptied_message(changed.emptied, sum(changed.rows_compared.values()), name))
    if getattr(changed, "moved_rows", None):
        from ._moved_rows import moved_rows_message  # (it builds on _witness too)

        said.append(moved_rows_message(changed.moved_rows, name))
    if getattr(changed, "moved", None):
        from ._moved_values import moved_message  # (it builds on _witness, which imports us)

        said.append(moved_message(changed.moved, name))
    if getattr(changed, "over_rows", None):
        from ._over_rows_text import over_rows_message  # (it builds on _witness too)

        said.append(over_rows_message(changed.over_rows, name))
    for message in said:
        warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
    return said


def replaced_message(replaced, n_compared, name="X"):
    """The warning (and run note) naming ``replaced``: ``[(row id, position in X,
    columns)]`` of the witness rows that hold none of their record's values, among
    ``n_compared`` rows compared; ``name`` is what it calls the data."""
    from ._capture import describe_id  # (it builds on the registry)

    row_id, position, columns = replaced[0]
    more = (
        f" (and {len(replaced) - 1} more of the {n_compared} rows compared)"
        if len(replaced) > 1
        else ""
    )
    return (
        f"row {position} of {name}{more} holds none of the values loaded for "
        f"{describe_id(row_id)}, which its row id names, in the column(s) compared "
        f"({', '.join(columns)}), while most rows hold their own: a row added under an "
        "id (df.loc[df.index.max() + 1] = values names the next line of the file) or "
        "overwritten whole from other rows keeps the lineage of a line whose record it "
        "does not hold (where its values were computed from that line's alone, some "
        "rows converted or scaled, the line is right). Give added rows a source of "
        "their own (sktraceprop.from_pandas, then pd.concat), or drop them."
    )


def emptied_message(emptied, n_compared, name="X"):
    """The warning (and run note) naming ``emptied``: ``[(row id, position in X,
    columns)]`` of the witness rows whose every compared value is missing now (see
    :func:`emptied_rows`), among ``n_compared`` rows compared."""
    from ._capture import describe_id  # (it builds on the registry)

    row_id, position, columns = emptied[0]
    more = (
        f" (and {len(emptied) - 1} more of the {n_compared} rows compared)"
        if len(emptied) > 1
        else ""
    )
    return (
        f"row {position} of {name}{more} holds no value of {describe_id(row_id)}, which "
        f"its row id names: the column(s) compared ({', '.join(columns)}) had values "
        "there and are all missing now (df.reindex to labels the frame had no row for, "
        "an outer join or align, or where/mask blanking whole rows). Whatever fills them "
        "(an imputer, fillna) comes from other rows, not from that line, which the "
        "lineage still names. Drop such rows (dropna(how='all')), or give rows of no "
        "source a source of their own (sktraceprop.from_pandas, then pd.concat)."
    )
