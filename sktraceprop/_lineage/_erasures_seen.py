"""Whether rows a lineage query names were erased at request: the ``erased`` column.

An erasure request (:meth:`~sktraceprop.stores.SQLiteStore.erase_rows`) is recorded only
in a store (its ``store.erasure`` event); row ids, files and lines stay readable in
this process (a run's ``row_ids``, a traced frame's index, the file itself). A query that
names rows (:meth:`Lineage.trace`, :func:`sktraceprop.row_lineage`) therefore checks the
store it is given, and where it is given none says that it could not know: its
``erased`` column is ``<NA>`` (not False) and ``frame.attrs["erasures_checked"]`` is
False with the reason in ``frame.attrs["erasures_note"]``. No warning then: these queries
are called often, and a warning on each would teach users to silence
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
    "erasures not checked: no store was given, and an erasure request is recorded only "
    "in a store, so whether these rows were erased since is not known here; pass "
    "store= (the store the model's runs are saved in) to check, or trace through the "
    "fitted traced pipeline, whose trace() checks its own store"
)


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


def _erased(store, ids, source, code_of_key, codes_named):
    """``(hit, seqs)``: which of ``ids`` are, or were built from, rows that an erasure
    request recorded in ``store`` named, and the ``seq`` of each request that named one."""
    from .._removal_events import ERASURE, removal_events

    hit = np.zeros(ids.shape[0], dtype=bool)
    seqs = set()
    if not ids.size:
        return hit, []
    for event in removal_events(store):
        if event["kind"] != ERASURE:
            continue
        payload = event["payload"]
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
            seqs.add(int(event["seq"]))
    return hit, sorted(seqs)


def erased_in_run(store, run, ids):
    """:func:`_erased` of ``ids``, rows of ``run`` (whose codes may be another process's)."""
    codes = {s.key: c for c, s in run.sources.items()}
    return _erased(
        store,
        ids,
        run.source,
        codes.get,
        lambda names: [c for c, s in run.sources.items() if s.source_id in names],
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

    return _erased(store, ids, registry.by_code, code_of_key, codes_named)


def with_erasures(frame, positions, hit, seqs, store, what, *, warn=True):
    """``frame`` with its ``erased`` column (``hit`` at ``positions``, one per row of
    ``frame``; ``<NA>`` everywhere where ``store`` is None) and its ``attrs`` saying
    whether erasures were checked; with ``warn``, an
    :class:`~sktraceprop.exceptions.ErasedRowsHeldWarning` naming the rows erased."""
    if store is None:
        frame["erased"] = pd.array([pd.NA] * len(frame), dtype="boolean")
        frame.attrs["erasures_checked"] = False
        frame.attrs["erasures_note"] = NOT_CHECKED
        return frame
    marks = hit[np.asarray(positions)]
    if is_snapshot(store):
        # a row the copy records no request of may have been named since in the store
        # that was pickled: not known (<NA>), never False
        frame["erased"] = pd.arrays.BooleanArray(marks, ~marks)
        frame.attrs["erasures_checked"] = False
        frame.attrs["erasures_note"] = SNAPSHOT
    else:
        frame["erased"] = pd.array(marks, dtype="boolean")
        frame.attrs["erasures_checked"] = True
        frame.attrs["erasures_note"] = f"erasures checked in {type(store).__name__}"
    if warn and hit.any():
        warnings.warn(
            f"{what}: {int(hit.sum())} of the {hit.size} row(s) named are, or were built "
            f"from, rows that {type(store).__name__} records an erasure request of "
            f"(store.erasure event(s) seq {', '.join(map(str, seqs))}): their files and "
            "lines are shown (column erased is True) because this process still holds "
            "their ids, but they must not be used or shown as data; the erasure could "
            "not reach copies outside the store (this frame, the files themselves).",
            ErasedRowsHeldWarning,
            stacklevel=user_stacklevel(),
        )
    return frame
