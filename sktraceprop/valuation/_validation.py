"""Labels and validation rows checked and brought to the form a valuer's kernel takes."""

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from .._lineage._capture import check_paired
from ..utils._labels import check_label_kinds
from ._distances import _DOT_METRICS
from ._magnitude import check_magnitude, scaled


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
    check_paired(X, y, call="valuing")
    if valuer.transformer_ is None:
        X = validate_data(valuer, X, accept_sparse="csr", dtype=np.float64, order="C", reset=False)
    else:
        validate_data(valuer, X, skip_check_array=True, reset=False)
        X = transformed(valuer.transformer_, X)
    if valuer.metric in _DOT_METRICS:
        X = scaled(X, getattr(valuer, "_scale", None))  # (a valuer pickled before it)
        check_magnitude(valuer._fit_X, X)
    y = labels(y, X.shape[0])
    if valuer.task_ == "regression":
        return X, check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
    # Labels no training row has never match: code -1 (labels of another kind, text
    # against numbers, would all be such: refused).
    check_label_kinds(y, valuer.classes_, f"this {type(valuer).__name__}'s training rows")
    pos = np.searchsorted(valuer.classes_, y).clip(0, valuer.classes_.size - 1)
    return X, np.where(valuer.classes_[pos] == y, pos, -1).astype(np.float64)
