"""Per-sample gradients and Hessians of fitted models (closed forms for linear models)."""

from ._linear import SUPPORTED_ESTIMATORS, LinearObjective, linear_model_objective

__all__ = ["SUPPORTED_ESTIMATORS", "LinearObjective", "linear_model_objective"]
