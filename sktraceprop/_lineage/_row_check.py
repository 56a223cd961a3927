"""The value check :func:`sktraceprop.row_lineage` runs before it names lines: the
check a traced fit runs on its data (:func:`._changes.changes`), for a DataFrame, a
Series and a traced array (``sktraceprop.array``) alike.

A DataFrame is compared as a fit compares it. A Series is compared as the frame of its
one column: a value moved between rows or computed over rows is seen, but a row holding
another row's values is noticed from two columns, and one column never shows it. A
traced array is compared as a fit compares an array given with ``sample_id=``
(:func:`._array_rows.check_array_rows`: its columns identified with loaded columns by
their values, as loaded or scaled); an array that cannot be (one column, not numbers, a
tensor not on the CPU) is said to be unchecked, in a warning, and so are rows whose
loaded values this process does not keep (a frame read in a worker process and sent
back: those values never travel in a pickle).
"""

import warnings

import numpy as np
import pandas as pd

from ..exceptions import LineageError, LineageWarning
from ..utils._stack import user_stacklevel


def check_values(X, ids):
    """Refuse or warn, as a traced fit does, where ``X``'s rows do not hold the values
    loaded for the lines their ids name.

    Parameters
    ----------
    X : DataFrame, Series or traced array
        The data whose lines :func:`sktraceprop.row_lineage` names.
    ids : ndarray of int64
        Its row ids, aligned with its rows.

    Raises
    ------
    LineageError
        When a row of ``X`` holds the values loaded for another row.
    """
    from ._changes import changes  # (it builds on the witnesses, which build on us)
    from ._derived_notes import warn_undecided
    from ._replaced_rows import warn_replaced

    if isinstance(X, pd.Series):
        X = X.to_frame(name="0" if X.name is None else X.name)
    if isinstance(X, pd.DataFrame):
        changed = changes(X, ids)
        warn_replaced(changed, "X")
        warn_undecided(changed, "X", "sktraceprop.row_lineage")
        _warn_unkept(changed)
        _warn_kept(ids)
        return
    _check_array(X, ids)


def _warn_kept(ids):
    """Warn of the notes kept with the merges and aggregates the rows ``ids`` come from
    (:mod:`._derived_notes`): the lines named through them may be wrong."""
    from ._derived_notes import notes_of
    from ._ids import distinct_codes
    from ._source import REGISTRY

    sources = {}
    for code in distinct_codes(ids):
        try:
            sources[int(code)] = REGISTRY.by_code(int(code))
        except LineageError:  # (an id of no source: validate_ids says so)
            continue
    for note in notes_of(sources):
        warnings.warn(
            f"sktraceprop.row_lineage: {note}", LineageWarning, stacklevel=user_stacklevel()
        )


def _warn_unkept(changed):
    """Warn where the rows of some sources could not be compared: the values loaded for
    them are not kept in this process (read in another process, a joblib worker, whose
    frame was unpickled here), as a fit's run notes say."""
    from ._source import REGISTRY

    compared = getattr(changed, "compared", None)
    unkept = [code for code, found in (compared[0] if compared else {}).items() if found is None]
    if not unkept:
        return
    names = ", ".join(sorted({repr(REGISTRY.by_code(c).source_id) for c in unkept}))
    warnings.warn(
        f"the rows of X from source(s) {names} were not compared with what was loaded for "
        "the lines their row ids name: the values loaded for them are not kept in this "
        "process (read in another process, whose frame was unpickled here, or a frame "
        "with duplicate column names or row ids). Had values been moved between rows, or "
        "ids moved off their rows, there, the lines named would be wrong and nothing here "
        "would notice. Read the file in this process (sktraceprop.read_csv) to have them "
        "checked.",
        LineageWarning,
        stacklevel=user_stacklevel(),
    )


def _check_array(X, ids):
    """:func:`check_values` of a traced array: compared as a fit compares an array
    given with ``sample_id=``; a warning where it cannot be."""
    from ._array_rows import Unchecked, check_array_rows
    from ._replaced_rows import warn_replaced

    try:
        values = np.asarray(X)
    except Exception as exc:  # noqa: BLE001 - a tensor on a device, one needing grad
        why = f"an array NumPy cannot read ({type(exc).__name__}: {exc})"
    else:
        if values.ndim == 1:
            values = values[:, None]
        changed = check_array_rows(values, ids)  # (refuses a row holding another's)
        if not isinstance(changed, Unchecked):
            warn_replaced(changed, "X")
            return
        why = changed.why
    warnings.warn(
        f"the values of X (a {type(X).__name__}) were not compared with what was loaded "
        f"for the lines its row ids name: it is {why}. The lines are those of the ids it "
        "carries, taken as given; a row holding another row's values would not be "
        "noticed here. Name them from the traced DataFrame (or two or more numeric "
        "columns of it) to have them checked.",
        LineageWarning,
        stacklevel=user_stacklevel(),
    )
