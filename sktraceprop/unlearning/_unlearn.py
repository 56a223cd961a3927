"""The unlearner's ``unlearn``: a removal request checked, resolved and carried out.

What a request reaches is resolved in :mod:`._request`; the removal and its audit record
are :mod:`._record`'s.
"""

from sklearn.utils.validation import check_is_fitted

from .._lineage._paired import check_paired
from .._model_lock import exclusive
from ._erase import check_redact
from ._holdout_dropped import drop_validation_only
from ._record import remove
from ._removal_mark import RemovalMarkMixin


class UnlearnMixin(RemovalMarkMixin):
    """``unlearn`` of :class:`~sktraceprop.GradientCorrectionUnlearner` (a copy made
    while one was swapped in refuses it, :mod:`._removal_mark`)."""

    def unlearn(
        self,
        *,
        source_id=None,
        sample_id=None,
        mask=None,
        X_holdout=None,
        y_holdout=None,
        redact=None,
    ):
        """Remove the influence of training rows from the fitted model, in place.

        Give exactly one of ``source_id``, ``sample_id`` or ``mask``. A request that
        cannot be honoured raises and leaves the model unchanged.

        Parameters
        ----------
        source_id : str or list of str, default=None
            Remove every retained training row derived from these sources, rows merged
            from them included. A source id names every source read under it: every
            version of an edited file, and every file read under that name (two
            folders' ``data.csv`` are both ``data`` by default; a ``LineageWarning``
            then names the files, and ``sample_id=`` removes one file's rows).
        sample_id : array-like of int64, default=None
            Remove these rows (packed row ids): each must be a retained training row or
            a parent of one (a row of a source that :func:`sktraceprop.merge` merged
            into training rows, which are then removed with it).
        mask : array-like of bool of shape (n_train,), default=None
            Remove the rows selected by the mask, aligned with ``train_row_ids_`` (the
            rows given to ``fit``, or those a skorch net trained on) by position. A
            pandas Series indexed by row ids (a traced frame's) must hold them in that
            order, else it is refused (its marks would fall on other rows).
        X_holdout, y_holdout : array-like, default=None
            Neural models only: rows the model never trained on (raw features, as for
            ``predict``), whose mean loss is the calibration target of the influence
            step (see ``calibration``). None uses a skorch validation split if the net
            had one.
        redact : str, default=None
            Also erase from the store what the run stored at fit holds of the removed
            rows (feature names only they produced, the training-data statistics of
            their sources, the SHA-256 and counts of their sample weights: what the
            event's ``caveat`` lists), giving this reason (an erasure request's
            reference), and what every other stored run given removed rows holds of
            them (cross-validation and search runs, an explainer's: their sources'
            statistics, their weights' record, those feature names). The store appends
            a ``store.redaction`` event per run, naming the unlearning event, and
            deletes the values (:meth:`BaseStore.redact
            <sktraceprop.stores.BaseStore.redact>`); the hash chain still verifies.
            Audit events already logged (predictions, explanations) are not changed.
            Needs a store of schema version 3 (runs sealed), checked before anything
            is removed.

        Returns
        -------
        self : object
            The unlearner, with ``estimator_`` corrected and one more event in
            ``unlearning_log_``.

        Raises
        ------
        UnknownSourceError
            If a source id is not registered.
        UnlearningError
            If the request names no retained training row, names rows that were never
            trained on or are already removed, or would remove every retained row, or
            if ``mask`` is a Series whose row ids are not the training rows in order.
        LineageError
            If ``y_holdout`` is a Series whose row ids put its rows in another order
            than ``X_holdout``'s.

        Warns
        -----
        UserWarning
            If retained training rows joined group statistics
            (:func:`sktraceprop.aggregate`) computed over removed rows: their features
            still carry the removed rows' data. The event's ``caveat`` and
            ``aggregates_over_removed_rows`` say which and how many. Likewise for
            steps fitted outside the model (:class:`~sktraceprop.TracedEstimator`) on
            sources of removed rows (``steps_fitted_outside_over_removed_rows``), and
            for input columns changed after loading, outside the pipeline
            (``columns_changed_after_loading``): values moved between rows by pandas
            (``shift``, ``ffill``, ``rolling``) may still carry removed rows' data.
            If the request names only rows of a skorch validation split (never trained
            on): those are dropped from the calibration holdout the unlearner keeps, the
            model is unchanged and no event is logged (also for ``forget=`` at fit).
        """
        # Two removals racing would both be computed from the same retained rows and
        # model, and the one swapped in last would undo the other while both events say
        # their rows are removed: removals (and fits) of one unlearner wait their turn.
        with exclusive(self, "an unlearner's removal"):
            check_is_fitted(self, "estimator_")
            self._check_whole()
            given = [a is not None for a in (source_id, sample_id, mask)]
            if sum(given) != 1:
                raise TypeError("unlearn() takes exactly one of source_id=, sample_id= or mask=")
            check_redact(self, redact)
            check_paired(X_holdout, y_holdout)
            asked = self._resolver().request(source_id, sample_id, mask, stacklevel=2)
            if asked.dropped is not None:
                # it names only rows of the validation split, which the model never trained on
                drop_validation_only(self, asked.dropped, asked.what)
                return self
            remove(
                self,
                asked.positions,
                asked.named,
                request=asked.request,
                options={"X_holdout": X_holdout, "y_holdout": y_holdout},
                redact=redact,
            )
            return self
