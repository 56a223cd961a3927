"""A fitted traced model whose ``lineage_`` holds rows a store records as erased.

An erasure (:meth:`~sktraceprop.stores.SQLiteStore.erase_rows`) redacts the store's runs
and names the fitted objects of its own process that keep the rows; it cannot reach a
model pickled before it, loaded later or in another process: its ``lineage_`` still
holds the erased rows (their ids, so their files and lines, and its sources' statistics
counted over them) and its steps what they learnt from them. Where such a model is used
with a store that records the erasure (its logged calls, a compliance report), a
:class:`~sktraceprop.exceptions.ErasedRowsHeldWarning` names the sources and the erasure
events; so does its ``trace()``, and an explanation's ``trace()`` withholds the values
of a row so erased, and of every row where the store cannot say (:func:`erasure_of`).
A call of such a model (logged or not) checks once per model and store
(:mod:`._erased_use`: the store's erasure events, kept by :mod:`._removal_events` until
one is appended, and one query of the run's redactions; a compliance report hands over
its own read of the chain): the erasure of a row later in this process names the model
itself (see :mod:`._holders`); an explanation's
``top()`` and ``train_rows`` mark such rows (column ``erased``, :func:`erased_marks`).

A request names rows (by source identity and line, or sources), not runs: it is seen
for every run holding them, listed in it or not (a run stored after it on the same
file lines), by the rule of :mod:`._lineage._erasures_seen`.

An unpickled :class:`~sktraceprop.stores.MemoryStore` (one pickled with the model) is a
copy frozen when it was pickled: a request recorded in the store since is not in it, so
a check there that finds none does not know (an
:class:`~sktraceprop.exceptions.ErasuresUnknownWarning`, :func:`warn_snapshot`, in the
words of the ``erased`` column's note, where a frame's column says ``<NA>``).
"""

import warnings

import numpy as np

from ._erasures_unreachable import UNREACHABLE, marks_here, unreachable, warn_unreachable
from ._lineage._erasures_seen import SNAPSHOT_CHECKED, is_snapshot
from ._lineage._ids import codes_of
from .exceptions import ErasedRowsHeldWarning, ErasuresUnknownWarning, UnknownSourceError
from .utils._stack import user_stacklevel

__all__ = [
    "erased_marks",
    "erasure_of",
    "removal_of",
    "run_and_store",
    "run_marks",
    "warn_erased_held",
    "warn_held_here",
    "warn_snapshot",
]

#: What a model that still holds erased rows can do, in the words of every warning.
WHAT_TO_DO = (
    "Refit it on the rows kept, remove them from it with an unlearner "
    "(GradientCorrectionUnlearner(...).unlearn), or discard it."
)


def warn_snapshot(estimator, run, what):
    """Warn that ``estimator``'s training rows (of ``run``) were checked for erasure
    requests only in an unpickled MemoryStore (``what``: those the copy records none
    of, in words), so whether they were erased since is not known."""
    warnings.warn(
        f"this {type(estimator).__name__} (run {run.run_id}): {SNAPSHOT_CHECKED}; "
        f"{what} may have been erased since: not known here. Check against the store "
        "itself (set_params(store=...)), or keep the runs in an SQLiteStore or "
        "PostgresStore, which outlive a pickle.",
        ErasuresUnknownWarning,
        stacklevel=user_stacklevel(),
    )


def warn_held_here(estimator, run):
    """Warn where ``estimator``'s ``run`` holds training rows that an erasure request
    made in this process named (``estimator`` has no store to read the others from).
    Returns ``{source_id: rows}`` of them."""
    return _warn_held_here(estimator, None, run, _held_here(None, run, set()))


def warn_erased_held(estimator, store, *, events=None, snapshot_said=False):
    """Warn where ``estimator``'s ``lineage_`` holds training rows that ``store``
    records an erasure request of (``events``: the store's events, already read, to find
    them in), and where ``store`` is an unpickled MemoryStore, that the others are not
    known (:func:`warn_snapshot`; not with ``snapshot_said``: the caller's answer says
    so).
    Returns ``{source_id: rows}`` of the rows erased (empty where none)."""
    from .stores._erased_rows import erased_rows

    run = getattr(estimator, "lineage_", None)
    if run is None or store is None or not hasattr(run, "row_ids"):
        return {}
    erased = erased_rows(store, run, events)
    known_here = _held_here(store, run, set(erased))
    if is_snapshot(store) and not snapshot_said:
        # only the rows nothing here knows of: those the copy records a request of, and
        # those a request made in this process named, are known (said below), not unknown
        n = len(run.row_ids) - len(erased) - len(known_here[0])
        if n:
            warn_snapshot(
                estimator,
                run,
                f"its {n} training row(s) that neither the copy nor a request made in this "
                "process names",
            )
    here = _warn_held_here(estimator, store, run, known_here)
    if not erased:
        return here
    seqs = {int(event["seq"]) for event in erased.values()}
    rows = _by_source(run, sorted(erased))
    named = ", ".join(f"{name!r} ({n} row(s))" for name, n in sorted(rows.items()))
    left = sum(not e["carried_out"] for e in erased.values())
    # a request lists the runs stored when it was made: a run stored after it on the
    # rows it named (or one its writer stopped before) still holds them in the store too
    where = (
        "The erasure redacted the store's copy of the run but could not reach this "
        "object (an erasure changes no fitted object: this one was fitted, or pickled, "
        "before it, in this process or another)"
        if not left
        else f"For {left} of them the request was not carried out for this run (stored "
        "after the request, on the rows it named, or its writer stopped part way): the "
        "store's copy of the run holds them too, until the request is run again "
        "(store.erase_rows); nor could it reach this object"
    )
    warnings.warn(
        f"this {type(estimator).__name__}'s lineage_ (run {run.run_id}) holds "
        f"{len(erased)} training row(s) that {_store_named(store)} records as erased: "
        f"source(s) {named}, by erasure event(s) seq "
        f"{', '.join(map(str, sorted(seqs)))}. {where}: its run still holds those rows' "
        "ids (so their files and lines) and its sources' statistics counted over them, "
        f"and its fitted steps what they learnt from them. {WHAT_TO_DO}",
        ErasedRowsHeldWarning,
        stacklevel=user_stacklevel(),
    )
    return {**here, **rows}


def _by_source(run, positions):
    """``{source_id: count}`` of the training rows of ``run`` at ``positions``."""
    rows = {}
    codes = codes_of(run.row_ids)
    for position in positions:
        source = run.sources.get(int(codes[position]))
        name = source.source_id if source is not None else "a source this run does not name"
        rows[name] = rows.get(name, 0) + 1
    return rows


def _held_here(store, run, said):
    """``(positions, words)``: the positions of ``run``'s training rows (other than those
    at positions ``said``) that an erasure request made in this process named and
    ``store`` does not record (made through another store, or the one ``store`` was
    copied from since), and those requests in words."""
    from ._lineage._erasures_seen import erased_in_run

    try:
        hit, words = erased_in_run(store, run, np.asarray(run.row_ids), here_only=True)
    except UnknownSourceError:
        return [], []
    if hit is None:
        return [], []
    return [p for p in np.flatnonzero(hit).tolist() if p not in said], words


def _warn_held_here(estimator, store, run, held):
    """Warn where ``estimator``'s run holds training rows (``held``, of
    :func:`_held_here`) that an erasure request made in this process named and ``store``
    does not record. Returns ``{source_id: rows}`` of them."""
    positions, words = held
    if not positions:
        return {}
    rows = _by_source(run, positions)
    named = ", ".join(f"{name!r} ({n} row(s))" for name, n in sorted(rows.items()))
    where = (
        f"which this {_store_named(store)} does not record"
        if store is not None
        else "(this model has no store: a request made in another process, or before a "
        "restart, is recorded only in its store and is not seen here)"
    )
    warnings.warn(
        f"this {type(estimator).__name__}'s lineage_ (run {run.run_id}) holds "
        f"{len(positions)} training row(s) that an erasure request made in this process "
        f"named, {where} ({'; '.join(words)}): "
        f"source(s) {named}. The erasure could not reach this object (fitted, or "
        "pickled, before it): its run still holds those rows' ids (so their files and "
        "lines) and its sources' statistics counted over them, and its fitted steps what "
        f"they learnt from them. {WHAT_TO_DO}",
        ErasedRowsHeldWarning,
        stacklevel=user_stacklevel(),
    )
    return rows


def run_and_store(estimator):
    """``(run, store)`` of an explained ``estimator``: the ``lineage_`` of the traced
    model it is or holds (frozen, or an unlearner's ``estimator_``) and the store that
    model's runs and removals go to (an unlearner's own ``store``, else its model's).
    An unlearner has neither attribute itself: read from it, an explanation of an
    unlearner pickled before an erasure handed out the erased rows' values unchecked."""
    from .influence._fit import model_store
    from .influence._fitted import run_holder

    holder = run_holder(estimator)
    run = None if holder is None else getattr(holder, "lineage_", None)
    store = model_store(estimator)
    if store is None:
        store = getattr(estimator if holder is None else holder, "store", None)
    return run, store


def erasure_of(estimator, row_id):
    """``(erased, withheld)`` of training row ``row_id`` of ``estimator``'s run:
    ``erased``, which erasure request recorded by ``estimator``'s store named it (in
    words), or None; ``withheld``, whether its values (which ``estimator``, pickled
    before the erasure, may still hold) are not to be handed out again: a row so
    erased, and one that ``estimator``'s store cannot say of (an unpickled or copied
    MemoryStore that records no request of it, said by an
    :class:`~sktraceprop.exceptions.ErasuresUnknownWarning`)."""
    from .stores._erased_rows import erased_rows

    run, store = run_and_store(estimator)
    if run is None or not hasattr(run, "row_ids"):
        return None, False
    try:
        here = _erased_here_of(store, run, row_id)
        if store is None or here is not None:
            return here, here is not None
        erased = erased_rows(store, run)
    except UNREACHABLE as error:
        if not unreachable(error):
            raise
        # (what cannot be checked is not handed out: as a copy's row, below)
        here = _erased_here_of(None, run, row_id)
        if here is not None:
            return here, True
        warn_unreachable(
            estimator, store, error, f"training row {int(row_id)} (values withheld: None)"
        )
        return None, True
    for position, event in sorted(erased.items()):
        if int(run.row_ids[position]) == int(row_id):
            when = (
                "which redacted the store's copy of this model's run but could not reach "
                "this object (fitted, or pickled, before it)"
                if event["carried_out"]
                else "not carried out for this object's run (stored after the request, "
                "or its writer stopped part way)"
            )
            return (
                f"erased at request by the store's erasure event {event['seq']} "
                f"({event['created_at']}), {when}: it still holds the row until refitted "
                "or discarded"
            ), True
    if is_snapshot(store):
        # a request recorded in the store itself since may name it: what was erased
        # must not be handed out again, so nothing is until the store itself says
        warn_snapshot(
            estimator,
            run,
            f"training row {int(row_id)}, whose values are withheld (values None: the "
            "copy records no request of it, and a request recorded in the store itself "
            "since would not be seen),",
        )
        return None, True
    return None, False


def _erased_here_of(store, run, row_id):
    """Which erasure request made in this process that ``store`` does not record (all,
    where ``store`` is None: made through another store, or the one ``store`` was
    copied from) named training row ``row_id`` of ``run``, in words, or None."""
    from ._lineage._erasures_seen import erased_in_run

    ids = np.asarray([row_id], dtype=np.int64)
    try:
        hit, named = erased_in_run(store, run, ids, here_only=True)
    except UnknownSourceError:
        return None
    if hit is None or not hit.any():
        return None
    where = "" if store is None else f", which this {_store_named(store)} does not record"
    return (
        f"erased at request by {named[0]}, made in this process{where}: the explained "
        "model (fitted before it) still holds the row until refitted or discarded"
    )


def removal_of(estimator, row_id):
    """Which removal recorded in ``estimator``'s store took training row ``row_id`` out
    of ``estimator``'s own run (an ``"unlearning"`` event of that run: its unlearner, in
    this process or another, corrected the model since ``estimator`` was pickled), in
    words, or None. A removal from another model's run is not one of this model's."""
    from ._removal_events import removal_events
    from ._removed_in_store import removed_in_store

    run, store = run_and_store(estimator)
    if run is None or store is None or getattr(run, "run_id", None) is None:
        return None
    try:
        events = [
            e
            for e in removal_events(store)
            if e["kind"] == "unlearning" and e["run_id"] == run.run_id
        ]
        if not events:
            return None
        found = removed_in_store(store, np.array([row_id], dtype=np.int64), events=events)
    except UNREACHABLE as error:
        if not unreachable(error):
            raise
        return None  # (said, and the row's values withheld, by erasure_of)
    if not found:
        return None
    return (
        f"removed from the model by {found[0].what}, after this copy of it was taken "
        "(pickled or copied before the removal): it "
        "still holds the row until refitted or discarded"
    )


def erased_marks(estimator, row_ids):
    """``(hit, seqs, store, note)``: which of ``row_ids`` (training rows of
    ``estimator``'s ``lineage_``) are, or were built from, rows that an erasure request
    recorded in ``estimator``'s store, or made in this process, named, and the
    requests' labels (:func:`~._lineage._erasures_seen.erased_in_run`: a lineage view
    marks the same rows); where that cannot be checked, ``hit`` and ``store`` are None
    and ``note`` says why."""
    run, store = run_and_store(estimator)
    return run_marks(run, store, row_ids, type(estimator).__name__)


def run_marks(run, store, row_ids, name):
    """:func:`erased_marks` of ``row_ids`` (training rows of ``run``, whose model, of
    class ``name``, writes to ``store``): an explanation whose explainer was fitted
    again since reads the run and store of the model it explained, kept apart."""
    from ._lineage._erasures_seen import erased_in_run

    if run is None or not hasattr(run, "row_ids"):
        return (
            None,
            [],
            None,
            (
                "erasures not checked: the explained model has no traced run (lineage_) to "
                "read its rows' sources from, so they cannot be matched to the erasure "
                + ("requests of its store" if store is not None else "requests made")
            ),
        )
    try:
        hit, seqs = erased_in_run(store, run, np.asarray(row_ids, dtype=np.int64))
    except UNREACHABLE as error:
        warn_unreachable(name, store, error, f"the {len(row_ids)} training row(s) scored")
        # the requests made here are known: their rows True, the others <NA>
        return marks_here(run, row_ids, store)
    except UnknownSourceError:
        return (
            None,
            [],
            None,
            (
                "erasures not checked: the rows explained name sources the explained "
                f"model's run {run.run_id} does not hold (it was refitted since?)"
            ),
        )
    if store is None and hit is None:
        return (
            None,
            [],
            None,
            (
                "erasures not checked: the explained model has no store, and this process "
                "made no erasure request (one made in another process, or before a "
                "restart, is recorded only in its store), so whether these rows were "
                "erased is not known here"
            ),
        )
    return hit, seqs, store, None


def _store_named(store):
    """``store`` in the words its requests are named by (its repr, a copy's as its
    store's: :func:`sktraceprop.stores._erased_here.store_label`): which store, not only
    its class."""
    from .stores._erased_here import store_label  # (the stores import this module)

    return store_label(store)
