"""Sample weights for every step of a pipeline that accepts them.

scikit-learn's ``Pipeline.fit`` passes ``<step>__sample_weight`` only to the steps
named. A model weighted by ``w`` must equal one fitted on rows repeated ``w`` times
(``check_sample_weight_equivalence_on_dense_data``), so a scaler before it must see
the weights too: every step whose ``fit`` takes ``sample_weight`` gets them. With
metadata routing enabled, the weights are passed as ``sample_weight=`` and each step
receives them as it requested (``set_fit_request``).
"""

import warnings

import numpy as np
import sklearn
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import has_fit_parameter

from .._lineage._fit_params import final_weight_names, final_weights_differ
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


def warn_unweighted_refit(estimator, sample_weight, ids=None):
    """Warn where ``estimator`` is a fitted traced model whose run says its final
    estimator was given sample weights other than 1 and the unlearner's ``fit`` gets none,
    or, where ``X``'s rows (``ids``) are the run's rows in any order, gets other weights
    for them (mapped to the run's order by row id, compared by the run's SHA-256 of its
    weights): the unlearner fits its clone with the weights given, a model other than
    the one given, whose run it still names as its parent. For other rows (a subset)
    the clone is another model anyway, and the weights are not compared."""
    lineage = getattr(estimator, "lineage_", None)
    if lineage is None:
        return
    if sample_weight is not None:
        _warn_other_weights(lineage, sample_weight, ids)
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


def _in_run_order(lineage, sample_weight, ids):
    """``sample_weight`` (for rows ``ids``) in the order of the run's input rows, or None
    where ``ids`` are not those rows."""
    run = lineage.input_row_ids if lineage.input_row_ids is not None else lineage.row_ids
    if ids is None or run is None:
        return None
    ids, run = np.asarray(ids), np.asarray(run)
    if ids.shape == run.shape and np.array_equal(ids, run):
        return sample_weight  # as given: compared in the form the run recorded
    if ids.shape != run.shape or np.unique(ids).size != ids.size:
        return None
    order = np.argsort(ids, kind="stable")
    found = np.clip(np.searchsorted(ids[order], run), 0, ids.size - 1)
    if not np.array_equal(ids[order][found], run):
        return None
    pos = order[found]
    if hasattr(sample_weight, "iloc"):
        return sample_weight.iloc[pos]
    return np.asarray(sample_weight)[pos]


def _warn_other_weights(lineage, sample_weight, ids):
    weights = _in_run_order(lineage, sample_weight, ids)
    if weights is None:
        return
    differ, _ = final_weights_differ(getattr(lineage, "fit_params", None) or {}, weights)
    if differ is not None:
        warnings.warn(
            f"the sample_weight given for the rows of run {lineage.run_id} (mapped to its "
            f"row order by row id) are not those its estimator was fitted with: {differ}. "
            "The unlearner fits its clone with the weights given, a different model from "
            "the one given, and removals correct that model. Pass the same weights to "
            "unlearn from the weighted model.",
            LineageWarning,
            stacklevel=user_stacklevel(),
        )
