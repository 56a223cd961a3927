"""Fitted attributes a Newton correction does not reach: recomputed on the retained rows.

The correction sets a model's parameters (``coef_``, ``intercept_``). Some models also
keep what their solver computed from the training data: ``LinearRegression`` keeps the
singular values of its centred (and weighted) training matrix (``singular_``) and its
rank (``rank_``), which a removed row of large values dominates; ``SGDClassifier`` keeps
copies of its parameters and its class weights. They are recomputed here as ``fit``
computes them, so the corrected model holds nothing its retrain would not.
"""

import numpy as np
from scipy import linalg, sparse
from sklearn.utils.class_weight import compute_class_weight

__all__ = ["refresh_solver_state"]


def refresh_solver_state(final, Z, sample_weight, y=None):
    """Recompute, on the retained rows ``(Z, y, sample_weight)``, the data-dependent
    attributes of ``final`` (in place) other than its parameters."""
    _refresh_sgd_state(final, y)
    if not hasattr(final, "singular_") or sparse.issparse(Z):
        return
    X = np.array(Z, dtype=np.float64)
    if final.fit_intercept:
        X -= np.average(X, axis=0, weights=sample_weight)
    if sample_weight is not None:
        X *= np.sqrt(sample_weight)[:, None]
    singular = linalg.svd(X, compute_uv=False, check_finite=False)
    # scipy's lstsq (what LinearRegression calls with cond=tol; before scikit-learn 1.7,
    # which added tol, with cond=max(X.shape) * eps) counts as zero the singular values
    # below cond times the largest
    cond = getattr(final, "tol", None)
    if cond is None:
        cond = max(X.shape) * np.finfo(np.asarray(final.coef_).dtype).eps
    cutoff = cond * singular[0] if singular.size else 0.0
    final.singular_ = singular
    final.rank_ = int(np.sum(singular > cutoff))


def _refresh_sgd_state(final, y):
    """``SGDClassifier``'s copies of its parameters and its class weights, for the
    corrected model and the retained rows ``y``.

    With ``average``, it keeps the last iterate and the running average of the fit
    (``_standard_coef``, ``_average_coef`` and their intercepts): the parameters of the
    model before the removal, from which and the retained rows the removed rows'
    gradients follow. ``_expanded_class_weight`` holds the class weights computed at fit
    (``"balanced"``: from every row's class), which with the retained targets give the
    removed rows' classes. Both are set as a fit that ended at the corrected parameters
    on the retained rows would leave them.
    """
    for kept, current in (
        ("_standard_coef", "coef_"),
        ("_average_coef", "coef_"),
        ("_standard_intercept", "intercept_"),
        ("_average_intercept", "intercept_"),
    ):
        old = getattr(final, kept, None)
        if old is None:
            continue
        new = np.array(getattr(final, current), dtype=np.asarray(old).dtype)
        setattr(final, kept, new.ravel() if np.ndim(old) == 1 else new)
    if getattr(final, "_expanded_class_weight", None) is not None and y is not None:
        final._expanded_class_weight = compute_class_weight(
            final.class_weight, classes=final.classes_, y=y
        )
