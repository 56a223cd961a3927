"""Which steps a traced fit gives each of its fit parameters, and under which name.

A fit parameter's name does not say where it goes. Without metadata routing a pipeline
gives ``standardscaler__sample_weight`` to its scaler only, and the model after it
learns from every row with weight 1. With routing enabled (``sklearn.set_config(
enable_metadata_routing=True)``) a plain ``sample_weight`` goes to the steps that
requested it, and an alias (``set_fit_request(sample_weight="w_model")``) hands a
parameter named ``w_model`` to a model as its sample weights. A run that records only
the names would say a weight-0 row was not learnt from when only a scaler ignored it,
or record an alias's weights as an anonymous array. So each parameter is followed the
way scikit-learn routes it, to the steps that receive it.
"""

import sklearn
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import MetadataRouter, get_routing_for_object, process_routing

from ..utils._sklearn_compat import routing_children

__all__ = ["fit_param_routes", "weighted_parts"]


class _Given:
    """Stands for one fit parameter while scikit-learn's routing is followed."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def _join(prefix, name):
    return f"{prefix}__{name}" if prefix and name else prefix or name


def _inner_estimator(estimator):
    """The estimator a TracedEstimator wraps (its fit parameters go there), or None."""
    from ..wrappers import TracedEstimator

    return estimator.estimator if isinstance(estimator, TracedEstimator) else None


def _leaf_path(estimator):
    """``set_params`` path of the final estimator of (nested) pipelines, "" for itself."""
    inner = _inner_estimator(estimator)
    if inner is not None:
        return _join("estimator", _leaf_path(inner))
    if isinstance(estimator, Pipeline) and estimator.steps:
        name, last = estimator.steps[-1]
        return _join(name, _leaf_path(last))
    return ""


#: Parameters by which scikit-learn's meta-estimators take the estimators they fit.
_INNER_PARAMS = ("estimator", "base_estimator", "estimators", "regressor", "classifier")


def _leaf(estimator):
    """The final estimator of (nested) pipelines and TracedEstimators."""
    inner = _inner_estimator(estimator)
    if inner is not None:
        return _leaf(inner)
    if isinstance(estimator, Pipeline) and estimator.steps:
        return _leaf(estimator.steps[-1][1])
    return estimator


def _is_meta(estimator):
    """Whether ``estimator`` fits estimators of its own (CalibratedClassifierCV,
    BaggingClassifier, a search): how they use what it is given is its own business."""
    try:
        params = estimator.get_params(deep=False)
    except (AttributeError, TypeError):
        return False
    return any(
        hasattr(params.get(k), "fit") or isinstance(params.get(k), list | tuple)
        for k in _INNER_PARAMS
        if params.get(k) is not None
    )


def _follow_routed(routing, method, given, prefix, found):
    """Follow metadata routing: ``given`` maps names as ``routing``'s owner receives them
    in ``method`` to the parameters they stand for."""
    if not isinstance(routing, MetadataRouter):  # a consumer takes what it was routed
        for as_name, marker in given.items():
            found.add((marker.name, prefix, as_name))
        return
    routed = routing.route_params(caller=method, params=given)
    for name, (mapping, child) in routing_children(routing):
        callees = {pair.callee for pair in mapping if pair.caller == method}
        if name is None:  # the router consumes metadata itself (its own request)
            requests = getattr(child, method).requests if method in callees else {}
            for prop, alias in requests.items():
                key = prop if alias is True else alias
                if isinstance(key, str) and key in given:
                    found.add((given[key].name, prefix, prop))
            continue
        for callee in sorted(callees):
            params = routed[name].get(callee, {})
            if params:
                _follow_routed(child, callee, params, _join(prefix, name), found)


def _follow_named(estimator, given, prefix, found):
    """Follow scikit-learn's naming without routing: a pipeline gives ``step__param`` to
    ``step`` as ``param``; ``given`` maps names as ``estimator`` receives them to the
    parameters they are."""
    inner = _inner_estimator(estimator)
    if inner is not None:
        _follow_named(inner, given, _join(prefix, "estimator"), found)
        return
    if not isinstance(estimator, Pipeline):
        for as_name, name in given.items():
            found.add((name, prefix, as_name))
        return
    steps = dict(estimator.steps)
    for as_name, name in given.items():
        step, sep, rest = as_name.partition("__")
        if sep and step in steps:  # anything else Pipeline.fit refuses
            _follow_named(steps[step], {rest: name}, _join(prefix, step), found)


def fit_param_routes(estimator, method, params):
    """Where ``estimator.<method>(X, y, **params)`` gives each parameter.

    With metadata routing enabled, the routing is validated as the fit will validate it
    (scikit-learn's error, raised before anything is fitted).

    Parameters
    ----------
    estimator : traced estimator
        A ``TracedPipeline``, ``TracedEstimator`` or ``TracedColumnTransformer``.
    method : str
        The fit method called (``"fit"``, ``"fit_transform"``, ``"fit_predict"``).
    params : dict
        The fit parameters, name -> value (``sample_id`` excluded).

    Returns
    -------
    routes : dict
        Name -> list of ``{"step": path, "as": name, "final": bool}``: the ``set_params``
        path of each step given the parameter (``"standardscaler"``,
        ``"estimator__logisticregression"``; ``""`` for ``estimator`` itself), the name
        it received it as, and whether that step is (part of) the final estimator;
        ``"meta": True`` where that step is the final estimator and fits estimators of
        its own (``CalibratedClassifierCV``), which may or may not pass it on.
    """
    names = [n for n, v in params.items() if v is not None]
    if not names:
        return {}
    found = set()
    if sklearn.get_config()["enable_metadata_routing"]:
        routing = get_routing_for_object(estimator)
        if not isinstance(routing, MetadataRouter):  # a plain estimator takes all itself
            found = {(n, "", n) for n in names}
        else:
            given = {n: _Given(n) for n in names}
            process_routing(estimator, method, **given)  # validates: raises as fit would
            _follow_routed(routing, method, given, "", found)
    else:
        _follow_named(estimator, {n: n for n in names}, "", found)
    leaf = _leaf_path(estimator)
    meta = _is_meta(_leaf(estimator))
    routes = {n: [] for n in names}
    for name, path, as_name in sorted(found):
        final = not leaf or path == leaf or path.startswith(leaf + "__")
        entry = {"step": path, "as": as_name, "final": final}
        if final and meta and path == leaf:
            entry["meta"] = True  # the final step fits estimators of its own
        routes[name].append(entry)
    return routes


def weighted_parts(estimator, params, method="fit"):
    """Whether ``estimator.<method>(X, y, **params)`` gives sample weights to steps before
    the final estimator, and to the final estimator: ``(preprocessing, final)``."""
    given = [
        d
        for routes in fit_param_routes(estimator, method, params).values()
        for d in routes
        if d["as"] == "sample_weight"
    ]
    return any(not d["final"] for d in given), any(d["final"] for d in given)
