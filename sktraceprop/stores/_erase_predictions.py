"""Erasing logged calls that scored a person: :meth:`BaseStore.erase_predictions`.

The calls whose input held the rows are found as
:func:`~sktraceprop.compliance.find_predictions` finds them (the rows as given and in
every exact other form it tries). Of each salted call (see :mod:`._prediction_salts`),
the salt is deleted, in one transaction with a ``store.prediction_erasure`` event that
gives the reason and commits to every call erased so far without naming them (see
:mod:`._prediction_erasures`: the chain must not tie the request to the calls'
outputs); then the store's files are wiped of the old bytes
(:meth:`BaseStore._scrub`, as for :meth:`BaseStore.erase_rows`). A call logged before
salting holds the plain SHA-256 of its input in the chain, which nothing can erase: it
is returned, not erased, and a warning says so.
"""

import warnings

from ..exceptions import CorruptStoreError
from ..utils._stack import user_stacklevel
from ._append import _Chain
from ._prediction_erasures import erasure_payload, missing, problems, read_state
from ._prediction_salts import INPUT_KINDS, PREDICTION_ERASURE_EVENT, matching


def calls_of(store, X, run_id=None):
    """``(salted, unsalted)``: the seqs of the prediction events (of ``run_id``) whose
    input was ``X`` in any exact form ``find_predictions`` tries; ``salted`` only those
    whose salt is still held."""
    from .._polars_frame import as_pandas, is_polars
    from .._row_hash import hash_rows
    from ..compliance._find import _input_orders
    from ..compliance._find_exact import exact_variants

    if is_polars(X):
        X = as_pandas(X)
    # the calls that scored the rows, and those that explained them
    events = [e for kind in INPUT_KINDS for e in store.events(run_id, kind=kind)]
    events.sort(key=lambda e: e["seq"])
    if not events:
        return [], []
    digests = {hash_rows(X): None}
    for frame, _, _ in exact_variants(X, _input_orders(store, events)):
        digests.setdefault(hash_rows(frame), None)
    found = matching(events, store._raw_prediction_salts(), digests)
    salted = [e["seq"] for e, _ in found if "input_commitment" in e["payload"]]
    unsalted = [e["seq"] for e, _ in found if "input_commitment" not in e["payload"]]
    return salted, unsalted


def erase_predictions(store, X, *, reason, run_id=None, dry_run=False):
    """See :meth:`BaseStore.erase_predictions`."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must say why the calls are erased (a non-empty string)")
    if run_id is not None and not isinstance(run_id, str):
        raise TypeError(f"run_id must be a string or None, got {type(run_id).__name__}")
    if not dry_run:
        store._check_writable()
    salted, unsalted = calls_of(store, X, run_id)
    if unsalted:
        _warn_unsalted(store, unsalted)
    if dry_run:
        return {"event_seq": None, "calls": salted, "unsalted": unsalted}
    if not salted:
        # nothing left to erase; the files are wiped again (a writer killed after an
        # earlier erasure committed, before its wipe, left the old bytes)
        store._scrub()
        return {
            "event_seq": None,
            "calls": [],
            "unsalted": unsalted,
            "wiped": not store._erasure_left(),
        }
    made = {}

    def write(writer):
        made.clear()
        held = store._raw_prediction_salts()
        calls = [seq for seq in salted if seq in held]  # (another writer may have erased)
        if not calls:
            return None
        state = read_state(store)
        wrong = problems(state, held)
        if wrong:
            # a commitment over salts deleted outside sktraceprop would hide the deletion
            said = "; ".join(f"event {seq} {message}" for seq, message in wrong[:5])
            raise CorruptStoreError(
                f"{store!r}: the prediction salts held do not match the record ({said}); "
                "nothing was erased. Audit the store with verify() or check()."
            )
        payload, key = erasure_payload(reason.strip(), missing(state, held) | set(calls))
        chain = _Chain(store, writer)
        event = chain.append(PREDICTION_ERASURE_EVENT, payload, None)
        # the last erasure's key goes: its commitment can no longer be tested
        gone = calls + [seq for seq, _ in state.erasures if seq in held]
        deleted = writer.delete_salts(gone)
        if deleted != len(gone):
            raise CorruptStoreError(
                f"{store!r}: {deleted} of the {len(gone)} salts being erased were deleted "
                "(the database did not delete what it was asked to); nothing was changed"
            )
        writer.insert_salt(event["seq"], key)
        chain.confirm()
        made["event"], made["calls"] = event, calls
        return event

    def committed():
        event = made.get("event")
        row = None if event is None else store._raw_event(event["seq"])
        return event if row is not None and row[6] == event["hash"] else None

    event = store._transact(write, committed)
    store._scrub()
    return {
        "event_seq": None if event is None else event["seq"],
        "calls": [] if event is None else list(made["calls"]),
        "unsalted": unsalted,
        "wiped": not store._erasure_left(),
    }


def _warn_unsalted(store, seqs):
    listed = ", ".join(map(str, seqs[:20])) + (" ..." if len(seqs) > 20 else "")
    warnings.warn(
        f"{store!r}: {len(seqs)} logged call(s) that scored these rows (event(s) {listed}) "
        "were logged before prediction events were salted: each holds the plain SHA-256 "
        "of its input rows under the hash chain, which cannot be erased, so whoever holds "
        "the rows still finds those calls (find_predictions), with their outputs. They "
        "are not erased.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
