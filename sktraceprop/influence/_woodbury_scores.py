"""Scores of :class:`InfluenceExplainer` on the Woodbury route, without ``p``-sized rows.

The dense route's scores are ``-(grad f_t)^T H^-1 g_i`` from a block of test gradients
times ``H^-1`` and a block of training rows' removal gradients, each ``block x p``:
at ``p = 50,000`` TF-IDF terms 800 MB a block, growing with the vocabulary. A linear
model's gradients are ``J(x)^T u`` (a few numbers per row times its feature row,
:meth:`LinearObjective.output_gradients`), so on the Woodbury route the scores are
bilinear forms taken through the training rows (:mod:`..gradients._woodbury_kernel`):
sparse features stay sparse and no array has ``p`` columns but a few fixed vectors.

A removal gradient may hold more than ``J(x_i)^T v_i``: an ``SGDClassifier``'s per-row
penalty share (one vector, every row) and, under ``class_weight="balanced"``, the
change of every class's weight (:class:`._class_balance.BalancedRemoval`: its class
sums, a coefficient per row). Those few vectors ``e`` are multiplied by ``H^-1`` once.

Memory: a block of test rows needs ``O(m b)`` floats (``m`` training rows times
outputs), whatever ``p``; the test rows are taken :data:`WORK_BYTES` at a time (fewer
than ``block_size`` where ``m`` is large).
"""

import numpy as np

from ..gradients._woodbury_kernel import bilinear, jacobian_dot, row_side
from ..utils._sklearn_compat import num_samples

__all__ = ["WORK_BYTES", "RowScores", "WoodburyScores", "work_rows"]

#: Bytes of work arrays (about five ``m x b`` float64 arrays) a block of test rows may
#: take on the Woodbury route; set this module attribute to trade memory for speed.
WORK_BYTES = 256 << 20


def work_rows(m):
    """Rows whose ``m``-row work arrays fit in :data:`WORK_BYTES` (read at call time)."""
    return max(1, int(WORK_BYTES // (5 * 8 * max(m, 1))))


class RowScores:
    """What the exact routes' scores share: the training rows' removal gradients through
    their outputs, and the extra vectors every row's gradient carries a part of (an
    ``SGDClassifier``'s penalty share, balanced class sums). The routes differ in how a
    test row's side is solved (:class:`WoodburyScores`,
    :class:`~._matrix_free.MatrixFreeScores`).
    """

    def __init__(self, inverse, objective, y, row_weights, sample_weight, balance):
        self.inverse, self.objective = inverse, objective
        self.y, self.row_weights, self.sample_weight = y, row_weights, sample_weight
        self.balance = balance
        extras = []
        if objective.penalty_per_sample:
            extras.append(_penalty_share(objective))
        if balance is not None:
            extras.extend(balance.class_sums)
        self.extras = np.asarray(extras, dtype=np.float64).reshape(-1, objective.n_params)

    def removal_parts(self, rows):
        """``(V, coefs)`` of the training rows ``rows``: their gradients with respect to
        the outputs (scaled by the class balance's ratio), and each row's part of the
        extra vectors."""
        V = self.objective.output_gradients(
            self.inverse.X[rows], self.y[rows], row_weights=self.row_weights[rows]
        )
        coefs = np.ones((V.shape[0], 1 if self.objective.penalty_per_sample else 0))
        if self.balance is not None:
            sw = None if self.sample_weight is None else self.sample_weight[rows]
            ratio, class_coefs = self.balance.removal_parts(self.y[rows], sw)
            V = V * ratio[:, None]
            coefs = np.hstack([coefs, class_coefs])
        return V, coefs


class WoodburyScores(RowScores):
    """The test and training sides of the scores for an explainer on the Woodbury route.

    Parameters
    ----------
    inverse : WoodburyInverse
        The explainer's ``H^-1``, built on its training rows.
    objective : LinearObjective
    y, row_weights, sample_weight
        The training rows' targets, weights in the objective and sample weights.
    balance : BalancedRemoval or None
    """

    def __init__(self, inverse, objective, y, row_weights, sample_weight, balance):
        super().__init__(inverse, objective, y, row_weights, sample_weight, balance)
        self.solved_extras = inverse.apply(self.extras) if len(self.extras) else self.extras

    def chunk_rows(self):
        """Test rows a block of work arrays may hold (at least one)."""
        return work_rows(self.inverse.m)

    def test_side(self, Xt, U):
        """The test rows' side: ``a_s = J(x_s)^T u_s``, ``u_s`` their margins' gradients
        with respect to the outputs."""
        obj = self.objective
        side = row_side(self.inverse, Xt, U)
        side["extras"] = jacobian_dot(
            Xt, side["U"], self.solved_extras, obj.n_outputs, obj.n_features, obj.fit_intercept
        )
        side["n"] = num_samples(Xt)
        return side

    def scores(self, side, rows):
        """Scores of the test rows of ``side`` against the training rows ``rows`` (a
        slice): ``-a_s^T H^-1 g_i``, ``g_i`` row ``i``'s removal gradient."""
        V, coefs = self.removal_parts(rows)
        out = bilinear(self.inverse, side, rows, V)
        if coefs.shape[1]:
            out += side["extras"] @ coefs.T
        return -out


def _penalty_share(objective):
    return objective.penalty_per_sample * objective._penalty_vector(None)
