"""The stored sources and runs checked against their events in the hash chain, for the
whole-store audit (:mod:`._audit`): each loads, matches the digest its event records,
points at that event, and none is missing, inserted or reordered; no run's values are
held for a run that is not stored."""

from ..exceptions import StoreError
from ._chain import loads_stored
from ._load_run import decode_source, read_run
from ._not_damage import NOT_DAMAGE
from ._sealed import is_sealed


def _check_sources(store, source_events, problems, report):
    cache = {}

    def problem(source_id, message):
        problems.append({"check": "sources", "source_id": source_id, "message": message})

    try:
        rows = list(store._raw_sources())
    except NOT_DAMAGE:
        raise
    except StoreError as exc:
        problems.append({"check": "sources", "message": f"sources unreadable: {exc}"})
        rows = []
    for source_id, sha256, *row in rows:
        report["sources"] += 1
        name = f"(sha256 {str(sha256)[:12]}...)"
        try:
            decoded = decode_source(store, source_id, sha256, *row)
        except NOT_DAMAGE:
            raise
        except StoreError as exc:
            problem(source_id, f"{name} cannot be loaded: {exc}")
            source_events.pop((source_id, sha256), None)
            continue
        cache[(source_id, sha256)] = decoded
        event = source_events.pop((source_id, sha256), None)
        if event is None:
            problem(
                source_id,
                f"{name} is not in the hash chain: inserted outside sktraceprop, or its "
                "event was removed",
            )
        elif event[1].get("digest") != decoded[1]:
            problem(
                source_id,
                f"{name} was altered after it was stored: its record or merge parents no "
                f"longer match the digest in audit event {event[0]}",
            )
        elif decoded[2] != event[0]:
            problem(source_id, f"{name} points at audit event {decoded[2]}; its is {event[0]}")
    for (source_id, sha256), (seq, _) in source_events.items():
        problem(
            source_id,
            f"(sha256 {str(sha256)[:12]}...) was deleted: audit event {seq} records it, the "
            "store no longer holds it",
        )
    return cache


def _check_runs(store, run_events, cache, problems, report, redactions):
    def problem(run_id, message):
        problems.append({"check": "runs", "run_id": run_id, "message": message})

    try:
        listed = store._raw_run_list()
    except NOT_DAMAGE:
        raise
    except StoreError as exc:
        problems.append({"check": "runs", "message": f"runs unreadable: {exc}"})
        listed = []
    previous = None
    for run_id, record_text, created_at in listed:
        report["runs"] += 1
        event = run_events.pop(run_id, None)
        try:
            lineage, digest, event_seq, _ = read_run(store, run_id, cache=cache)
        except NOT_DAMAGE:
            raise
        except StoreError as exc:  # CorruptStoreError, or UnknownRunError (bad index)
            problem(run_id, f"cannot be loaded: {exc}")
            continue
        if created_at is not None and created_at != lineage.created_at:
            problem(
                run_id,
                f"has created_at {created_at!r} in its row but {lineage.created_at!r} in its "
                "record: its row was altered after it was stored",
            )
        if previous is not None and isinstance(event_seq, int) and event_seq <= previous[1]:
            problem(
                run_id,
                f"is listed after run {previous[0]} but was stored before it (audit event "
                f"{event_seq}, not after {previous[1]}): the runs were reordered",
            )
        if isinstance(event_seq, int):
            previous = (run_id, event_seq)
        erasing = redactions.pop(run_id, None)
        if erasing and not _sealed_text(record_text):
            problem(
                run_id,
                f"is named by store.redaction event(s) {erasing} but was stored unsealed: "
                "nothing of it can have been erased (the events were written outside "
                "sktraceprop)",
            )
        if event is None:
            problem(
                run_id,
                "is not in the hash chain: inserted outside sktraceprop, or its event was removed",
            )
        elif event[1].get("digest") != digest:
            problem(
                run_id,
                "was altered after it was stored: its record or row ids no longer match the "
                f"digest in audit event {event[0]}",
            )
        elif event_seq != event[0]:
            problem(run_id, f"points at audit event {event_seq}; its event is {event[0]}")
    for run_id, (seq, _) in run_events.items():
        problem(run_id, f"was deleted: audit event {seq} records it, the store no longer holds it")
    _check_leaf_runs(store, {run_id for run_id, _, _ in listed}, run_events, problem)
    for run_id, seqs in redactions.items():
        if run_id not in run_events:  # (a deleted run is named above)
            problem(
                run_id, f"is named by store.redaction event(s) {seqs}, but no such run is stored"
            )


def _sealed_text(record_text):
    try:
        return is_sealed(loads_stored(record_text))
    except (TypeError, ValueError):
        return True  # unreadable: loading the run names it


def _check_leaf_runs(store, stored, deleted, problem):
    """Name the values held for runs the store does not hold: a run's values are only
    read with its record, so a value put in the table of leaves under another run id
    (an erased one written back so) would be kept unseen by every other check."""
    try:
        held = store._raw_leaf_runs()
    except NOT_DAMAGE:
        raise
    except StoreError as exc:
        problem(None, f"the table of run values is unreadable: {exc}")
        return
    for run_id in sorted(held, key=repr):
        if run_id in stored or run_id in deleted:  # (a deleted run is named already)
            continue
        problem(
            run_id,
            f"has {held[run_id]} value(s) in the table of run values (run_leaves), but no "
            "such run is stored: they were written outside sktraceprop (a value erased "
            "from a run, put back under another run id, would be kept so)",
        )
