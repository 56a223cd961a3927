"""Rows as a neural final step sees them: through the preprocessing, as float32 module
inputs, and holdout rows prepared for the framework backend."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array

from ..utils._module_input import check_module_input


def _final(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def _module_inputs(estimator, X, features=None):
    """``X`` as the final step sees it (through the preprocessing), as float32.

    ``features``: ``X``'s features as they reached the final step at its fit, taken in
    place of the preprocessing's ``transform`` (training rows; see
    :func:`~sktraceprop.influence._fit_features.features_trained_on`).
    """
    if features is not None:
        X = features
    elif isinstance(estimator, Pipeline) and len(estimator) > 1:
        X = estimator[:-1].transform(X)
    check_module_input(X, "the neural correction")
    return check_array(X, dtype=np.float32, allow_nd=True)


def _holdout_rows(backend, estimator, X_holdout, y_holdout):
    """``(Z, Y, "X_holdout")``: the given holdout rows as the final step sees them."""
    Z = _module_inputs(estimator, X_holdout)
    return backend.prepare(_final(estimator), Z, np.asarray(y_holdout)) + ("X_holdout",)
