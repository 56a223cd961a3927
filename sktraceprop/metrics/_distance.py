"""Distances between model outputs and their ratio, with the degenerate cases decided once."""

import numpy as np

__all__ = ["distance_ratio", "frobenius"]


def frobenius(diff):
    """The Frobenius norm of ``diff``, scaled by its largest entry first, so that
    differences below 1e-154 (whose squares underflow) or above 1e154 (whose squares
    overflow) keep their size: an unscaled norm reads them as 0 or inf, which turns a
    ratio of two of them into another number (:func:`distance_ratio`)."""
    diff = np.abs(np.asarray(diff, dtype=np.float64)).ravel()
    if not diff.size:
        return 0.0
    top = float(diff.max())
    if top == 0 or not np.isfinite(top):
        return top
    return top * float(np.sqrt(np.sum(np.square(diff / top))))


def distance_ratio(unlearned, original):
    """``unlearned / original``: the unlearned model's distance to the retrain over the
    original's, with the degenerate cases decided once, for every reader.

    Where the original already behaves like the retrain (``original == 0``: the removal
    changes nothing the rows show), the ratio is ``0.0`` when the unlearned model does
    too (nothing to remove, nothing left) and ``inf`` when it does not (the correction
    moved the model away from a retrain it already matched: no finite multiple of a zero
    distance). A NaN distance (no outputs to compare) gives NaN.

    Parameters
    ----------
    unlearned, original : float
        Distances (any norm, the same for both) to the retrain's outputs.

    Returns
    -------
    ratio : float
    """
    unlearned, original = float(unlearned), float(original)
    if original == 0:
        return 0.0 if unlearned == 0 else float("inf")
    return unlearned / original
