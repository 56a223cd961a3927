"""The unlearner's ``fit``: a clone fitted on all rows, then the ``forget`` rows removed.

``fit`` as a sequence of named steps, each in its own module: the checks before anything
is fitted (:mod:`._prepare`, :mod:`._forget_at_fit`), the fitted state it sets
(:mod:`._fitted_state`) and the removal of the ``forget`` rows (:mod:`._record`).
"""

import numpy as np

from .._lineage._array_rows import check_array_rows
from .._lineage._capture import resolve_row_ids
from .._lineage._paired import check_paired
from .._lineage._record import changes
from .._lineage._skorch import skorch_fit_indices
from .._model_lock import exclusive
from .._removed_rows import deferring
from .._tracing import library_fit
from ..influence._fit_features import final_fit_inputs
from ..utils._private_copy import private_copy
from ._convex_models import final_step
from ._forget_at_fit import check_parents_here, split_forget
from ._prepare import check_supported, removal_method
from ._record import remove
from ._weights import warn_unweighted_refit


class UnlearnerFitMixin:
    """``fit`` of :class:`~sktraceprop.GradientCorrectionUnlearner`."""

    def fit(self, X, y, sample_weight=None, sample_id=None, X_holdout=None, y_holdout=None):
        """Fit a clone of ``estimator`` on all rows, then remove the ``forget`` rows.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training data; a DataFrame loaded by sktraceprop carries its row ids.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every step of a pipeline whose ``fit`` accepts it (a warning
            names the others), and to the final estimator. Convex models only.
        sample_id : array-like of int64 of shape (n_samples,), default=None
            Row ids of the samples, overriding those carried by ``X``; sliced per fold
            by ``GridSearchCV`` like ``sample_weight``.
        X_holdout, y_holdout : array-like, default=None
            Neural models only: rows the model does not train on. With
            ``calibration="auto"`` or ``"crossfit"`` they correct the crossfit clones'
            losses to the model's level (``"auto"`` needs them, or a skorch validation
            split, to use the crossfit calibration); with ``"holdout"`` their mean loss
            is the calibration target of the removals made by this ``fit``. A skorch
            validation split is used when this is None.

        Returns
        -------
        self : object
        """
        # one fit or removal of this unlearner at a time (see unlearn)
        with exclusive(self, "an unlearner's fit"):
            self._validate_params()
            check_supported(self.estimator, y)
            # a request that cannot be honoured is refused before anything is fitted or stored
            forget = None if self.forget is None else split_forget(self.forget)
            # untraced X whose target (or weights) shows loaded rows warns, as a traced
            # fit does; a traced estimator's own fit below checks them (warned once)
            ids = (
                resolve_row_ids(X, sample_id)
                if hasattr(self.estimator, "_traced_fit")
                else resolve_row_ids(
                    X, sample_id, y=y, fit_params={"sample_weight": sample_weight}
                )
            )
            # y and weights in X's order: the copies below lose their row ids, so the
            # traced estimator's own fit can no longer tell
            check_paired(X, y, sample_weight, ids=ids)
            check_paired(X_holdout, y_holdout)
            if forget is not None:
                check_parents_here(self.forget, ids)
            # columns changed after loading (values moved between rows stay after a removal)
            changed = changes(X, ids)
            if sample_id is not None and isinstance(X, np.ndarray):
                # an array's ids, given: a removal by id must remove the rows they name
                check_array_rows(X, ids)
            # rows this unlearner removed on request before this new fit
            log = getattr(self, "unlearning_log_", ())
            removed_before = [np.asarray(e["row_ids"]) for e in log]
            warn_unweighted_refit(self.estimator, sample_weight, ids)
            est, backend, sw, fit_params, weighted = self._clone_to_fit(X, sample_weight)
            # taken before the fit, which may write into X; kept in place of the caller's
            # data, which the caller may write into later
            given, y = private_copy(X), private_copy(y)
            # A run the clone records has purpose "unlearning" and the user's fitted
            # estimator (if any) as parent; it is stored only if preparing the removal works.
            with library_fit("unlearning", self.estimator, owner=self, model=est):
                # the features the final step is fitted on, taken as they reach it: a step
                # whose fit_transform is not fit().transform() (TargetEncoder cross fits)
                # gives the training rows other features at fit than its transform does
                with skorch_fit_indices(final_step(est)) as seen, final_fit_inputs(est) as fed:
                    # (the rows it trains on that were removed before: said once the
                    # forget= rows, which this fit removes again, are known)
                    with deferring():
                        if hasattr(est, "_traced_fit"):
                            est.fit(X, y, sample_id=sample_id, **fit_params)
                        else:
                            est.fit(X, y, **fit_params)
                # before anything is set on self: a failure here leaves the unlearner as it was
                method, ids = removal_method(
                    est,
                    backend,
                    (given, y, sw, weighted),
                    seen,
                    fed,
                    ids,
                    self.get_params(deep=False),
                    (X_holdout, y_holdout),
                )
                pending = self._hold_fitted(est, ids, method, X, changed, forget)
            if pending is not None:
                positions, named, request = pending
                try:
                    remove(
                        self,
                        positions,
                        named,
                        request=request,
                        options={"X_holdout": X_holdout, "y_holdout": y_holdout},
                    )
                except BaseException:
                    # no model that holds rows the user asked to forget is left to use
                    self._discard_fitted()
                    raise
            if removed_before:
                self._warn_trained_again(removed_before)
            return self
