"""Feature lineage: which input columns each output feature of a fitted transformer uses."""

import copy
import re

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline

_SENTINEL = re.compile(r"__stp(\d+)__")


def _sentinels(n):
    return np.array([f"__stp{j}__" for j in range(n)], dtype=object)


#: scikit-learn transformers whose outputs keep their input's name but are computed
#: from the other columns of the row too: multivariate imputers (a missing value is
#: filled from the row's other columns) and ``Normalizer`` (divides by the row's norm).
_ROW_MIXING = frozenset({"IterativeImputer", "KNNImputer", "Normalizer"})


def _mixes_rows(est):
    """Whether ``est`` is (or subclasses) one of :data:`_ROW_MIXING`."""
    return any(
        cls.__module__.startswith("sklearn.") and cls.__name__ in _ROW_MIXING
        for cls in type(est).__mro__
    )


def _leaf(est, names):
    """Dependencies of a leaf transformer, read from its feature names on sentinel inputs.

    Output names that embed the input names (one-hot ``sex_F``, polynomial ``a b``,
    one-to-one scalers) reveal exactly which inputs they use; names that do not
    (``pca0``) depend on every input, and so do the outputs of transformers that mix
    the columns of a row under one-to-one names (:data:`_ROW_MIXING`; their missing
    indicators excepted).
    """
    out = _leaf_by_names(est, names)
    if out is None or not _mixes_rows(est):
        return out
    real, deps = out
    return real, [
        dep if str(name).startswith("missingindicator_") else list(names)
        for name, dep in zip(real, deps)
    ]


def _leaf_by_names(est, names):
    """Dependencies read from the feature names alone (see :func:`_leaf`)."""
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
    try:
        if hasattr(probe, "feature_names_in_"):
            probe.feature_names_in_ = _sentinels(n)
            fake = list(probe.get_feature_names_out())
        else:
            fake = list(probe.get_feature_names_out(_sentinels(n)))
    except (ValueError, TypeError, AttributeError):
        fake = None
    if fake is None or len(fake) != len(real):
        return real, [list(names)] * len(real)
    deps = []
    for name in fake:
        used = sorted({int(j) for j in _SENTINEL.findall(str(name))})
        deps.append([names[j] for j in used] if used else list(names))
    return real, deps


def feature_lineage(est, names):
    """Output feature names of ``est`` and, for each, the input names it derives from.

    Parameters
    ----------
    est : fitted transformer, ``"passthrough"`` or None
    names : list of str
        Input feature names.

    Returns
    -------
    out_names : list of str or None
        None when the output features cannot be named.
    deps : list of list of str
    """
    names = [str(n) for n in names]
    if est is None or est == "passthrough":
        return names, [[n] for n in names]
    if isinstance(est, Pipeline):
        raw = {n: [n] for n in names}
        for _, step in est.steps:
            if hasattr(step, "fit_resample"):  # samplers change rows, not features
                continue
            out = feature_lineage(step, names)
            if out is None:
                return None
            names, step_deps = out
            raw = dict(zip(names, (sorted({r for d in ds for r in raw[d]}) for ds in step_deps)))
        return names, [raw[n] for n in names]
    if isinstance(est, ColumnTransformer) and hasattr(est, "transformers_"):
        return _column_transformer(est, names)
    if isinstance(est, FeatureUnion):
        return _feature_union(est, names)
    return _leaf(est, names)


def unknown_step(est, names):
    """The first step (``name (Class)``) whose output features cannot be traced, or None."""
    names = [str(n) for n in names]
    if isinstance(est, Pipeline):
        for step_name, step in est.steps:
            if hasattr(step, "fit_resample") or step is None or step == "passthrough":
                continue
            out = feature_lineage(step, names)
            if out is None:
                inner = unknown_step(step, names)
                return inner or f"{step_name} ({type(step).__name__})"
            names = out[0]
        return None
    if feature_lineage(est, names) is None:
        return type(est).__name__
    return None


def _column_transformer(ct, names):
    try:
        full = list(ct.get_feature_names_out())
    except (ValueError, TypeError, AttributeError):
        full = None
    out_names, deps = [], []
    for name, trans, _ in ct.transformers_:
        if trans == "drop" or name not in ct.output_indices_:
            continue
        cols = [names[i] for i in ct._transformer_to_input_indices[name]]
        sub = feature_lineage(trans, cols)
        piece = ct.output_indices_[name]
        width = piece.stop - piece.start
        if sub is None or len(sub[0]) != width:
            sub_names, sub_deps = [f"{name}__{k}" for k in range(width)], [cols] * width
        else:
            sub_names, sub_deps = sub
        out_names += full[piece] if full is not None else [f"{name}__{n}" for n in sub_names]
        deps += sub_deps
    return out_names, deps


def _feature_union(fu, names):
    try:
        full = list(fu.get_feature_names_out())
    except (ValueError, TypeError, AttributeError):
        full = None
    out_names, deps = [], []
    for name, trans in fu.transformer_list:
        if trans == "drop" or trans is None:
            continue
        sub = feature_lineage(trans, names)
        if sub is None:
            return None
        out_names += [f"{name}__{n}" for n in sub[0]]
        deps += sub[1]
    if full is not None and len(full) == len(out_names):
        out_names = full
    return out_names, deps
