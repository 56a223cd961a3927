"""Class indices given to the per-sample gradient functions, validated."""

import numpy as np

from ..utils._labels import check_label_kinds

__all__ = ["class_indices", "known_class_indices"]


def known_class_indices(classes, y, what="the model"):
    """Positions of labels ``y`` in the sorted ``classes``, refusing unknown labels.

    ``np.searchsorted`` alone gives a label that is not a class the position where it
    would be inserted: another class's index, or one past the last.

    Parameters
    ----------
    classes : array-like of shape (n_classes,)
        Sorted classes (a classifier's ``classes_``).
    y : array-like of shape (n_samples,)
        Labels.
    what : str, default="the model"
        Whose classes they are, for the message.

    Returns
    -------
    idx : ndarray of shape (n_samples,), dtype intp

    Raises
    ------
    ValueError
        Naming the labels that are not among ``classes``, or the kinds of labels mixed
        in ``y`` that cannot be compared with them.
    """
    classes, y = np.asarray(classes), np.asarray(y)
    check_label_kinds(y, classes, what)
    try:
        idx = np.searchsorted(classes, y)
    except TypeError as exc:  # text beside numbers in one object array: no order
        kinds = sorted({type(v).__name__ for v in y.ravel().tolist()})
        raise ValueError(
            f"y mixes labels of kinds {kinds} that cannot be compared with the classes of "
            f"{what} ({classes[:10].tolist()}): pass labels of one kind, that of the classes"
        ) from exc
    unknown = classes[np.minimum(idx, classes.shape[0] - 1)] != y
    if np.any(unknown):
        labels = sorted({str(v) for v in np.asarray(y)[unknown].tolist()})
        raise ValueError(
            f"labels {labels[:10]}{' ...' if len(labels) > 10 else ''} are not classes of "
            f"{what} ({classes[:10].tolist()}): a margin needs each row's class"
        )
    return idx


def class_indices(y, n_samples):
    """``y`` as a 1D int64 array of ``n_samples`` class indices.

    The range is checked by the caller against the model's outputs. Raises instead of
    casting: a one-hot ``y`` or ``0.5`` cast to integers names other classes silently.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class indices, integers or floats holding integers (a binary net's 0.0 / 1.0).
    n_samples : int
        Rows of ``X``.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype int64

    Raises
    ------
    ValueError
        If ``y`` is not 1D with ``n_samples`` entries, or holds values that are not
        whole numbers.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(
            f"y must be 1d with {n_samples} entries (class indices, not one-hot); got "
            f"shape {y.shape}."
        )
    if y.dtype.kind not in "iub":
        if y.dtype.kind != "f":
            raise ValueError(f"y must hold class indices; got values of dtype {y.dtype}.")
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            raise ValueError(
                f"y must hold class indices (whole numbers); got {np.unique(y[bad])[:5]}."
            )
    return y.astype(np.int64)
