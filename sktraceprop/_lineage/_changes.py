"""Which columns of the data given to a fit changed after loading, checked before the
fit: values compared with what was loaded for the same rows (see :mod:`._witness`), and
an error where a row holds another row's values (its row id moved off it).
"""

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._filled_merge import filled_from_rows, filled_message
from ._fit_context import _identified
from ._misplaced import misplaced_row
from ._misplaced_columns import MIN_COLUMNS
from ._moved_rows import moved_rows
from ._moved_values import moved_values
from ._over_rows import over_rows
from ._renamed import loaded_names
from ._source_tables import source_table
from ._witness import WITNESSES, changed_columns


def changes(X, ids, name="X"):
    """Columns of ``X`` changed after loading (see :mod:`._witness`).

    Columns written by a traced step outside the pipeline (the ops a
    :class:`TracedEstimator` logged for these sources) are recorded, not compared.

    Raises
    ------
    LineageError
        When a row of ``X`` holds the values loaded for another row (see
        :mod:`._misplaced`): its id names a line whose record it does not hold; or
        when values missing in a row's record hold another merged row's values, moved
        there (see :mod:`._filled_merge`). ``name`` is what the message calls ``X``.
    """
    if not isinstance(X, pd.DataFrame):  # (an array's columns have no names to compare)
        return Changes()
    sources = source_table(ids)
    upstream, _, _ = _identified(X, ids, sources)
    written = {f for op in upstream for f in op.features_out}
    with np.errstate(over="ignore", invalid="ignore"):  # (float32 keys of huge values)
        renamed = loaded_names(X, ids, sources, skip=written)
    found = changed_columns(X, ids, sources, skip=written, renamed=renamed)
    changed = Changes(found)
    changed.by_source, changed.through = found.by_source, found.through
    changed.rows, changed.rows_compared = found.rows, found.rows_compared
    changed.compared_at, changed.compared_through = found.compared_at, found.compared_through
    changed.replaced, changed.emptied = found.replaced, found.emptied
    if len(changed) >= MIN_COLUMNS:  # a row moved differs in at least as many columns
        with np.errstate(over="ignore", invalid="ignore"):
            maybe = []
            found = misplaced_row(X, ids, sources, skip=written, renamed=renamed, undecided=maybe)
        if found is not None:
            raise LineageError(misplaced_message(found, name))
        changed.misplaced_undecided = maybe[0] if maybe else None
        # (no value names the record a row holds: columns of few distinct values)
        with np.errstate(over="ignore", invalid="ignore"):
            unsure = []
            changed.moved_rows = moved_rows(
                X, ids, sources, skip=written, renamed=renamed, undecided=unsure
            )
            changed.moved_rows_undecided = unsure[0] if unsure else None
    if sum(1 for counts in changed.values() if counts[2]) >= MIN_COLUMNS:
        # gaps filled in as many columns: with another merged row's values? (a move)
        with np.errstate(over="ignore", invalid="ignore"):
            moved, changed.filled = filled_from_rows(
                X, ids, sources, skip=written, renamed=renamed
            )
        if moved is not None:
            raise LineageError(filled_message(moved, name))
    if changed:  # (after the errors above: a moved row is refused, not warned of)
        changed.moved = moved_values(X, ids, changed, sources)
        changed.over_rows = over_rows(X, ids, changed, sources)
    changed.compared = _compared_columns(X, sources, renamed, written)
    return changed


class Changes(dict):
    """:func:`changes`' columns changed after loading (a dict, as
    :func:`~._witness.changed_columns` gives them, with its ``by_source``),
    ``compared``: what could be compared (see :func:`_compared_columns`), and
    ``filled``: values of merged rows filling gaps of several rows (see
    :func:`._filled_merge.filled_from_rows`), for the run's notes."""

    compared = None
    filled = ()
    by_source = None  # (set per instance: see ChangedColumns.by_source, .through,
    through = {}  # .rows, .rows_compared, .compared_at and .compared_through)
    rows = {}
    rows_compared = None
    compared_at = np.zeros(0, dtype=np.intp)
    compared_through = {}
    replaced = ()  # (see ChangedColumns.replaced)
    emptied = ()  # (see ChangedColumns.emptied)
    moved = ()  # (see _moved_values.moved_values)
    moved_rows = None  # (see _moved_rows.moved_rows)
    moved_rows_undecided = None  # (see _moved_rows.moved_rows_undecided_note)
    misplaced_undecided = None  # (see _misplaced.misplaced_undecided_note)
    over_rows = ()  # (see _over_rows.over_rows)
    over_rows_undecided = ()  # (see _over_rows_text.over_rows_undecided_note)
    over_rows_unchecked = ()  # (see _over_rows_unchecked.over_rows_unchecked_note)


def _compared_columns(X, sources, renamed, skip):
    """Per source code whose loads are kept: ``((witness rows of X compared, rows of X),
    columns of X compared by name, {column of X: loaded column} compared under another
    name)``, and the columns not identified for holding values of several loaded
    columns."""
    names = [str(c) for c in X.columns]
    out = {}
    for code, rows in renamed.rows.items():
        loaded = {n for w in WITNESSES.loads(code, sources[code].sha256) for n in w.columns}
        same = [n for n in names if n in loaded and n not in skip]
        out[code] = (rows, same, renamed.of(code))
    noted = set(WITNESSES.unchecked(renamed.unloaded))  # (a note of their own)
    for code in renamed.unloaded:
        if code not in noted and sources[code].kind != "anonymous":  # (lineage lost, said)
            out[code] = None
    return out, renamed.ambiguous


def misplaced_message(found, name):
    """The error for a row of ``name`` found holding another row's values."""
    from ._capture import describe_id

    position, own, holds, columns, kept = found
    renamed = any("(loaded as " in c for c in columns)
    shown = ", ".join(columns[:6]) + (f" and {len(columns) - 6} more" if len(columns) > 6 else "")
    if kept is not None:
        where = (
            f"({shown}), more than the {kept} it keeps of the values loaded for "
            f"{describe_id(own)}, which its row id names"
        )
    else:  # a row that is not a witness: what it keeps of its own record is not known
        where = (
            f"({shown}: more than half the values compared), yet its row id names "
            f"{describe_id(own)}"
        )
    return (
        f"row {position} of {name} holds the values loaded for {describe_id(holds)} "
        f"{where}: the row ids (the index, or sample_id=) no longer belong to "
        "their rows, and lineage would name lines whose "
        "records these rows do not hold. pandas keeps the index with its rows, except "
        "where an index is assigned (df.index = ..., set_axis), values are assigned "
        "without alignment (df[cols] = other.to_numpy(), df.iloc[...] = ...), a whole "
        "frame is shifted (df.shift()), or rows are replaced from another frame (where, "
        "mask). Keep each row's index with it (assign Series or frames, which pandas "
        "aligns by index; reorder with .loc[index]). Values deliberately taken from "
        "other rows (lag features) belong in new columns (df['x_prev'] = "
        "df['x'].shift()), which the run records as columns of no known source"
        + (
            ", beside the loaded columns: the columns said 'loaded as' are renamed copies "
            "of loaded columns (identified by their values), and none of this row's "
            "values is its own; or compute them in the pipeline."
            if renamed
            else "."
        )
    )
