"""What a ``store.prediction_erasure`` event holds of the calls it erased: no seqs.

An erasure event stays under the hash chain for ever, with the reason (an erasure
request's reference, which a register elsewhere ties to a person). Had it listed the
calls it erased, the chain would tie that reference to those calls' outputs (a score,
a label, a time) for good: the very link the erasure removes, written down by it. So it
lists none. It holds a commitment to the set of *every* call erased so far in the store
(its ``seq`` numbers), under a key of 128 random bits kept beside the chain like a salt
(table ``prediction_salts``, under the erasure event's own ``seq``):
``erased_commitment = SHA-256("sktraceprop-erased-1\\n" + key + "\\n" + seqs)`` (the seqs
ascending, comma-separated), and ``key_sha256 = SHA-256("sktraceprop-salt-1\\n" + key)``.
The next erasure deletes that key, in its own transaction: an earlier commitment can
then not be tested against candidate sets of calls (it would tell which calls one
request erased); only the last one can, which names the set every reader already sees
(the salted calls whose salt is gone).

``verify()`` recomputes the last commitment from the salted calls without their salt
(:func:`problems`): a salt deleted outside sktraceprop, or an erased one put back,
changes that set, and is found; so is a call logged after the last erasure without
its salt, and a key missing, replaced or put back. Events of the first salted releases,
which listed their calls (``"calls"``), are read as before: their calls are erased.
"""

import hashlib
import json

from ._prediction_salts import INPUT_KINDS, PREDICTION_ERASURE_EVENT, new_salt, salt_sha256
from ._salt_digests import SaltDigests

__all__ = ["erasure_payload", "problems", "read_state"]


def commitment(key, seqs):
    """The commitment to a set of erased calls' seqs under ``key`` (hex)."""
    listed = ",".join(str(s) for s in sorted(seqs))
    return hashlib.sha256(f"sktraceprop-erased-1\n{key}\n{listed}".encode()).hexdigest()


def erasure_payload(reason, erased):
    """``(payload, key)`` of an erasure event after which ``erased`` (every call erased
    in the store, this erasure's included) are the salted calls without salt."""
    key = new_salt()
    return {
        "reason": reason,
        "erased_commitment": commitment(key, erased),
        "key_sha256": salt_sha256(key),
    }, key


class State:
    """What the chain says of salted calls and their erasures (see :func:`read_state`).

    ``salted``: ``{seq: salt_sha256}`` of the salted prediction and explanation events
    (None where a payload could not be read), a :class:`._salt_digests.SaltDigests`
    (40 bytes a call); ``named``: ``{call seq: erasure seq}`` of the calls listed by
    erasure events of the first salted releases; ``erasures``: ``[(seq, payload)]`` of
    the erasure events that commit to the set, oldest first.
    """

    def __init__(self):
        self.salted, self.named, self.erasures = SaltDigests(), {}, []

    def add(self, seq, kind, payload):
        """Take one event (its payload decoded, or None where it could not be)."""
        if kind == PREDICTION_ERASURE_EVENT:
            if isinstance(payload, dict) and "calls" in payload:
                for call in payload.get("calls") or ():
                    if isinstance(call, int):
                        self.named.setdefault(call, seq)
            else:
                self.erasures.append((seq, payload))
        elif kind in INPUT_KINDS and isinstance(payload, dict) and "input_commitment" in payload:
            self.salted[seq] = payload.get("salt_sha256")
        elif kind in INPUT_KINDS and payload is None:
            self.salted[seq] = None


def read_state(store):
    """The :class:`State` of a store's events as they now read (in the caller's
    transaction, where there is one)."""
    state = State()
    for row in store._raw_events():
        seq, kind = int(row[0]), row[3]
        if kind != PREDICTION_ERASURE_EVENT and kind not in INPUT_KINDS:
            continue
        try:
            payload = json.loads(row[4])
        except (TypeError, ValueError):
            payload = None
        state.add(seq, kind, payload)
    return state


def missing(state, held):
    """The salted calls whose salt is not held (their payload read)."""
    return {s for s, digest in state.salted.items() if digest and s not in held}


def problems(state, held):
    """``[(seq or None, message)]``: what is wrong with the salts missing and the
    erasure keys held, against the erasure events (``held``: ``{seq: salt}``)."""
    out = []
    gone = missing(state, held)
    if not state.erasures:
        for seq in sorted(gone - set(state.named)):
            out.append((seq, _deleted()))
        return out
    *earlier, (last, payload) = state.erasures
    for seq, _ in earlier:
        if seq in held:
            out.append(
                (
                    seq,
                    "holds the key of an erasure event that a later erasure deleted: put "
                    "back outside sktraceprop",
                )
            )
    fields = ("erased_commitment", "key_sha256")
    if not isinstance(payload, dict) or not all(isinstance(payload.get(f), str) for f in fields):
        out.append((last, f"is a {PREDICTION_ERASURE_EVENT} event without its commitment"))
        return out
    key = held.get(last)
    if not isinstance(key, str) or salt_sha256(key) != payload["key_sha256"]:
        said = "is gone" if key is None else "does not match its key_sha256"
        out.append(
            (
                last,
                f"is the last {PREDICTION_ERASURE_EVENT} event, and its key {said} (changed "
                "outside sktraceprop): the calls it says erased cannot be told from salts "
                "deleted since",
            )
        )
        return out
    later = set(s for s, erasure in state.named.items() if erasure > last)
    after = sorted(s for s in gone - later if s > last)
    for seq in after:
        out.append((seq, _deleted()))
    covered = {s for s in gone - later if s < last}
    if commitment(key, covered) != payload["erased_commitment"]:
        listed = ", ".join(map(str, sorted(covered)[:20])) + (" ..." if len(covered) > 20 else "")
        out.append(
            (
                last,
                f"is the last {PREDICTION_ERASURE_EVENT} event, and the salted calls logged "
                f"before it without their salt ({len(covered)}: {listed or 'none'}) are not "
                "the calls the erasures committed to: a salt was deleted, or an erased "
                "one put back, outside sktraceprop",
            )
        )
    return out


def erasure_keys(state):
    """The seqs under which erasure events keep their key."""
    return {seq for seq, _ in state.erasures}


def _deleted():
    return (
        "is a salted prediction or explanation event whose salt is gone without a "
        f"{PREDICTION_ERASURE_EVENT} event erasing it: deleted outside sktraceprop"
    )
