"""Fitted attributes a Newton correction does not reach: recomputed on the retained rows.

The correction sets a model's parameters (``coef_``, ``intercept_``). Some models also
keep what their solver computed from the training data: ``LinearRegression`` keeps the
singular values of its centred (and weighted) training matrix (``singular_``) and its
rank (``rank_``), which a removed row of large values dominates. They are recomputed
here as ``LinearRegression.fit`` computes them, so the corrected model holds nothing its
retrain would not.
"""

import numpy as np
from scipy import linalg, sparse

__all__ = ["refresh_solver_state"]


def refresh_solver_state(final, Z, sample_weight):
    """Recompute, on the retained rows ``(Z, sample_weight)``, the data-dependent
    attributes of ``final`` (in place) other than its parameters."""
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
