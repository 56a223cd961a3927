"""What an explainer's fit computes from its training rows, and the model's fingerprint.

The neural part (the ensemble's gradients and the damped Gauss-Newton solve) or the
linear part (the exact inverse Hessian by the cheaper exact route, the distance from
the objective's minimum, each row's leverage, the removal gradients' weights), and the
fingerprint that tells a later call whether the explained model is still the one fitted.
"""

import sys
import warnings

import numpy as np

from .._lineage._fingerprint import fingerprint
from ..exceptions import LineageWarning
from ..utils._fit_under_way import check_fit_finished
from ..utils._prefit import unfrozen
from ..utils._stack import user_stacklevel
from ._class_balance import BalancedRemoval
from ._fitted import run_holder
from ._hessian_route import choose_route, route_line, woodbury_inverse
from ._inverse_hessian import check_large_hessian, inverse_hessian
from ._leverage import leverages
from ._lone_class import lone_class_note
from ._matrix_free import MatrixFreeInverse
from ._messages import (
    cross_fit_cause,
    stationarity_warning,
    unrecorded_rows_note,
    unseen_features_warning,
)
from ._prefit_rows import check_prefit_rows
from ._stationarity import rows_measured, stationarity
from ._trak import fit_neural


class FitPartsMixin:
    """The neural or linear part of an explainer's fit; the explained model's fingerprint."""

    def _fit_neural(self, check_rows):
        """The neural part: the ensemble's gradients and the damped Gauss-Newton solve
        (:func:`~sktraceprop.influence._trak.fit_neural`). ``check_rows``: a net fitted
        before whose training rows nothing recorded is checked against its digest."""
        model = self.model_
        self._rows_unknown = None
        if check_rows:
            cause = cross_fit_cause(self.cross_fitted_) if self.cross_fitted_ else None
            self._rows_unknown = check_prefit_rows(model, self.Xt_, self.y_, cause)
            if self._rows_unknown is not None:
                warnings.warn(self._rows_unknown, LineageWarning, stacklevel=user_stacklevel())
        elif self._fit_features == "unknown":
            warnings.warn(
                unseen_features_warning(self), LineageWarning, stacklevel=user_stacklevel()
            )
        self.trak_ = fit_neural(
            model,
            self.Xt_,
            self.y_,
            method=self.method,
            n_models=self.n_models,
            n_components=self.n_components,
            parameters=self.parameters,
            damping=self.damping,
            gradient_store=self.gradient_store,
            block_size=self.block_size,
            random_state=self.random_state,
            alpha=self.alpha,
            verbose=self.verbose,
            n_jobs=self.n_jobs,
        )
        self.method_ = self.trak_.method
        self.damping_ = float(self.trak_.dampings[0])
        self.damping_selection_ = self.trak_.selection
        # the only row of a class: a retrain without it has no row of the class
        lone = lone_class_note(
            model, self.y_, neural=True, ids=getattr(self, "train_row_ids_", None)
        )
        if lone is not None:
            warnings.warn(lone, UserWarning, stacklevel=user_stacklevel())

    def _fit_linear(self, check_rows=False):
        """The linear part: the exact Hessian, its inverse, how far the model is from
        the minimum (``stationarity_``) and each row's leverage. ``check_rows``: a model
        fitted before whose training rows nothing recorded, which the notes say."""
        self._rows_unknown = None
        self.trak_ = None
        # blocks of training rows get the class weights of all of them ("balanced")
        self.objective_.fix_class_weights(self.y_, self.sample_weight_)
        free = ~self.objective_.bound_parameters()
        self.n_bound_ = int((~free).sum())
        self._prepare_removal()
        route = choose_route(
            self.objective_,
            self.Xt_,
            self._row_weights,
            self.n_bound_,
            self.solver,
            self.block_size,
        )
        inverse = None
        if route["route"] == "matrix_free":
            inverse = MatrixFreeInverse(
                self.objective_, self.Xt_, self.y_, self.sample_weight_, self.damping
            )
        if route["route"] == "woodbury":
            inverse, why = woodbury_inverse(
                self.objective_, self.Xt_, self.y_, self._row_weights, self.damping
            )
            if inverse is None and self.solver == "woodbury":
                raise ValueError(
                    f"solver='woodbury' cannot give the exact inverse Hessian here: {why} "
                    "(the dense route drops such eigenvalues as null space). Use solver='auto' or "
                    "'dense'."
                )
            if inverse is None:
                route = {**route, "route": "dense", "reason": f"Woodbury not exact: {why}"}
        if inverse is not None:
            # no p x p matrix: the Hessian is never formed, its spectrum not computed
            self._inv_hessian, self.n_null_, self.damping_ = (
                inverse,
                inverse.n_null,
                inverse.damping_,
            )
            self.hessian_ = self.hessian_eigenvalues_ = None
            self._woodbury = None
            self._woodbury_scores()  # at fit, not in each joblib worker of explain
        else:
            check_large_hessian(self.objective_.n_params, route["reason"])
            self.hessian_ = self.objective_.hessian(self.Xt_, self.y_, self.sample_weight_)
            self._inv_hessian, eigval, self.n_null_, self.damping_ = inverse_hessian(
                self.hessian_, free, self.damping
            )
            self.hessian_eigenvalues_ = eigval
        self.hessian_route_ = route
        if self.verbose:
            print(route_line(route), file=sys.stderr)
        self._check_stationary()
        if check_rows:
            self._rows_unknown = unrecorded_rows_note(self)
        self.leverage_ = None
        if route["route"] != "matrix_free":  # there: one solve per training row
            self.leverage_ = leverages(
                self.objective_,
                self.Xt_,
                self.y_,
                self._row_weights,
                self._inv_hessian,
                self.block_size,
            )
        # the only row of a class: no refit without it keeps the class (said, not hidden)
        lone = lone_class_note(self.model_, self.y_, ids=getattr(self, "train_row_ids_", None))
        if lone is not None:
            warnings.warn(lone, UserWarning, stacklevel=user_stacklevel())

    def _check_stationary(self):
        """Measure (``stationarity_``) and warn when the model is not at the minimum of
        the objective whose derivatives the scores are (or the features it was fitted on
        are unknown)."""
        gradient = self.objective_.objective_gradient(self.Xt_, self.y_, self.sample_weight_)
        self.stationarity_ = stationarity(
            self.objective_, self.Xt_, self.y_, self._row_weights, gradient, self._inv_hessian
        )
        n_rows = np.shape(self.y_)[0]  # (the measure's sample, said in notes and warnings)
        self._stationarity_rows = (rows_measured(n_rows, self._inv_hessian), n_rows)
        found = stationarity_warning(self)
        if found is not None:
            # a refit in another thread since the fit began moves the model off the
            # minimum too: said as such, not as a solver that stopped early
            self._check_read_unchanged()
            warnings.warn(*found, stacklevel=user_stacklevel())

    def _prepare_removal(self):
        """The rows' weights in the objective, taken on the whole training set (balanced
        class weights depend on every row, whatever the block), and what the removal
        gradients of a balanced model need."""
        self._row_weights = self.objective_.row_weights(self.y_, self.sample_weight_)
        self._balance = None
        if BalancedRemoval.applies(self.objective_):
            self._balance = BalancedRemoval(
                self.objective_, self.Xt_, self.y_, self.sample_weight_
            )

    def _train_gradients(self, rows):
        """Removal gradients of training rows ``rows`` (a slice or an index array): the
        change of the objective's gradient when each row alone is removed."""
        if not hasattr(self, "_row_weights"):  # pickled before they were kept
            self._prepare_removal()
        sw = None if self.sample_weight_ is None else self.sample_weight_[rows]
        G = self.objective_.per_sample_gradients(
            self.Xt_[rows], self.y_[rows], row_weights=self._row_weights[rows]
        )
        if self._balance is not None:
            G = self._balance.removal_gradients(G, self.y_[rows], sw)
        return G

    def _record_fingerprint(self):
        now = fingerprint(unfrozen(self.estimator_))
        self._check_read_unchanged(now)  # (a fit that read two models is never recorded)
        self._fingerprint_now = now
        # The model that answers and logs predictions: inside an unlearner (or a frozen
        # wrapper), the traced model whose run and prediction events name it.
        holder = run_holder(self.estimator_)
        self.model_fingerprint_ = (
            self._fingerprint_now if holder is None else fingerprint(unfrozen(holder))
        )

    def _check_read_unchanged(self, now=None):
        """Refuse the fit where the model given fitted changed while it read it (a refit
        in another thread): its features, gradients and Hessian would be of two fits.
        ``now``: the model's fingerprint, where computed already."""
        snapshot = self.__dict__.get("_read_from")
        change = None if snapshot is None else snapshot.change(self.estimator_, now)
        if change is not None:
            raise ValueError(
                f"The explained model ({type(unfrozen(self.estimator_)).__name__}) changed "
                f"while InfluenceExplainer.fit read it ({change}): refitted or modified "
                "in another thread, so the training rows' features, gradients and Hessian "
                "taken would mix two fits. Nothing of this fit is used; fit the explainer "
                "again once the model is not being refitted (a TracedPipeline's fits wait "
                "for the explainer's)."
            )

    def _check_model_unchanged(self):
        fitted = self.__dict__.get("_fingerprint_now")
        check_fit_finished(self, fitted is not None, "no model to explain")
        if getattr(self, "trak_", None) is not None:
            self.trak_.check_store()
        now = fingerprint(unfrozen(self.estimator_))
        if now != fitted:
            raise ValueError(
                "The explained model changed after InfluenceExplainer.fit (fingerprint "
                f"{str(fitted)[:12]} at fit, {now[:12]} now): it was refitted "
                "or modified in place, so the stored gradients and Hessian no longer "
                "describe it. Fit the explainer again."
            )
