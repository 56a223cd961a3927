"""Remove rows or whole sources from fitted models, certified and audited."""

from ._gradient_correction import GradientCorrectionUnlearner

__all__ = ["GradientCorrectionUnlearner"]
