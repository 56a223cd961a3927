"""The interface between the unlearner and its removal methods.

:class:`~sktraceprop.unlearning.GradientCorrectionUnlearner` resolves a request to
positions of training rows, asks its method for a :class:`Removal`, appends the event
to the store and only then swaps the corrected model in. A method is one of:

- :class:`~sktraceprop.unlearning._convex.NewtonCorrection` (``_convex.py``): a
  convex model alone, or the final step of a pipeline whose preprocessing is kept;
- :class:`~sktraceprop.unlearning._pipeline_refit.PipelineRefit`
  (``_pipeline_refit.py``): a pipeline whose preprocessing is refitted on the retained
  rows before the final step is corrected;
- :class:`~sktraceprop.unlearning._neural.NeuralCorrection` (``_neural.py``): an
  influence step plus fine-tuning for skorch and JAX classifiers.

A method holds what it needs of the rows the model still holds, and nothing of the
rows it removed: :meth:`RemovalMethod.remove` changes nothing and returns, in the
:class:`Removal`, a new method that holds only the retained rows.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

__all__ = ["Removal", "RemovalMethod"]


@dataclass
class Removal:
    """What one removal computed, not yet applied.

    Attributes
    ----------
    final : estimator
        The corrected final estimator (a new object).
    method : RemovalMethod
        The method's state for the retained rows only.
    fields : dict
        Event fields: ``method``, ``certificate``, ``n_iter`` and method-specific ones.
    preprocessing : list of (str, estimator) or None
        Refitted preprocessing steps replacing the pipeline's, or None to keep them.
    dropped_features : list of str
        Names of features the preprocessing no longer outputs (only removed rows had
        them); kept out of the event, which must not name values of removed rows.
    added_features : list of str
        Names of features the refitted preprocessing outputs that the fitted one did not
        (a term a document-frequency or ``max_features`` limit left out before).
    """

    final: object
    method: "RemovalMethod"
    fields: dict
    preprocessing: list = None
    dropped_features: list = field(default_factory=list)
    added_features: list = field(default_factory=list)


class RemovalMethod(ABC):
    """How one kind of model forgets rows; holds data of the retained rows only."""

    def held_data(self):
        """``(X, y)`` of the held rows as given to ``fit``, for recounting the run's
        statistics; None for what the method keeps only in another form."""
        return None, None

    def trained_features(self):
        """The held rows' features as the final step was fitted on them.

        Returns
        -------
        features : array-like, sparse matrix or None
            One row per held row, in order, as they reached the final step (after the
            preprocessing); None where they are not held.
        known : bool
            With ``features`` None: True when the preprocessing's ``transform`` gives
            them (no step cross fits), False when this method cannot say.
        """
        return None, False

    @abstractmethod
    def remove(self, estimator, forget, keep, params, **options):
        """Compute the removal of rows ``forget``; change nothing.

        Parameters
        ----------
        estimator : estimator
            The unlearner's current ``estimator_`` (a model or a pipeline); not modified.
        forget, keep : ndarray of int
            Positions, among the rows this method holds, of the rows removed and of
            those retained (together, every held row).
        params : dict
            The unlearner's parameters (``get_params(deep=False)``).
        **options
            Method-specific options of the request (``X_holdout``/``y_holdout``).

        Returns
        -------
        removal : Removal
        """
