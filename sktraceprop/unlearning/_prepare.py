"""Fitting the model an unlearner corrects, and preparing its removal method.

``GradientCorrectionUnlearner.fit`` refuses what no removal can honour before anything
is fitted (:func:`check_supported`, :func:`check_neural_fit`), fits a clone of the
estimator without its pipeline caches (:func:`without_cache`), then prepares the
removal method (:func:`removal_method`) from the features the final step was trained
on, which differ from ``transform``'s where a step cross fits (``TargetEncoder``).
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline

from .._lineage._record import unsourced_columns, unsourced_run_columns
from .._lineage._skorch import is_skorch_net
from ..exceptions import UnlearningError
from ..gradients._torch_objective import check_torch_objective
from ..gradients._weight_decay import decay_refusal
from ..influence._fit_features import features_trained_on, fit_transform_may_differ
from ..utils._module_input import check_module_input
from ..utils._private_copy import private_copy
from ..utils._sklearn_compat import num_samples
from ..utils._stack import user_stacklevel
from ._convex import NewtonCorrection
from ._convex_models import check_convex, final_step, unsupported
from ._neural import NeuralCorrection
from ._neural_backend import neural_backend
from ._pipeline_refit import PipelineRefit
from ._remains import has_preprocessing


def check_supported(estimator, y=None):
    """Raise before fitting if the (final) estimator cannot be unlearned from (with the
    target ``y``, where given)."""
    if isinstance(estimator, Pipeline):
        if any(hasattr(step, "fit_resample") for _, step in estimator.steps[:-1]):
            raise unsupported(
                estimator,
                " with a resampling step (its training rows are not the rows given to fit)",
            )
    final = final_step(estimator)
    if neural_backend(final) is None:
        check_convex(final, y)


def without_cache(est):
    """Turn off the ``memory=`` caches of ``est``'s pipelines (in place), with a warning
    at the user's call.

    A cache is written by ``fit`` outside the model (joblib files holding the fitted
    steps: an encoder's categories, an imputer's rows) and no removal can reach it.
    """
    cached = sorted(
        k
        for k, v in est.get_params(deep=True).items()
        if k.rsplit("__", 1)[-1] == "memory" and v is not None
    )
    if not cached:
        return
    warnings.warn(
        f"GradientCorrectionUnlearner fits without the pipeline cache ({', '.join(cached)} "
        "set to None): its files would keep steps fitted on rows that a removal must "
        "forget, out of the unlearner's reach.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    est.set_params(**dict.fromkeys(cached))


def check_neural_fit(est, backend, X, sample_weight, params):
    """Refuse, before the clone ``est`` is fitted, what the neural correction of its final
    step (of ``backend``, None for a convex model) cannot do."""
    final = final_step(est)
    if backend is not None and final is est:
        check_module_input(X, "the neural correction")
    if is_skorch_net(final):
        # the criterion the clone will train with, refused before it is fitted
        check_torch_objective(final, "the neural correction")
    if backend is not None:
        # a decoupled weight decay (AdamW, optax.adamw): the optimizer alone tells
        refusal = decay_refusal(final, "the neural correction")
        if refusal is not None:
            raise refusal
    if backend is not None and sample_weight is not None:
        raise unsupported(final, " with sample_weight")
    if backend is not None and params["calibration"] in ("auto", "crossfit"):
        if params["n_crossfit"] < params["crossfit_folds"]:
            raise ValueError(
                f"n_crossfit={params['n_crossfit']} is less than crossfit_folds="
                f"{params['crossfit_folds']}: some rows would be left out by no clone. Fit "
                "at least one clone per fold."
            )


def sample_weight_array(sample_weight, X):
    """``sample_weight`` as a float64 array of one finite non-negative weight per row."""
    if sample_weight is None:
        return None
    n = num_samples(X)
    sw = np.array(sample_weight, dtype=np.float64, copy=True)  # kept: the caller's may change
    if sw.ndim == 0:
        sw = np.full(n, float(sw))
    if sw.shape != (n,):
        raise ValueError(f"sample_weight has shape {sw.shape}; expected ({n},), one per row")
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    return sw


def _trained_positions(est, ids, seen, backend):
    """Positions among the rows given to fit (row ids ``ids``) of those the final step
    of the fitted ``est`` trained on; None when it trained on all of them. ``seen`` is
    what :func:`~sktraceprop._lineage._skorch.skorch_fit_indices` recorded."""
    lineage = getattr(est, "lineage_", None)
    if lineage is not None and lineage.input_row_ids is not None:
        if backend is None:
            raise unsupported(final_step(est), " trained on other rows than those given to fit")
        return _positions_of(ids, lineage.row_ids)
    return seen.indices


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


def removal_method(est, backend, data, seen, fed, ids, params, holdout):
    """``(method, ids)``: the removal method prepared for the fitted ``est`` and the row
    ids of the rows it holds, those its final step trained on (a skorch net's internal
    validation split left out). The method is a :class:`~._neural.NeuralCorrection` for a
    neural final step (of ``backend``), a :class:`~._pipeline_refit.PipelineRefit` for a
    pipeline whose preprocessing is refitted, else a :class:`~._convex.NewtonCorrection`
    of the final step.

    ``data`` is ``(X, y, sample_weight, weighted)``: the private copies of the rows given
    to fit, their weights and which parts they reach (see
    :func:`~sktraceprop._lineage._fit_routes.weighted_parts`); ``seen`` what
    :func:`~sktraceprop._lineage._skorch.skorch_fit_indices` recorded; ``fed`` the
    features that reached the final step
    (:func:`~sktraceprop.influence._fit_features.final_fit_inputs`); ``ids`` the rows'
    ids; ``params`` the unlearner's; ``holdout`` ``(X_holdout, y_holdout)``.
    """
    X, y, sw, weighted = data
    trained = _trained_positions(est, ids, seen, backend)  # None: all rows
    if backend is not None:
        method = NeuralCorrection.fit(
            backend,
            est,
            X,
            y,
            trained,
            params,
            *holdout,
            ids=ids,
            features=_trained_features(est, X, fed),
        )
        return method, (ids if trained is None else ids[trained])
    y_arr = np.asarray(y)
    if is_classifier(final_step(est)) and y_arr.ndim == 2 and y_arr.shape[1] == 1:
        y_arr = y_arr.ravel()
    if params["preprocessing"] == "refit" and has_preprocessing(est):
        Z, known = _refit_start(est, X, fed)
        return PipelineRefit(X, y_arr, sw, weighted, Z=Z, Z_known=known), ids
    Z = _trained_features(est, X, fed)
    return NewtonCorrection.fit(final_step(est), Z, y_arr, sw if weighted[1] else None), ids


def _trained_features(est, X, fed):
    """The features the final step of the fitted ``est`` was trained on, for the rows
    ``X`` given to its fit: those that reached it (``fed``, see
    :func:`~sktraceprop.influence._fit_features.final_fit_inputs`), which differ from
    ``est[:-1].transform(X)`` where a step's ``fit_transform`` cross fits
    (``TargetEncoder``); ``X`` itself without preprocessing.

    The correction starts from the model at the minimum of its objective on these
    features; with ``transform``'s it would converge to the minimum on other features
    than any retrain of the final step gives it.
    """
    if not has_preprocessing(est):
        return X
    pre = est[:-1]
    return features_trained_on(X, pre.transform(X), fed, pre)[0]


def _refit_start(est, X, fed):
    """``(Z, Z_known)`` of :class:`PipelineRefit` for the fitted pipeline ``est``: the
    features its final step was fitted on where they differ from ``transform``'s."""
    pre = est[:-1]
    if not fit_transform_may_differ(pre):
        return None, True  # every step's fit_transform is fit then transform
    # (a copy: X is kept for the refits, and a copy=False step writes into what it transforms)
    Z, _, where = features_trained_on(X, pre.transform(private_copy(X)), fed, pre)
    return (Z if where == "fit" else None), where != "unknown"


def unsourced_inputs(X, ids, lineage, sources):
    """Input columns of a DataFrame ``X`` that no source of its rows holds (those the
    model's features use, when its run says which), or None."""
    if lineage is not None:
        return unsourced_run_columns(lineage) or None
    if not isinstance(X, pd.DataFrame):
        return None
    return unsourced_columns([str(c) for c in X.columns], ids, sources) or None
