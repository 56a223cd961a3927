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
    """

    def __init__(self, objective, X, y, sample_weight):
        self.objective = objective
        self.classes, codes = np.unique(y, return_inverse=True)
        self.n_classes = self.classes.size
        masses = self._masses(y, sample_weight)
        self.mass = np.bincount(codes, weights=masses, minlength=self.n_classes)
        self.total = float(self.mass.sum())
        self.weight = self.total / (self.n_classes * self.mass)
        # u_j = J_j^T v_j / cw_j summed by class as X^T V products (sparse X stays
        # sparse): no block of n x p row gradients
        weights = objective.row_weights(y, sample_weight)
        V = objective.output_gradients(X, y, row_weights=weights)
        V /= self.weight[codes][:, None]
        k, d = objective.n_outputs, objective.n_features
        self.class_sums = np.zeros((self.n_classes, objective.n_params))
        for c in range(self.n_classes):
            rows = np.flatnonzero(codes == c)
            self.class_sums[c, : k * d] = np.asarray(X[rows].T @ V[rows]).T.ravel()
            if objective.fit_intercept:
                self.class_sums[c, k * d :] = V[rows].sum(axis=0)

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
        ratio, coefs = self.removal_parts(y, sample_weight)
        pen = self._penalty_share()
        return (G - pen) * ratio[:, None] + pen + coefs @ self.class_sums

    def removal_parts(self, y, sample_weight):
        """The removal gradients' parts, ``(ratio, coefs)``: row ``i``'s is ``ratio_i``
        times its own gradient (less its penalty share), plus its penalty share, plus
        ``coefs_i @ class_sums``."""
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
        return own / self.weight[codes], self.weight[None, :] - after
