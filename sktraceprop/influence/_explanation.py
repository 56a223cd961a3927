"""Explanation: influence scores mapped to training rows, source files and lines."""

import numpy as np
import pandas as pd

__all__ = ["Explanation"]


class Explanation:
    """Influence of training rows on test predictions, traced to files and lines.

    Returned by :meth:`InfluenceExplainer.explain`; not built by users.

    Attributes
    ----------
    scores : ndarray of shape (n_test, n_train) or None
        ``scores[j, i]``: change of test row ``j``'s margin caused by training row ``i``
        (positive: the row raises the margin, i.e. supports the explained class). None
        when the full matrix was not kept (only ``top_k`` was asked on a large problem).
    margins : ndarray of shape (n_test,)
        The margins explained (true-class margin, or the prediction of a regressor).
    y : ndarray of shape (n_test,) or None
        The classes explained (given, or predicted when ``y=None``).
    top_indices : ndarray of shape (n_test, top_k)
        Training positions of the ``top_k`` largest scores per test row, best first.
    top_scores : ndarray of shape (n_test, top_k)
    bottom_indices, bottom_scores : ndarray of shape (n_test, top_k)
        The ``top_k`` most negative scores (opponents), most negative first.
    source_scores : DataFrame of shape (n_test, n_sources)
        Sum of the scores of each source's training rows, per test row.
    model_fingerprint : str
        SHA-256 fingerprint of the explained model (class, parameters and fitted
        state), as recorded by the explainer's ``fit``; for a traced pipeline it equals
        the run's ``lineage_.model_fingerprint``.
    """

    def __init__(
        self,
        *,
        scores,
        margins,
        y,
        top_indices,
        top_scores,
        bottom_indices,
        bottom_scores,
        source_scores,
        train_rows,
        explainer,
        model_fingerprint,
    ):
        self.scores = scores
        self.margins = margins
        self.y = y
        self.top_indices = top_indices
        self.top_scores = top_scores
        self.bottom_indices = bottom_indices
        self.bottom_scores = bottom_scores
        self.source_scores = source_scores
        self._train_rows = train_rows
        self._explainer = explainer
        self.model_fingerprint = model_fingerprint

    @property
    def train_rows(self):
        """Row id, source id, URI and line of every training row (DataFrame, by position)."""
        return self._train_rows

    @property
    def n_test(self):
        """Number of test rows explained."""
        return self.top_indices.shape[0]

    def top(self, n=None, *, opponents=False):
        """The most influential training rows of every test row, with file and line.

        Parameters
        ----------
        n : int, default=None
            Rows per test row; all ``top_k`` computed rows if None.
        opponents : bool, default=False
            Return the most negative scores (rows that lower the margin) instead.

        Returns
        -------
        top : DataFrame
            Columns ``test_index``, ``rank``, ``train_index``, ``score``, ``row_id``,
            ``source_id``, ``uri`` and ``line``, sorted by test row then rank.
        """
        idx, val = (
            (self.bottom_indices, self.bottom_scores)
            if opponents
            else (self.top_indices, self.top_scores)
        )
        k = idx.shape[1] if n is None else min(int(n), idx.shape[1])
        idx, val = idx[:, :k], val[:, :k]
        n_test = idx.shape[0]
        train_index = idx.ravel()
        rows = self._train_rows.iloc[train_index]
        return pd.DataFrame(
            {
                "test_index": np.repeat(np.arange(n_test), k),
                "rank": np.tile(np.arange(k), n_test),
                "train_index": train_index,
                "score": val.ravel(),
                "row_id": rows["row_id"].to_numpy(),
                "source_id": rows["source_id"].to_numpy(),
                "uri": rows["uri"].to_numpy(),
                "line": rows["line"].to_numpy(),
            }
        )

    def by_source(self, test_index=None):
        """Influence aggregated per source of training rows.

        Parameters
        ----------
        test_index : int or array-like of int, default=None
            Test rows to aggregate over; all if None.

        Returns
        -------
        by_source : DataFrame
            One row per source, sorted by ``score`` descending: ``source_id``, ``uri``,
            ``n_rows`` (training rows from the source), ``score`` (sum of their scores
            over the selected test rows) and ``mean_score`` (per training row and test
            row).
        """
        frame = self.source_scores
        if test_index is not None:
            frame = frame.iloc[np.atleast_1d(test_index)]
        counts = self._train_rows.groupby("source_id")["uri"].agg(["first", "size"])
        total = frame.sum(axis=0)
        out = pd.DataFrame(
            {
                "source_id": total.index,
                "uri": counts.loc[total.index, "first"].to_numpy(),
                "n_rows": counts.loc[total.index, "size"].to_numpy(),
                "score": total.to_numpy(),
            }
        )
        out["mean_score"] = out["score"] / (out["n_rows"] * len(frame))
        return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)

    def trace(self, test_index=0, rank=0, *, opponents=False):
        """File, line, raw values and ops of one influential training row.

        Parameters
        ----------
        test_index : int, default=0
            Position of the test row in the explained data.
        rank : int, default=0
            0 for the most influential row, 1 for the next...
        opponents : bool, default=False
            Trace the ``rank``-th most negative row instead.

        Returns
        -------
        trace : dict
            ``test_index``, ``rank``, ``train_index``, ``score``, ``row_id``,
            ``source_id``, ``uri``, ``line``, ``values`` (the raw input values of the row
            as passed to ``fit``, a dict; None for a row a sampler synthesised) and
            ``ops`` (names of the steps the row went through).
        """
        idx, val = (
            (self.bottom_indices, self.bottom_scores)
            if opponents
            else (self.top_indices, self.top_scores)
        )
        train_index = int(idx[test_index, rank])
        row = self._train_rows.iloc[train_index]
        return {
            "test_index": int(test_index),
            "rank": int(rank),
            "train_index": train_index,
            "score": float(val[test_index, rank]),
            "row_id": int(row["row_id"]),
            "source_id": row["source_id"],
            "uri": row["uri"],
            "line": int(row["line"]),
            "values": self._explainer._raw_values(train_index),
            "ops": self._explainer._ops(train_index),
        }

    def __repr__(self):
        kept = "kept" if self.scores is not None else "not kept"
        return (
            f"Explanation(n_test={self.n_test}, n_train={len(self._train_rows)}, "
            f"top_k={self.top_indices.shape[1]}, scores {kept}, "
            f"model {self.model_fingerprint[:12]})"
        )
