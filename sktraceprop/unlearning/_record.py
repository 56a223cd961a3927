"""The audit record of one removal: its event, stored before the corrected model is used.

:func:`removal_event` builds the event of a removal computed by a removal method (the
rows it removed per source and line, the merges they came from, what retained rows still
carry of them); :func:`commit` appends it to the store, then swaps the corrected model
into the unlearner and drops the removed rows' data. Nothing before the commit touches
the unlearner, so a failure leaves it as it was; the event names the fingerprint of the
model the commit leaves (:func:`corrected_fingerprint`), so that prediction events and
reports of the corrected model are matched to the removal that made it.
"""

import numpy as np
from sklearn.pipeline import Pipeline

from .._lineage._fingerprint import class_path, fingerprint
from .._lineage._ids import codes_of
from .._lineage._labels import row_groups
from .._lineage._rows import lineage_frame
from .._lineage._source import utc_now
from .._model_lock import exclusive
from .._prediction_log import release_replaced_parts
from .._trained import record_trained_rows
from ._event import UnlearningEvent, row_ids_digest
from ._remains import (
    aggregates_over_removed,
    kept_lineage,
    labels_among,
    merged_parents_kept,
    merged_parents_note,
    outside_steps,
)
from ._run_copy import unlearner_run_copy


def event_store(unl):
    """Where the removal events of the unlearner ``unl`` are appended, or None."""
    if unl.store is not None:
        return unl.store
    return getattr(unl.estimator_, "store", None)


def removal_event(unl, removal, positions, retained, n_retained, named, request, seconds):
    """The event of ``removal`` (a :class:`~._method.Removal`) of the training rows at
    ``positions`` from the fitted unlearner ``unl``, leaving those ``retained`` (a mask),
    before its caveats (:func:`~._remains.with_caveats`); and the leaf row ids behind the
    removed rows (the rows of the sources they were merged from)."""
    rows, leaves = removed_rows(unl, positions)
    event = {
        "time_utc": utc_now(),
        "estimator": class_path(removal.final),
        **removal.fields,
        "seconds": seconds,
        "n_removed": int(positions.size),
        "n_retained": n_retained,
        **rows,
        "request": request,
    }
    kept_frame = kept_lineage(unl, retained)  # read by the checks below, made once
    if "via_merge" in rows:
        kept = merged_parents_kept(unl, kept_frame, leaves)
        if kept:
            event["merged_parents_kept"] = kept
            notes = [event.pop("note")] if "note" in event else []
            event["note"] = "; ".join([*notes, merged_parents_note(kept)])
    outside = outside_steps(unl, retained, positions)
    if outside:
        event["steps_fitted_outside_over_removed_rows"] = outside
    unsourced = getattr(unl, "_unsourced", None)
    if unsourced:
        event["columns_in_no_source"] = list(unsourced)
    changed = getattr(unl, "_changed", None)
    if changed:
        event["columns_changed_after_loading"] = {c: list(v) for c, v in changed.items()}
    if unl._derived:
        remaining = aggregates_over_removed(
            unl, kept_frame, np.concatenate([named["ids"], leaves]), named["codes"]
        )
        if remaining:
            event["aggregates_over_removed_rows"] = remaining
    return event, leaves


def removed_rows(unl, positions):
    """Event fields naming the removed rows (ids, digest, counts and lines per source,
    the merges they came from), and the leaf row ids behind them."""
    removed_ids = unl.train_row_ids_[positions]
    frame = lineage_frame(removed_ids, unl._source)
    # Per source, a source being one content, not a name: two files read under one
    # source_id (two folders' data.csv) or two contents of one edited file are
    # counted apart, under the labels of source_labels (the source_id where no other
    # source carries it), and their lines are not spanned as if one file's. Labelled
    # among every source the model trained on: a removal from one of two "data"
    # files names which, though it removes nothing of the other.
    group, contents = row_groups(frame["row_id"].to_numpy(), unl._source)
    labels = labels_among(unl, contents)
    frame["source"] = np.asarray(labels, dtype=object)[group]
    by_source = frame.groupby("source", sort=True)
    lines = by_source["line"].agg(["min", "max"])
    fields = {
        "sources": {k: int(v) for k, v in by_source["row"].nunique().items()},
        "lines": {k: [int(lo), int(hi)] for k, lo, hi in lines.itertuples()},
        "row_ids": removed_ids,
        "row_ids_sha256": row_ids_digest(removed_ids),
    }
    if any(label != str(s.source_id) for label, s in zip(labels, contents)):
        # a label that is not the source_id alone: what it stands for
        fields["source_contents"] = {
            label: {"source_id": str(s.source_id), "uri": s.uri, "sha256": s.sha256}
            for label, s in sorted(zip(labels, contents), key=lambda p: p[0])
        }
    if "via" in frame.columns:
        via = frame.dropna(subset=["via"]).groupby("via", sort=True)["row"].nunique()
        fields["via_merge"] = {str(k): int(v) for k, v in via.items()}
    # Leaves that are rows of an aggregate stand for groups, not removed data.
    leaves = frame["row_id"].to_numpy(np.int64)
    kinds = {int(c): unl._source(c).kind for c in np.unique(codes_of(leaves))}
    grouped = np.isin(codes_of(leaves), [c for c, k in kinds.items() if k == "aggregate"])
    return fields, leaves[~grouped]


def commit(unl, event, removal, retained):
    """Store the event, then swap the corrected model into the unlearner ``unl`` and drop
    the removed rows' data (nothing before touched the unlearner)."""
    # The corrected model's fingerprint, in the event: prediction events and reports
    # of the corrected model are matched to the removal that made it.
    after = corrected_fingerprint(unl.estimator_, removal)
    event = UnlearningEvent({**event, "model_fingerprint_after": after})
    store = event_store(unl)
    if store is not None:
        stored = store.append_event("unlearning", event.payload(), run_id=unl.run_id_)
        event = UnlearningEvent({**event, "seq": stored["seq"], "event_hash": stored["hash"]})
    _swap_in(unl, event, removal, retained)
    if hasattr(removal.final, "classes_"):
        unl.classes_ = removal.final.classes_  # fewer when a class only removed rows had
    unl._method = removal.method
    unl._fingerprint_now = fingerprint(unl.estimator_)
    if unl._fingerprint_now != after:  # a defect of this library, never silent
        raise RuntimeError(
            "sktraceprop defect: the corrected model's fingerprint differs from the one "
            f"its unlearning event records ({unl._fingerprint_now} != {after})"
        )
    unl.retained_mask_ = retained
    record_trained_rows(unl.estimator_, unl._held_row_ids(), unl._fingerprint_now)
    unl.certificate_ = event["certificate"]
    unl.n_iter_ = event["n_iter"]
    unl.unlearning_log_.append(event)


def _swap_in(unl, event, removal, retained):
    """Put the corrected model of ``removal`` in place of ``unl.estimator_``'s parts."""
    estimator = unl.estimator_
    # swapped in whole: a logged call of estimator_ in another thread answers and
    # logs with the model before or after, never a mix (see sktraceprop._model_lock)
    with exclusive(estimator, "an unlearner's correction"):
        if isinstance(estimator, Pipeline):
            for i, (name, step) in enumerate(removal.preprocessing or ()):
                estimator.steps[i] = (name, step)
            estimator.steps[-1] = (estimator.steps[-1][0], removal.final)
            # the replaced steps hold what was learnt from the removed rows
            release_replaced_parts(estimator)
            lineage = getattr(estimator, "lineage_", None)
            if lineage is not None:
                estimator.lineage_ = unlearner_run_copy(unl, lineage, event, removal, retained)
        else:
            # In place, as a pipeline's steps are replaced in place: whoever holds
            # estimator_ (a reference, an explainer fitted on it) holds the corrected
            # model, not one that keeps the removed rows' influence.
            state = vars(estimator)
            state.clear()
            state.update(vars(removal.final))


def corrected_fingerprint(estimator, removal):
    """Fingerprint of ``estimator`` as :func:`commit` will leave it (before it does)."""
    # A bare instance given the attributes (no pickling protocol: a skorch net's
    # would serialise its weights only for them to be replaced).
    model = object.__new__(type(estimator))
    if isinstance(estimator, Pipeline):
        vars(model).update(vars(estimator))
        model.steps = list(estimator.steps)  # replaced below, not the original's
        for i, (name, step) in enumerate(removal.preprocessing or ()):
            model.steps[i] = (name, step)
        model.steps[-1] = (model.steps[-1][0], removal.final)
    else:
        vars(model).update(vars(removal.final))
    return fingerprint(model)
