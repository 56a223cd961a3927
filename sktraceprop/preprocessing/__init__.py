"""Preprocessing that keeps what lineage and unlearning need to know."""

from ._group_statistics import GroupStatistics

__all__ = ["GroupStatistics"]
