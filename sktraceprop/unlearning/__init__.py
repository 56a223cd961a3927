"""Remove rows or whole sources from fitted models, certified and audited."""

from ._event import RemovedRows, UnlearningEvent
from ._gradient_correction import GradientCorrectionUnlearner

__all__ = ["GradientCorrectionUnlearner", "RemovedRows", "UnlearningEvent"]
