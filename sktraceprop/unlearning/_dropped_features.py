"""What the event says of the features a refitted preprocessing no longer outputs.

A preprocessing refitted on the retained rows can output fewer features than before,
for more than one reason: a category only the removed rows had, a column constant on
the retained rows (``VarianceThreshold``), or a reference category that
``OneHotEncoder(drop="first")`` now takes from another category, one the retained rows
do have. The event's note says which, measured on the retained rows through the
preprocessing as it was before the removal, and never names the features (a category
only removed rows had is a value of theirs).
"""

import numpy as np
from scipy import sparse

__all__ = ["dropped_features_note"]


def _kinds(columns):
    """Counts of the columns (rows x dropped) that are all zero, constant otherwise,
    and neither."""
    if sparse.issparse(columns):
        columns = columns.toarray()
    columns = np.asarray(columns, dtype=np.float64)
    if columns.shape[0] == 0:
        return columns.shape[1], 0, 0
    zero = np.all(columns == 0, axis=0)
    constant = ~zero & np.all(columns == columns[:1], axis=0)
    return int(zero.sum()), int(constant.sum()), int((~zero & ~constant).sum())


def dropped_features_note(old_preprocessing, X_retained, dropped):
    """The note on the ``dropped`` feature positions of ``old_preprocessing``'s output.

    Parameters
    ----------
    old_preprocessing : fitted transformer
        The preprocessing before the removal.
    X_retained : array-like or DataFrame
        The retained rows' raw input (a copy: a step with ``copy=False`` may write
        into it).
    dropped : ndarray of int
        Positions, among the old preprocessing's features, that the refitted one no
        longer outputs.

    Returns
    -------
    note : str
    """
    n = len(dropped)
    try:
        columns = old_preprocessing.transform(X_retained)
        columns = (
            columns[:, dropped] if sparse.issparse(columns) else (np.asarray(columns)[:, dropped])
        )
        absent, constant, other = _kinds(columns)
    except Exception:  # a step that cannot transform them again: say what is known
        return (
            f"the preprocessing refitted on the retained rows no longer outputs {n} "
            "feature(s) (a category only the removed rows had, a column constant on the "
            "retained rows, or a reference category drop= now takes elsewhere; not "
            "measured); their coefficients were removed, as a retrain lacks them"
        )
    parts = []
    if absent:
        parts.append(
            f"{absent} that no retained row has (e.g. a category only the removed rows had)"
        )
    if constant:
        parts.append(f"{constant} constant on the retained rows")
    if other:
        parts.append(
            f"{other} that retained rows do have, which the refitted preprocessing leaves "
            "out otherwise (a reference category drop= now takes, a selection that changed)"
        )
    return (
        f"the preprocessing refitted on the retained rows no longer outputs {n} "
        f"feature(s): {'; '.join(parts)}; their coefficients were removed, as a retrain "
        "lacks them"
    )
