"""One removal and its audit record: the event, stored before the corrected model is used.

:func:`remove` carries out a request resolved to training rows (:mod:`._request`): the
removal method (:mod:`._method`) computes the corrected model on copies;
:func:`~._event_fields.removal_event` builds its event (the rows removed per source and
line, the merges they came from, what retained rows still carry of them); :func:`commit`
appends it to the store, then swaps the corrected model into the unlearner and drops the
removed rows' data. Nothing before the commit touches
the unlearner, so a failure leaves it as it was; the event names the fingerprint of the
model the commit leaves (:func:`corrected_fingerprint`), so that prediction events and
reports of the corrected model are matched to the removal that made it.
"""

import time

import numpy as np
from sklearn.pipeline import Pipeline

from .._lineage._fingerprint import fingerprint
from .._lineage._ids import codes_of, distinct_codes
from .._lineage._merged_parents import expand, rows_behind
from .._lineage._witness import WITNESSES
from .._model_lock import exclusive
from .._prediction_log import release_replaced_parts
from .._removed_rows import record_removed
from .._removed_set import RemovedRows
from .._trained import record_trained_rows
from ..exceptions import UnlearningError
from ..utils._fit_under_way import removal_marked
from ._erase import erasure_plan, store_with_erasure, stored_run_values
from ._event import UnlearningEvent
from ._event_fields import event_store, removal_event
from ._features_after import features_after
from ._neural_backend import neural_backend
from ._remains import with_caveats
from ._run_copy import unlearner_run_copy


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
