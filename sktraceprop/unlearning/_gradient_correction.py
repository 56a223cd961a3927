"""GradientCorrectionUnlearner: certified removal of rows or sources from a convex model.

The model's parameters minimise the sum-form objective of
:mod:`sktraceprop.gradients` over the training rows ``T``. Removing rows ``K`` changes
the objective to ``J_R`` over ``R = T \\ K`` (for SGDClassifier the penalty changes too,
since it grows with the number of rows). The correction runs Newton-type steps on
``J_R`` itself, so it converges to the exact minimiser of the retained objective, the
model a retrain would reach with an exact solver:

* the Hessian of ``J_R`` at the cached point is the cached Hessian of ``J_T`` minus the
  removed rows' Hessians (a *downdate*, O(|K| p^2), no pass over the retained rows);
* steps ``theta <- theta - (H + damping I)^-1 grad J_R(theta)`` are repeated with that
  factorised matrix (each costs one gradient over ``R``, O(|R| p)); when the gradient
  falls by less than a factor 4 per step, the Hessian is recomputed at the current point
  (an exact Newton step);
* the loop stops when the certificate ``||grad J_R(theta)|| / |R|`` is below ``tol``;
  failing that within ``max_iter`` steps, the model is refitted on ``R`` and the event
  says so.

In a pipeline, ``preprocessing="refit"`` (the default) also removes the rows from the
preprocessing: its steps are refitted on the retained rows (transformers are cheap to
fit), the retained rows are transformed again, and the Newton steps start from the
current parameters with the Hessian evaluated afresh on those features, so the whole
pipeline equals a retrain of the whole pipeline.

Neural classifiers (skorch nets, :class:`~sktraceprop.adapters.JaxClassifier`) get an
influence step on the last layer plus ``n_steps`` of retained-set fine-tuning instead
(:mod:`sktraceprop.unlearning._neural`); that is not certified.
"""

import copy
import time
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted

from .._lineage._capture import resolve_row_ids
from .._lineage._fingerprint import class_path
from .._lineage._io import lineage_frame
from .._lineage._skorch import skorch_fit_indices
from .._lineage._source import REGISTRY, utc_now
from ..exceptions import UnlearningError
from ..utils._delegation import (
    InnerTagsMixin,
    PredictDelegationMixin,
    SourcesTravelMixin,
    inner_has,
)
from ..utils._sklearn_compat import Interval, StrOptions, safe_indexing
from ._neural import NEURAL_MODELS, _mean_loss, crossfit_losses, neural_backend, neural_remove

__all__ = ["GradientCorrectionUnlearner"]

#: Models whose removal is certified; neural models are in ``NEURAL_MODELS``.
SUPPORTED_MODELS = (
    "LogisticRegression (L2 or no penalty; binary or multinomial; not liblinear)",
    "SGDClassifier(loss='log_loss', penalty='l2')",
    "Ridge",
    "RidgeClassifier",
    "LinearRegression",
)


def _unsupported(estimator, why=""):
    return NotImplementedError(
        f"GradientCorrectionUnlearner cannot unlearn from {type(estimator).__name__}{why}. "
        f"Supported (convex, exact Newton correction): {'; '.join(SUPPORTED_MODELS)}, alone "
        "or as the final step of a Pipeline/TracedPipeline. Neural models (influence step "
        f"plus fine-tuning, not certified): {'; '.join(NEURAL_MODELS)}."
    )


def _final_step(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def _check_supported(estimator):
    """Raise before fitting if the (final) estimator cannot be unlearned from."""
    from sklearn.linear_model import (
        LinearRegression,
        LogisticRegression,
        Ridge,
        RidgeClassifier,
        SGDClassifier,
    )

    if isinstance(estimator, Pipeline):
        if any(hasattr(step, "fit_resample") for _, step in estimator.steps[:-1]):
            raise _unsupported(
                estimator,
                " with a resampling step (its training rows are not the rows given to fit)",
            )
    final = _final_step(estimator)
    if neural_backend(final) is not None:
        return
    supported = (LinearRegression, LogisticRegression, Ridge, RidgeClassifier, SGDClassifier)
    if not isinstance(final, supported):
        raise _unsupported(final)
    if isinstance(final, SGDClassifier) and final.loss != "log_loss":
        raise _unsupported(final, f" with loss={final.loss!r}")


def _objective(final):
    from ..gradients import linear_model_objective

    try:
        return linear_model_objective(final)
    except TypeError as exc:
        raise _unsupported(final, f" as configured ({exc})") from None


def _take(a, idx):
    return a[idx] if a is not None else None


def _has_preprocessing(estimator):
    return isinstance(estimator, Pipeline) and len(estimator) > 1


def _surviving_columns(old, new, n_new):
    """Positions, among the features of the fitted preprocessing ``old``, of the features
    ``new`` outputs, matched by name; None when they cannot be matched (no names, or a
    name that ``old`` did not output)."""
    try:
        old_names = np.asarray(old.get_feature_names_out(), dtype=object)
        new_names = np.asarray(new.get_feature_names_out(), dtype=object)
    except (AttributeError, ValueError, TypeError, NotImplementedError):
        return None
    if new_names.shape[0] != n_new or len(set(old_names)) != old_names.shape[0]:
        return None
    where = {name: i for i, name in enumerate(old_names)}
    if any(name not in where for name in new_names):
        return None
    return np.array([where[name] for name in new_names], dtype=np.intp)


def _keep_columns(final, cols):
    """Restrict a fitted linear model to the input columns ``cols`` (in place)."""
    final.coef_ = np.ascontiguousarray(np.asarray(final.coef_)[..., cols])
    final.n_features_in_ = int(cols.size)
    if hasattr(final, "feature_names_in_"):
        final.feature_names_in_ = np.asarray(final.feature_names_in_, dtype=object)[cols]


class GradientCorrectionUnlearner(
    PredictDelegationMixin, InnerTagsMixin, SourcesTravelMixin, MetaEstimatorMixin, BaseEstimator
):
    """Fit a convex model and remove the influence of rows or whole sources from it.

    ``fit`` fits ``clone(estimator)`` on all rows, caches the Hessian of its objective,
    then removes the rows named by ``forget``. :meth:`unlearn` removes more rows later.
    Each removal corrects the parameters by Newton-type steps on the exact objective of
    the retained rows until the retained gradient norm (the *certificate*) is below
    ``tol``, so the result equals a retrain with an exact solver; if that is not reached
    within ``max_iter`` steps, the model is refitted on the retained rows and the event
    says so. Every removal is logged in ``unlearning_log_`` and, when a store is known,
    appended to its hash-chained audit log.

    Neural classifiers (a skorch ``NeuralNetClassifier`` or ``NeuralNetBinaryClassifier``,
    or a :class:`~sktraceprop.adapters.JaxClassifier` built with
    :func:`~sktraceprop.adapters.mlp`) are corrected differently and **without a
    certificate**: a Gauss-Newton influence step on the last layer, then ``n_steps``
    SGD steps of size ``lr`` on the retained rows (method ``"influence+finetune"``). The
    logged certificate is then the retained-objective gradient norm after the correction,
    a stationarity measure, not a bound on the distance to a retrain; compare with a
    retrain using :func:`sktraceprop.metrics.unlearning_report`.

    Parameters
    ----------
    estimator : estimator object
        A ``LogisticRegression`` (L2 or no penalty, binary or multinomial),
        ``SGDClassifier(loss="log_loss")``, ``Ridge``, ``RidgeClassifier`` or
        ``LinearRegression``, or a neural classifier (see above), alone or as the final
        step of a ``Pipeline`` or :class:`~sktraceprop.TracedPipeline` (see
        ``preprocessing``). A skorch net with an internal validation split can only
        forget the rows it trained on; inside a ``TracedPipeline`` those are
        ``lineage_.row_ids``.
    forget : str, int or list of str and int, default=None
        Rows removed at the end of ``fit``: source ids (every training row derived from
        the source, merges included) and/or packed int64 row ids. Only the rows present
        in the training data of this fit are removed, so a cross-validation fold removes
        its own rows of a source; an unregistered source id raises.
    tol : float, default=1e-8
        Target for the certificate ``||grad J_R(theta)||_2 / |R|``, the gradient norm of
        the retained sum-form objective (:mod:`sktraceprop.gradients`) per retained row.
        Convex models only.
    max_iter : int, default=25
        Most correction steps per removal before falling back to a refit. Convex models
        only.
    damping : float, default=0.0
        Added to the Hessian's diagonal before solving. It slows convergence but not its
        limit (the gradient is exact); useful when the retained Hessian is singular
        (``LinearRegression`` on collinear features). For neural models it is added to
        the last layer's Gauss-Newton matrix and sets the size of the influence step
        (larger is smaller); 0 there means ``1e-3`` times its mean eigenvalue.
    n_steps : int, default=10
        Neural models only: SGD steps on the retained rows after the influence step,
        in mini-batches of the model's batch size, all parameters, same loss and weight
        decay as in training. Convex models ignore it.
    lr : float, default=None
        Neural models only: step size of those SGD steps; None uses the model's own
        learning rate (skorch ``lr``, ``JaxClassifier.learning_rate``). Convex models
        ignore it.
    influence : {"last_layer", "full"}, default="last_layer"
        Neural models only: the influence step on the last layer's parameters, or a
        damped Gauss-Newton step on all parameters (conjugate gradients on a subsample
        of at most 1024 retained rows; it tends to overshoot a retrain, see
        ``calibration``).
    calibration : {"holdout", "crossfit", "none"}, default="holdout"
        Neural models only: how the influence step is scaled (shortened or lengthened,
        by bisection) so that the removed rows' mean loss after the correction (step
        and fine-tuning) matches an estimate of their loss under a retrain.
        ``"holdout"``: the model's mean loss on rows it never trained on (``X_holdout``
        given to ``unlearn``/``fit``, else a skorch validation split; without either
        the step is not scaled); blind to how hard the removed rows are.
        ``"crossfit"``: at ``fit``, ``n_crossfit`` clones are fitted on repeated
        stratified ``crossfit_folds``-fold splits of the training rows, each on all
        folds but one; a removed row's estimate is its mean loss under the clones that
        left it out, times the ratio of the model's holdout loss to theirs (the holdout
        is required at ``fit``: ``X_holdout``/``y_holdout`` or a skorch validation
        split). It costs about ``n_crossfit * (crossfit_folds - 1) / crossfit_folds``
        extra fits, once. The clones are not kept, only each row's loss.
        ``"none"``: the plain step. The event logs ``calibration``,
        ``calibration_source``, ``calibration_target`` and ``step_scale``.
    n_crossfit : int, default=9
        Neural models with ``calibration="crossfit"`` only: clones fitted; at least
        ``crossfit_folds``, so that every row is left out by one. With a multiple of
        ``crossfit_folds``, every row is left out by ``n_crossfit / crossfit_folds``.
    crossfit_folds : int, default=3
        Neural models with ``calibration="crossfit"`` only: the folds of each split.
        Two (half-data clones) biases the estimate, as a model fitted on half the rows
        fits unseen rows unlike one fitted on nearly all; more folds leave each row out
        by fewer clones for the same cost, a noisier estimate (both are measured in
        ``benchmarks/bench_unlearning_neural.py``).
    random_state : int, RandomState instance or None, default=None
        Neural models with ``calibration="crossfit"`` only: draws the splits.
    preprocessing : {"refit", "keep"}, default="refit"
        What happens to the steps before the final one when ``estimator`` is a
        pipeline. ``"refit"``: each removal refits them on the retained rows and the
        final step is corrected on the features they now produce, so the pipeline
        equals a retrain of the whole pipeline (scalers, imputers and encoders forget the
        rows too); the unlearner then keeps the raw training input. If the refitted
        preprocessing outputs another number of features (a category only the removed
        rows had), the final step is refitted and the event says so. ``"keep"``: only
        the final step is corrected and the preprocessing keeps statistics learnt from
        the removed rows (the event carries that caveat). Neural models always keep the
        preprocessing: new inputs would invalidate the trained network.
    store : BaseStore, default=None
        Where removal events are appended. Defaults to the ``store`` of a
        ``TracedPipeline`` estimator; None with no such store keeps only
        ``unlearning_log_``.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted and corrected clone of ``estimator``; ``predict`` and friends use it.
    train_row_ids_ : ndarray of int64
        Row ids of the rows given to ``fit``, in order.
    retained_mask_ : ndarray of bool of shape (n_train,)
        Which of those rows the model currently holds.
    unlearning_log_ : list of dict
        One event per removal: ``time_utc``, ``row_ids`` removed, ``sources`` (rows per
        source), ``method`` (``"newton"`` or ``"refit"``), ``certificate``, ``tol``,
        ``n_iter``, ``seconds``, ``n_retained``, and ``event_hash`` when stored. Neural
        removals (method ``"influence+finetune"``) also log ``damping``, ``cg_iter``,
        ``influence_step_norm``, ``n_steps``, ``lr``, ``weight_decay`` and a ``note``
        that the certificate is not a guarantee.
    certificate_ : float
        Certificate of the current model (``nan`` before any removal).
    n_iter_ : int
        Correction steps taken by the last removal (0 before any).
    run_id_ : str or None
        Run the events are attached to (the ``TracedPipeline``'s run), if any.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.
    classes_ : ndarray
        Class labels, for classifiers.

    See Also
    --------
    sktraceprop.metrics.unlearning_report : Compare an unlearned model with a retrain.

    Notes
    -----
    The unlearner keeps the final step's training features, targets and weights (to
    evaluate the retained gradient), a ``p x p`` Hessian, ``p`` the number of model
    parameters, and with ``preprocessing="refit"`` the raw training input of the
    pipeline. For models that do not fit to the exact optimum (``SGDClassifier``, or
    a loose ``tol`` of the solver), the corrected model is the exact optimum of the
    retained objective, not what a new stochastic fit would return.

    Examples
    --------
    >>> import sktraceprop as stp
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = stp.datasets.load_demo(return_X_y=True)
    >>> X = X[["age", "bp", "cholesterol"]].fillna(0)
    >>> unl = stp.GradientCorrectionUnlearner(LogisticRegression(), forget="hospital_b")
    >>> unl = unl.fit(X, y)
    >>> event = unl.unlearning_log_[0]
    >>> event["sources"], event["method"], event["certificate"] < 1e-8
    ({'hospital_b': 191}, 'newton', True)
    """

    _parameter_constraints = {
        "estimator": [object],
        "forget": [None, str, int, np.integer, "array-like"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "damping": [Interval(Real, 0, None, closed="left")],
        "n_steps": [Interval(Integral, 0, None, closed="left")],
        "lr": [None, Interval(Real, 0, None, closed="neither")],
        "influence": [StrOptions({"full", "last_layer"})],
        "calibration": [StrOptions({"holdout", "crossfit", "none"})],
        "n_crossfit": [Interval(Integral, 1, None, closed="left")],
        "crossfit_folds": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "preprocessing": [StrOptions({"refit", "keep"})],
        "store": [None, object],
    }

    def __init__(
        self,
        estimator,
        *,
        forget=None,
        tol=1e-8,
        max_iter=25,
        damping=0.0,
        n_steps=10,
        lr=None,
        influence="last_layer",
        calibration="holdout",
        n_crossfit=9,
        crossfit_folds=3,
        random_state=None,
        preprocessing="refit",
        store=None,
    ):
        self.estimator = estimator
        self.forget = forget
        self.tol = tol
        self.max_iter = max_iter
        self.damping = damping
        self.n_steps = n_steps
        self.lr = lr
        self.influence = influence
        self.calibration = calibration
        self.n_crossfit = n_crossfit
        self.crossfit_folds = crossfit_folds
        self.random_state = random_state
        self.preprocessing = preprocessing
        self.store = store

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, sample_id=None, X_holdout=None, y_holdout=None):
        """Fit a clone of ``estimator`` on all rows, then remove the ``forget`` rows.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training data; a DataFrame loaded by sktraceprop carries its row ids.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the final estimator's ``fit``.
        sample_id : array-like of int64 of shape (n_samples,), default=None
            Row ids of the samples, overriding those carried by ``X``; sliced per fold
            by ``GridSearchCV`` like ``sample_weight``.
        X_holdout, y_holdout : array-like, default=None
            Neural models only: rows the model does not train on, whose mean loss is the
            calibration target of the removals made by this ``fit`` (see
            ``calibration``); a skorch validation split is used when this is None.

        Returns
        -------
        self : object
        """
        self._validate_params()
        _check_supported(self.estimator)
        ids = resolve_row_ids(X, sample_id)
        est = clone(self.estimator)
        fit_params = {}
        if sample_weight is not None:
            prefix = f"{est.steps[-1][0]}__" if isinstance(est, Pipeline) else ""
            fit_params[f"{prefix}sample_weight"] = sample_weight
        backend = neural_backend(_final_step(est))
        if backend is not None and sample_weight is not None:
            raise _unsupported(_final_step(est), " with sample_weight")
        if backend is not None and self.calibration == "crossfit":
            if self.n_crossfit < self.crossfit_folds:
                raise ValueError(
                    f"n_crossfit={self.n_crossfit} is less than crossfit_folds="
                    f"{self.crossfit_folds}: some rows would be left out by no clone. Fit "
                    "at least one clone per fold."
                )
        with skorch_fit_indices(_final_step(est)) as seen:
            if hasattr(est, "_traced_fit"):
                est.fit(X, y, sample_id=sample_id, **fit_params)
            else:
                est.fit(X, y, **fit_params)
        final = _final_step(est)
        objective = None if backend is not None else _objective(final)
        lineage = getattr(est, "lineage_", None)
        trained = None  # positions of the rows the final step trained on, None = all
        if lineage is not None and lineage.input_row_ids is not None:
            if backend is None:
                raise _unsupported(final, " trained on other rows than those given to fit")
            trained = _positions_of(ids, lineage.row_ids)
        elif seen.indices is not None:
            trained = seen.indices

        Z = est[:-1].transform(X) if isinstance(est, Pipeline) and len(est) > 1 else X
        y_arr = np.asarray(y)
        if is_classifier(final) and y_arr.ndim == 2 and y_arr.shape[1] == 1:
            y_arr = y_arr.ravel()
        Z_full, y_arr_full = Z, y_arr
        if backend is not None:
            Z = Z_full = check_array(Z, dtype=np.float32, allow_nd=True)
            if trained is not None:
                Z, y_arr, ids = Z[trained], y_arr[trained], ids[trained]
            Z, y_arr = backend.prepare(final, Z, y_arr)
        else:
            Z = check_array(Z, accept_sparse="csr", dtype=np.float64)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)

        validation = None
        if backend is not None and trained is not None:
            # The rows of a validation split were never trained on: a calibration holdout.
            held = np.setdiff1d(np.arange(y_arr_full.shape[0]), trained)
            if held.size:
                validation = backend.prepare(final, Z_full[held], y_arr_full[held]) + (
                    "validation split",
                )
        crossfit = None
        if backend is not None and self.calibration == "crossfit":
            # before anything is set on self: a failure here leaves the unlearner as it was
            crossfit = self._fit_crossfit(backend, est, Z, y_arr, validation, X_holdout, y_holdout)

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
        self._Z, self._y, self._sw = Z, y_arr, sw
        self._validation, self._crossfit = validation, crossfit
        # The raw input, to refit the preprocessing without the removed rows.
        self._X_fit = (
            X
            if backend is None and self.preprocessing == "refit" and _has_preprocessing(est)
            else None
        )
        if objective is None or self._X_fit is not None:
            # Neural models have no Hessian; with the preprocessing refitted, each removal
            # evaluates it afresh on the new features, so neither keeps the fit's.
            self._hessian = self._hessian_theta = None
            if self._X_fit is not None:
                self._Z = None
        else:
            theta = objective.params()
            self._hessian = objective.hessian(Z, y_arr, sw, theta=theta)
            self._hessian_theta = theta

        if self.forget is not None:
            positions = self._resolve(self._split_forget(self.forget), strict=False)
            if positions.size:
                self._remove(
                    positions,
                    request={"forget": _jsonable(self.forget)},
                    holdout=(X_holdout, y_holdout),
                )
        return self

    # -- removal requests ------------------------------------------------------------------
    def unlearn(
        self, *, source_id=None, sample_id=None, mask=None, X_holdout=None, y_holdout=None
    ):
        """Remove the influence of training rows from the fitted model, in place.

        Give exactly one of ``source_id``, ``sample_id`` or ``mask``. A request that
        cannot be honoured raises and leaves the model unchanged.

        Parameters
        ----------
        source_id : str or list of str, default=None
            Remove every retained training row derived from these sources.
        sample_id : array-like of int64, default=None
            Remove these rows (packed row ids); each must be a retained training row.
        mask : array-like of bool of shape (n_train,), default=None
            Remove the rows selected by the mask, aligned with the ``X`` given to ``fit``.
        X_holdout, y_holdout : array-like, default=None
            Neural models only: rows the model never trained on (raw features, as for
            ``predict``), whose mean loss is the calibration target of the influence
            step (see ``calibration``). None uses a skorch validation split if the net
            had one.

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
            trained on or are already removed, or would remove every retained row.
        """
        check_is_fitted(self, "estimator_")
        given = [a is not None for a in (source_id, sample_id, mask)]
        if sum(given) != 1:
            raise TypeError("unlearn() takes exactly one of source_id=, sample_id= or mask=")
        if source_id is not None:
            sources = [source_id] if isinstance(source_id, str) else list(source_id)
            request = {"source_id": sources}
            positions = self._resolve((sources, np.empty(0, np.int64)), strict=True)
        elif sample_id is not None:
            ids = np.atleast_1d(np.asarray(sample_id))
            if ids.size and not np.issubdtype(ids.dtype, np.integer):
                raise TypeError(f"sample_id must hold int64 row ids, got dtype {ids.dtype}")
            request = {"sample_id": int(ids.size)}
            positions = self._resolve(([], ids.astype(np.int64)), strict=True)
        else:
            positions = self._positions_from_mask(mask)
            request = {"mask": int(positions.size)}
        self._remove(positions, request=request, holdout=(X_holdout, y_holdout))
        return self

    def _split_forget(self, forget):
        items = [forget] if isinstance(forget, str | int | np.integer) else list(forget)
        sources = [f for f in items if isinstance(f, str)]
        ids = [f for f in items if not isinstance(f, str)]
        bad = [f for f in ids if not isinstance(f, int | np.integer) or isinstance(f, bool)]
        if bad:
            raise TypeError(f"forget must hold source ids (str) and row ids (int), got {bad[0]!r}")
        return sources, np.asarray(ids, dtype=np.int64)

    def _resolve(self, request, strict):
        """Positions (into the fit rows) of the retained rows named by the request."""
        sources, ids = request
        train_ids = self.train_row_ids_
        retained = self.retained_mask_
        hit = np.zeros(train_ids.shape[0], dtype=bool)
        if sources:
            for s in sources:
                REGISTRY.by_id(s)  # an unregistered source id raises UnknownSourceError
            frame = lineage_frame(train_ids, REGISTRY.by_code)
            rows = frame.loc[frame["source_id"].isin(sources), "row"].to_numpy()
            in_source = np.zeros_like(hit)
            in_source[rows] = True
            if strict:
                for s in sources:
                    of_s = frame.loc[frame["source_id"] == s, "row"].to_numpy()
                    if not retained[of_s].any():
                        raise UnlearningError(
                            f"source {s!r} has no retained training rows in this model "
                            f"({of_s.size} trained on, all removed before); nothing was "
                            "changed."
                        )
            hit |= in_source
        if ids.size:
            present = np.isin(ids, train_ids)
            if strict and not present.all():
                bad = ids[~present]
                raise UnlearningError(
                    f"{bad.size} of the {ids.size} row ids were never trained on by this "
                    f"model (first: {int(bad[0])}); nothing was changed."
                )
            in_ids = np.isin(train_ids, ids)
            if strict:
                removed = ids[np.isin(ids, train_ids[~retained])]
                if removed.size:
                    raise UnlearningError(
                        f"{removed.size} of the row ids were already removed (first: "
                        f"{int(removed[0])}); nothing was changed."
                    )
            hit |= in_ids
        return np.flatnonzero(hit & retained)

    def _positions_from_mask(self, mask):
        mask = np.asarray(mask)
        n = self.train_row_ids_.shape[0]
        if mask.dtype != bool or mask.shape != (n,):
            raise ValueError(
                f"mask must be a boolean array of shape ({n},) aligned with the rows given "
                f"to fit; got dtype {mask.dtype} and shape {mask.shape}"
            )
        gone = mask & ~self.retained_mask_
        if gone.any():
            raise UnlearningError(
                f"the mask selects {int(gone.sum())} rows that were already removed; "
                "nothing was changed."
            )
        return np.flatnonzero(mask)

    # -- the correction --------------------------------------------------------------------
    def _remove(self, positions, request, holdout=(None, None)):
        if positions.size == 0:
            raise UnlearningError("the request names no retained training row; nothing to do.")
        retained = self.retained_mask_.copy()
        retained[positions] = False
        n_ret = int(retained.sum())
        if n_ret == 0:
            raise UnlearningError(
                "the request would remove every training row the model holds; refit on "
                "other data instead. Nothing was changed."
            )
        start = time.perf_counter()
        # Work on a copy so that a failure leaves the fitted model as it was.
        final = copy.deepcopy(_final_step(self.estimator_))
        backend = neural_backend(final)
        if backend is not None:
            holdout = self._neural_holdout(backend, final, *holdout)
            self._remove_neural(backend, final, positions, retained, request, start, holdout)
            return
        objective = _objective(final)
        Z, y, sw = self._Z, self._y, self._sw
        y_r, sw_r = y[retained], _take(sw, retained)
        pre, preprocessing_note = None, ""
        if self._X_fit is None:
            Z_r = Z[retained]
            Z_k, y_k, sw_k = Z[positions], y[positions], _take(sw, positions)
            # Downdate: J_T's Hessian minus the removed rows' data terms, penalty for |R|.
            theta_c = self._hessian_theta
            n_hold = int(self.retained_mask_.sum())
            lam = objective.penalty_strength
            H = self._hessian - objective.hessian(Z_k, y_k, sw_k, theta=theta_c)
            coef = np.arange(objective.n_outputs * objective.n_features)
            H[coef, coef] += lam(positions.size) + lam(n_ret) - lam(n_hold)
        else:
            # Refit the preprocessing on the retained rows; the features change, so the
            # Hessian is evaluated afresh on them at the current parameters.
            pre, Z_r = self._refit_preprocessing(np.flatnonzero(retained), y_r)
            if Z_r.shape[1] != objective.n_features:
                # A category (or column) only the removed rows had is gone. When the
                # features can be matched by name, a retrain simply lacks those columns:
                # drop their coefficients and correct on.
                cols = _surviving_columns(self.estimator_[:-1], pre, Z_r.shape[1])
                if cols is not None:
                    dropped = objective.n_features - cols.size
                    _keep_columns(final, cols)
                    objective = _objective(final)
                    preprocessing_note = (
                        f"the preprocessing refitted on the retained rows dropped {dropped} "
                        "feature(s) no retained row has (e.g. a category only the removed "
                        "rows had); their coefficients were removed, as a retrain lacks them"
                    )
            theta_c = objective.params()
            if Z_r.shape[1] == objective.n_features:
                H = objective.hessian(Z_r, y_r, sw_r, theta=theta_c)
        if pre is not None and Z_r.shape[1] != objective.n_features:
            result = {
                "converged": False,
                "n_iter": 0,
                "n_hessian_updates": 0,
                "note": (
                    f"the preprocessing refitted on the retained rows outputs {Z_r.shape[1]} "
                    f"features instead of {objective.n_features} and they cannot be matched "
                    "by name; the final step was refitted"
                ),
            }
        else:
            result = _newton(
                objective,
                Z_r,
                y_r,
                sw_r,
                objective.params(),
                H,
                theta_c,
                tol=self.tol,
                max_iter=self.max_iter,
                damping=self.damping,
            )
        method = "newton" if result["converged"] else "refit"
        note = result["note"]
        if method == "refit":
            final = self._refit(Z_r, y_r, sw_r)
            objective = _objective(final)
            theta = objective.params()
            certificate = float(
                np.linalg.norm(objective.objective_gradient(Z_r, y_r, sw_r, theta=theta)) / n_ret
            )
            if pre is None:
                hessian, hessian_theta = objective.hessian(Z_r, y_r, sw_r, theta=theta), theta
        else:
            objective.set_params_vector(result["theta"])
            certificate = result["certificate"]
            hessian, hessian_theta = result["hessian"], result["hessian_theta"]
        seconds = time.perf_counter() - start

        event = {
            "time_utc": utc_now(),
            "estimator": class_path(final),
            "method": method,
            "certificate": certificate,
            "tol": float(self.tol),
            "n_iter": result["n_iter"],
            "n_hessian_updates": result["n_hessian_updates"],
            "seconds": seconds,
            "n_removed": int(positions.size),
            "n_retained": n_ret,
            **self._removed_rows(positions),
            "request": request,
        }
        note = "; ".join(n for n in (preprocessing_note, note) if n)
        if note:
            event["note"] = note
        self._commit(event, final, retained, pre)
        if pre is None:  # the downdate of the next removal starts from this Hessian
            self._hessian, self._hessian_theta = hessian, hessian_theta
        self.n_iter_ = result["n_iter"]

    def _refit_preprocessing(self, rows, y_r):
        """Clones of the preprocessing steps fitted on ``rows`` of the raw input, and the
        features they give those rows."""
        steps = self.estimator_.steps[:-1]
        pre = Pipeline(
            [
                (name, step if step in (None, "passthrough") else clone(step))
                for name, step in steps
            ]
        )
        Z_r = pre.fit_transform(safe_indexing(self._X_fit, rows), y_r)
        return pre, check_array(Z_r, accept_sparse="csr", dtype=np.float64)

    def _fit_crossfit(self, backend, est, Z, Y, validation, X_holdout, y_holdout):
        """Per-row crossfit losses and the holdout correction (see ``calibration``)."""
        final = _final_step(est)
        holdout = (
            validation
            if X_holdout is None
            else self._holdout_rows(backend, est, X_holdout, y_holdout)
        )
        if holdout is None:
            raise ValueError(
                "calibration='crossfit' needs rows the model does not train on, at fit: "
                "pass X_holdout and y_holdout to fit, or give the skorch net a validation "
                "split (train_split)."
            )
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        unseen, clones_loss = crossfit_losses(
            backend,
            final,
            clone(_final_step(self.estimator)),
            Z,
            Y,
            n_models=self.n_crossfit,
            n_folds=self.crossfit_folds,
            seed=seed,
            holdout=holdout,
        )
        model_loss = _mean_loss(backend, final, holdout[0], holdout[1])
        return {
            "unseen": unseen,
            "ratio": model_loss / clones_loss,
            "source": (
                f"{self.n_crossfit} clones on {self.crossfit_folds}-fold splits, corrected "
                f"on the {holdout[2]} rows"
            ),
        }

    def _crossfit_target(self, positions):
        """The crossfit estimate of the removed rows' mean loss under a retrain.

        Every row is left out by at least one clone (``n_crossfit >= crossfit_folds``),
        and ``positions`` are retained rows, whose entries are never NaN.
        """
        values = self._crossfit["unseen"][positions]
        return float(values.mean() * self._crossfit["ratio"]), self._crossfit["source"]

    def _neural_holdout(self, backend, final, X_holdout, y_holdout):
        """The calibration rows ``(Z, Y, source)`` of a neural removal, or None."""
        if self.calibration == "none":
            return None
        if X_holdout is None:
            return self._validation
        return self._holdout_rows(backend, self.estimator_, X_holdout, y_holdout)

    @staticmethod
    def _holdout_rows(backend, est, X_holdout, y_holdout):
        """``(Z, Y, "X_holdout")``: the given holdout rows as the final step sees them."""
        if isinstance(est, Pipeline) and len(est) > 1:
            X_holdout = est[:-1].transform(X_holdout)
        Z = check_array(X_holdout, dtype=np.float32, allow_nd=True)
        return backend.prepare(_final_step(est), Z, np.asarray(y_holdout)) + ("X_holdout",)

    def _remove_neural(self, backend, final, positions, retained, request, start, holdout):
        n_ret = int(retained.sum())
        info = neural_remove(
            backend,
            final,
            self._Z,
            self._y,
            positions,
            np.flatnonzero(retained),
            n_steps=self.n_steps,
            lr=self.lr,
            damping=self.damping,
            influence=self.influence,
            holdout=holdout,
            crossfit=None if self._crossfit is None else self._crossfit_target(positions),
        )
        if not np.isfinite(info["certificate"]):
            raise UnlearningError(
                "the neural correction diverged (non-finite gradient); lower lr or raise "
                "damping. Nothing was changed."
            )
        event = {
            "time_utc": utc_now(),
            "estimator": class_path(final),
            "method": (
                "influence+finetune"
                if self.influence == "last_layer"
                else "full-influence+finetune"
            ),
            "certificate": info.pop("certificate"),
            "tol": None,
            "n_iter": info["n_steps"],
            **info,
            "seconds": time.perf_counter() - start,
            "n_removed": int(positions.size),
            "n_retained": n_ret,
            **self._removed_rows(positions),
            "request": request,
            "note": (
                f"non-convex model: {info['influence'].replace('_', '-')} Gauss-Newton "
                "influence step"
                + (
                    f" scaled (heuristic) so the forgotten rows' mean loss matches "
                    f"{info['calibration_source']}"
                    if info["calibration"] != "none"
                    else ""
                )
                + " plus retained-set fine-tuning; the certificate is the retained-objective "
                "gradient norm, not a bound on the distance to a retrain"
            ),
        }
        self._commit(event, final, retained)
        self.n_iter_ = info["n_steps"]
        if self._crossfit is not None:
            # keep nothing derived from the removed rows
            self._crossfit["unseen"][positions] = np.nan

    def _removed_rows(self, positions):
        removed_ids = self.train_row_ids_[positions]
        frame = lineage_frame(removed_ids, REGISTRY.by_code)
        sources = frame.groupby("source_id", sort=True)["row"].nunique()
        return {
            "sources": {str(k): int(v) for k, v in sources.items()},
            "row_ids": [int(i) for i in removed_ids],
        }

    def _commit(self, event, final, retained, pre=None):
        """Store the event, then swap in the corrected model (nothing before touched it)."""
        if pre is not None:
            event["preprocessing"] = "refitted on the retained rows"
        elif _has_preprocessing(self.estimator_):
            event["preprocessing"] = "kept"
            event["caveat"] = (
                "only the final step was corrected; preprocessing steps keep statistics "
                "learnt from the removed rows"
                + (
                    " (neural models always keep the preprocessing)"
                    if self.preprocessing == "refit"
                    else ""
                )
            )
        store = self._event_store()
        if store is not None:
            stored = store.append_event("unlearning", event, run_id=self.run_id_)
            event = {**event, "seq": stored["seq"], "event_hash": stored["hash"]}

        if isinstance(self.estimator_, Pipeline):
            if pre is not None:
                for i, (name, step) in enumerate(pre.steps):
                    self.estimator_.steps[i] = (name, step)
            self.estimator_.steps[-1] = (self.estimator_.steps[-1][0], final)
        else:
            self.estimator_ = final
        self.retained_mask_ = retained
        self.certificate_ = event["certificate"]
        self.unlearning_log_.append(event)

    def _refit(self, Z, y, sw):
        final = clone(_final_step(self.estimator))
        return final.fit(Z, y) if sw is None else final.fit(Z, y, sample_weight=sw)

    def _event_store(self):
        if self.store is not None:
            return self.store
        return getattr(self.estimator_, "store", None)

    # -- delegation ------------------------------------------------------------------------
    @available_if(inner_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the corrected estimator (accuracy or R^2)."""
        check_is_fitted(self)
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)


def _positions_of(ids, subset):
    """Positions in ``ids`` (unique) of each row id of ``subset``."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    if np.any(sorted_ids[1:] == sorted_ids[:-1]):
        raise UnlearningError(
            "the rows given to fit repeat row ids, so the rows a skorch net trained on "
            "cannot be told apart; pass distinct sample_id values."
        )
    return order[np.searchsorted(sorted_ids, subset)]


def _jsonable(forget):
    items = [forget] if isinstance(forget, str | int | np.integer) else list(forget)
    return [f if isinstance(f, str) else int(f) for f in items]


def _null_space(objective):
    """Orthonormal directions the multinomial objective is flat in, or None.

    Softmax is unchanged by adding one constant to every class's intercept (and, with
    no penalty, one vector to every class's coefficients). The gradient is orthogonal to
    these directions; keeping the steps orthogonal too keeps scikit-learn's choice
    (zero-sum intercepts) instead of a drift that changes ``decision_function``.
    """
    if objective.loss != "multinomial":
        return None
    k, d = objective.n_outputs, objective.n_features
    columns = []
    if objective.penalty_strength(0) == 0:
        for j in range(d):
            v = np.zeros(objective.n_params)
            v[j : k * d : d] = 1.0
            columns.append(v)
    if objective.fit_intercept:
        v = np.zeros(objective.n_params)
        v[k * d :] = 1.0
        columns.append(v)
    return np.column_stack(columns) / np.sqrt(k) if columns else None


def _factor(H, damping, null=None):
    A = H if not damping else H + damping * np.eye(H.shape[0])
    if null is not None:
        A = A + np.mean(np.abs(np.diag(H))) * (null @ null.T)
    try:
        factor = linalg.cho_factor(A, check_finite=False)
        return lambda g: linalg.cho_solve(factor, g, check_finite=False)
    except linalg.LinAlgError:
        # Singular (collinear features, no penalty): least-squares steps still reach a
        # minimiser, and the gradient check below certifies it.
        return lambda g: linalg.lstsq(A, g, check_finite=False)[0]


def _newton(objective, Z, y, sw, theta, H, H_theta, *, tol, max_iter, damping):
    """Newton-type steps on the retained objective from ``theta``.

    ``H`` is the retained Hessian evaluated at ``H_theta``. Returns a dict with the new
    ``theta``, ``certificate``, ``converged``, ``n_iter``, ``n_hessian_updates``, the
    Hessian to cache (and its point) and a ``note`` on failure.
    """
    n = Z.shape[0]

    def grad(t):
        return objective.objective_gradient(Z, y, sw, theta=t)

    null = _null_space(objective)
    solve = _factor(H, damping, null)
    fresh = False
    g = grad(theta)
    gnorm = np.linalg.norm(g)
    n_iter = n_updates = 0
    note = ""
    while gnorm / n > tol:
        if n_iter >= max_iter:
            note = (
                f"certificate {gnorm / n:.3g} above tol={tol:g} after max_iter={max_iter} "
                "steps; refitted on the retained rows"
            )
            break
        step = solve(g)
        n_iter += 1
        t = 1.0
        for _ in range(30):
            theta_new = theta - t * step
            g_new = grad(theta_new)
            g_new_norm = np.linalg.norm(g_new)
            if g_new_norm < gnorm:
                break
            t *= 0.5
        else:
            if fresh:
                note = (
                    f"the gradient stopped decreasing at certificate {gnorm / n:.3g} (above "
                    f"tol={tol:g}: floating-point floor or ill-conditioning); refitted"
                )
                break
            H, H_theta, fresh = objective.hessian(Z, y, sw, theta=theta), theta, True
            solve, n_updates = _factor(H, damping, null), n_updates + 1
            continue
        slow = g_new_norm > 0.25 * gnorm
        theta, g, gnorm = theta_new, g_new, g_new_norm
        fresh = False
        if slow and gnorm / n > tol:
            H, H_theta, fresh = objective.hessian(Z, y, sw, theta=theta), theta, True
            solve, n_updates = _factor(H, damping, null), n_updates + 1
    converged = gnorm / n <= tol
    if not np.all(np.isfinite(theta)):
        converged, note = False, "the correction diverged; refitted"
    return {
        "theta": theta,
        "certificate": float(gnorm / n),
        "converged": bool(converged),
        "n_iter": n_iter,
        "n_hessian_updates": n_updates,
        "hessian": H,
        "hessian_theta": H_theta,
        "note": note,
    }
