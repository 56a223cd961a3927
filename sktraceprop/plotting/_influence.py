"""The training rows behind one prediction, as signed bars labelled ``file:line``."""

import warnings

import numpy as np
import pandas as pd

from .._lineage._ids import codes_of
from .._lineage._source import REGISTRY
from ..utils._sklearn_compat import num_samples, safe_indexing
from ._base import axes, shortened, source_names


class InfluenceDisplay:
    """Training rows that most raised and most lowered one test prediction.

    One horizontal bar per training row, labelled with the file and line the row was
    read from, signed as the influence score: positive bars (rows that raise the
    explained margin, i.e. support the explained class, which is the prediction only
    when no other class was asked for) and negative bars (rows that oppose it). Tick
    labels longer than 40 characters are shortened in the middle (``…``); ``labels``
    keeps them whole. Build it with :meth:`from_explanation` or :meth:`from_estimator`.

    Parameters
    ----------
    scores : ndarray of shape (n_rows,)
        Influence of each shown training row, largest first.
    labels : list of str
        ``file:line`` of each row.
    test_index : int
        Position of the explained test row.
    explained : object, default=None
        The class whose margin is explained (None for a regressor's prediction).

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the bars.
    figure_ : matplotlib Figure
        Figure holding the axes.
    bars_ : matplotlib BarContainer
        The bars, in the order of ``scores`` from the top.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> import sktraceprop as stp
    >>> from sktraceprop.plotting import InfluenceDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = stp.from_numpy(rng.randn(40, 3), "influence_rows")
    >>> y = (X["x0"] > 0).astype(int)
    >>> explainer = stp.InfluenceExplainer(LogisticRegression()).fit(X, y)
    >>> display = InfluenceDisplay.from_estimator(explainer, X, n_rows=3)
    >>> display.labels[0].startswith("influence_rows:")
    True
    """

    def __init__(self, *, scores, labels, test_index, explained=None):
        self.scores = scores
        self.labels = labels
        self.test_index = test_index
        self.explained = explained

    def plot(self, *, ax=None, colors=("tab:green", "tab:red")):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        colors : tuple of two colors, default=("tab:green", "tab:red")
            Bars of rows that support and that oppose the prediction.

        Returns
        -------
        display : InfluenceDisplay
        """
        ax = axes(ax, "InfluenceDisplay.plot", figsize=(6, 0.35 * len(self.scores) + 1.2))
        scores = np.asarray(self.scores, dtype=np.float64)
        positions = np.arange(scores.size)[::-1]
        self.bars_ = ax.barh(
            positions, scores, color=[colors[0] if s >= 0 else colors[1] for s in scores]
        )
        ax.set_yticks(positions, shortened(self.labels))
        ax.axvline(0, color="black", linewidth=0.8)
        # the explained class is the one asked for in y, not always the predicted one
        what = "prediction" if self.explained is None else f"class {self.explained}"
        supports = "raises the prediction" if self.explained is None else f"supports {what}"
        ax.set_xlabel(f"influence on the margin (+ {supports})")
        ax.set_title(f"Training rows behind test row {self.test_index} ({what})")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_explanation(cls, explanation, *, test_index=0, n_rows=5, ax=None):
        """The strongest supporters and opponents of one explained test row.

        Parameters
        ----------
        explanation : Explanation
            Returned by :meth:`sktraceprop.InfluenceExplainer.explain`.
        test_index : int, default=0
            Position of the test row in the explained data.
        n_rows : int, default=5
            Supporters and opponents shown, each (at most the ``top_k`` explained: a
            warning says when the explanation kept fewer).
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.

        Returns
        -------
        display : InfluenceDisplay
        """
        return cls._build(explanation, test_index, n_rows, shown_index=test_index).plot(ax=ax)

    @classmethod
    def from_estimator(cls, explainer, X, y=None, *, test_index=0, n_rows=5, ax=None):
        """Explain one row of ``X`` and draw its strongest supporters and opponents.

        Parameters
        ----------
        explainer : InfluenceExplainer
            A fitted explainer.
        X : array-like or DataFrame of shape (n_test, n_features)
            Test rows; only row ``test_index`` is explained.
        y : array-like of shape (n_test,), default=None
            Classes explained; the predicted class if None.
        test_index : int, default=0
            The row of ``X`` to explain.
        n_rows : int, default=5
            Supporters and opponents shown, each.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.

        Returns
        -------
        display : InfluenceDisplay
        """
        n_test = num_samples(X)
        if not 0 <= test_index < n_test:
            raise IndexError(f"test_index {test_index} out of range: X has {n_test} rows")
        X_row = safe_indexing(X, [test_index])
        y_row = None if y is None else np.asarray(y)[[test_index]]
        explanation = explainer.explain(X_row, y_row, top_k=n_rows)
        return cls._build(explanation, 0, n_rows, shown_index=test_index).plot(ax=ax)

    @classmethod
    def _build(cls, explanation, test_index, n_rows, shown_index):
        if not 0 <= test_index < explanation.n_test:
            raise IndexError(
                f"test_index {test_index} out of range: {explanation.n_test} test rows explained"
            )
        kept = explanation.top_indices.shape[1]
        if n_rows > kept and kept < explanation.train_rows["train_index"].nunique():
            warnings.warn(
                f"n_rows={n_rows}, but the explanation kept the {kept} strongest supporters "
                f"and opponents of each test row (explain(top_k={kept})): {kept} of each "
                "drawn; explain with top_k >= n_rows to draw more",
                UserWarning,
                stacklevel=3,
            )
        sides = [explanation.top(n_rows, opponents=opponents) for opponents in (False, True)]
        sides = [side[side["test_index"] == test_index] for side in sides]
        # with few training rows a row can be among both the top and the bottom k
        frame = pd.concat(sides, ignore_index=True)
        # a merged row has one line per parent: its label names them all; a file name
        # that two training sources share takes their folders or SHA-256 (a/data.csv:3)
        codes = np.unique(codes_of(explanation.train_rows["row_id"].to_numpy()))
        names = dict(zip(codes, source_names([REGISTRY.by_code(int(c)) for c in codes])))
        frame = frame.assign(
            label=[
                f"{names[code]}:{int(line)}"
                for code, line in zip(codes_of(frame["row_id"].to_numpy()), frame["line"])
            ]
        )
        joined = frame.groupby("train_index", sort=False)["label"].agg(
            lambda labels: " + ".join(dict.fromkeys(labels))
        )
        frame = frame.drop_duplicates("train_index")
        frame = frame.sort_values("score", ascending=False, kind="stable")
        labels = joined.loc[frame["train_index"]].tolist()
        return cls(
            scores=frame["score"].to_numpy(),
            labels=labels,
            test_index=shown_index,
            explained=None if explanation.y is None else explanation.y[test_index],
        )
