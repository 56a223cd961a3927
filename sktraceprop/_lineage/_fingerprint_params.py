"""What of an estimator a fingerprint takes (its own parameters and fitted state), and
JSON-safe records of parameters."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.metaestimators import _BaseComposition

#: scikit-learn's private settings and caches (not learnt by fit; the text
#: vectorizers' ``_stop_words_id`` is an ``id()`` set by transform).
_SETTINGS = frozenset(
    {"_sklearn_output_config", "_metadata_request", "_sklearn_version", "_stop_words_id"}
)


def own_params(estimator):
    """``get_params(deep=False)`` without methods patched on the instance.

    A traced fit shadows fit methods on the final estimator's instance while it runs
    (to see the rows that reach it), and skorch lists instance attributes as
    parameters: they are not parameters, and must not make the fingerprint recorded
    during the fit differ from the fitted model's.
    """
    cls = type(estimator)
    if cls.get_params is BaseEstimator.get_params or (
        isinstance(estimator, _BaseComposition) and cls.get_params in _COMPOSITE_GET_PARAMS
    ):
        # what BaseEstimator.get_params(deep=False) returns, without inspecting the
        # signature at every call (a logged predict checks the model's fingerprint)
        return {k: getattr(estimator, k) for k in _param_names(cls)}
    return {
        k: v
        for k, v in estimator.get_params(deep=False).items()
        if not callable(getattr(cls, k, None))
    }


_PARAM_NAMES = {}
#: scikit-learn's composites whose get_params(deep=False) is BaseEstimator's
_COMPOSITE_GET_PARAMS = (
    Pipeline.get_params,
    ColumnTransformer.get_params,
    FeatureUnion.get_params,
)


def _param_names(cls):
    names = _PARAM_NAMES.get(cls)
    if names is None:
        names = tuple(k for k in cls._get_param_names() if not callable(getattr(cls, k, None)))
        _PARAM_NAMES[cls] = names
    return names


def fitted_state(estimator):
    """Fitted attributes of an estimator.

    Public names ending in ``_`` and, for scikit-learn's own estimators, private ones
    too: a histogram gradient boosting model predicts from ``_predictors``, a KNN
    imputer or classifier from ``_fit_X`` and ``_y``, and scikit-learn's estimator
    checks keep private state unchanged by predict and transform.
    """
    own = type(estimator).__module__.startswith("sklearn.")
    return {
        k: v
        for k, v in vars(estimator).items()
        if k != "lineage_"
        and (
            (k.endswith("_") and not k.startswith("_"))
            or (own and k.startswith("_") and not k.startswith("__") and k not in _SETTINGS)
        )
    }


#: What scikit-learn (1.9 on) sets on an estimator for its callbacks around a fit, and
#: removes or restores once that fit returned (a pipeline's step: while the pipeline's
#: fit still runs): how a fit reports, not what it learnt.
_CALLBACKS = frozenset(
    {"_skl_callbacks", "_skl_callbacks_to_teardown", "_callback_fit_ctx", "_parent_callback_ctx"}
)


def watched_state(obj):
    """All ``obj`` holds in its own dict that a fit may leave there, by name: what the
    step watch (``_fitted_elsewhere``) digests.

    Its fitted state, public and private and of any class (a KNN's ``_fit_X``, a
    histogram gradient boosting model's ``_predictors``, a user estimator's ``_w``), and
    its parameters (a ``FeatureUnion`` fits the transformers of its ``transformer_list``
    in place, and a step's parameters are recorded with its run); not dunders,
    scikit-learn's settings and callbacks' context (``_SETTINGS``, ``_CALLBACKS``: not
    learnt, and changed by the pipeline once the step's fit returned), nor what
    sktraceprop puts there while a traced fit runs (its spies on the fit methods). (What
    the traced fit's own calls of the step's ``transform`` write, a ``ColumnTransformer``'s
    ``_transformers_feature_names_out``, a user's cache, is digested again after each
    such call: ``_watch_calls``.)
    """
    # (a copy made at once: another thread may be setting attributes meanwhile)
    return {
        k: v
        for k, v in dict(getattr(obj, "__dict__", {})).items()
        if not (
            k.startswith("__")
            or k in _SETTINGS
            or k in _CALLBACKS
            or (callable(v) and sktraceprop_own(v))
        )
    }


#: An attribute an object did not hold (:func:`as_before`).
ABSENT = object()


def as_before(state, before):
    """``state`` (a :func:`watched_state`) with the attributes of ``before`` as they were
    (``{name: value}``, :data:`ABSENT` for one it did not hold)."""
    state = {**state, **before}
    return {k: v for k, v in state.items() if v is not ABSENT}


def sktraceprop_own(value):
    """Whether ``value`` is sktraceprop's own (a spy a traced fit puts on an instance):
    by its class's module (the spies' own: asked first, the common case), or its own."""
    try:
        return _own_module(type(value).__module__) or _own_module(
            getattr(value, "__module__", None)
        )
    except Exception:  # an object whose attributes raise when read
        return False


def _own_module(module):
    return isinstance(module, str) and (
        module == "sktraceprop" or module.startswith("sktraceprop.")
    )


def json_safe(value):
    """A JSON-serialisable stand-in for a parameter value."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if np.isfinite(value) else repr(value)
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, BaseEstimator):
        return {"class": class_path(value), "params": json_params(value)}
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def json_params(estimator):
    """Shallow parameters of an estimator, JSON-safe."""
    return {k: json_safe(v) for k, v in own_params(estimator).items()}


def class_path(obj):
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"
