"""The inverse of a linear model's Hessian on its free parameters, null space dropped.

The Hessian of the objective is inverted from its spectrum. Eigenvalues below
``1e-10`` of the largest are its numerical null space (e.g. one-hot columns that sum to
the intercept column): no gradient has a component there, so they are dropped rather
than inverted. With ``damping="auto"`` the rest are inverted undamped, since the
Hessian already holds the model's L2 penalty; a float adds that multiple of their mean.
Parameters a constraint holds fixed (``positive=True`` coefficients at 0) stay there
under a small change of the rows, so the inverse lives on the free parameters only.
"""

import warnings

import numpy as np

from ..gradients._dense_size import check_dense_fits
from ..utils._stack import user_stacklevel

__all__ = ["LARGE_HESSIAN", "check_large_hessian", "inverse_hessian"]

# Eigenvalues below this fraction of the largest are the Hessian's numerical null space.
_NULL_RTOL = 1e-10

#: Parameters above which the fit warns of the dense Hessian's cost (a text vocabulary).
LARGE_HESSIAN = 4096


def check_large_hessian(n_params, reason=None):
    """Before the exact Hessian of ``n_params`` parameters is built: raise
    ``MemoryError`` where it, its eigenvectors and its inverse (five dense matrices at
    once) exceed the machine's memory, and warn of the time above :data:`LARGE_HESSIAN`
    parameters (the eigendecomposition grows as their cube). ``reason``: why the dense
    route was taken rather than the Woodbury one (``hessian_route_["reason"]``)."""
    why = "" if reason is None else f" (dense route: {reason})"
    check_dense_fits(
        n_params,
        5,
        "InfluenceExplainer's exact influence (the Hessian, its eigenvectors and inverse)" + why,
    )
    if n_params > LARGE_HESSIAN:
        warnings.warn(
            f"InfluenceExplainer: the final step has {n_params} parameters (a text "
            "vectorizer's vocabulary?): the exact influence builds their dense "
            f"{n_params} x {n_params} Hessian ({8 * n_params**2 / 2**20:,.0f} MiB) and its "
            "eigendecomposition, whose time grows as the cube of their number"
            f"{why}. With fewer training rows than parameters and an L2 penalty, "
            "solver='auto' takes the Woodbury route instead; fewer features "
            "(max_features=, min_df=, SelectKBest) make the fit faster.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def inverse_hessian(hessian, free, damping):
    """The damped inverse of ``hessian`` on its free parameters.

    Parameters
    ----------
    hessian : ndarray of shape (p, p)
    free : ndarray of bool of shape (p,)
        The parameters not held by a constraint; the others get zero rows and columns.
    damping : "auto" or float
        A multiple of the mean kept eigenvalue added to each ("auto": 0).

    Returns
    -------
    inverse : ndarray of shape (p, p)
    eigenvalues : ndarray
        Of the free block, all of them.
    n_null : int
        Eigenvalues dropped as the null space.
    damping : float
        The absolute damping added.
    """
    eigval, eigvec = np.linalg.eigh(hessian[np.ix_(free, free)])
    keep = eigval > _NULL_RTOL * max(eigval.max(), 0.0)
    if not keep.any():
        raise ValueError("The Hessian of the objective is zero: nothing to attribute.")
    absolute = 0.0 if damping == "auto" else float(damping * eigval[keep].mean())
    vec = eigvec[:, keep]
    inverse = np.zeros_like(hessian)
    inverse[np.ix_(free, free)] = (vec / (eigval[keep] + absolute)) @ vec.T
    return inverse, eigval, int((~keep).sum()), absolute
