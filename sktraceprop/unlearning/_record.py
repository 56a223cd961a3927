"""One removal and its audit record: the event, stored before the corrected model is used.

:func:`remove` carries out a request resolved to training rows (:mod:`._request`): the
removal method (:mod:`._method`) computes the corrected model on copies;
:func:`removal_event` builds its event (the rows removed per source and line, the
merges they came from, what retained rows still carry of them); :func:`commit` appends
it to the store, then swaps the corrected model into the unlearner and drops the
removed rows' data. Nothing before the commit touches
the unlearner, so a failure leaves it as it was; the event names the fingerprint of the
model the commit leaves (:func:`corrected_fingerprint`), so that prediction events and
reports of the corrected model are matched to the removal that made it.
"""

import time

import numpy as np
from sklearn.pipeline import Pipeline

from .._lineage._fingerprint import class_path, fingerprint
from .._lineage._ids import codes_of, distinct_codes
from .._lineage._labels import row_groups
from .._lineage._lineage_frame import lineage_frame
from .._lineage._merged_parents import expand, rows_behind
from .._lineage._source import utc_now
from .._lineage._witness import WITNESSES
from .._model_lock import exclusive
from .._prediction_log import release_replaced_parts
from .._removed_rows import record_removed
from .._removed_set import RemovedRows
from .._trained import record_trained_rows
from ..exceptions import UnlearningError
from ..utils._fit_under_way import removal_marked
from ._erase import erasure_plan, store_with_erasure, stored_run_values
from ._event import UnlearningEvent, row_ids_digest
from ._features_after import features_after
from ._kept_rows import (
    aggregates_over_removed,
    kept_lineage,
    labels_among,
    merged_parents_kept,
    merged_parents_note,
)
from ._neural_backend import neural_backend
from ._remains import outside_steps, with_caveats
from ._run_copy import unlearner_run_copy


def event_store(unl):
    """Where the removal events of the unlearner ``unl`` are appended, or None."""
    if unl.store is not None:
        return unl.store
    return getattr(unl.estimator_, "store", None)


def remove(unl, positions, named, request, options, redact=None):
    """Remove the training rows at ``positions`` (of a request that ``named`` them, see
    :meth:`~._request.Resolver.resolve`) from the fitted unlearner ``unl``: computed on
    copies, its event stored, then the corrected model swapped in (:func:`commit`); a
    failure before leaves the unlearner as it was.

    Called by the unlearner's ``fit`` and ``unlearn`` themselves: the warnings of its
    caveats point two frames above this one, at their caller."""
    retained = _retained_after(unl, positions)
    start = time.perf_counter()
    # The method holds the retained rows in training order: map positions to them.
    held = np.flatnonzero(unl.retained_mask_)
    forget = np.searchsorted(held, positions)
    keep = np.searchsorted(held, np.flatnonzero(retained))
    dropped = unl._resolver().validation_rows_named(named)
    if dropped is not None:
        options = {**options, "drop_validation": dropped}
    removal = unl._method.remove(
        unl.estimator_, forget, keep, unl.get_params(deep=False), **options
    )
    seconds = time.perf_counter() - start
    event, leaves = removal_event(
        unl, removal, positions, retained, int(keep.size), named, request, seconds
    )
    if neural_backend(removal.final) is not None and not np.isfinite(event["certificate"]):
        raise UnlearningError(
            "the neural correction diverged (non-finite gradient); lower lr or raise "
            "damping. Nothing was changed."
        )
    erasing = None
    if redact is not None:  # read before the commit replaces the copy of the run
        erasing = stored_run_values(unl, removal, event["row_ids"])
    # the rows the request named behind removed merged rows, at any level of the merges
    # (file lines, an inner merge's rows): an object holding them directly (a valuer
    # fitted on one file, or on the inner merge) keeps data the user asked to remove
    behind = np.concatenate([leaves, rows_behind(event["row_ids"], unl._source)[0]])
    asked = behind[np.isin(codes_of(behind), named["codes"]) | np.isin(behind, named["ids"])]
    planned = None
    if erasing is not None:  # (read before the commit replaces the copy of the run)
        planned = (erasure_plan(unl, erasing, event["row_ids"]), redact)
    event = UnlearningEvent(
        with_caveats(unl, event, removal, erasing=erasing, asked_lines=np.unique(asked))
    )
    try:
        commit(unl, event, removal, retained, planned)
    except BaseException as err:
        dropped = event.get("dropped_elsewhere")
        if dropped:  # (the objects dropped the rows while the caveats were gathered)
            err.add_note(
                "The removal was not recorded, but these objects had already dropped "
                f"the removed rows: {dropped} (rows per object). They no longer describe "
                "the model the unlearner still holds: fit them again."
            )
        raise
    # the values of a few hundred rows per load, kept in this process to notice
    # columns changed after loading: the removed rows' go too
    WITNESSES.forget(np.concatenate([unl.train_row_ids_[positions], leaves]))
    _record_in_process(unl, positions, leaves, event)


def _record_in_process(unl, positions, leaves, event):
    """The removed rows, for a later fit on them in this process to be said: kept as
    arrays (:class:`~sktraceprop._removed_set.RemovedRows`), a merged row named by the
    last file row it was built from, as the removal's lineage frame lists them."""
    ids = unl.train_row_ids_[positions]
    pos, leaf, _ = expand(ids, unl._source, with_via=False)
    order = np.argsort(pos, kind="stable")
    pos, leaf = pos[order], leaf[order]
    last = np.append(pos[1:] != pos[:-1], True) if pos.size else pos.astype(bool)
    named, by = ids[pos[last]], leaf[last]
    merged = named != by
    sources = {c: unl._source(c).source_id for c in distinct_codes(leaf).tolist()}
    run = f" of run {unl.run_id_}" if unl.run_id_ else ""
    what = f"{type(unl).__name__}.unlearn{run} at {event['time_utc']}"
    record_removed(
        RemovedRows(np.concatenate([ids, leaves]), what, sources, (named[merged], by[merged]))
    )


def _retained_after(unl, positions):
    """The retained mask after removing ``positions``, or raise (nothing changed)."""
    _refuse_changed(unl, "start")
    if positions.size == 0:
        raise UnlearningError("the request names no retained training row; nothing to do.")
    retained = unl.retained_mask_.copy()
    retained[positions] = False
    if not retained.any():
        raise UnlearningError(
            "the request would remove every training row the model holds; refit on "
            "other data instead. Nothing was changed."
        )
    return retained


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
    if unl.run_id_ is None and event_store(unl) is not None:
        event.update(runless_rows(unl, rows["row_ids"]))
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


def runless_rows(unl, removed_ids):
    """Event fields that let another process read the removed rows of an unlearner that
    stored no run (an estimator that is not traced): the identity of each source their
    ids name (``row_sources``, by code) and the rows merged rows among them were built
    from (``rows_behind``). A fit writing to the store, in any process, checks its rows
    against them (:mod:`sktraceprop._removed_in_store`); without them, the ids' codes
    (this process's) could be read through no run, and the removal was seen nowhere."""
    behind, _ = rows_behind(removed_ids, unl._source)
    codes = np.unique(codes_of(np.concatenate([removed_ids, behind])))
    out = {
        "row_sources": [
            {
                "code": int(c),
                "source_id": str(unl._source(c).source_id),
                "sha256": unl._source(c).sha256,
                "kind": unl._source(c).kind,
            }
            for c in codes.tolist()
        ]
    }
    if behind.size:
        out["rows_behind"] = np.unique(behind).tolist()
    return out


def removed_rows(unl, positions):
    """Event fields naming the removed rows (ids, digest, per source the training rows
    removed and the distinct rows of it behind them, lines, the merges they came from),
    and the leaf row ids behind them."""
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
    # Two counts, said apart: a merged row is one training row built from rows of
    # several sources, and one row of a source can be behind several merged rows (a
    # lookup row) or repeat (oversampling). "sources": training rows, per source they
    # come from; "source_rows": the distinct rows of each source behind them.
    training = {k: int(v) for k, v in by_source["row"].nunique().items()}
    behind = {k: int(v) for k, v in by_source["row_id"].nunique().items()}
    fields = {
        "sources": training,
        "source_rows": behind,
        "lines": {k: [int(lo), int(hi)] for k, lo, hi in lines.itertuples()},
        "row_ids": removed_ids,
        "row_ids_sha256": row_ids_digest(removed_ids),
    }
    if behind != training:
        fields["counts_note"] = counts_note(training, behind)
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


def counts_note(training, behind):
    """What the event's ``sources`` and ``source_rows`` count, in words, where they
    differ (``training``: removed training rows per source; ``behind``: the distinct
    rows of each source behind them)."""
    differ = "; ".join(
        f"{label}: {n} training row(s) from {behind[label]} row(s) of the source"
        for label, n in training.items()
        if behind[label] != n
    )
    return (
        "'sources' counts removed training rows per source they came from (a merged row "
        "under each source it was built from, a row given to fit more than once per "
        "copy); 'source_rows' counts the distinct rows of each source behind them "
        f"(file lines, frame rows): {differ}"
    )


def _refuse_changed(unl, when):
    """Raise where ``unl.estimator_`` is not the model the unlearner last fitted or
    corrected (``when``: "start", or "end" of a removal computed meanwhile)."""
    if fingerprint(unl.estimator_) != unl._fingerprint_now:
        # The removal method holds the data and curvature of the model it fitted or
        # last corrected: it would describe the old one, and the event claim it.
        during = "" if when == "start" else ", while the removal was computed"
        raise UnlearningError(
            "estimator_ changed since the unlearner last fitted or corrected it "
            f"(refitted, trained further or modified in place{during}): the removal "
            "would start from a model the unlearner did not prepare, and its event "
            f"would name run {unl.run_id_}. Fit the unlearner again. Nothing was changed."
        )


def commit(unl, event, removal, retained, erasing=None):
    """Store the event, then swap the corrected model into the unlearner ``unl`` and drop
    the removed rows' data (nothing before touched the unlearner). ``erasing``: the
    stored runs' values to erase (:func:`~._erase.erasure_plan`) and the reason, erased
    in the event's transaction."""
    # The removal was computed without holding estimator_ (logged calls of it go on
    # meanwhile): a refit of it in another thread since the check at the start would
    # be undone by the swap, and its run name the corrected model. From here to the
    # swap, estimator_ is held alone, and checked once more.
    with exclusive(unl.estimator_, "an unlearner's correction"):
        _refuse_changed(unl, "end")
        _commit(unl, event, removal, retained, erasing)


def _commit(unl, event, removal, retained, erasing):
    # The corrected model's fingerprint, in the event: prediction events and reports
    # of the corrected model are matched to the removal that made it.
    after = corrected_fingerprint(unl.estimator_, removal)
    store = event_store(unl)
    changed = features_after(unl, removal, store)
    if changed is not None:  # inputs the run stored at fit does not list, or no longer
        event = {**event, "features_after": changed}
    event = UnlearningEvent({**event, "model_fingerprint_after": after})
    if store is not None:
        if erasing is not None:
            planned, reason = erasing
            stored = store_with_erasure(unl, "unlearning", event.payload(), planned, reason)
        else:
            stored = store.append_event("unlearning", event.payload(), run_id=unl.run_id_)
        event = UnlearningEvent({**event, "seq": stored["seq"], "event_hash": stored["hash"]})
    # from here the unlearner is changed attribute by attribute: a copy taken meanwhile
    # (pickle, deepcopy in another thread) is marked, and refuses (._removal_mark)
    seq = f"seq {event['seq']}, " if "seq" in event else ""
    by = f"{type(unl).__name__} (its unlearning event {seq}{event['time_utc']})"
    with removal_marked(unl, by=by):
        _update(unl, event, removal, retained, after)


def _update(unl, event, removal, retained, after):
    """Swap the corrected model in and set the unlearner's state after a removal."""
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
            # Built aside, then set in one dict update: a copy of estimator_ (pickle,
            # deepcopy in another thread: they do not wait for its lock) holds the model
            # before or after, never the corrected preprocessing with the final step
            # that learnt from the removed rows, nor the corrected steps with the run
            # naming them (the steps list was replaced item by item, the run after).
            model = object.__new__(type(estimator))
            vars(model).update(vars(estimator))
            model.steps = list(estimator.steps)
            for i, (name, step) in enumerate(removal.preprocessing or ()):
                model.steps[i] = (name, step)
            model.steps[-1] = (model.steps[-1][0], removal.final)
            # the replaced steps hold what was learnt from the removed rows
            release_replaced_parts(model)
            lineage = getattr(estimator, "lineage_", None)
            if lineage is not None:
                model.lineage_ = unlearner_run_copy(unl, lineage, event, removal, retained, model)
            swapped = ("steps", "_answering_parts", "lineage_")
            vars(estimator).update({k: vars(model)[k] for k in swapped if k in vars(model)})
        else:
            # In place, as a pipeline's steps are replaced in place: whoever holds
            # estimator_ (a reference, an explainer fitted on it) holds the corrected
            # model, not one that keeps the removed rows' influence. Its dict is
            # replaced whole, in one step (the corrected one built aside): a copy of
            # estimator_ (pickle, deepcopy in another thread) is the model before or
            # after, never the empty one between clearing the dict and refilling it.
            # (object's own setter: a class's __setattr__, skorch's, would register it)
            object.__setattr__(estimator, "__dict__", dict(vars(removal.final)))


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
