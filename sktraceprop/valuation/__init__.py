"""Data valuation: exact KNN-Shapley values, aggregated by source file and by op."""

from ._knn_shapley import KNNShapleyValuer

__all__ = ["KNNShapleyValuer"]
