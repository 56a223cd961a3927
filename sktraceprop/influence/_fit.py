"""The explainer's ``fit``: the model fitted (or taken as fitted), its rows and Hessian.

``fit`` as a sequence of named steps: the model and the rows it was trained on
(:mod:`._fit_rows`), then the neural or linear part and the model's fingerprint
(:mod:`._fit_parts`).
"""

from .._holders import hold
from .._lineage._paired import check_paired
from .._lineage._skorch import is_skorch_net
from .._model_lock import exclusive
from .._removed_rows import warn_refit_on_removed
from ..gradients import linear_model_objective
from ..gradients._torch_objective import check_torch_objective
from ..utils._fit_under_way import fit_marked
from ..utils._prefit import unfrozen
from ..utils._read_unchanged import ReadSnapshot
from ..utils._stack import user_stacklevel
from ._fit_view import FitToken
from ._fitted import learning_steps, refuse_untraced_samplers, trained_row_ids, unwrap
from ._model_held import given_model_held
from ._neural_model import is_neural_model
from ._targets import check_one_output, one_target


def model_store(estimator):
    """The store ``estimator`` (a traced model, an unlearner, frozen or not) writes
    removals and runs to, or None (an attribute ``store`` of another kind too)."""
    from ..stores._base import BaseStore

    estimator = unfrozen(estimator)
    store = getattr(estimator, "store", None)
    if store is None and hasattr(estimator, "unlearning_log_"):  # an unlearner's model
        store = getattr(getattr(estimator, "estimator_", None), "store", None)
    return store if isinstance(store, BaseStore) else None


class ExplainerFitMixin:
    """``fit`` of :class:`~sktraceprop.InfluenceExplainer`."""

    def fit(self, X, y, sample_weight=None):
        """Fit the estimator, then compute and factor the Hessian of its objective.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; traced frames carry the row ids scores are mapped to.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the final estimator's ``fit`` and used in its objective. With
            metadata routing enabled, passed as ``sample_weight`` to the steps that
            request it, the final estimator among them.

        Returns
        -------
        self : object
        """
        # refitted alone: an explain under way in another thread would read half the
        # old fit and half the new (scores of one model traced to the other's rows)
        # a fitted model given is read with no refit of it in between (see _model_held)
        # marked while it runs: a copy made meanwhile (pickle, deepcopy) says so
        with exclusive(self, "an explainer's fit"), given_model_held(self), fit_marked(self):
            self._validate_params()
            # explanations of the fit this one replaces refuse to trace from here on,
            # also where this fit fails halfway (see _fit_view)
            self.__dict__.pop("_fit_token", None)
            self.__dict__.pop("forgotten_", None)
            # no query runs on a fit that did not complete (see _check_model_unchanged)
            self.__dict__.pop("_fingerprint_now", None)
            if y is None:
                raise ValueError(
                    "InfluenceExplainer requires y to be passed, but the target y is None"
                )
            # each gradient needs its own row's target (and weight): refused before anything
            # is fitted where the row ids show them paired with other rows
            check_paired(X, y, sample_weight)
            target = one_target(y, self.estimator)  # refused before anything is fitted
            as_is, seen, fed = self._resolve_model(X, y, sample_weight)
            try:
                self._fit_read(X, y, sample_weight, target, as_is, seen, fed)
            finally:
                self.__dict__.pop("_read_from", None)  # (it holds the model's attributes)
            # names this fit for the explanations it scores (see _fit_view)
            self._fit_token = FitToken()
            return self

    def _fit_read(self, X, y, sample_weight, target, as_is, seen, fed):
        """The fit's reads of ``estimator_`` (resolved): a model given fitted is checked
        unchanged by them at the end (and before a stationarity warning)."""
        if as_is:
            # a plain model has no lock to hold (nor has a traced one's step refitted
            # by itself): a change while it is read is found after the reads
            self._read_from = ReadSnapshot(self.estimator_)
        model, transformer, lineage = unwrap(self.estimator_)
        trained, held = trained_row_ids(self.estimator_)
        if lineage is None and trained is None:
            refuse_untraced_samplers(self.estimator_)
        if as_is:
            self._check_given_rows(X, model, lineage, trained)
        self.model_ = model
        self.transformer_ = transformer
        self.fixed_steps_ = learning_steps(transformer)
        neural = is_neural_model(model)
        if as_is and is_skorch_net(model):
            check_torch_objective(model)  # (a net fitted here was checked at its fit)
        self.objective_ = None if neural else linear_model_objective(model)
        check_one_output(self.objective_, model)
        Xt = self._take_features(X, fed, neural, sample_weight)
        self._select_rows(X, target, sample_weight, Xt, (lineage, trained, held, seen), neural)
        # the explainer keeps its training rows' features and credits them: rows
        # removed from a model (or merged from such rows) are said, whether its
        # model was fitted here or given fitted (the store it writes to, or wrote
        # to, checked too: removals of other processes are recorded there)
        warn_refit_on_removed(
            self.train_row_ids_,
            type(self).__name__,
            user_stacklevel(),
            model_store(self.estimator_),
            now=True,
            given_fitted=as_is,
        )
        hold(self)  # a removal of any of these rows names this explainer
        self.n_train_ = self.Xt_.shape[0]
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        if hasattr(self.estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.estimator_.feature_names_in_
        if neural:
            self._fit_neural(as_is and lineage is None and trained is None)
        else:
            self._fit_linear(as_is and lineage is None and trained is None)
        self._locate_train_rows(X)
        self._record_fingerprint()
