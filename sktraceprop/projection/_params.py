"""JLProjector's number of components, checked against the data in ``fit``."""

import warnings
from numbers import Integral

from sklearn.exceptions import DataDimensionalityWarning

__all__ = ["check_n_components"]


def check_n_components(n_components, n_features):
    """``n_components`` as an int of at least 1, warning if it is above ``n_features``.

    ``True`` is an :class:`numbers.Integral` that sklearn's ``Interval`` accepts; it
    would project onto one dimension although nobody asked for a number. Above
    ``n_features`` the projection adds dimensions instead of removing them, for which
    :class:`~sklearn.random_projection.SparseRandomProjection` warns the same way.

    Parameters
    ----------
    n_components : object
        The ``n_components`` parameter.
    n_features : int
        Columns of the data being fitted.

    Returns
    -------
    n_components : int

    Raises
    ------
    ValueError
        If ``n_components`` is a bool, not an integer, or below 1.
    """
    if isinstance(n_components, bool) or not isinstance(n_components, Integral):
        raise ValueError(
            "The 'n_components' parameter of JLProjector must be an int in the range "
            f"[1, inf) (not a bool). Got {n_components!r} instead."
        )
    if n_components < 1:
        raise ValueError(
            "The 'n_components' parameter of JLProjector must be an int in the range "
            f"[1, inf). Got {n_components!r} instead."
        )
    if n_components > n_features:
        warnings.warn(
            "The number of components is higher than the number of features: "
            f"n_features < n_components ({n_features} < {n_components}). "
            "The dimensionality of the problem will not be reduced.",
            DataDimensionalityWarning,
            stacklevel=4,
        )
    return int(n_components)
