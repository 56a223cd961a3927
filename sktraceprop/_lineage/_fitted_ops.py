"""The fitted steps of an estimator, as the run records them: one :class:`~._run.Op` per
step (class, parameters, fingerprint, feature names), the names of its input columns,
and the rows that reach past its samplers."""

import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline

from ..exceptions import LineageWarning
from ..utils._stack import user_stacklevel
from ._fingerprint import class_path, fingerprint, json_params
from ._run import Op
from ._run_rows import UNTRACED_SAMPLER_NOTE


def input_names(estimator, X, n_features=None):
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    n = n_features if n_features is not None else getattr(estimator, "n_features_in_", 0)
    if n == 0 and hasattr(X, "shape") and len(X.shape) == 2:
        n = X.shape[1]
    return [f"x{j}" for j in range(n)]


def _names(est, attr):
    try:
        if attr == "in":
            names = getattr(est, "feature_names_in_", None)
            return [] if names is None else [str(n) for n in names]
        return [str(n) for n in est.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError):
        return []


def fitted_steps(estimator, prefix=""):
    """``(name, step)`` of every fitted leaf and composite step, in fit order."""
    steps = []

    def walk(est, name):
        if est is None or isinstance(est, str):
            return
        if isinstance(est, Pipeline):
            for step_name, step in est.steps:
                walk(step, f"{name}/{step_name}" if name else step_name)
            return
        if isinstance(est, ColumnTransformer) and hasattr(est, "transformers_"):
            for sub_name, sub, _ in est.transformers_:
                walk(sub, f"{name}/{sub_name}" if name else sub_name)
        elif isinstance(est, FeatureUnion):
            for sub_name, sub in est.transformer_list:
                walk(sub, f"{name}/{sub_name}" if name else sub_name)
        steps.append((name or type(est).__name__.lower(), est))

    walk(estimator, prefix)
    return steps


def collect_ops(estimator, prefix=""):
    """One :class:`Op` per fitted leaf and composite step, in fit order."""
    return [
        Op(
            name=name,
            cls=class_path(est),
            params=json_params(est),
            fingerprint=fingerprint(est),
            features_in=_names(est, "in"),
            features_out=_names(est, "out"),
        )
        for name, est in fitted_steps(estimator, prefix)
    ]


def resample_ids(ids, steps):
    """Follow row ids through sampler steps (``fit_resample`` with ``sample_indices_``)."""
    notes = []
    for name, step in steps:
        if not hasattr(step, "fit_resample"):
            continue
        indices = getattr(step, "sample_indices_", None)
        if indices is None:
            message = (
                f"sampler step {name!r} ({type(step).__name__}) {UNTRACED_SAMPLER_NOTE}, "
                "so the rows the final estimator saw cannot be traced past it. Lineage "
                "records the rows given to fit (trace() refuses positions)."
            )
            warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
            notes.append(message)
            return ids, notes, False
        ids = ids[np.asarray(indices)]
    return ids, notes, True
