"""A holder that a removal or an erasure only names: it keeps its training rows' values
and registers itself as the library's holders do (``hold`` at fit, ``HolderMixin`` for a
copy loaded from a pickle), but has no ``_forget_rows``, so it cannot drop rows (as a
traced model's fitted steps cannot). The tests of naming use it since the valuer drops
the rows a removal takes away."""

import numpy as np
from sklearn.base import BaseEstimator

import sktraceprop as stp
from sktraceprop._holders import HolderMixin, hold


class RowKeeper(HolderMixin, BaseEstimator):
    """Keeps the values and row ids of the rows given to ``fit``."""

    def fit(self, X, y=None):
        self.X_ = np.asarray(X, dtype=np.float64).copy()
        self.row_ids_ = np.asarray(stp.row_ids(X), dtype=np.int64).copy()
        hold(self)
        return self

    def _held_row_ids(self):
        return self.row_ids_
