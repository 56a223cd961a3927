"""The training rows behind one prediction, as signed bars labelled ``file:line``."""

import warnings

import numpy as np
import pandas as pd

from .._lineage._ids import codes_of
from .._lineage._source import REGISTRY
from .._state_format import RecordedFormatMixin
from ..utils._sklearn_compat import num_samples, safe_indexing
from ._base import axes, shortened, source_names


class InfluenceDisplay(RecordedFormatMixin):
    """Training rows that most raised and most lowered one test prediction.

    One horizontal bar per training row, labelled with the file and line the row was
    read from, signed as the influence score: positive bars (rows that raise the
    explained margin, i.e. support the explained class, which is the prediction only
    when no other class was asked for) and negative bars (rows that oppose it); a score
    of exactly 0 is grey, neither side, and the legend names each kind drawn. Tick
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

    _state_format = 1  # (its pickle records it: see _state_format)

    def __init__(self, *, scores, labels, test_index, explained=None):
        self.scores = scores
        self.labels = labels
        self.test_index = test_index
        self.explained = explained

    def plot(self, ax=None, *, colors=("tab:green", "tab:red", "tab:gray"), **kwargs):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        colors : tuple of three colors, default=("tab:green", "tab:red", "tab:gray")
            Bars of rows that support the explained class, that oppose it, and whose
            score is exactly 0 (neither: removing such a row leaves the margin as it
            is; ``"tab:gray"`` when two colors are given). The legend names the kinds
            drawn.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.barh` (``alpha``, ``label``,
            ``edgecolor``, ...), over the display's own; ``color`` replaces the colors
            by sign.

        Returns
        -------
        display : InfluenceDisplay
        """
        if len(colors) == 2:
            # (supports, opposes) drew a score of 0 as a supporter
            colors = (*colors, "tab:gray")
        if len(colors) != 3:
            raise ValueError(
                "colors must be three colors (supports, opposes, score 0), got "
                f"{len(colors)}: {colors!r}"
            )
        scores = np.asarray(self.scores, dtype=np.float64)
        if np.isnan(scores).any():
            # a NaN is neither >= 0 nor < 0: it was drawn as an opposing row
            raise ValueError(
                f"scores hold NaN ({int(np.isnan(scores).sum())} of {scores.size}): "
                "such a row neither supports nor opposes; drop it first"
            )
        ax = axes(ax, "InfluenceDisplay.plot", figsize=(6, 0.35 * len(self.scores) + 1.2))
        positions = np.arange(scores.size)[::-1]
        kinds = np.sign(scores).astype(int)  # 1 supports, -1 opposes, 0 neither
        color_of = {1: colors[0], -1: colors[1], 0: colors[2]}
        bar_kwargs = {"color": [color_of[k] for k in kinds]}
        bar_kwargs.update(kwargs)
        self.bars_ = ax.barh(positions, scores, **bar_kwargs)
        ax.set_yticks(positions, shortened(self.labels))
        ax.axvline(0, color="black", linewidth=0.8)
        # the explained class is the one asked for in y, not always the predicted one
        what = "prediction" if self.explained is None else f"class {self.explained}"
        supports = "raises the prediction" if self.explained is None else f"supports {what}"
        ax.set_xlabel(f"influence on the margin (+ {supports})")
        ax.set_title(f"Training rows behind test row {self.test_index} ({what})")
        if "color" not in kwargs:
            from matplotlib.patches import Patch

            lowers = "lowers the prediction" if self.explained is None else f"opposes {what}"
            names = {1: supports, -1: lowers, 0: "score 0: no influence"}
            ax.legend(
                handles=[
                    Patch(color=color_of[k], label=names[k]) for k in (1, -1, 0) if k in kinds
                ],
                loc="best",
                fontsize="small",
            )
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_explanation(cls, explanation, *, test_index=0, n_rows=5, ax=None, **kwargs):
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
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.barh` (see :meth:`plot`).

        Returns
        -------
        display : InfluenceDisplay
        """
        return cls._build(explanation, test_index, n_rows, shown_index=test_index).plot(
            ax=ax, **kwargs
        )

    @classmethod
    def from_estimator(cls, explainer, X, y=None, *, test_index=0, n_rows=5, ax=None, **kwargs):
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
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.barh` (see :meth:`plot`).

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
        return cls._build(explanation, 0, n_rows, shown_index=test_index).plot(ax=ax, **kwargs)

    @classmethod
    def _build(cls, explanation, test_index, n_rows, shown_index):
        if not 0 <= test_index < explanation.n_test:
            raise IndexError(
                f"test_index {test_index} out of range: {explanation.n_test} test rows explained"
            )
        explanation._refuse_if_forgotten()  # (as its top() below)
        kept = explanation._n_top
        if n_rows > kept and kept < explanation._train_rows["train_index"].nunique():
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
        codes = np.unique(codes_of(explanation._train_rows["row_id"].to_numpy()))
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
            # (its top() above refused, or said what it holds of erased rows)
            explained=None if explanation._y is None else explanation._y[test_index],
        )
