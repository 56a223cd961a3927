"""What a removal cannot reach, found and said: the caveats and warnings of its event.

A correction of the model removes the removed rows' influence from the model. Some of
their data can be elsewhere: in preprocessing kept as fitted, in group statistics or
steps computed outside the pipeline, in input columns changed after loading, in the
stored record of the run, in a fitted model given as the ``estimator`` parameter, in
explainers, valuers, other unlearners and traced models fitted on the same rows in this
process. The functions here find those places for one removal of a
:class:`~sktraceprop.unlearning.GradientCorrectionUnlearner` (``unl``) and say them in
the event (``caveat``) and a warning.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .._holders import held_elsewhere, held_elsewhere_caveat, parts_of
from .._lineage._depends_on import depends_on
from .._lineage._features import TARGET, feature_lineage
from .._lineage._ids import codes_of
from .._lineage._labels import content_key, source_labels
from .._lineage._lineage_frame import lineage_frame
from .._lineage._record import upstream_ops
from ..utils._prefit import is_fitted, unfrozen
from ..utils._stack import user_stacklevel
from ._closures import functions_holding_arrays, functions_holding_arrays_caveat
from ._outside import (
    changed_columns_caveat,
    outside_steps_caveat,
    outside_steps_over,
    unsourced_columns_caveat,
)

__all__ = [
    "aggregates_over_removed",
    "has_preprocessing",
    "kept_lineage",
    "merged_parents_kept",
    "merged_parents_note",
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


def kept_lineage(unl, retained):
    """A function giving the lineage frame of the retained training rows (merged rows
    expanded), computed on first use and then kept: each check of one removal reads it."""
    held = []

    def frame():
        if not held:
            held.append(lineage_frame(unl.train_row_ids_[retained], unl._source))
        return held[0]

    return frame


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


def labels_among(unl, contents):
    """:func:`~sktraceprop._lineage._labels.source_labels` of ``contents`` (distinct
    sources), told apart from one another and from every source ``unl`` trained on: a
    removal from one of two ``data`` files names which, though the other loses nothing."""
    pool = {content_key(s): s for s in unl._sources.values()}
    pool.update((content_key(s), s) for s in contents)
    pool = sorted(pool.values(), key=lambda s: (str(s.source_id), s.uri, s.loaded_at, s.sha256))
    label = dict(zip(map(content_key, pool), source_labels(pool)))
    return [label[content_key(s)] for s in contents]


def merged_parents_kept(unl, kept, removed_leaves):
    """``{source: n}``, labelled as the event's ``sources``: parent rows of removed
    merged rows that are parents of retained training rows too, so still reach the model
    (empty if none).

    A merged row goes whole, so the event's ``sources`` and ``lines`` count every
    parent's source; a lookup row joined to many rows is counted there and stays.
    """
    behind = kept()["row_id"].to_numpy(np.int64)
    still = np.unique(removed_leaves[np.isin(removed_leaves, behind)])
    codes, counts = np.unique(codes_of(still), return_counts=True)
    sources = [unl._source(c) for c in codes]
    contents = list({content_key(s): s for s in sources}.values())
    label = dict(zip(map(content_key, contents), labels_among(unl, contents)))
    out = {}
    for source, n in zip(sources, counts):
        out[label[content_key(source)]] = out.get(label[content_key(source)], 0) + int(n)
    return dict(sorted(out.items()))


def merged_parents_note(kept):
    """The event's note for :func:`merged_parents_kept`."""
    listed = ", ".join(f"{n} row(s) of {source}" for source, n in kept.items())
    return (
        "removed merged rows go whole, with the values of all their parents, and "
        "'sources' and 'lines' count every parent's source; of those parent rows, "
        f"{listed} were merged into retained rows too and still reach the model through "
        "them (they were not removed: name them to remove those rows as well)"
    )


def aggregates_over_removed(unl, kept, removed_ids, removed_codes):
    """``{aggregate: n}``: retained training rows that joined a group statistic
    (:func:`sktraceprop.aggregate`) computed over removed rows.

    Their features still carry the removed rows' data, which no correction of the
    model can take out: the aggregate must be recomputed. An aggregate is one content,
    labelled as the event's ``sources`` (its source_id, widened where two aggregates the
    model trained on share it: two files' statistics both named ``"stats"``).
    """
    frame = kept()
    leaf_codes = codes_of(frame["row_id"].to_numpy(np.int64))
    counts = {}
    for code in np.unique(leaf_codes):
        source = unl._source(code)
        if source.kind != "aggregate":
            continue
        joined = leaf_codes == code
        group_rows = frame["row_id"].to_numpy(np.int64)[joined]
        hit, _ = depends_on(group_rows, unl._source, removed_ids, removed_codes)
        rows = frame["row"].to_numpy()[joined][hit]
        if rows.size:  # (an alias code of one content joins its rows)
            known = counts.setdefault(content_key(source), (source, []))
            known[1].append(rows)
    if not counts:
        return {}
    contents = [source for source, _ in counts.values()]
    labels = labels_among(unl, contents)
    return dict(
        sorted(
            (label, int(np.unique(np.concatenate(rows)).size))
            for label, (_, rows) in zip(labels, counts.values())
        )
    )


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


def _stored_run_caveat(unl, removal, removed_ids):
    """What the stored record of the run (append-only, under the chain) still says of
    the removed rows; None when the run is not stored."""
    lineage = getattr(unl.estimator_, "lineage_", None)
    if lineage is None or getattr(unl.estimator_, "store", None) is None:
        return None
    kept, only = [], set()
    if removal.dropped_features:
        kept.append(
            f"lists {len(removal.dropped_features)} feature name(s) the refitted "
            "preprocessing no longer outputs (e.g. one-hot categories only removed rows "
            "had, terms only they used)"
        )
    if lineage.source_stats:
        kinds = {r["labels"].get("kind") for r in lineage.source_stats.get("sources", [])}
        what = "rows"
        if "classes" in kinds:
            what += ", label counts per class"
        if "continuous" in kinds:
            what += ", the target's mean, std, min and max"
        what += " and missing values, per source"
        values, only = _target_values_named(unl, removed_ids, kinds)
        kept.append(
            "keeps the training-data statistics counted at fit over all its rows, "
            f"removed rows included ({what}){', naming ' if values else ''}"
            f"{' and '.join(values)}"
        )
    weights = [k for k, v in lineage.fit_params.items() if "weights" in v or "retained" in v]
    # the copy recounts the weights over the retained rows where the method holds them
    recounted = [k for k in weights if "weights" in lineage.fit_params[k]]
    if weights:
        kept.append(
            f"keeps the SHA-256 and counts of the sample weights given to fit "
            f"({', '.join(weights)}) over all its rows, removed rows included"
            + (
                " (less the copy's recount, their sum gives the removed rows' summed "
                "weight: for one removed row, its weight)"
                if recounted
                else ""
            )
        )
    if not kept:
        return None
    listed = _events_listing(unl.estimator_.store, unl.run_id_, only) if only else 0
    return (
        f"the stored record of run {unl.run_id_} (append-only, under the store's hash "
        f"chain) {' and '.join(kept)}; the unlearner's copy (estimator_.lineage_) "
        "does not"
        + (_difference_caveat(removal) if lineage.source_stats else "")
        + (
            f"; {listed} prediction or explanation event(s) logged for the run before "
            "this removal (under the chain: they stay) list the label(s) of the class(es) "
            "only removed rows had among the model's classes"
            if listed
            else ""
        )
    )


def _events_listing(store, run_id, labels):
    """How many prediction and explanation events of run ``run_id`` list any of the
    class ``labels`` among the model's classes (read only when a removal takes a class
    away, which is rare)."""
    labels = {str(v) for v in labels}
    n = 0
    for kind, key in (("prediction", "outputs"), ("explanation", "explained")):
        for event in store.events(run_id, kind=kind):
            record = event["payload"].get(key) or {}
            if labels & set(record.get("classes", ())):
                n += 1
    return n


def _difference_caveat(removal):
    """What the stored statistics less the copy's recount (over the data the removal
    method holds, see :func:`~._run_copy.retained_stats`) give of the removed rows."""
    X, y = removal.method.held_data()
    own = []
    if y is not None:
        own.append("their label counts or target sum")
    if X is not None:
        own.append("their missing values per column")
    if not own:
        return ""
    exactly = (
        ": for a source that lost one row, that row's label or target" if y is not None else ""
    )
    return (
        ", but its statistics, recounted over the retained rows, subtracted from the "
        f"stored ones give the removed rows' own per source ({' and '.join(own)}{exactly})"
    )


def _target_values_named(unl, removed_ids, kinds):
    """The removed rows' target values that the stored statistics name, in words (class
    labels only removed rows had, and per source a min or max that only a removed row
    reaches), and the set of those labels. Computed from the targets the unlearner
    holds before the removal; empty when it holds them only encoded."""
    _, y = unl._method.held_data()
    if y is None or np.ndim(y) != 1:
        return [], set()
    held = unl.train_row_ids_[unl.retained_mask_]
    gone = np.isin(held, np.asarray(removed_ids, dtype=np.int64))
    out, only = [], set()
    if "classes" in kinds:
        only = set(pd.unique(y[gone][pd.notna(y[gone])])) - set(pd.unique(y[~gone]))
        if only:
            out.append(f"the label(s) of {len(only)} class(es) only removed rows had")
    if "continuous" in kinds and y.dtype.kind == "f":
        codes = codes_of(held)
        extremes = []
        for code in np.unique(codes[gone]):
            of_s = codes == code
            removed, retained = y[of_s & gone], y[of_s & ~gone]
            removed = removed[~np.isnan(removed)]
            retained = retained[~np.isnan(retained)]
            if not removed.size:
                continue
            high = not retained.size or removed.max() > retained.max()
            low = not retained.size or removed.min() < retained.min()
            if high or low:
                which = "min and max" if high and low else "max" if high else "min"
                extremes.append((unl._source(code).source_id, which))
        if extremes:
            named = ", ".join(f"{which} of {source!r}" for source, which in sorted(extremes))
            out.append(
                f"as the target's {named} value(s) only removed rows have "
                "(no retained row of the source)"
            )
    return out, only


def _aggregate_caveat(unl, remaining, removal):
    """What remains of the removed rows in group statistics computed outside."""
    n = sum(remaining.values())
    names = ", ".join(f"{k!r} ({v} rows)" for k, v in sorted(remaining.items()))
    lineage = getattr(unl.estimator_, "lineage_", None)
    features = []
    if lineage is not None:
        # (a feature only removed rows produced, such as a one-hot category, is not
        # named: the event holds no value of a removed row)
        gone = set(removal.dropped_features)
        features = sorted(
            f
            for f, aggs in lineage.feature_aggregates().items()
            if f not in gone and any(_labelled(a, remaining) for a in aggs)
        )
    shown = f" (features {', '.join(features)})" if features else ""
    return (
        f"{n} retained training row(s) joined group statistics computed over removed "
        f"rows, from aggregate(s) {names}{shown}: those values still carry the removed "
        "rows' data, which no correction of the model removes. Recompute the aggregate "
        "without them and refit, or compute it inside the pipeline "
        "(sktraceprop.preprocessing.GroupStatistics), where unlearning refits it"
    )


def _labelled(source_id, labels):
    """Whether one of ``labels`` (of :func:`labels_among`) is of a source ``source_id``
    names: the source id itself, or widened (``"stats [dbc3be512a6d]"``)."""
    return any(label == source_id or label.startswith(f"{source_id} [") for label in labels)
