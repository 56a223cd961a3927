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

from ..utils._stack import user_stacklevel

__all__ = ["sample_weight_params"]


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
