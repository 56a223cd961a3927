"""Predictions of the original, unlearned and retrained models, side by side."""

import numpy as np

from .._state_format import RecordedFormatMixin
from ..metrics._distance import distance_ratio, frobenius
from ..metrics._responses import as_list, responses
from ._base import axes


class UnlearningDisplay(RecordedFormatMixin):
    """How close an unlearned model's predictions are to a real retrain's.

    A scatter of each model's output against the retrained model's, for the original
    model (before the removal) and the unlearned one (after it): points of a model that
    behaves like the retrain lie on the diagonal. The legend gives each model's
    distance to the retrain, the root mean square difference of their outputs, and the
    title their ratio (:func:`sktraceprop.metrics.function_space_distance_ratio`).

    Parameters
    ----------
    original, unlearned, retrained : ndarray of shape (n_outputs,)
        Outputs of the three models on the same rows (all outputs of every row).
    response : str
        What the outputs are (``decision_function``, ``predict_proba``, ``predict``).
        Outputs that are not numbers (text class labels) are refused: labels have no
        distance; :meth:`from_estimator` refuses ``"predict"`` for a classifier of text
        or more than two classes likewise.

    Attributes
    ----------
    distance_original : float
        Root mean square difference between the original's and the retrain's outputs.
    distance_unlearned : float
        The same for the unlearned model.
    distance_ratio : float
        ``distance_unlearned / distance_original``: 0 is a perfect removal, 1 no
        removal at all; where the original already equals the retrain, 0 when the
        unlearned model does too and ``inf`` when it does not, as
        :func:`~sktraceprop.metrics.function_space_distance_ratio` gives it (NaN only
        without outputs to compare).
    original_points_, unlearned_points_ : matplotlib PathCollection
        The two scatters.
    ax_ : matplotlib Axes
        Axes with the scatter.
    figure_ : matplotlib Figure
        Figure holding the axes.

    Examples
    --------
    >>> import numpy as np
    >>> from sktraceprop.plotting import UnlearningDisplay
    >>> d = UnlearningDisplay(
    ...     original=np.array([0.0, 2.0]), unlearned=np.array([1.0, 1.0]),
    ...     retrained=np.array([1.0, 1.0]), response="predict",
    ... )
    >>> d.distance_original, d.distance_unlearned, d.distance_ratio
    (1.0, 0.0, 0.0)
    """

    _state_format = 1  # (its pickle records it: see _state_format)

    def __init__(self, *, original, unlearned, retrained, response):
        self.original, self.unlearned, self.retrained = (
            _numbers(a, name)
            for a, name in (
                (original, "original"),
                (unlearned, "unlearned"),
                (retrained, "retrained"),
            )
        )
        self.response = response
        shapes = {a.shape for a in (self.original, self.unlearned, self.retrained)}
        if len(shapes) > 1:
            # a difference would broadcast into a distance of outputs never compared
            raise ValueError(
                "original, unlearned and retrained must be outputs on the same rows, got "
                f"shapes {self.original.shape}, {self.unlearned.shape} and "
                f"{self.retrained.shape}"
            )
        self.distance_original = _rms(self.original - self.retrained)
        self.distance_unlearned = _rms(self.unlearned - self.retrained)
        # (the metric's rule for a zero distance: one ratio wherever it is read)
        self.distance_ratio = distance_ratio(self.distance_unlearned, self.distance_original)

    def plot(self, ax=None, **kwargs):
        """Draw both models' outputs against the retrain's.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter` for both models' points
            (``s``, ``alpha``, ``edgecolors``, ...), over the display's own; a
            ``label`` or ``color`` given here names or colours both alike.

        Returns
        -------
        display : UnlearningDisplay
        """
        if self.retrained.size == 0:
            raise ValueError("UnlearningDisplay has no outputs to draw (its distances are NaN)")
        ax = axes(ax, "UnlearningDisplay.plot", figsize=(5, 5))
        ref = self.retrained
        original = {
            "s": 10,
            "alpha": 0.5,
            "label": f"original (before), distance {self.distance_original:.3g}",
        }
        unlearned = {
            "s": 12,
            "marker": "x",
            "label": f"unlearned (after), distance {self.distance_unlearned:.3g}",
        }
        self.original_points_ = ax.scatter(ref, self.original, **{**original, **kwargs})
        self.unlearned_points_ = ax.scatter(ref, self.unlearned, **{**unlearned, **kwargs})
        low, high = float(np.min(ref)), float(np.max(ref))
        ax.plot([low, high], [low, high], color="grey", linewidth=1, label="retrained")
        ax.set_xlabel(f"{self.response} of the model retrained without the rows")
        ax.set_ylabel(self.response)
        ax.set_title(f"Distance to a real retrain: ratio {self.distance_ratio:.2g}")
        ax.legend(loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls, unlearned, retrained, original, X, *, response_method="auto", ax=None, **kwargs
    ):
        """Compare the three fitted models' outputs on ``X``.

        Parameters
        ----------
        unlearned : fitted estimator
            The model after the removal (a
            :class:`~sktraceprop.GradientCorrectionUnlearner` or the model it holds).
        retrained : fitted estimator or list of them
            Fitted from scratch without the removed rows; several retrains (other
            seeds) are averaged.
        original : fitted estimator
            The model before the removal.
        X : array-like of shape (n_samples, n_features)
            Rows the outputs are compared on.
        response_method : {"auto", "decision_function", "predict_proba", "predict"}, \
default="auto"
            Output compared; "auto" takes the first the models have, in that order.
            Classifiers that know different classes (a retrain without a whole class)
            compare "predict_proba" only (see
            :func:`~sktraceprop.metrics.function_space_distance_ratio`).
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.scatter` (see :meth:`plot`).

        Returns
        -------
        display : UnlearningDisplay
        """
        retrained = as_list(retrained)
        name, (unl, orig, *refs) = responses([unlearned, original, *retrained], X, response_method)
        display = cls(
            original=orig.ravel(),
            unlearned=unl.ravel(),
            retrained=np.mean(refs, axis=0).ravel(),
            response=name,
        )
        return display.plot(ax=ax, **kwargs)


def _numbers(outputs, name):
    """``outputs`` as float64, refusing labels: a distance between class labels (text,
    or numbers that code classes) depends on how they are coded, not on the models."""
    outputs = np.asarray(outputs)
    if outputs.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must hold numeric outputs (decision values, probabilities or "
            f"regression predictions), got values of dtype {outputs.dtype} "
            f"({outputs.ravel()[:3].tolist()}): predicted class labels have no distance; "
            "pass the models' predict_proba or decision_function outputs"
        )
    return outputs.astype(np.float64)


def _rms(diff):
    """Root mean square of ``diff`` (scaled: see :func:`..metrics._distance.frobenius`)."""
    return float(frobenius(diff) / np.sqrt(diff.size)) if diff.size else float("nan")
