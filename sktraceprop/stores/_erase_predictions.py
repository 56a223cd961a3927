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

A row of ``X`` scored inside a larger batch is found by the call's keyed row digests
(:mod:`sktraceprop._row_digests`, kept with the salt): its call is erased whole (the
salt and every row's digest go; the commitment covers the batch), returned in
``by_row`` too, and a warning says that the rest of those batches went with it. Calls
that keep no row digests cannot be searched by row: returned in ``no_row_digests``,
and a warning says they may still hold a row of ``X`` inside their batch.
"""

import warnings

from ..exceptions import CorruptStoreError, UnknownRunError
from ..utils._stack import user_stacklevel
from ._append import _Chain
from ._chain import text_problem
from ._prediction_erasures import erasure_payload, missing, problems, read_state
from ._prediction_salts import INPUT_KINDS, PREDICTION_ERASURE_EVENT, matching
from ._wipe_marks import WIPE, new_wipe


def calls_of(store, X, run_id=None):
    """``(salted, unsalted, by_row, without)``: the seqs of the prediction and
    explanation events (of ``run_id``) whose input was ``X`` in any exact form
    ``find_predictions`` tries, or held a row of it (``salted`` only those whose salt
    is still held; ``by_row`` those of them found by a row only); ``without``: the calls
    that keep no row digests, not found as a whole batch."""
    from .._polars_frame import as_pandas, is_polars
    from .._row_hash import hash_rows
    from .._signed_zeros import signed_digest
    from ..compliance._find import _input_orders, check_rows
    from ..compliance._find_exact import exact_variants
    from ..compliance._find_rows import row_matches

    if is_polars(X):
        X = as_pandas(X)
    check_rows(X)
    # the calls that scored the rows, and those that explained them
    events = [e for kind in INPUT_KINDS for e in store.events(run_id, kind=kind)]
    events.sort(key=lambda e: e["seq"])
    if not events:
        return [], [], [], []
    orders = _input_orders(store, events)
    digest = hash_rows(X)
    digests = {digest: None}
    # a call logged before -0.0 was hashed as 0.0 kept its sign (see .._signed_zeros):
    # where X holds a -0.0, each form is hashed so too
    signed = signed_digest(X, digest)
    if signed is not None:
        digests[signed] = None
    for frame, _, _ in exact_variants(X, orders):
        digest = hash_rows(frame)
        digests.setdefault(digest, None)
        if signed is not None:
            digests.setdefault(signed_digest(frame, digest) or digest, None)
    salts = store._raw_prediction_salts()
    found = matching(events, salts, digests)
    salted = [e["seq"] for e, _ in found if "input_commitment" in e["payload"]]
    unsalted = [e["seq"] for e, _ in found if "input_commitment" not in e["payload"]]
    rows, without = row_matches(events, salts, X, orders, skip=set(salted) | set(unsalted))
    by_row = sorted({event["seq"] for event, _, _, _ in rows})
    return sorted(set(salted) | set(by_row)), unsalted, by_row, without


def erase_predictions(store, X, *, reason, run_id=None, dry_run=False):
    """See :meth:`BaseStore.erase_predictions`."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must say why the calls are erased (a non-empty string)")
    if run_id is not None and not isinstance(run_id, str):
        raise TypeError(f"run_id must be a string or None, got {type(run_id).__name__}")
    if run_id is not None and (text_problem(run_id) or store._raw_run(run_id) is None):
        # a mistyped run would otherwise find no call, and the request look done
        raise UnknownRunError(f"no run {run_id!r} in {store!r}: nothing was erased")
    if not dry_run:
        store._check_writable()
    salted, unsalted, by_row, without = calls_of(store, X, run_id)
    if not (salted or unsalted or without):
        _warn_nothing(store, X, run_id, dry_run)
    if unsalted:
        _warn_unsalted(store, unsalted)
    if without:
        _warn_without(store, without)
    if by_row:
        _warn_whole(store, by_row, dry_run)
    said = {"unsalted": unsalted, "by_row": by_row, "no_row_digests": without}
    if dry_run:
        return {"event_seq": None, "calls": salted, **said}
    if not salted:
        # nothing left to erase; the files are wiped again (a writer killed after an
        # earlier erasure committed, before its wipe, left the old bytes)
        store._scrub()
        return {"event_seq": None, "calls": [], **said, "wiped": not store._erasure_left()}
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
        wipe = new_wipe(writer)
        if wipe is not None:  # (as a redaction's: ._wipe_marks)
            payload[WIPE] = wipe
        chain = _Chain(store, writer)
        event = chain.append(PREDICTION_ERASURE_EVENT, payload, None)
        # the last erasure's key goes: its commitment can no longer be tested
        gone = calls + [seq for seq, _ in state.erasures if seq in held]
        deleted = writer.delete_salts(gone, wipe)
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
    calls = [] if event is None else list(made["calls"])
    return {
        "event_seq": None if event is None else event["seq"],
        "calls": calls,
        **said,
        "by_row": [seq for seq in by_row if seq in calls],
        "wiped": not store._erasure_left(),
    }


def _warn_unsalted(store, seqs):
    listed = _listed(seqs)
    warnings.warn(
        f"{store!r}: {len(seqs)} logged call(s) that scored these rows (event(s) {listed}) "
        "were logged before prediction events were salted: each holds the plain SHA-256 "
        "of its input rows under the hash chain, which cannot be erased, so whoever holds "
        "the rows still finds those calls (find_predictions), with their outputs. They "
        "are not erased.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_nothing(store, X, run_id, dry_run):
    """An erasure request that reached no call says so, never a quiet empty result."""
    import pandas as pd

    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    scope = f" of run {run_id}" if run_id else ""
    text = (
        f"{store!r}: nothing {'would be' if dry_run else 'was'} erased: no logged call"
        f"{scope} (prediction or explanation) was given these {n_rows} row(s) or held one "
        "of them, in any exact form find_predictions tries. Common reasons: the calls "
        "were erased already; the values differ from those the model was given "
        "(find_predictions says what it compared); the calls were logged to another "
        "store or run"
    )
    if isinstance(X, pd.Series):
        text += (
            "; a Series is hashed as one column, so a row taken with frame.iloc[i] is "
            "not the one-row frame predict was given: pass frame.iloc[[i]]"
        )
    warnings.warn(text, UserWarning, stacklevel=user_stacklevel())


def _listed(seqs):
    return ", ".join(map(str, seqs[:20])) + (" ..." if len(seqs) > 20 else "")


def _warn_whole(store, seqs, dry_run):
    verb = "would be" if dry_run else "are"
    warnings.warn(
        f"{store!r}: {len(seqs)} logged call(s) (event(s) {_listed(seqs)}) held these rows "
        f"inside a larger batch: they {verb} erased whole (each call commits to its whole "
        "batch under one salt), so every other row of those batches is no longer "
        "findable either",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_without(store, seqs):
    warnings.warn(
        f"{store!r}: {len(seqs)} logged call(s) (event(s) {_listed(seqs)}) keep no per-row "
        "digests (logged before them, or unsalted): whether one of them held these rows "
        "inside its batch cannot be told from the rows alone; pass the whole batch to "
        "erase such a call",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
