"""Row ids given for a plain array (``sample_id=``) checked against the rows' values.

A DataFrame's ids are checked against what was loaded for them (:mod:`._misplaced`):
a row holding another row's values is refused. An array has no column names, so its
rows were not compared, and ids given in another order than the rows
(``fit(df.to_numpy(), y, sample_id=row_ids(df_sorted))``) named a wrong line for every
row, without a word. The array is compared as a frame whose columns have no loaded
name: each column is identified with a loaded column by its values on the witness rows
(:mod:`._renamed`), as a renamed column is, and a row holding another witness row's
values, under the id of a row whose values it does not hold, is refused with the
frame's :class:`~sktraceprop.exceptions.LineageError`. A column that is a loaded column
scaled (a scaler's output, :mod:`._scaled`) is compared unscaled: a scaled array
shuffled or split after scaling, given the ids of the rows before, named a wrong line
for every row. Columns that cannot be identified (encoded, projected) are not compared;
nothing is recorded from the comparison.
"""

import numpy as np
import pandas as pd

from ._ids import ROW_INDEX_NAME
from ._scaled import find_scaled, precision, scaled_at_ids, unscaled


def check_array_rows(X, ids):
    """Refuse ``ids`` that do not belong to the rows of the 2-D numeric array ``X``.

    Returns
    -------
    changed : Changes, Unchecked or None
        What was compared (:func:`._record.changes`), for :func:`array_notes`;
        :class:`Unchecked` where ``X`` is not such an array (one column, not numbers),
        which :func:`array_notes` says; None where its rows are not as many as the ids.

    Raises
    ------
    LineageError
        When a row of ``X`` holds the values loaded for another row than its id names.
    """
    from ._record import changes

    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype.kind not in "iuf":
        what = "not a 2-D array" if not isinstance(X, np.ndarray) or X.ndim != 2 else None
        return Unchecked(what or f"an array of {X.dtype} values, not numbers")
    if X.shape[0] != len(ids):
        return None  # (the fit itself refuses a count that differs)
    if X.shape[1] < 2:
        return Unchecked("an array of one column (a reordering is noticed from two)")
    values, columns = np.asarray(X), [f"column {j} of the array" for j in range(X.shape[1])]
    matrix = np.asarray(X, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        # the ids' own rows first (cheap); the search over every loaded column where
        # they do not show a scaling (wrong ids are refused after either)
        scaled = scaled_at_ids(matrix, ids, precision(X))
        if scaled is None:
            scaled = find_scaled(matrix, precision(X))
    if scaled:
        # compared as the loaded values they are, scaled (see _scaled)
        values = unscaled(matrix, scaled, precision(X))
        for f in scaled:
            columns[f.position] += ", unscaled"
    frame = pd.DataFrame(
        values,
        columns=columns,
        index=pd.Index(np.asarray(ids, dtype=np.int64), name=ROW_INDEX_NAME),
    )
    return changes(frame, frame.index.to_numpy(), name="X")


def array_notes(run, changed):
    """The run's notes for the sources of an array's rows whose ids (``sample_id=``)
    could not be checked against its values: their loaded values not kept in this
    process (a fit in a joblib worker), as the notes of a frame's say, or no two columns
    of the array holding loaded columns' values, as loaded or scaled (an encoded or
    projected array, or too few rows to identify a scaling). Their ids are taken as
    given, and the run says so."""
    from ._record import compared_notes

    if isinstance(changed, Unchecked):
        sources = sorted({s.source_id for s in run.sources.values()})
        if not sources:
            return []
        return [
            f"the lines named for the training rows from source(s) {sources} were not "
            f"checked against the array's values: it is {changed.why}. " + _TAKEN_AS_GIVEN
        ]
    reasons = unchecked_reasons(changed)
    unkept = {code: None for code, why in reasons.items() if why is None}
    notes = compared_notes(run, unkept, {}) if unkept else []
    for code, why in reasons.items():
        if why is not None:
            source = run.sources[code].source_id
            notes.append(
                f"the lines named for the training rows from source {source!r} were not "
                f"checked against the array's values: {why}. " + _TAKEN_AS_GIVEN
            )
    return notes


def unchecked_reasons(changed):
    """``{source code: why}`` for the sources whose rows' ids :func:`check_array_rows`
    compared with no two columns of the array (``why`` None: their loaded values are not
    kept in this process); empty where every source was compared, or nothing was."""
    from ._misplaced_columns import MIN_COLUMNS

    compared = getattr(changed, "compared", None)
    if not compared:
        return {}
    reasons = {}
    for code, found in compared[0].items():
        if found is None:
            reasons[code] = None
            continue
        (rows, _), same, as_loaded = found
        columns = same + list(as_loaded)
        if rows and len(columns) >= MIN_COLUMNS:
            continue
        if not rows:
            reasons[code] = (
                "none of them is among the rows whose loaded values are kept (a sample "
                "of 256 to 512 rows per load)"
            )
        elif columns:
            reasons[code] = (
                f"only {columns[0]} holds a loaded column's values, as loaded or scaled "
                f"(a reordering is noticed from {MIN_COLUMNS} columns)"
            )
        else:
            reasons[code] = (
                "no column of the array holds a loaded column's values, as loaded or "
                "scaled (encoded or projected values, or too few rows to identify a "
                "scaling)"
            )
    return reasons


def unchecked_warning(changed, source_of, who):
    """The warning text for a fit that records no run (``who``, a valuer) whose ids
    given for an array could not be checked against its values (None where all were);
    ``source_of`` maps a source code to its :class:`Source`."""
    if isinstance(changed, Unchecked):
        why = {None: f"it is {changed.why}"}
    else:
        why = {
            code: reason or "their loaded values are not kept in this process"
            for code, reason in unchecked_reasons(changed).items()
        }
    if not why:
        return None
    said = "; ".join(
        (f"source {source_of(code).source_id!r}: " if code is not None else "") + reason
        for code, reason in why.items()
    )
    return (
        f"{who}: the lines named by sample_id= for the training rows were not checked "
        f"against the array's values ({said}). " + _TAKEN_AS_GIVEN
    )


_TAKEN_AS_GIVEN = (
    "They are the lines of the ids given as sample_id=, taken as given: had the array's "
    "rows been reordered or split after the ids were taken (an array transformed outside "
    "a traced pipeline, then shuffled), these would be wrong lines and nothing here would "
    "notice. Transform inside a traced pipeline, or keep the ids with the rows "
    "(sktraceprop.array(df))."
)


class Unchecked:
    """What :func:`check_array_rows` returns for ids it could not compare with the rows'
    values, and why (for :func:`array_notes`)."""

    def __init__(self, why):
        self.why = why


def check_ids_of_rows(X, ids, sample_id=None):
    """Refuse ``ids`` that do not belong to the rows of ``X``: a DataFrame's as a traced
    fit does (:func:`._record.changes`), an array's when they were given (``sample_id``)
    as :func:`check_array_rows` does. For fits that record no changed columns (the
    valuer): an array's comparison is returned, for :func:`unchecked_warning`."""
    from ._record import changes

    if isinstance(X, pd.DataFrame):
        changes(X, ids)
        return None
    if sample_id is not None:
        return check_array_rows(X, ids)
    return None
