"""The training rows' features as a model after ``transformer`` would be fitted on them.

A pipeline fits its model on what ``fit_transform`` gives, and two kinds of step give
their training rows other features there than ``transform`` does:

* a ``TargetEncoder`` cross fits: each training row is encoded with the targets of the
  other folds, while ``transform`` encodes it with all the targets, its own included (a
  leak the cross fitting exists to avoid);
* a sampler (imbalanced-learn's ``fit_resample``: ``RandomOverSampler``, ``SMOTE``,
  ``RandomUnderSampler``) adds, drops or synthesises rows at fit, and ``transform``
  passes every row through unsampled.

An unfitted transformer is fitted here by ``fit_transform``, as a pipeline fits it, so a
``TargetEncoder``'s training rows are valued on their cross-fitted encodings (the
features a ``KNeighborsClassifier`` after it is fitted on); a sampler is refused (the
sampled rows are not the given rows, and a synthetic row has no line of its own). A
fitted transformer cannot say what its model was given: the training rows are taken
through ``transform``, and a warning names the steps.
"""

import warnings

from sklearn.base import clone
from sklearn.preprocessing import TargetEncoder
from sklearn.utils.validation import check_array

from .._lineage._record import fitted_steps
from ..utils._prefit import is_fitted
from ._validation import transformed


def _steps_of(transformer, kind):
    if kind == "sampler":
        return [
            f"{name} ({type(step).__name__})"
            for name, step in fitted_steps(transformer)
            if hasattr(step, "fit_resample")
        ]
    return [
        f"{name} (TargetEncoder)"
        for name, step in fitted_steps(transformer)
        if isinstance(step, TargetEncoder)
    ]


def sampler_steps(transformer):
    """``["name (Class, step i)"]`` of the samplers (``fit_resample``) in ``transformer``:
    itself (its class name), or the steps of a pipeline, fitted or not."""
    if not hasattr(transformer, "steps"):
        return [type(transformer).__name__] if hasattr(transformer, "fit_resample") else []
    return [
        f"{name} ({type(step).__name__}, step {i})"
        for i, (name, step) in enumerate(transformer.steps)
        if hasattr(step, "fit_resample")
    ]


def _sampler_error(samplers):
    return ValueError(
        f"transformer holds the sampler {', '.join(samplers)}: it adds, drops or synthesises "
        "rows at fit, so the rows a model after it is fitted on are not the rows given "
        "(a synthetic row has no line of its own), and its transform passes every row "
        "through unsampled. Value the rows without the sampler (pass the steps before it, "
        "or the pipeline with it removed)."
    )


def fitted_transformer_features(transformer, X, y):
    """``(transformer_, features)``: the fitted transformer and the training rows' features.

    A fitted ``transformer`` is kept and the rows taken through its ``transform`` (with a
    warning where its steps cross fit or sample); an unfitted one is cloned and fitted by
    ``fit_transform``, whose output the rows are valued on.
    """
    if transformer is None:
        raise ValueError("transformer is None")  # (the caller handles no transformer)
    if is_fitted(transformer):
        samplers = _steps_of(transformer, "sampler")
        crossed = _steps_of(transformer, "cross")
        if samplers or crossed:
            why = []
            if crossed:
                why.append(
                    f"{', '.join(crossed)} cross fits: a pipeline's fit encoded each training "
                    "row with the other folds' targets, while transform(X) encodes it with "
                    "its own target too"
                )
            if samplers:
                why.append(
                    f"{', '.join(samplers)} resampled the rows at fit, while transform(X) "
                    "passes them through unsampled"
                )
            warnings.warn(
                "The training rows are valued on the fitted transformer's transform(X), "
                f"which is not what a model after it was fitted on: {'; '.join(why)}. The "
                "values are those of a KNN on transform(X) of the training rows. To value "
                "them on the features a fit gives, pass an unfitted transformer "
                "(sklearn.base.clone(pipe[:-1])).",
                UserWarning,
                stacklevel=4,  # the fit call: fit -> fit_rows -> here
            )
        return transformer, transformed(transformer, X)
    fitted = clone(transformer)
    if hasattr(fitted, "fit_resample"):
        raise _sampler_error([type(fitted).__name__])
    Xt = fitted.fit_transform(X, y)
    samplers = _steps_of(fitted, "sampler")
    if samplers:
        raise _sampler_error(samplers)
    Xt = check_array(Xt, accept_sparse="csr", dtype=float, order="C", input_name="transformed X")
    if Xt.shape[0] != (X.shape[0] if hasattr(X, "shape") else len(X)):
        raise ValueError(
            f"transformer's fit_transform returned {Xt.shape[0]} rows for "
            f"{X.shape[0] if hasattr(X, 'shape') else len(X)} given: every training row "
            "needs its own features to be valued"
        )
    return fitted, Xt
