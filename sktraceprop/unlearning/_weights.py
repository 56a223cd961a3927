"""Sample weights for every step of a pipeline that accepts them.

scikit-learn's ``Pipeline.fit`` passes ``<step>__sample_weight`` only to the steps
named. A model weighted by ``w`` must equal one fitted on rows repeated ``w`` times
(``check_sample_weight_equivalence_on_dense_data``), so a scaler before it must see
the weights too: every step whose ``fit`` takes ``sample_weight`` gets them. With
metadata routing enabled, the weights are passed as ``sample_weight=`` and each step
receives them as it requested (``set_fit_request``).
"""

import warnings

import sklearn
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import has_fit_parameter

from .._lineage._fit_params import final_weight_names
from ..exceptions import LineageWarning
from ..utils._stack import user_stacklevel

__all__ = ["sample_weight_params", "warn_unweighted_refit"]


def sample_weight_params(estimator, sample_weight, *, warn=False):
    """Fit parameters that give ``sample_weight`` to every step accepting it.

    Parameters
    ----------
    estimator : estimator or Pipeline
    sample_weight : array-like of shape (n_samples,) or None
    warn : bool, default=False
        Warn about the steps that cannot take the weights (stateless
        ``FunctionTransformer`` steps excepted), at the first caller outside sktraceprop.

    Returns
    -------
    params : dict
        Keyword arguments for ``estimator.fit`` (or ``fit_transform``).
    """
    if sample_weight is None:
        return {}
    if not isinstance(estimator, Pipeline) or sklearn.get_config()["enable_metadata_routing"]:
        return {"sample_weight": sample_weight}
    params, unweighted = {}, []
    for name, step in estimator.steps:
        if step is None or step == "passthrough":
            continue
        if has_fit_parameter(step, "sample_weight"):
            params[f"{name}__sample_weight"] = sample_weight
        elif not isinstance(step, FunctionTransformer):
            unweighted.append(name)
    if warn and unweighted:
        warnings.warn(
            f"pipeline step(s) {', '.join(map(repr, unweighted))} do not accept "
            "sample_weight: they are fitted as if every row had weight 1.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return params


def warn_unweighted_refit(estimator, sample_weight):
    """Warn where ``estimator`` is a fitted traced model whose run says its final
    estimator was given sample weights other than 1 and the unlearner's ``fit`` gets none:
    the unlearner fits its clone unweighted, a model other than the one given, whose
    run it still names as its parent."""
    lineage = getattr(estimator, "lineage_", None)
    if sample_weight is not None or lineage is None:
        return
    weighted = final_weight_names(getattr(lineage, "fit_params", None) or {})
    if weighted:
        warnings.warn(
            f"the estimator was fitted with sample weights, not all 1 ({', '.join(weighted)}; "
            f"run {lineage.run_id}), and none were given to this fit: the unlearner fits "
            "its clone unweighted, a different model from the one given, and removals "
            "correct that model. Pass the same weights to fit (sample_weight=w) to "
            "unlearn from the weighted model.",
            LineageWarning,
            stacklevel=user_stacklevel(),
        )
