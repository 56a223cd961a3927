"""What a removal cannot reach, found and said: the caveats and warnings of its event.

A correction of the model removes the removed rows' influence from the model. Some of
their data can be elsewhere: in preprocessing kept as fitted, in group statistics or
steps computed outside the pipeline, in input columns changed after loading, in the
stored record of the run, in a fitted model given as the ``estimator`` parameter, in
explainers, valuers, other unlearners and traced models fitted on the same rows in this
process. The functions here find those places for one removal of a
:class:`~sktraceprop.unlearning.GradientCorrectionUnlearner` (``unl``) and say them in
the event (``caveat``) and a warning. Retained rows that still carry removed rows' data
(merged parents, group statistics) are found in :mod:`._kept_rows`; what the stored
run keeps, in :mod:`._stored_run`.
"""

import warnings

import numpy as np
from sklearn.pipeline import Pipeline

from .._holders import held_elsewhere, held_elsewhere_caveat, parts_of
from .._lineage._features import feature_lineage
from .._lineage._record import upstream_ops
from .._lineage._target_name import TARGET
from ..utils._prefit import is_fitted, unfrozen
from ..utils._stack import user_stacklevel
from ._closures import functions_holding_arrays, functions_holding_arrays_caveat
from ._kept_rows import _aggregate_caveat
from ._outside import (
    changed_columns_caveat,
    outside_steps_caveat,
    outside_steps_over,
    unsourced_columns_caveat,
)
from ._stored_run import _stored_run_caveat

__all__ = [
    "has_preprocessing",
    "outside_steps",
    "target_features",
    "with_caveats",
]


def has_preprocessing(estimator):
    """Whether the model is a pipeline with steps before its final one."""
    return isinstance(estimator, Pipeline) and len(estimator) > 1


def target_features(estimator):
    """Features the final step of the pipeline ``estimator`` takes that its preprocessing
    computed from the target (see :meth:`sktraceprop.Lineage.target_features`)."""
    lineage = getattr(estimator, "lineage_", None)
    if lineage is not None:
        return lineage.target_features()
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        names = [f"x{j}" for j in range(getattr(estimator, "n_features_in_", 0))]
    out = feature_lineage(estimator[:-1], list(names))
    return [] if out is None else [f for f, deps in zip(*out) if TARGET in deps]


def outside_steps(unl, retained, positions):
    """``{op name: n}``: retained rows (mask ``retained``) that went through steps fitted
    outside the model (:class:`~sktraceprop.TracedEstimator`) that removed rows
    (training ``positions``) went through too (see :mod:`._outside`)."""
    lineage = getattr(unl.estimator_, "lineage_", None)
    # the run lists the steps fitted outside that its rows were found to go through
    # (sktraceprop._lineage._upstream_outputs); without a run, every one logged on them
    ops = lineage.ops if lineage else upstream_ops(list(unl._sources))
    if not any(op.sources for op in ops):
        return {}
    ids = unl.train_row_ids_
    return outside_steps_over(ops, unl._sources, unl._source, ids[positions], ids[retained])


def with_caveats(unl, event, removal, erasing=None, asked_lines=()):
    """The event with a ``preprocessing`` field and a ``caveat`` naming what still
    carries the removed rows' data, if anything (``erasing``: what ``redact=`` erases
    from the stored run next, see ``_erase``; ``asked_lines``: the rows the request
    named behind removed merged rows, which other objects may hold directly)."""
    caveats = [event.pop("caveat")] if "caveat" in event else []
    if removal.preprocessing is None and has_preprocessing(unl.estimator_):
        event["preprocessing"] = "kept"
        target = target_features(unl.estimator_)
        caveats.insert(
            0,
            "only the final step was corrected; preprocessing steps keep statistics "
            "learnt from the removed rows (or the rows themselves, for steps that "
            "store them, such as KNNImputer)"
            + (
                " (neural models always keep the preprocessing)"
                if unl.preprocessing == "refit"
                else ""
            )
            + (
                f", and the features {', '.join(target)} were computed from the target "
                "(a target encoding or a supervised feature selection): the retained "
                "rows' values of them still carry the removed rows' targets"
                if target
                else ""
            ),
        )
    if "steps_not_refitted" in event:
        message = _not_refitted_caveat(event["steps_not_refitted"])
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())
        caveats.append(message)
    holding = functions_holding_arrays(unl.estimator_)
    if holding:
        message = functions_holding_arrays_caveat(holding)
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())
        caveats.append(message)
    if "aggregates_over_removed_rows" in event:
        message = _aggregate_caveat(unl, event["aggregates_over_removed_rows"], removal)
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())
        caveats.append(message)
    if "steps_fitted_outside_over_removed_rows" in event:
        message = outside_steps_caveat(event["steps_fitted_outside_over_removed_rows"])
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())
        caveats.append(message)
    if "columns_in_no_source" in event:
        message = unsourced_columns_caveat(event["columns_in_no_source"])
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())
        caveats.append(message)
    if "columns_changed_after_loading" in event:
        message = changed_columns_caveat(event["columns_changed_after_loading"])
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())
        caveats.append(message)
    stored = _stored_run_caveat(unl, removal, event["row_ids"])
    if stored and erasing is not None:
        stored += (
            "; redact= erases these values from it, in a store.redaction event naming "
            "this one and stored with it (one transaction), and what other stored runs "
            "given removed rows hold of them (audit events already logged keep what they "
            "hold)"
        )
    if stored:
        caveats.append(stored)
    # the unlearner, its model and its steps, and the estimator parameter (named apart)
    own = (unl, unl.estimator_, unl.estimator, *parts_of(unl.estimator_))
    dropped = {}
    by = f"{type(unl).__name__}.unlearn (event {len(unl.unlearning_log_)} of its unlearning_log_)"
    held = held_elsewhere(event["row_ids"], exclude=own, asked=asked_lines, dropped=dropped, by=by)
    if dropped:
        event["dropped_elsewhere"] = dropped
    if held:
        event["held_elsewhere"] = held
        message = held_elsewhere_caveat(held)
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())
        caveats.append(message)
    given = _fitted_parameter_caveat(unl, event["row_ids"])
    if given:
        warnings.warn(given, UserWarning, stacklevel=user_stacklevel())
        caveats.append(given)
    if caveats:
        event["caveat"] = "; ".join(caveats)
    return event


def _not_refitted_caveat(paths):
    """What preprocessing steps used as fitted (not refitted) keep."""
    return (
        f"preprocessing step(s) {', '.join(paths)} were fitted before the unlearner's fit "
        "and used as they are (a FrozenEstimator, say): not refitted on the retained rows, "
        "they keep what they learnt from their own training rows (statistics, or the rows "
        "themselves for steps such as KNNImputer), removed rows among them if they were "
        "fitted on any, which the library cannot tell. Refit them without the removed rows"
    )


def _fitted_parameter_caveat(unl, removed_ids):
    """What the ``estimator`` parameter keeps of the removed rows when it is a fitted
    model: the unlearner references it unchanged (and pickles it); None otherwise."""
    if not is_fitted(unfrozen(unl.estimator)):
        return None
    run = getattr(unl.estimator, "lineage_", None)
    if run is not None and not np.isin(removed_ids, run.row_ids).any():
        return None  # fitted on other rows
    was = "was" if run is not None else "may have been"
    return (
        f"the estimator parameter is a fitted model that {was} fitted on removed rows; "
        "the unlearner references it unchanged (and pickles it), and it keeps what it "
        "learnt from them (statistics, or the rows themselves for steps such as "
        "KNNImputer): pass sklearn.base.clone(estimator) to the unlearner, and refit or "
        "discard that model"
    )
