"""The fitted state a :class:`GradientCorrectionUnlearner` keeps, and what a request
is resolved against.

The steps of ``fit`` that set the state (the clone to fit, the fitted model, its
training rows and their sources, the removal method) or undo it when a fit fails part
way, and the pieces of that state a removal request reads through
:class:`~._request.Resolver` (retained rows, merged rows' parents, source records).
"""

import warnings

import numpy as np
from sklearn.base import clone

from .._holders import hold
from .._lineage._fingerprint import fingerprint
from .._lineage._fit_routes import weighted_parts
from .._lineage._merged_parents import rows_behind
from .._lineage._read_paths import run_table
from .._lineage._record import source_table
from .._removed_rows import warn_refit_on_removed
from .._trained import record_trained_rows
from ..utils._stack import user_stacklevel
from ._convex_models import final_step
from ._forget_at_fit import forget_at_fit
from ._neural_backend import neural_backend
from ._prepare import check_neural_fit, sample_weight_array, unsourced_inputs, without_cache
from ._request import Resolver, source_record
from ._weights import sample_weight_params


class FittedStateMixin:
    """Fitted state of an unlearner: set at fit, discarded by a failed fit, read by a
    removal request."""

    def _clone_to_fit(self, X, sample_weight):
        """``(est, backend, sw, fit_params, weighted)``: a clone of ``estimator`` set to
        store its run where the events go, without pipeline caches, checked for the neural
        correction (of ``backend``, None for a convex model); ``sample_weight`` checked,
        the fit parameters that give it to the steps taking it, and the parts it reaches
        (:func:`~sktraceprop._lineage._fit_routes.weighted_parts`)."""
        est = clone(self.estimator)
        if self.store is not None and "store" in est.get_params(deep=False):
            # the run the removal events name is stored where they are appended
            est.set_params(store=self.store)
        without_cache(est)
        backend = neural_backend(final_step(est))
        check_neural_fit(est, backend, X, sample_weight, self.get_params(deep=False))
        sw = sample_weight_array(sample_weight, X)
        fit_params = sample_weight_params(est, sw, warn=True)
        # the parts the weights reach (with metadata routing, the steps that requested
        # them; checked here, before the fit): a correction weights what the fit weighted
        weighted = weighted_parts(est, fit_params) if fit_params else (False, False)
        return est, backend, sw, fit_params, weighted

    def _hold_fitted(self, est, ids, method, X, changed, forget):
        """Set the fitted state, then resolve ``forget`` among its training rows: the
        removal it asks, ``(positions, named, request)``, or None. A failure leaves the
        unlearner unfitted."""
        lineage = getattr(est, "lineage_", None)
        self._clear_removal_marks()  # (a removal that raised part way: replaced now)
        try:
            self._set_fitted(est, ids, lineage, method)
            self._changed = changed
            self._unsourced = unsourced_inputs(X, ids, lineage, self._sources)
            self._attached = [] if lineage is None else list(lineage.attached_columns)
            pending = None if forget is None else forget_at_fit(self, forget, ids)
        except BaseException:
            self._discard_fitted()
            raise
        # rows removed before (here or in the store): those forget= removes are not
        # learnt by the model this fit leaves
        store = self.store if self.store is not None else getattr(est, "store", None)
        excluded = None if pending is None else ids[pending[0]]
        warn_refit_on_removed(
            ids, type(self).__name__, user_stacklevel(), store=store, excluded=excluded, now=True
        )
        return pending

    def _warn_trained_again(self, removed_before):
        """Warn when this new fit trains on rows this unlearner removed before it."""
        again = np.isin(self.train_row_ids_[self.retained_mask_], np.concatenate(removed_before))
        if again.any():
            warnings.warn(
                f"this fit trains on {int(again.sum())} row(s) that this unlearner removed "
                "before it (a new fit starts a new model and a new log); add them to "
                "forget= to keep them out",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

    def _set_fitted(self, est, ids, lineage, method):
        self.estimator_ = est
        self.train_row_ids_ = ids
        self.retained_mask_ = np.ones(ids.shape[0], dtype=bool)
        self.unlearning_log_ = []
        self.certificate_ = float("nan")
        self.n_iter_ = 0
        self.run_id_ = None if lineage is None else lineage.run_id
        for attr in ("n_features_in_", "feature_names_in_", "classes_"):
            if hasattr(est, attr):
                setattr(self, attr, getattr(est, attr))
            elif attr in self.__dict__:
                delattr(self, attr)
        self._method = method
        self._fingerprint_now = fingerprint(self.estimator_)
        # The sources of the training rows, with the parents of merged and aggregate rows
        # (ids only), so that a pickled unlearner can still follow them.
        # (a file read from several paths, copies: the paths the run's rows were read from)
        self._sources = run_table(lineage, source_table(ids))
        self._derived = any(s.derived for s in self._sources.values())
        self._parents = None
        hold(self)  # another unlearner's removal of these rows names this one
        record_trained_rows(self.estimator_, ids, self._fingerprint_now)

    def _held_row_ids(self):
        """The training rows whose data this unlearner keeps (its retained rows)."""
        return self.train_row_ids_[self.retained_mask_]

    def _final_step_features(self):
        """The retained rows' features as the final step of ``estimator_`` was fitted (or
        corrected) on them, in the order of :meth:`_held_row_ids`: ``(features, known)``,
        see :meth:`~sktraceprop.unlearning._method.RemovalMethod.trained_features`. A
        step that cross fits (``TargetEncoder``) makes them differ from ``transform``'s;
        an explainer of this unlearner takes them."""
        return self._method.trained_features()

    def _discard_fitted(self):
        """Leave the unlearner unfitted (a fit that failed part-way)."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, name)
        for name in (
            "_method",
            "_sources",
            "_derived",
            "_parents",
            "_changed",
            "_unsourced",
            "_attached",
        ):
            self.__dict__.pop(name, None)
        self._clear_removal_marks()

    def _resolver(self):
        """The :class:`~._request.Resolver` of a request to this fitted unlearner."""
        return Resolver(
            self.train_row_ids_,
            self.retained_mask_,
            self._merge_parents,
            self._source,
            getattr(self._method, "validation_ids", None),
            getattr(self, "_attached", ()),
            getattr(self, "_unsourced", None),
        )

    def _merge_parents(self):
        """``(parent_ids, rows)`` of the merged training rows (made once, then kept)."""
        if self._parents is None:
            self._parents = (
                rows_behind(self.train_row_ids_, self._source)
                if self._derived
                else (np.empty(0, np.int64), np.empty(0, np.intp))
            )
        return self._parents

    def _parents_travel(self):
        # An unfitted unlearner that forgets at fit (a GridSearchCV or cross_validate
        # clone sent to a worker) must follow its merged training rows to their parents
        # there: which rows a source id reaches, and what its event says of them. Which
        # merged rows the worker's data holds is not known when it is pickled, so the
        # parents of every merge and aggregate loaded here travel (24 bytes per merged
        # row); a fitted unlearner carries those of its own rows (``_sources``).
        return self.forget is not None and not hasattr(self, "train_row_ids_")

    def _source(self, code):
        """The source record of ``code``, with its parents when anyone has them."""
        return source_record(self._sources, code)
