"""scikit-learn estimators around models of other frameworks (JAX).

Importing this package does not import jax: it is imported when a model is fitted.
"""

from ._jax import JaxClassifier, JaxRegressor, MLPApply, MLPInit, mlp

__all__ = ["JaxClassifier", "JaxRegressor", "MLPApply", "MLPInit", "mlp"]
