"""Data far from 1 in magnitude, brought back by a power of two for Euclidean distances.

Euclidean neighbours are ranked on squared distances. Squared, values near ``1e-300``
underflow to 0 (every training row then ties with every other, and the values are
those of an arbitrary order, with nothing said), and values near ``1e200`` overflow to
infinity. Multiplying every value by one power of two is exact (short of the subnormal
range) and multiplies every squared distance by the same factor, so the neighbours'
order, and the values, do not change. The factor is chosen from the training rows at
``fit`` and applied to the validation rows too; a validation row too large for its
squared distances to stay finite, even so, is refused.
"""

import numpy as np
from scipy import sparse

__all__ = ["check_magnitude", "magnitude_scale", "scaled"]

#: Largest magnitudes within ``2**-_RANGE .. 2**_RANGE`` are kept as they are: their
#: squares and products are normal doubles, and integer data keep their exact path.
_RANGE = 256


def _max_abs(X):
    values = X.data if sparse.issparse(X) else X
    return float(np.abs(values).max()) if values.size else 0.0


def magnitude_scale(X):
    """The power of two that brings the largest magnitude of ``X`` into ``[0.5, 1)``, or
    None where it already lies within ``2**±256`` (or ``X`` is all zeros)."""
    top = _max_abs(X)
    if top == 0.0 or not np.isfinite(top):
        return None
    exponent = int(np.frexp(top)[1])
    return None if abs(exponent) <= _RANGE else float(np.ldexp(1.0, -exponent))


def scaled(X, scale):
    """``X`` multiplied by ``scale`` (a new array; ``X`` itself when ``scale`` is None)."""
    if scale is None:
        return X
    if sparse.issparse(X):
        X = X.copy()
        X.data *= scale
        return X
    return X * scale


def check_magnitude(X_fit, X):
    """Refuse validation rows ``X`` whose squared distances to the (scaled) training rows
    ``X_fit`` could overflow float64: ``(|x| + |x_j|)^2`` summed over the features."""
    width = max(X_fit.shape[1], 1)
    limit = np.sqrt(np.finfo(np.float64).max / width) / 2.0
    top, top_fit = _max_abs(X), _max_abs(X_fit)
    if top + top_fit > limit:
        ratio = f"{top / top_fit:.3g} times" if top_fit else "far above"
        raise ValueError(
            f"the validation rows hold values {ratio} the largest of the training rows: "
            "their squared Euclidean distances to the training rows overflow float64 "
            "and would rank every neighbour alike. Scale the features (for example "
            "with StandardScaler) or drop such rows."
        )
