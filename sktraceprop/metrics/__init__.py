"""Metrics for attributions (and, later, unlearning)."""

from ._lds import linear_datamodeling_score
from ._per_sample_loss import per_sample_loss
from ._unlearning import (
    forget_loss_gap_closed,
    function_space_distance_ratio,
    membership_inference_auc,
    score_delta,
    unlearning_report,
)

__all__ = [
    "forget_loss_gap_closed",
    "function_space_distance_ratio",
    "linear_datamodeling_score",
    "membership_inference_auc",
    "per_sample_loss",
    "score_delta",
    "unlearning_report",
]
