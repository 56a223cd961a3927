"""Whether rows a lineage query names were erased at request: the ``erased`` column.

An erasure request (:meth:`~sktraceprop.stores.SQLiteStore.erase_rows`) is recorded in
a store (its ``store.erasure`` event); row ids, files and lines stay readable in
this process (a run's ``row_ids``, a traced frame's index, the file itself). A query that
names rows (:meth:`Lineage.trace`, :func:`sktraceprop.row_lineage`) therefore checks the
store it is given. Given none, it checks the requests made in this process (recorded
here as their events record them, :mod:`sktraceprop.stores._erased_here`): the rows they
named are True, with an :class:`~sktraceprop.exceptions.ErasedRowsHeldWarning` and
``frame.attrs["erasures_requests_here"]`` naming each request (its event's seq, store
and time); every other row is ``<NA>`` (a request made in another process, or before a
restart, is recorded only in its store: never False), and
``frame.attrs["erasures_checked"]`` is False with the reason in
``frame.attrs["erasures_note"]``. No warning for ``<NA>``: these queries are called
often, and a warning on each would teach users to silence
:class:`~sktraceprop.exceptions.LineageWarning`, hiding the ones that matter.

Rows are matched to a request by source identity (``source_id`` and SHA-256) and line,
or by ``source_id`` for a request naming whole sources, never by packed id (a request
recorded by another process packs other codes), and through merges and aggregates
(a row built from an erased row holds its values).
"""

import warnings

import numpy as np
import pandas as pd

from ..exceptions import ErasedRowsHeldWarning, UnknownSourceError
from ..utils._stack import user_stacklevel
from ._depends_on import depends_on
from ._ids import pack

__all__ = [
    "NOT_CHECKED",
    "SNAPSHOT",
    "SNAPSHOT_CHECKED",
    "erased_in_run",
    "erased_in_registry",
    "is_snapshot",
    "with_erasures",
]

#: Why a query given no store says ``<NA>``.
NOT_CHECKED = (
    "erasures not checked: no store was given, and this process made no erasure request "
    "(one made in another process, or before a restart, is recorded only in its store), "
    "so whether these rows were erased is not known here; pass store= (the store the "
    "model's runs are saved in) to check, or trace through the fitted traced pipeline, "
    "whose trace() checks its own store"
)

#: What a query given no store says of the rows no request made here named.
_OTHERS = (
    "no store was given, and a request made in another process, or before a restart, "
    "is recorded only in its store, so whether they were erased is not known here "
    "(<NA>, never False)"
)
#: How to check them, unless the caller says otherwise.
_ADVICE = "pass store= (the store the model's runs are saved in) to check"


#: What a check in an unpickled MemoryStore can tell: one rule, said in these words by
#: the ``erased`` column's note (:data:`SNAPSHOT`) and by every check that answers in
#: one word, not a column (:func:`sktraceprop._erased_held.warn_snapshot`).
SNAPSHOT_CHECKED = (
    "erasures checked in a copy of a MemoryStore (an unpickled MemoryStore, or one made "
    "by store.copy()): frozen when it was pickled or copied, so an erasure request "
    "recorded in that store since is not seen here"
)

#: Why rows an unpickled MemoryStore records no request of are ``<NA>``.
SNAPSHOT = (
    f"{SNAPSHOT_CHECKED}; rows this copy records a request of are marked True, the others "
    "are not known (<NA>); pass store= (the store itself, or an SQLiteStore/PostgresStore) "
    "to check"
)


def is_snapshot(store):
    """Whether ``store`` is a copy frozen when it was pickled or copied (an unpickled
    MemoryStore, or one made by ``MemoryStore.copy()``, which a request recorded in the
    store it was copied from since does not reach; a database store reads the database
    itself)."""
    state = getattr(store, "__dict__", {})
    return bool(state.get("_unpickled") or state.get("_copied"))


def _requests_in(store, here_only=False):
    """``[(label, payload)]``: the erasure requests ``store`` records (``label`` their
    seq), then those made in this process that it does not record (``label`` their
    words: its event's seq, store and time, :func:`sktraceprop._removed_rows.
    erasure_requests_here`): made through another store, or recorded in the store this
    one was copied from since. Where ``store`` is None, those made here; with
    ``here_only``, only those made here that ``store`` does not record."""
    from .._removed_rows import erasure_requests_here

    here = erasure_requests_here()
    if store is None:
        return [(what, payload) for what, payload, _ in here]
    from .._removal_events import ERASURE, removal_events

    events = [e for e in removal_events(store) if e["kind"] == ERASURE]
    # a request made here through this store is its own event: said once, by its seq
    own = {(store.store_id, int(e["seq"]), str(e["created_at"])) for e in events}
    others = [(what, payload) for what, payload, key in here if key not in own]
    return others if here_only else [(int(e["seq"]), e["payload"]) for e in events] + others


def _erased(requests, ids, source, code_of_key, codes_named):
    """``(hit, named)``: which of ``ids`` are, or were built from, rows that one of
    ``requests`` (:func:`_requests_in`) named, and the label of each request that named
    one: the store's seqs sorted, then the words of those made here, oldest first."""
    hit = np.zeros(ids.shape[0], dtype=bool)
    named = []
    if not ids.size:
        return hit, []
    for label, payload in requests:
        removed, codes = np.zeros(0, np.int64), []
        if payload.get("source_ids") is not None:
            codes = codes_named(set(payload["source_ids"]))
        else:
            parts = [removed]
            for row in payload.get("rows") or ():
                code = code_of_key((row["source_id"], row["sha256"]))
                if code is not None:
                    parts.append(pack(code, np.asarray(row["lines"], dtype=np.int64)))
            removed = np.concatenate(parts)
        if not removed.size and not codes:
            continue
        now, _ = depends_on(ids, source, removed, codes)
        if now.any():
            hit |= now
            if label not in named:
                named.append(label)
    seqs = sorted(n for n in named if not isinstance(n, str))
    return hit, seqs + [n for n in named if isinstance(n, str)]


def _checked(store, ids, source, code_of_key, codes_named, here_only=False):
    """:func:`_erased` of the requests :func:`_requests_in` reads; ``hit`` is None where
    ``store`` is None and this process made none."""
    requests = _requests_in(store, here_only)
    if store is None and not requests:
        return None, []
    return _erased(requests, ids, source, code_of_key, codes_named)


def erased_in_run(store, run, ids, *, here_only=False):
    """:func:`_erased` of ``ids``, rows of ``run`` (whose codes may be another process's);
    ``here_only``: of the requests made here that ``store`` does not record."""
    codes = {s.key: c for c, s in run.sources.items()}
    return _checked(
        store,
        ids,
        run.source,
        codes.get,
        lambda names: [c for c, s in run.sources.items() if s.source_id in names],
        here_only,
    )


def erased_in_registry(store, ids, registry):
    """:func:`_erased` of ``ids``, rows of this process's sources (``registry``)."""

    def code_of_key(key):
        try:
            return int(registry.code_of_key(tuple(key)))
        except KeyError:
            return None

    def codes_named(names):
        out = []
        for name in names:
            try:
                out += [int(v.code) for v in registry.versions(name)]
            except UnknownSourceError:
                continue
        return out

    return _checked(store, ids, registry.by_code, code_of_key, codes_named)


def with_erasures(frame, positions, hit, seqs, store, what, *, warn=True, advice=None):
    """``frame`` with its ``erased`` column (``hit`` at ``positions``, one per row of
    ``frame``; where ``store`` is None, ``hit`` is of the requests made in this process,
    ``seqs`` their words: True where one named the row, ``<NA>`` elsewhere, and
    everywhere where ``hit`` is None; given a store, ``seqs`` are its requests' seqs,
    then the words of those made here that it does not record, whose rows are True too)
    and its ``attrs`` saying whether erasures were checked; with ``warn``, an
    :class:`~sktraceprop.exceptions.ErasedRowsHeldWarning` naming the rows erased.
    ``advice``: how to check where no store was given (else ``pass store=``)."""
    if store is None and hit is None:
        frame["erased"] = pd.array([pd.NA] * len(frame), dtype="boolean")
        frame.attrs["erasures_checked"] = False
        frame.attrs["erasures_note"] = NOT_CHECKED
        return frame
    marks = hit[np.asarray(positions)]
    if store is None:
        return _known_here(frame, marks, hit, seqs, what, warn, advice)
    here = [s for s in seqs if isinstance(s, str)]
    seqs = [s for s in seqs if not isinstance(s, str)]
    name = type(store).__name__
    if is_snapshot(store):
        # a row the copy records no request of may have been named since in the store
        # that was pickled: not known (<NA>), never False
        frame["erased"] = pd.arrays.BooleanArray(marks, ~marks)
        frame.attrs["erasures_checked"] = False
        frame.attrs["erasures_note"] = SNAPSHOT
    else:
        frame["erased"] = pd.array(marks, dtype="boolean")
        frame.attrs["erasures_checked"] = True
        frame.attrs["erasures_note"] = f"erasures checked in {name}"
    if here:
        # this process made them (through another store, or the one this was copied
        # from): it knows the rows were erased, though this store does not record it
        frame.attrs["erasures_requests_here"] = here
        frame.attrs["erasures_note"] += (
            f"; and against the erasure requests made in this process that this {name} "
            f"does not record (made through another store, or recorded in the store it "
            f"was copied from since): rows they named are marked True ({'; '.join(here)})"
        )
    if warn and hit.any():
        by = (
            [
                f"that {name} records an erasure request of (store.erasure event(s) seq "
                f"{', '.join(map(str, seqs))})"
            ]
            if seqs
            else []
        )
        by += (
            [
                f"that an erasure request made in this process named, which this {name} "
                f"does not record ({'; '.join(here)})"
            ]
            if here
            else []
        )
        warnings.warn(
            f"{what}: {int(hit.sum())} of the {hit.size} row(s) named are, or were built "
            f"from, rows {', and rows '.join(by)}: their files and "
            "lines are shown (column erased is True) because this process still holds "
            "their ids, but they must not be used or shown as data; the erasure could "
            "not reach copies outside the store (this frame, the files themselves).",
            ErasedRowsHeldWarning,
            stacklevel=user_stacklevel(),
        )
    return frame


def _known_here(frame, marks, hit, requests, what, warn, advice):
    """``frame`` given no store, marked by the erasure requests made in this process
    (``hit``: which rows they named; ``requests``: the words of those that named one):
    True where one did, ``<NA>`` elsewhere (a request made in another process, or before
    a restart, is recorded only in its store: never False)."""
    frame["erased"] = pd.arrays.BooleanArray(marks, ~marks)
    frame.attrs["erasures_checked"] = False
    frame.attrs["erasures_requests_here"] = list(requests)
    said = (
        f"rows named by an erasure request made in this process are marked True "
        f"({'; '.join(requests)})"
        if requests
        else "the erasure requests made in this process name none of these rows"
    )
    frame.attrs["erasures_note"] = (
        f"erasures checked only against the requests made in this process: {said}; for "
        f"the others, {_OTHERS}; {_ADVICE if advice is None else advice}"
    )
    if warn and hit.any():
        warnings.warn(
            f"{what}: {int(hit.sum())} of the {hit.size} row(s) named are, or were built "
            f"from, rows that an erasure request made in this process named "
            f"({'; '.join(requests)}): their files and lines are shown (column erased is "
            "True) because this process still holds their ids, but they must not be used "
            "or shown as data; the erasure could not reach copies outside the store (this "
            "frame, the files themselves). No store was given: rows not marked (<NA>) may "
            "have been erased by a request made elsewhere.",
            ErasedRowsHeldWarning,
            stacklevel=user_stacklevel(),
        )
    return frame
