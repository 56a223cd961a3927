"""Feature lineage of one fitted transformer (a leaf of a composition): which inputs each
output uses, read from its output names on sentinel inputs, widened for transformers
that mix a row's columns, select on the target or are fitted on it."""

import copy
import re

import numpy as np
from sklearn.utils import get_tags

from ._fingerprint_params import sktraceprop_own
from ._target_name import TARGET

_SENTINEL = re.compile(r"__stp(\d+)__")


def _sentinels(n):
    return np.array([f"__stp{j}__" for j in range(n)], dtype=object)


#: scikit-learn transformers whose outputs keep their input's name but are computed
#: from the other columns of the row too: multivariate imputers (a missing value is
#: filled from the row's other columns) and ``Normalizer`` (divides by the row's norm).
_ROW_MIXING = frozenset({"IterativeImputer", "KNNImputer", "Normalizer"})


#: scikit-learn transformers fitted on the target that are neither classifiers nor
#: regressors and do not require ``y`` in their tags.
_TARGET_FITTED = frozenset(
    {"TargetEncoder", "NeighborhoodComponentsAnalysis", "PLSSVD", "PLSCanonical", "CCA"}
)


#: The mixin of category_encoders' encoders fitted on the target.
_SUPERVISED_ENCODER = "SupervisedTransformerMixin"


def _is_sklearn(est, names):
    """Whether ``est`` is (or subclasses) a scikit-learn class named in ``names``."""
    return any(
        cls.__module__.startswith("sklearn.") and cls.__name__ in names
        for cls in type(est).__mro__
    )


def _mixes_rows(est):
    """Whether each output of ``est`` is computed from the whole row (see
    :data:`_ROW_MIXING`; ``TfidfTransformer`` normalises rows unless ``norm=None``)."""
    if _is_sklearn(est, {"TfidfTransformer"}):
        return getattr(est, "norm", None) is not None
    return _is_sklearn(est, _ROW_MIXING)


def _selects_on_target(est):
    """Whether ``est`` keeps the input columns that score best against the target.

    Which columns it keeps depends on the target and, ranked or thresholded together,
    on every input column: each kept column depends on them all.
    """
    return _is_sklearn(est, {"SelectorMixin"}) and not _is_sklearn(est, {"VarianceThreshold"})


def _uses_target(est):
    """Whether ``est`` is fitted on the target: the values it outputs, or which columns
    it keeps, depend on ``y``."""
    if _is_sklearn(est, _TARGET_FITTED) or _selects_on_target(est):
        return True
    if any(
        cls.__module__.startswith("category_encoders") and cls.__name__ == _SUPERVISED_ENCODER
        for cls in type(est).__mro__
    ):
        return True  # (releases before its tags said so: target encoding, WOE, ...)
    try:
        tags = get_tags(est)
    except (AttributeError, TypeError, ValueError):
        return False  # no scikit-learn tags: nothing says it
    # a stacking or voting ensemble, LDA, PLS: its outputs are predictions
    return tags.estimator_type in ("classifier", "regressor") or tags.target_tags.required


def _leaf(est, names):
    """Dependencies (input positions) of a leaf transformer, read from its feature names
    on sentinel inputs.

    Output names that embed the input names (one-hot ``sex_F``, polynomial ``a b``,
    one-to-one scalers) reveal exactly which inputs they use; names that do not
    (``pca0``) depend on every input, and so do the outputs of transformers that mix
    the columns of a row under one-to-one names (:data:`_ROW_MIXING`; their missing
    indicators excepted) and the columns a supervised selector keeps. The constant
    column of ``PolynomialFeatures`` depends on none. Outputs of a transformer fitted
    on the target list :data:`TARGET` last.
    """
    out = _leaf_by_names(est, names)
    if out is None:
        return None
    real, deps = out
    every = list(range(len(names)))
    if _mixes_rows(est):
        deps = [
            dep if str(name).startswith("missingindicator_") else every
            for name, dep in zip(real, deps)
        ]
    if _selects_on_target(est):
        deps = [every] * len(real)
    if _uses_target(est):
        deps = [[*dep, TARGET] for dep in deps]
    return real, deps


def _leaf_by_names(est, names):
    """Dependencies (input positions) read from the feature names alone (see
    :func:`_leaf`)."""
    if not hasattr(est, "get_feature_names_out"):
        return None
    n = len(names)
    try:
        real = list(est.get_feature_names_out(np.asarray(names, dtype=object)))
    except (ValueError, TypeError, AttributeError):
        try:
            real = list(est.get_feature_names_out())
        except (ValueError, TypeError, AttributeError):
            return None
    probe = copy.copy(est)
    # without the spies a traced fit puts in its dict over its class's methods: they
    # call the methods of ``est``, not of the probe
    for k, v in list(vars(probe).items()):
        if callable(getattr(type(probe), k, None)) and sktraceprop_own(v):
            del probe.__dict__[k]
    try:
        if hasattr(probe, "feature_names_in_"):
            probe.feature_names_in_ = _sentinels(n)
            fake = list(probe.get_feature_names_out())
        else:
            fake = list(probe.get_feature_names_out(_sentinels(n)))
    except (ValueError, TypeError, AttributeError):
        fake = None
    every = list(range(n))
    if fake is None or len(fake) != len(real):
        return real, [every] * len(real)
    # PolynomialFeatures names its constant column "1": no input, not every input
    constant = "1" if _is_sklearn(est, {"PolynomialFeatures"}) else None
    deps = []
    for name in fake:
        # (a category written like a sentinel may name an input past the last: none)
        used = sorted({int(j) for j in _SENTINEL.findall(str(name)) if int(j) < n})
        if used:
            deps.append(used)
        else:
            deps.append([] if str(name) == constant else every)
    return real, deps
