"""TracedEstimator: lineage for any single estimator (or plain sklearn Pipeline)."""

import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.metadata_routing import process_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._erased_use import warn_erased_use
from ._lineage._bare_outputs import remembered_output
from ._lineage._final import (
    final_fit_rows,
    final_row_ids,
    model_inputs,
    pipeline_leaf,
    refuse_frozen,
)
from ._lineage._fitted_elsewhere import watch_step_fits
from ._lineage._ids import distinct_codes
from ._lineage._record import build_lineage, collect_ops, source_table, upstream_ops
from ._lineage._rows import has_id_level, row_ids
from ._lineage._skorch import rows_trained, skorch_fit_indices
from ._lineage._source import REGISTRY
from ._lineage._upstream_outputs import keep_output
from ._model_lock import exclusive
from ._prediction_log import PredictionLogMixin
from ._tracing import TracedMixin
from .exceptions import LineageError
from .utils._delegation import InnerTagsMixin, PredictDelegationMixin, inner_has

__all__ = ["TracedEstimator"]


class TracedEstimator(
    PredictionLogMixin,
    PredictDelegationMixin,
    InnerTagsMixin,
    TracedMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """Wrap one estimator so that each fit records its lineage.

    The wrapper fits ``clone(estimator)`` into ``estimator_`` and delegates
    ``predict``, ``predict_proba``, ``decision_function``, ``transform``, ``score`` and
    the rest to it. A wrapped transformer fitted on traced rows outside a pipeline
    (for example one scaler per hospital before concatenation) is remembered as an
    *upstream op* of those sources: later runs list it among the ops their rows went
    through where their values show it (its ``transform`` keeps its output on a few
    hundred witness rows, in this process; a traced fit leaves out the upstream ops its
    data is found not to hold, such as each fold's scaler of a ``GridSearchCV``, and its
    notes say which, and which could not be checked).

    Parameters
    ----------
    estimator : estimator object
        Any scikit-learn estimator, a plain ``Pipeline``, or a skorch net (lineage then
        names the rows outside its internal validation split).
    store : BaseStore, default=None
        Where each fit's run is appended.
    log_predictions : bool, default=False
        Append a ``"prediction"`` audit event to ``store`` for every ``predict``,
        ``predict_proba``, ``predict_log_proba`` and ``decision_function`` call (see
        :class:`~sktraceprop.TracedPipeline`). Requires ``store``.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone.
    lineage_ : Lineage
        The run recorded by the last fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` had string column names.
    classes_ : ndarray
        Class labels, for classifiers.

    Warns
    -----
    ErasedRowsHeldWarning
        At the first ``predict``-like or ``score`` call of a model whose run holds
        training rows an erasure request named after it was fitted, once per object and
        store (see :class:`~sktraceprop.TracedPipeline`).
    ErasuresUnknownWarning
        At that call, where ``store`` cannot be read.
    """

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)

    _inner_tags = (*InnerTagsMixin._inner_tags, "transformer_tags", "non_deterministic")

    def __init__(self, estimator, *, store=None, log_predictions=False):
        self.estimator = estimator
        self.store = store
        self.log_predictions = log_predictions

    def fit(self, X, y=None, sample_id=None, **fit_params):
        """Fit a clone of ``estimator`` and record the run.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        sample_id : array-like of int64 of shape (n_samples,), default=None
            Row ids, overriding those carried by ``X``.
        **fit_params : dict
            Passed to ``estimator.fit``; with metadata routing enabled, routed to it as
            it requested (``set_fit_request``), as scikit-learn's meta-estimators do.

        Returns
        -------
        self : object
        """
        refuse_frozen(pipeline_leaf(self.estimator)[0])
        est = clone(self.estimator)

        def fit(X, y, **params):
            # set once the checks before fitting passed: a refused fit leaves the last one
            self.estimator_ = est
            if sklearn.get_config()["enable_metadata_routing"]:
                # as a meta-estimator: the estimator gets what it requested, under its names
                params = process_routing(self, "fit", **params)["estimator"]["fit"]
            if spied is None:  # (a pipeline's final step is watched as it is fitted)
                final.see_validation_set(params)
            return est.fit(X, y, **params)

        leaf, steps = pipeline_leaf(est)
        # a lone estimator sees X itself; only a pipeline's steps can change its rows
        spied = leaf if steps else None
        # The attributes copied below are the new model's: set before a logged call in
        # another thread may read them (its outputs are encoded with classes_), as the
        # run and estimator_ are.
        with exclusive(self):
            # est is handed out as estimator_ before it is fitted: other code may fit it
            # or change it in place before the run is recorded (its steps are watched)
            with (
                skorch_fit_indices(est) as seen,
                final_fit_rows(spied, steps) as final,
                watch_step_fits(est, _ADVICE) as fits,
            ):
                context = (seen, final, fits)
                self._traced_fit(fit, X, y, sample_id, fit_params, context=context)
            for attr in ("n_features_in_", "feature_names_in_", "classes_"):
                if hasattr(self.estimator_, attr):
                    setattr(self, attr, getattr(self.estimator_, attr))
                elif attr in vars(self):  # the last fit's (names of a frame, now an array)
                    delattr(self, attr)
        return self

    def _build_lineage(self, X, ids, context):
        seen, final, fits = context
        est = self.estimator_
        leaf, steps = pipeline_leaf(est)
        try:
            # an imbalanced-learn Pipeline's samplers drop or repeat rows
            row_ids, notes, traced = final_row_ids(X, ids, steps, leaf, final)
        except Exception:
            # a sampler refitted elsewhere meanwhile: that is the cause to say
            fits.check(type(self).__name__)
            raise
        row_ids = rows_trained(row_ids, est, seen, traced, notes)
        transformer = model_inputs(est)
        ops = collect_ops(est)  # (the fingerprints of its fitted state)
        fits.check(type(self).__name__)  # fitted or changed elsewhere meanwhile: no run
        fits.stop()  # (checked: the lineage's own calls of the steps are not watched)
        lineage = build_lineage(self, X, ids, row_ids, transformer, ops, notes)
        _log_upstream(est, lineage, ids, REGISTRY.by_code)
        return lineage

    def __setstate__(self, state):
        super().__setstate__(state)
        # Fitted in another process (a joblib worker, a pickle from another session):
        # this process learns the op there, as the fit would have told it here, so a
        # run of rows it transformed lists it (the pickle carried its sources' records).
        lineage = self.__dict__.get("lineage_")
        if lineage is not None and "estimator_" in self.__dict__:
            ids = lineage.row_ids if lineage.input_row_ids is None else lineage.input_row_ids
            try:
                _log_upstream(
                    self.estimator_,
                    lineage,
                    ids,
                    lambda c: lineage.sources.get(c) or REGISTRY.by_code(c),
                )
            except LineageError:  # a source neither the run nor this process knows
                pass  # (unpickling never fails for it; the op stays unknown here, as before)

    @available_if(inner_has("transform"))
    def transform(self, X, **params):
        """Transform with the fitted estimator.

        A transformer logged as an upstream op (fitted outside a pipeline) keeps its
        output on the witness rows of traced input, in this process: a later traced fit
        compares its data with it, to tell whether its rows went through this step
        (see ``sktraceprop._lineage._upstream_outputs``).
        """
        return self._transform(X, params)

    def _transform(self, X, params, method="transform", sample_id=None):
        check_is_fitted(self)

        def call():
            out = self.estimator_.transform(X, **params)
            _keep_upstream_output(self, X, out)
            return out

        return remembered_output(self, method, X, call, sample_id)

    @available_if(inner_has("transform"))
    def fit_transform(self, X, y=None, sample_id=None, **fit_params):
        """Fit, record the run, and transform ``X``."""
        self.fit(X, y, sample_id=sample_id, **fit_params)
        return self._transform(X, {}, "fit_transform", sample_id)

    @available_if(inner_has("set_output"))
    def set_output(self, *, transform=None):
        """Set the output container of ``transform`` (``"pandas"`` keeps row ids)."""
        self.estimator.set_output(transform=transform)
        if hasattr(self, "estimator_"):
            self.estimator_.set_output(transform=transform)
        return self

    @available_if(inner_has("inverse_transform"))
    def inverse_transform(self, X):
        """Inverse transform with the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.inverse_transform(X)

    @available_if(inner_has("score"))
    def score(self, X, y=None, **params):
        """Score of the fitted estimator (not logged; erased rows it holds said as by
        ``predict``, see :func:`~sktraceprop._erased_use.warn_erased_use`)."""
        check_is_fitted(self)
        warn_erased_use(self, getattr(self, "store", None))
        return self.estimator_.score(X, y, **params)

    @available_if(inner_has("get_feature_names_out"))
    def get_feature_names_out(self, input_features=None):
        """Output feature names of the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.get_feature_names_out(input_features)

    def get_metadata_routing(self):
        """Routing: ``sample_id`` for the wrapper, fit metadata for the estimator."""
        from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping

        router = MetadataRouter(owner=self).add_self_request(self)
        mapping = MethodMapping()
        for method in ("fit", "predict", "predict_proba", "decision_function", "score"):
            mapping.add(caller=method, callee=method)
        mapping.add(caller="transform", callee="transform")
        return router.add(estimator=self.estimator, method_mapping=mapping)


#: How a TracedEstimator's refused fit is avoided.
_ADVICE = (
    "Fit its estimator_ only through the TracedEstimator, or fit a copy of it "
    "(sklearn.base.clone), and change its fitted attributes only once its fit returned."
)


def _keep_upstream_output(wrapper, X, out):
    """Keep ``out`` on its witness rows when ``wrapper`` is an upstream op of the
    sources of ``X``'s rows (see :func:`~sktraceprop._lineage._upstream_outputs.keep_output`)."""
    lineage = getattr(wrapper, "lineage_", None)
    est = wrapper.estimator_
    if lineage is None or not lineage.ops or not _is_upstream(est):
        return
    frames = (pd.DataFrame, pd.Series)
    if not (isinstance(X, frames) and isinstance(out, pd.DataFrame)):
        return
    if not (has_id_level(X.index) and has_id_level(out.index)):
        return
    sources = source_table(row_ids(X))
    upstream = upstream_ops(sources)
    op = lineage.ops[-1]
    if any(o.fingerprint == op.fingerprint for o in upstream):
        keep_output(op, X, out, sources, upstream)


def _is_upstream(est):
    return hasattr(est, "transform") and not hasattr(est, "predict")


def _log_upstream(est, lineage, ids, source_of):
    """Log a fitted transformer (not a model) as an upstream op of the sources of the
    rows ``ids`` it was fitted on (see :meth:`SourceRegistry.log_op`); ``source_of``:
    code -> :class:`Source`. Not for untraced (anonymous) rows."""
    if _is_upstream(est):
        sources = [source_of(int(c)) for c in distinct_codes(ids)]
        if not any(s.source_id.startswith("anonymous:") for s in sources):
            REGISTRY.log_op(lineage.ops[-1], sources)
