"""The checkpoints checked by the whole-store audit (:mod:`._audit`): the stored ones
read and numbered, and each (kept elsewhere too) against the chain head it signs and,
with a key, its signature; how far the log is signed."""

from .._exact_time import iso_ns
from . import _checkpoint
from ._chain import loads_stored


def _made_at(cp):
    """A checkpoint's ``created_at`` as an instant, for ordering: its text sorts wrongly
    where offsets (``Z``, ``+02:00``) or fractional digits differ. A time that names no
    instant (no offset, not a time) comes before every one that does."""
    try:
        return (1, iso_ns(str(cp.get("created_at"))))
    except ValueError:
        return (0, 0)


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


def _where_removed(store, labelled, heads, last_seq, key, fingerprint):
    """Where the evidence places events removed from a log shorter than a checkpoint
    signs, in words. The count alone cannot tell: a log cut at its end and one whose
    first events were deleted and the chain re-computed (seqs renumbered from 1) both
    end before the signed event. A checkpoint of an event the log still holds tells:
    its head held there means the log through it is intact (removed after it), another
    means the chain was re-computed or altered through it (not from the end alone).
    Only checkpoints of this store count, and, with a key, only those it signs."""
    matched, differs = [], []
    for _, cp in labelled:
        seq = int(cp["event_seq"])
        if cp.get("store_id") != store.store_id or seq > last_seq:
            continue
        if key is not None and _checkpoint.signature_problem(cp, key, fingerprint):
            continue
        (matched if heads.get(seq) == cp["chain_head"] else differs).append(seq)
    if differs:
        return (
            f"the log through event {min(differs)} differs from a checkpoint of it, so it "
            "was not cut at its end alone: events were removed from its start or middle "
            "with the chain re-computed (or edited there, as well as removed)"
        )
    if matched:
        return (
            f"the log through event {max(matched)} matches a checkpoint of it, so they "
            f"were removed after event {max(matched)}: from its end, or from after that "
            "event with the chain re-computed"
        )
    return (
        "no checkpoint signs an event the log still holds, so the evidence does not show "
        "whether they were removed from its start (the chain re-computed), its middle, or "
        "its end"
    )


def _how_many(seq, last_seq):
    """What a checkpoint of event ``seq`` proves of how many events a log ending at
    ``last_seq`` lost: a lower bound, and why no more can be said. It signed a log of
    ``seq`` events; the log holds ``last_seq``. Events written after the one it signs
    are under no checkpoint of it, and events removed, then replaced by as many appended
    later (the chain re-computed), leave the count unchanged."""
    return (
        f"the checkpoint shows the log held {seq} event(s) when it was signed and it "
        f"holds {last_seq} now, so at least {seq - last_seq} event(s) were removed; how "
        f"many more (events written after event {seq}, which it does not sign, or events "
        "replaced by others appended with the chain re-computed) no checkpoint shows"
    )


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
            where = _where_removed(store, labelled, heads, last_seq, key, fingerprint)
            problem(
                f"signs event {seq}, but the log ends at event {last_seq}: "
                f"{_how_many(seq, last_seq)}; {where}"
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
            key=_made_at,
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
