"""The whole-store integrity check behind ``verify()`` and ``check()``."""

from .. import signing
from ..exceptions import StoreError
from . import _checkpoint
from ._append import set_back
from ._chain import (
    GENESIS,
    RESERVED_PREFIX,
    RUN_EVENT,
    SOURCE_EVENT,
    event_row_problem,
    loads_stored,
    stored_event_hash,
)
from ._load_run import decode_source, read_run
from ._prediction_erasures import State
from ._prediction_salts import INPUT_KINDS, PREDICTION_ERASURE_EVENT, check_salts
from ._sealed import REDACTION_EVENT, is_sealed


def audit(store, public_key=None, checkpoint=None, allow_unsigned_tail=False):
    """``(report, problems)`` of a store; see :meth:`BaseStore.check_integrity`."""
    external = _checkpoint.read_checkpoints(checkpoint)
    if external and public_key is None:
        raise ValueError(
            "checkpoint= needs public_key=: a checkpoint kept elsewhere is only evidence "
            "once its signature is checked"
        )
    key = fingerprint = None
    if public_key is not None:
        key = signing.load_public_key(public_key)
        fingerprint = signing.fingerprint(key)
    problems = []
    report = {
        "runs": 0,
        "sources": 0,
        "events": 0,
        "checkpoints": 0,
        "chain_head": GENESIS,
        "last_seq": 0,
        "signed_through": None,
        "key_fingerprint": fingerprint,
        "times_set_back": [],
    }
    with store._snapshot():
        stored = _stored_checkpoints(store, problems)
        wanted = set()
        for cp in (*stored, *external):
            try:
                wanted.add(int(cp["event_seq"]))
            except (KeyError, TypeError, ValueError):
                continue
        salts = State()
        heads, run_events, source_events, redactions = _check_chain(
            store, wanted, problems, report, salts
        )
        cache = _check_sources(store, source_events, problems, report)
        _check_runs(store, run_events, cache, problems, report, redactions)
        check_salts(store, salts, problems)
    _check_checkpoints(
        store, stored, external, heads, key, fingerprint, allow_unsigned_tail, problems, report
    )
    report["not_shown"] = not_shown(key is not None, external) + [FORK]
    report["erased_bytes_left"] = store._erasure_left()
    return report, problems


#: What no check of one store can show: a copy of it written apart (see :func:`not_shown`).
FORK = (
    "a copy of this store written apart from it (a fork) is not shown: a copied file or "
    "schema keeps the store_id, and each copy checks out alone; only a checkpoint kept "
    "outside the store, signed on the copy relied on after the copies diverged, shows "
    "that another holds different events (checkpoint=)"
)


def not_shown(keyed, external):
    """What a check with (``keyed``) or without a public key, and with the checkpoints
    kept elsewhere ``external``, cannot show, in words (one sentence each).

    A log that is valid on its own can have lost its end: events cut together with the
    stored checkpoints that signed them (an older copy of the file put back) leave a
    shorter, consistent log; and without the key, a chain re-computed after an edit,
    its checkpoints removed or re-signed by another key, is consistent too. Only a
    signature checked with the owner's key, and a checkpoint kept outside the store,
    tell such a log from the one that was written.
    """
    if not keyed:
        return [
            "signatures not checked (no public key given): events cut from the end of the "
            "log, with the stored checkpoints that signed them (an older copy of the store "
            "put back), are not shown",
            "signatures not checked (no public key given): a chain re-computed after an "
            "edit, its stored checkpoints removed or signed again by another key, is not "
            "shown",
        ]
    seqs = [int(cp["event_seq"]) for cp in external]
    if not seqs:
        return [
            "events cut from the end of the log together with the stored checkpoints that "
            "signed them (an older copy of the store put back, or another store signed by "
            "the same key) are not shown: only a checkpoint kept outside the store shows "
            "them (checkpoint=)"
        ]
    return [
        f"events after event {max(seqs)} (the latest checkpoint kept elsewhere), cut from "
        "the end of the log together with the stored checkpoints that signed them, are not "
        "shown: only a later checkpoint kept outside the store shows them"
    ]


def _stored_checkpoints(store, problems):
    out = []
    for n, text in enumerate(store._raw_checkpoints(), 1):
        try:
            cp = loads_stored(text)
            if not isinstance(cp, dict):  # (a text would be read as a file's path)
                raise ValueError(f"it holds a JSON {type(cp).__name__}, not an object")
            _checkpoint.read_checkpoints(cp)
        except (TypeError, ValueError) as exc:
            problems.append(
                {"check": "checkpoints", "checkpoint": n, "message": f"is not readable: {exc}"}
            )
            continue
        if cp.get("checkpoint") != n:
            # numbered 1, 2, ... as they are made: a gap is a checkpoint removed
            problems.append(
                {
                    "check": "checkpoints",
                    "checkpoint": n,
                    "message": f"is numbered {cp.get('checkpoint')!r} but is the store's "
                    f"checkpoint {n}: checkpoints were removed or reordered",
                }
            )
        out.append(cp)
    return out


def _check_chain(store, wanted, problems, report, salts=None):
    """Walk every event: links, hashes, numbering; collect the store's own events, and
    into ``salts`` (a :class:`._prediction_erasures.State`) the salted prediction events
    and the erasures of calls."""
    salts = State() if salts is None else salts
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
            if seq in wanted:
                heads[seq] = stored
            prev_hash, prev_seq = stored, seq
    except StoreError as exc:
        where = "from the start" if not prev_seq else f"after event {prev_seq}"
        problems.append({"check": "hash_chain", "message": f"events unreadable {where}: {exc}"})
    report["chain_head"], report["last_seq"] = prev_hash, prev_seq
    return heads, run_events, source_events, redactions


def _check_sources(store, source_events, problems, report):
    cache = {}

    def problem(source_id, message):
        problems.append({"check": "sources", "source_id": source_id, "message": message})

    try:
        rows = list(store._raw_sources())
    except StoreError as exc:
        problems.append({"check": "sources", "message": f"sources unreadable: {exc}"})
        rows = []
    for source_id, sha256, *row in rows:
        report["sources"] += 1
        name = f"(sha256 {str(sha256)[:12]}...)"
        try:
            decoded = decode_source(store, source_id, sha256, *row)
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
    except StoreError as exc:
        problems.append({"check": "runs", "message": f"runs unreadable: {exc}"})
        listed = []
    previous = None
    for run_id, record_text, created_at in listed:
        report["runs"] += 1
        event = run_events.pop(run_id, None)
        try:
            lineage, digest, event_seq, _ = read_run(store, run_id, cache=cache)
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


def _check_checkpoints(
    store, stored, external, heads, key, fingerprint, allow_unsigned_tail, problems, report
):
    last_seq = report["last_seq"]
    signed = []
    labelled = [(f"{cp.get('checkpoint')}", cp) for cp in stored]
    labelled += [(f"{cp.get('checkpoint')} (kept elsewhere)", cp) for cp in external]
    for label, cp in labelled:
        report["checkpoints"] += 1

        def problem(message, label=label, signature=False):
            problems.append(
                {"check": "checkpoints", "checkpoint": label, "message": message}
                | ({"signature": True} if signature else {})
            )

        if cp.get("store_id") != store.store_id:
            own = store.store_id or "none: this store's metadata holds no store_id"
            problem(f"was made for another store ({cp.get('store_id')}, not {own})")
            continue
        seq = int(cp["event_seq"])
        matched = False
        if seq > last_seq:
            problem(
                f"signs event {seq}, but the log ends at event {last_seq}: events were "
                "removed from its end"
            )
        elif heads.get(seq) != cp["chain_head"]:
            held = heads.get(seq)
            problem(
                f"signs hash {str(cp['chain_head'])[:16]}... for event {seq}; the log holds "
                f"{str(held)[:16]}... there: the chain was re-computed or altered"
            )
        else:
            matched = True
        if key is not None:
            why = _checkpoint.signature_problem(cp, key, fingerprint)
            if why is not None:
                problem(why, signature=True)
            elif matched:
                signed.append(seq)
    if key is None:
        return
    report["signed_through"] = max(signed) if signed else None
    if allow_unsigned_tail:
        return
    if not signed:
        others = sorted(
            {str(cp.get("key_fingerprint"))[:16] for cp in stored} - {fingerprint[:16]}
        )
        held = (
            f"its stored checkpoints are signed by other key(s) ({', '.join(others)}...)"
            if others
            else "it holds no checkpoint signed by it"
        )
        problems.append(
            {
                "check": "checkpoints",
                "message": f"no checkpoint signed by key {fingerprint[:16]}... covers this "
                f"store: none of its {last_seq} event(s) is signed by this key ({held}). "
                "Either it was never signed with this key "
                "(or the first checkpoint() was interrupted, by a crash or a kill, before "
                "it was stored), or this is not the key that signs this store. If the "
                "events are your own writes, sign them with store.checkpoint(private_key)",
                "signature": True,
            }
        )
    elif max(signed) < last_seq:
        first = max(signed) + 1
        span = f"{first}" if first == last_seq else f"{first}..{last_seq}"
        latest = max(
            (cp for cp in (*stored, *external) if int(cp["event_seq"]) == max(signed)),
            key=lambda cp: str(cp.get("created_at")),
        )
        problems.append(
            {
                "check": "checkpoints",
                "message": f"event(s) {span} are not covered by a checkpoint signed by this "
                f"key: they come after the last one (made {latest['created_at']}, it signs "
                f"the log through event {max(signed)}). Nothing signed tells whether they "
                "are genuine: written since and not signed yet (a writer that signs now "
                "and then, or one stopped by a crash or a kill between writing and "
                "signing), or appended by someone without the key. Review them "
                f"(store.events(), from seq {first}); if they are your own writes, sign "
                "them with store.checkpoint(private_key), or check only what is signed "
                "with allow_unsigned_tail=True (sktraceprop check --allow-unsigned-tail)",
                "signature": True,
            }
        )
