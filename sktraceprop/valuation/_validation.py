"""Labels and validation rows checked and brought to the form a valuer's kernel takes."""

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from .._lineage._paired import check_paired
from ..utils._labels import check_label_kinds
from ._distances import _DOT_METRICS
from ._magnitude import check_magnitude, scaled
from ._transformer_read import check_fit_done, check_transformer


def check_no_missing_labels(y, role):
    """Refuse labels (or targets) ``y`` that hold a missing value (``None``, NaN,
    ``pd.NA``): a row's value needs its own label, and a blank label cell read from a
    CSV file is such a value. ``role`` says whose labels they are, for the message."""
    if y is None:
        return
    if hasattr(y, "isna"):  # pandas objects and extension arrays (pd.NA)
        missing = np.asarray(y.isna(), dtype=bool)
    else:
        array = np.asarray(y)
        if array.dtype.kind == "f":
            missing = np.isnan(array)
        elif array.dtype.kind == "O":
            missing = np.asarray(pd.isna(array), dtype=bool)
        else:
            return  # integers, booleans, fixed-width text: nothing can be missing
    missing = missing.reshape(missing.shape[0], -1).any(axis=1) if missing.ndim else missing
    if np.any(missing):
        rows = np.flatnonzero(missing)
        shown = ", ".join(map(str, rows[:5].tolist())) + (", ..." if rows.size > 5 else "")
        raise ValueError(
            f"{role} holds {rows.size} missing label(s) (None, NaN or pd.NA), at row "
            f"position(s) {shown}: a row's value needs its own label (or target). Drop "
            "those rows, or fill their labels, first."
        )


def check_distances(D, what):
    """Refuse negative precomputed distances (as scikit-learn's neighbours do): a
    negative entry is no distance, and often a sign of similarities passed instead,
    which would rank the farthest rows nearest."""
    values = D.data if sparse.issparse(D) else D
    if values.size and values.min() < 0:
        raise ValueError(
            f"Negative values in data passed as precomputed distances: metric="
            f"'precomputed' takes distances, but {what} holds negative values (the "
            f"smallest: {float(values.min())!r}). Similarities (larger = nearer) rank the "
            "farthest rows nearest: pass distances (1 - similarity, say)."
        )


def targets(y, role):
    """Regression targets ``y`` as a float64 copy; text is refused with a message that
    names the task (``role``: whose targets they are)."""
    try:
        return check_array(y, ensure_2d=False, dtype=np.float64, copy=True, input_name="y")
    except ValueError as error:
        if np.asarray(y).dtype.kind not in "OUS":
            raise
        raise ValueError(
            f"{role} must be numbers for a regression (task_='regression'), but {error}. "
            "Class labels are valued with task='classification' (or 'auto')."
        ) from error


def labels(y, n_rows):
    """``y`` checked as one label (or target) per row of ``X``, ``n_rows`` of them."""
    if y is None:
        raise ValueError(
            f"y is None: the validation rows' labels (or targets) are needed, one per row "
            f"of X ({n_rows})"
        )
    y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
    if y.ndim == 2 and y.shape[1] == 1:
        # a column vector (df[["label"]]) is one label per row, as fit without a
        # transformer takes it (scikit-learn's DataConversionWarning)
        y = column_or_1d(y, warn=True)
    if y.ndim != 1 or y.shape[0] != n_rows:
        raise ValueError(f"y must be 1-D with one label per row of X ({n_rows}), got {y.shape}")
    return y


def transformed(transformer, X):
    """``X`` through a fitted ``transformer``, as a float64 C-ordered array or CSR."""
    Xt = transformer.transform(X)
    return check_array(
        Xt, accept_sparse="csr", dtype=np.float64, order="C", input_name="transformed X"
    )


def validation_rows(valuer, X, y):
    """Validation rows ``(X, y)`` as the fitted ``valuer``'s kernel takes them: ``X``
    checked (and transformed) like the training rows, scaled alike; ``y`` as float
    codes of ``classes_`` (-1: a label no training row has) or targets."""
    check_is_fitted(valuer)
    check_fit_done(valuer)
    check_no_missing_labels(y, "y (the validation rows' labels)")
    check_paired(X, y, call="valuing")
    if valuer.transformer_ is None:
        X = validate_data(valuer, X, accept_sparse="csr", dtype=np.float64, order="C", reset=False)
    else:
        validate_data(valuer, X, skip_check_array=True, reset=False)
        # by the transformer as fitted, unchanged while it transforms them
        rows = X
        X = check_transformer(valuer, lambda: transformed(valuer.transformer_, rows))
    if valuer.metric == "precomputed":
        check_distances(X, "the validation rows' precomputed distances")
    if valuer.metric in _DOT_METRICS:
        X = scaled(X, getattr(valuer, "_scale", None))  # (a valuer pickled before it)
        check_magnitude(valuer._fit_X, X)
    y = labels(y, X.shape[0])
    if valuer.task_ == "regression":
        return X, targets(y, "y (the validation rows' targets)")
    # Labels no training row has never match: code -1 (labels of another kind, text
    # against numbers, would all be such: refused).
    check_label_kinds(y, valuer.classes_, f"this {type(valuer).__name__}'s training rows")
    pos = np.searchsorted(valuer.classes_, y).clip(0, valuer.classes_.size - 1)
    return X, np.where(valuer.classes_[pos] == y, pos, -1).astype(np.float64)
