"""Traced pipeline over imbalanced-learn's Pipeline, for sampler steps."""

from imblearn.pipeline import Pipeline as _ImbPipeline

from .pipeline import _TracedPipelineMixin

__all__ = ["TracedImbPipeline"]


class TracedImbPipeline(_TracedPipelineMixin, _ImbPipeline):
    """A traced :class:`imblearn.pipeline.Pipeline`: samplers may drop or repeat rows.

    Row lineage follows each sampler through its ``sample_indices_``, so the run's
    ``row_ids`` are exactly the rows the final estimator was fitted on (a sampler
    without ``sample_indices_``, such as SMOTE, gets a
    :class:`~sktraceprop.exceptions.LineageWarning`). Requires ``imbalanced-learn``.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
    store : BaseStore, default=None
    log_predictions : bool, default=False
        Log every prediction call in ``store`` (see :class:`~sktraceprop.TracedPipeline`).
    transform_input, memory, verbose
        As for :class:`imblearn.pipeline.Pipeline`.

    Attributes
    ----------
    lineage_ : Lineage
        The run recorded by the last fit.
    """

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)
