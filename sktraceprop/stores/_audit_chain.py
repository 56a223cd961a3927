"""The hash chain walked event by event for the whole-store audit (:mod:`._audit`):
links, hashes and numbering checked; the store's own events (runs, sources, redactions)
and the salted prediction events collected for the checks that follow.

A reader of the whole chain that also needs it verified (a compliance report) is handed
each event as this walk reads it (:func:`watching_chain`), instead of reading the chain
again after ``verify()``.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from ..exceptions import StoreError
from ._append import set_back
from ._chain import (
    GENESIS,
    RESERVED_PREFIX,
    RUN_EVENT,
    SOURCE_EVENT,
    event_row_problem,
    stored_event_hash,
)
from ._not_damage import NOT_DAMAGE
from ._prediction_erasures import State
from ._prediction_salts import INPUT_KINDS, PREDICTION_ERASURE_EVENT
from ._sealed import REDACTION_EVENT
from ._wipe_marks import WIPE

#: ``(store, reader)`` while :func:`watching_chain` is in effect in this thread (or task).
_WATCH = ContextVar("sktraceprop_chain_watch", default=None)


@contextmanager
def watching_chain(store, reader):
    """Within, each walk of ``store``'s chain by its integrity check (``verify()``)
    calls ``reader.start()``, then ``reader.add(row, payload)`` for each event whose
    row and payload it read without a problem (``payload`` decoded from JSON). A walk
    that finds a problem makes ``verify()`` raise, so after a ``verify()`` that passed,
    the last walk handed over every event, oldest first."""
    token = _WATCH.set((store, reader))
    try:
        yield reader
    finally:
        _WATCH.reset(token)


def _check_chain(store, wanted, problems, report, salts=None, wipes=None):
    """Walk every event: links, hashes, numbering; collect the store's own events, and
    into ``salts`` (a :class:`._prediction_erasures.State`) the salted prediction events
    and the erasures of calls, and into ``wipes`` (a dict) ``{seq: mark id}`` of the
    erasure events naming their wipe mark (:mod:`._wipe_marks`); hand each event to the
    reader of :func:`watching_chain`."""
    wipes = {} if wipes is None else wipes
    salts = State() if salts is None else salts
    watch = _WATCH.get()
    reader = watch[1] if watch is not None and watch[0] is store else None
    if reader is not None:
        reader.start()
    heads, run_events, source_events, redactions = {0: GENESIS}, {}, {}, {}
    prev_hash, prev_seq, prev_time = GENESIS, 0, None

    def problem(seq, message):
        problems.append({"check": "hash_chain", "seq": seq, "message": message})

    try:
        for row in store._raw_events():
            seq, run_id, created_at, kind, _, prev_link, stored = row
            report["events"] += 1
            if set_back(prev_time, created_at):
                report.setdefault("times_set_back", []).append(seq)
            prev_time = created_at
            wrong = event_row_problem(row)
            if wrong is not None:  # (before the comparisons: seq may not be a number)
                problem(seq, f"{wrong}: the event was altered")
                if isinstance(seq, int) and not isinstance(seq, bool):
                    prev_seq = seq
                if isinstance(stored, str):
                    prev_hash = stored
                continue
            if seq != prev_seq + 1:
                if seq > prev_seq + 1:
                    gap = (
                        f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}..{seq - 1}"
                    )
                    problem(seq, f"follows event {prev_seq}: event(s) {gap} are missing")
                else:
                    problem(seq, f"is numbered out of order (after event {prev_seq})")
            try:
                payload, rehashed = stored_event_hash(row, checked=True)
            except ValueError as exc:
                problem(seq, f"payload is not JSON as sktraceprop writes it ({exc})")
                salts.salted[seq] = None  # (whether it held a salt is unknown: named here)
                if seq in wanted:  # (its hash as stored: a checkpoint is compared with it)
                    heads[seq] = stored
                prev_hash, prev_seq = stored, seq
                continue
            if prev_link != prev_hash:
                problem(
                    seq,
                    "is not linked to the event before it (an event was removed, inserted "
                    "or reordered)",
                )
            if rehashed != stored:
                problem(seq, "does not match its hash: the event was altered")
            if kind.startswith(RESERVED_PREFIX) and not isinstance(payload, dict):
                problem(seq, f"is a {kind} event whose payload is not an object: it was altered")
            elif kind == RUN_EVENT:
                if run_id in run_events:
                    problem(seq, f"is a second event for run {run_id}")
                run_events[run_id] = (seq, payload)
            elif kind == REDACTION_EVENT:
                redactions.setdefault(run_id, []).append(seq)
            elif kind == PREDICTION_ERASURE_EVENT or kind in INPUT_KINDS:
                salts.add(seq, kind, payload)
            elif kind == SOURCE_EVENT:
                key = (payload.get("source_id"), payload.get("sha256"))
                if all(isinstance(k, str) for k in key):
                    source_events[key] = (seq, payload)
                else:
                    problem(seq, "is a store.source event whose source_id or sha256 is not text")
            if kind in (REDACTION_EVENT, PREDICTION_ERASURE_EVENT) and isinstance(payload, dict):
                wipe = payload.get(WIPE)
                if wipe is not None:
                    wipes[seq] = wipe
            if seq in wanted:
                heads[seq] = stored
            if reader is not None:
                reader.add(row, payload)
            prev_hash, prev_seq = stored, seq
    except NOT_DAMAGE:
        raise
    except StoreError as exc:
        where = "from the start" if not prev_seq else f"after event {prev_seq}"
        problems.append({"check": "hash_chain", "message": f"events unreadable {where}: {exc}"})
    report["chain_head"], report["last_seq"] = prev_hash, prev_seq
    return heads, run_events, source_events, redactions
