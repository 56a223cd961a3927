"""Removal gradients of a model fitted with ``class_weight="balanced"``.

A balanced model weighs class ``c`` by ``M / (K M_c)``, with ``M_c`` the mass of the
class (its rows' summed sample weights or its row count, as the estimator balances
them: :func:`~sktraceprop.gradients._class_weight.balances_weighted_counts`), ``M``
the total and ``K`` the number of classes. Removing row ``i`` of class ``a`` (mass
``m_i``) and refitting, as scikit-learn does, changes the weight of *every* row: ``M``
drops by ``m_i`` and so does ``M_a``. Row ``i``'s own gradient misses that; the exact
change of the objective's gradient at the fitted parameters is, with ``u_j`` row ``j``'s
gradient before its class weight, ``cw`` the weights before and ``cw'`` after the
removal and ``U_c`` the sum of ``u_j`` over class ``c``::

    grad J - grad J_{-i} = cw'_a u_i + sum_c (cw_c - cw'_c) U_c   (+ i's penalty share)
"""

import numpy as np

from ..gradients._class_weight import balances_weighted_counts

__all__ = ["BalancedRemoval"]


class BalancedRemoval:
    """The class masses and class sums that removal gradients of a balanced model need.

    Parameters
    ----------
    objective : LinearObjective
        Objective of a classifier fitted with ``class_weight="balanced"``.
    X, y, sample_weight
        The training rows as the objective takes them.
    block_size : int
        Rows per block when the class sums are accumulated.
    """

    def __init__(self, objective, X, y, sample_weight, block_size):
        self.objective = objective
        self.classes, codes = np.unique(y, return_inverse=True)
        self.n_classes = self.classes.size
        masses = self._masses(y, sample_weight)
        self.mass = np.bincount(codes, weights=masses, minlength=self.n_classes)
        self.total = float(self.mass.sum())
        self.weight = self.total / (self.n_classes * self.mass)
        self.class_sums = np.zeros((self.n_classes, objective.n_params))
        weights = objective.row_weights(y, sample_weight)
        n = np.shape(y)[0]
        for start in range(0, n, block_size):
            rows = slice(start, min(start + block_size, n))
            G = objective.per_sample_gradients(X[rows], y[rows], row_weights=weights[rows])
            u = (G - self._penalty_share()) / self.weight[codes[rows]][:, None]
            np.add.at(self.class_sums, codes[rows], u)

    @staticmethod
    def applies(objective):
        est = objective.estimator
        return isinstance(getattr(est, "class_weight", None), str)

    def _masses(self, y, sample_weight):
        # summed sample weights where the estimator balances those (LogisticRegression
        # in scikit-learn 1.9), else row counts: measured, as the objective's weights are
        est = self.objective.estimator
        if sample_weight is not None and balances_weighted_counts(type(est)):
            return np.asarray(sample_weight, dtype=np.float64)
        return np.ones(np.shape(y)[0])

    def _penalty_share(self):
        obj = self.objective
        return obj.penalty_per_sample * obj._penalty_vector(None)

    def removal_gradients(self, G, y, sample_weight):
        """Exact removal gradients from the rows' own gradients ``G`` (a block of rows,
        weighted by :meth:`LinearObjective.row_weights` of the whole training set)."""
        codes = np.searchsorted(self.classes, y)
        m = self._masses(y, sample_weight)
        total_after = self.total - m
        # weights after removing each row (n_rows, K): its own class lost its mass
        after = total_after[:, None] / (self.n_classes * self.mass[None, :])
        own_mass = self.mass[codes] - m
        rows = np.arange(codes.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            own = np.where(own_mass > 0, total_after / (self.n_classes * own_mass), 0.0)
        after[rows, codes] = own
        pen = self._penalty_share()
        ratio = own / self.weight[codes]
        return (G - pen) * ratio[:, None] + pen + (self.weight[None, :] - after) @ self.class_sums
