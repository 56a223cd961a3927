"""Feature lineage: which input columns each output feature of a fitted transformer uses.

An output's dependencies are the input columns whose values, at fit or at transform, can
change its values or whether it is output at all. A transformer fitted on the target
(``TargetEncoder``, supervised feature selection, ``LinearDiscriminantAnalysis``, a
stacking ensemble) also lists :data:`TARGET`. An empty list means "depends on no input"
(the constant column ``1`` of ``PolynomialFeatures``); ``None`` means unknown.

This module follows compositions (pipelines, column transformers, unions); a leaf
transformer's own outputs are read by :mod:`._leaf_features`, and :mod:`._feature_dict`
gives the answer as a dict.
"""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline

from ..utils._prefit import unfrozen
from ._declared import check, columns_of, declared, sample_rows, transformed
from ._leaf_features import _leaf, _uses_target
from ._target_name import TARGET


def feature_lineage(est, names, X=None, notes=None):
    """Output feature names of ``est`` and, for each, the input names it derives from.

    Parameters
    ----------
    est : fitted transformer, ``"passthrough"`` or None
    names : list of str
        Input feature names.
    X : DataFrame, ndarray or sparse matrix, default=None
        Rows ``est`` was fitted on. When given, steps whose output names only declare
        their inputs (a ``FunctionTransformer`` of a user's function, a class from
        outside scikit-learn) are checked on a few of them (:mod:`._declared`).
    notes : list of str, default=None
        Where what the check found is appended.

    Returns
    -------
    out_names : list of str or None
        None when the output features cannot be named.
    deps : list of list of str
        Input names in input order, :data:`TARGET` last. Compositions are followed by
        position, not by name: two features of one name (an input ``"a b"`` beside the
        ``PolynomialFeatures`` interaction ``"a b"``) keep their own inputs.
    """
    names = [str(n) for n in names]
    sample = _OFF
    if X is not None and has_declared(est):
        sample = sample_rows(X)
    said = [] if notes is None else notes
    out = _positional(est, names, sample, said, type(est).__name__)
    if out is None:
        return None
    out_names, deps = out
    return out_names, [_named(dep, names) for dep in deps]


def _named(dep, names):
    """Input positions (and :data:`TARGET`) of one output -> input names, in input order
    (a name given to two inputs once), :data:`TARGET` last."""
    listed = dict.fromkeys(names[j] for j in sorted({d for d in dep if d != TARGET}))
    return [*listed, TARGET] if TARGET in dep else list(listed)


#: The sample of :func:`_positional` when declared steps are not checked.
_OFF = object()


def _any_leaf(est, test, samplers=True):
    """Whether ``test`` holds for a leaf of the composition ``est`` (the fitted steps
    inside pipelines, column transformers and unions; ``samplers=False`` skips steps
    that change rows, not features)."""
    est = _unwrapped(est)
    if est is None or isinstance(est, str):
        return False
    if isinstance(est, Pipeline):
        steps = [s for _, s in est.steps if samplers or not hasattr(s, "fit_resample")]
    elif isinstance(est, ColumnTransformer):
        steps = [t for _, t, _ in getattr(est, "transformers_", est.transformers)]
    elif isinstance(est, FeatureUnion):
        steps = [t for _, t in est.transformer_list]
    else:
        return test(est)
    return any(_any_leaf(step, test, samplers) for step in steps)


def has_declared(est):
    """Whether a leaf of the composition ``est`` only declares its inputs by its names
    (samplers change rows, not features: not read, so not checked)."""
    return _any_leaf(est, declared, samplers=False)


def _positional(est, names, sample=_OFF, notes=None, label=None):
    """:func:`feature_lineage` with each output's inputs as positions in ``names``.

    ``sample`` is the input of ``est`` on a few training rows (None where it could not
    be computed), or :data:`_OFF`; ``notes`` collects what checking it found.
    """
    if est is None or est == "passthrough":
        return names, [[j] for j in range(len(names))]
    est = _unwrapped(est)
    if isinstance(est, Pipeline):
        raw = [[j] for j in range(len(names))]
        for step_name, step in est.steps:
            if hasattr(step, "fit_resample"):  # samplers change rows, not features
                continue
            label = f"{step_name!r} ({type(_unwrapped(step)).__name__})"
            out = _positional(step, names, sample, notes, label)
            if out is None:
                return None
            if sample is not _OFF:
                sample = transformed(step, sample)
            names, step_deps = out
            raw = [_through(raw, dep) for dep in step_deps]
        return names, raw
    if isinstance(est, ColumnTransformer) and hasattr(est, "transformers_"):
        return _column_transformer(est, names, sample, notes)
    if isinstance(est, FeatureUnion):
        return _feature_union(est, names, sample, notes)
    out = _leaf(est, names)
    if out is None or sample is _OFF or not declared(est):
        return out
    real, deps = out
    wrong, note = check(est, sample, deps, label or type(est).__name__, real, names)
    if note is not None:
        notes.append(note)
    if wrong:
        every = list(range(len(names)))
        deps = [[*every, TARGET] if TARGET in dep else every for dep in deps]
    return real, deps


def _unwrapped(est):
    """The fitted estimator inside ``FrozenEstimator`` and ``TracedEstimator`` wrappers:
    its class says what it computes."""
    from ..wrappers import TracedEstimator  # (the wrapper records lineage: imports this)

    while True:
        inner = unfrozen(est)
        if isinstance(inner, TracedEstimator) and hasattr(inner, "estimator_"):
            inner = inner.estimator_
        if inner is est:
            return est
        est = inner


def _fitted_on_target(est):
    """Whether a fitted transformer (a composition: any of its parts) was fitted on the
    target (see :func:`_uses_target`)."""
    return _any_leaf(est, _uses_target)


def _through(raw, dep):
    """The pipeline's input positions behind a step's output that uses the step input
    positions ``dep`` (``raw[k]``: step input ``k`` -> pipeline input positions), sorted,
    :data:`TARGET` last."""
    found = {r for d in dep for r in ([TARGET] if d == TARGET else raw[d])}
    return sorted(found - {TARGET}) + ([TARGET] if TARGET in found else [])


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


def _names_out(est, names):
    """``est.get_feature_names_out`` of the input ``names`` (a composition fitted on an
    array after an earlier step: the names the pipeline gives, ``num__age``, not
    ``num__x0``), else of the names it was fitted on, else None."""
    for args in ((np.asarray(names, dtype=object),), ()):
        try:
            return list(est.get_feature_names_out(*args))
        except (ValueError, TypeError, AttributeError):
            continue
    return None


def _column_transformer(ct, names, sample=_OFF, notes=None):
    full = _names_out(ct, names)
    out_names, deps = [], []
    for name, trans, columns in ct.transformers_:
        if trans == "drop" or name not in ct.output_indices_:
            continue
        cols = list(ct._transformer_to_input_indices[name])
        part = _OFF if sample is _OFF else columns_of(sample, columns)
        label = f"{name!r} ({type(_unwrapped(trans)).__name__})"
        sub = _positional(trans, [names[i] for i in cols], part, notes, label)
        piece = ct.output_indices_[name]
        width = piece.stop - piece.start
        if sub is None or len(sub[0]) != width:
            # unnamed outputs: each may use every column given, and the target
            every = [*cols, TARGET] if _fitted_on_target(trans) else cols
            sub_names, sub_deps = [str(k) for k in range(width)], [every] * width
            if notes is not None and width:
                notes.append(_unnamed_part_note(label, width, [names[i] for i in cols]))
        else:
            sub_names = sub[0]
            sub_deps = [[d if d == TARGET else cols[d] for d in dep] for dep in sub[1]]
        out_names += full[piece] if full is not None else [f"{name}__{n}" for n in sub_names]
        deps += sub_deps
    return out_names, deps


def _unnamed_part_note(label, width, columns):
    """The run's note for a part of a ColumnTransformer whose outputs are not named."""
    listed = ", ".join(repr(c) for c in columns[:6]) + (
        f" and {len(columns) - 6} more" if len(columns) > 6 else ""
    )
    return (
        f"feature lineage of part {label} of a ColumnTransformer is not known output by "
        f"output (the part does not name its outputs): each of its {width} outputs is "
        f"recorded as using every column given to the part ({listed})"
    )


def _feature_union(fu, names, sample=_OFF, notes=None):
    full = _names_out(fu, names)
    out_names, deps = [], []
    for name, trans in fu.transformer_list:
        if trans == "drop" or trans is None:
            continue
        label = f"{name!r} ({type(_unwrapped(trans)).__name__})"
        sub = _positional(trans, names, sample, notes, label)
        if sub is None:
            return None
        out_names += [f"{name}__{n}" for n in sub[0]]
        deps += sub[1]
    if full is not None and len(full) == len(out_names):
        out_names = full
    return out_names, deps
