"""Behaviour shared by every traced estimator: capture ids, fit, record, store."""

from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from ._lineage._capture import resolve_row_ids
from ._lineage._record import recording
from ._lineage._stats import source_stats
from ._prediction_log import check_log_predictions, remember_answering_parts
from .utils._delegation import SourcesTravelMixin


class TracedMixin(SourcesTravelMixin):
    """Mixin recording a :class:`~sktraceprop.Lineage` run for every fit.

    Subclasses implement ``_build_lineage(X, ids, context)`` returning the run, and
    call :meth:`_traced_fit` from their public fit methods.
    """

    def _traced_fit(self, fit_method, X, y, sample_id, params, context=None):
        check_log_predictions(self)
        with recording() as outer:
            ids = resolve_row_ids(X, sample_id) if outer else None
            result = fit_method(X, y, **params)
            if outer:
                lineage = self._build_lineage(X, ids, context)
                lineage.source_stats = source_stats(X, y, ids, classes=is_classifier(self))
                if self.store is not None:
                    self.store.save_run(lineage)
                self.lineage_ = lineage
                remember_answering_parts(self)
        return result

    def trace(self, indices):
        """Source file, line and ops of training rows, by position in the training set.

        Parameters
        ----------
        indices : int or array-like of int
            Positions of rows in the data the final estimator was fitted on.

        Returns
        -------
        trace : DataFrame
            Columns ``train_index``, ``row_id``, ``source_id``, ``uri``, ``line`` and
            ``ops``.
        """
        check_is_fitted(self, "lineage_")
        return self.lineage_.trace(indices)

    def _add_sample_id_request(self, router):
        # ``sample_id`` is consumed by the traced estimator itself, like sample_weight
        # by a consumer: with metadata routing on, request it with set_fit_request.
        return router.add_self_request(self)
