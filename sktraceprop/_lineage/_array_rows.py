"""Row ids given for a plain array (``sample_id=``) checked against the rows' values.

A DataFrame's ids are checked against what was loaded for them (:mod:`._misplaced`):
a row holding another row's values is refused. An array has no column names, so its
rows were not compared, and ids given in another order than the rows
(``fit(df.to_numpy(), y, sample_id=row_ids(df_sorted))``) named a wrong line for every
row, without a word. The array is compared as a frame whose columns have no loaded
name: each column is identified with a loaded column by its values on the witness rows
(:mod:`._renamed`), as a renamed column is, and a row holding another witness row's
values, under the id of a row whose values it does not hold, is refused with the
frame's :class:`~sktraceprop.exceptions.LineageError`. Columns that cannot be
identified (scaled, encoded) are not compared; nothing is recorded from the comparison.
"""

import numpy as np
import pandas as pd

from ._ids import ROW_INDEX_NAME


def check_array_rows(X, ids):
    """Refuse ``ids`` that do not belong to the rows of the 2-D numeric array ``X``.

    Returns
    -------
    changed : Changes or None
        What was compared (:func:`._record.changes`), for :func:`unkept_notes`; None
        where ``X`` is not such an array.

    Raises
    ------
    LineageError
        When a row of ``X`` holds the values loaded for another row than its id names.
    """
    from ._record import changes

    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype.kind not in "iuf":
        return None
    if X.shape[0] != len(ids) or X.shape[1] < 2:
        return None
    frame = pd.DataFrame(
        np.asarray(X),
        columns=[f"column {j} of the array" for j in range(X.shape[1])],
        index=pd.Index(np.asarray(ids, dtype=np.int64), name=ROW_INDEX_NAME),
    )
    return changes(frame, frame.index.to_numpy(), name="X")


def unkept_notes(run, changed):
    """The run's notes for the sources of an array's rows whose loaded values are not
    kept in this process (a fit in a joblib worker): their ids were not checked, as
    the notes of a frame's say. Other sources' (values that name no loaded column) get
    no note: an array's ids are taken as given."""
    from ._record import compared_notes

    compared = getattr(changed, "compared", None)
    if not compared:
        return []
    unkept = {code: found for code, found in compared[0].items() if found is None}
    return compared_notes(run, unkept, {}) if unkept else []


def check_ids_of_rows(X, ids, sample_id=None):
    """Refuse ``ids`` that do not belong to the rows of ``X``: a DataFrame's as a traced
    fit does (:func:`._record.changes`), an array's when they were given (``sample_id``)
    as :func:`check_array_rows` does. For fits that record no changed columns (the
    valuer): nothing of the comparison is kept."""
    from ._record import changes

    if isinstance(X, pd.DataFrame):
        changes(X, ids)
    elif sample_id is not None:
        check_array_rows(X, ids)
