"""Salted prediction events: a logged call's input rows, findable until they are erased.

A ``"prediction"`` event of a store of schema version 4 (every :class:`MemoryStore`)
does not hold the SHA-256 of its input rows (:func:`~sktraceprop.compliance.hash_rows`),
which anyone holding a person's row could recompute to find the call that scored it
alone, forever, since the chain cannot be edited. It holds instead a commitment to that
digest under a random 128-bit salt drawn for the call (``os.urandom``):
``input_commitment = SHA-256("sktraceprop-input-1\\n" + salt + "\\n" + input SHA-256)``,
and ``salt_sha256 = SHA-256("sktraceprop-salt-1\\n" + salt)``. The salt is kept beside
the chain (table ``prediction_salts``, keyed by the event's ``seq``), so that
:func:`~sktraceprop.compliance.find_predictions` finds the call by recomputing the
commitment with it. Erasing the call (:meth:`BaseStore.erase_predictions`) deletes the
salt and appends a ``store.prediction_erasure`` event giving why (and committing to the
calls erased without naming them: :mod:`._prediction_erasures`): the commitment can
then not be tested against candidate rows (the salt cannot be guessed, nor recovered
from ``salt_sha256``). An ``"explanation"`` event
(``InfluenceExplainer.explain(..., log=True)``) commits to the rows it explained the same
way, and is erased with the calls that scored them.

What ``verify()`` checks of it: every salt held belongs to a salted prediction event and
hashes to its ``salt_sha256`` (a replaced salt, which would hide the call from
``find_predictions``, is found); the salted events without their salt are the calls
the last ``store.prediction_erasure`` event committed to (a salt deleted, or an erased
one put back, outside sktraceprop is found). It cannot check that a commitment is the input's: that
needs the input rows. The keyed per-row digests of a call
(:mod:`sktraceprop._row_digests`) are kept in the same text as its salt, which
``salt_sha256`` covers whole: a digest replaced, added or removed is found as a replaced
salt is, and erased with it. Events logged before salting (their payload holds
``input_sha256``) are read and verified as before; they are *unsalted*.
"""

import hashlib
import json
import os
import warnings
from array import array

import numpy as np

from ..utils._stack import user_stacklevel
from ._not_damage import NOT_DAMAGE

#: The audit event that erases logged calls' salts (the store's own kind).
PREDICTION_ERASURE_EVENT = "store.prediction_erasure"
#: Event kinds whose input rows are logged: salted where the store keeps salts (schema
#: version 4, every MemoryStore), else with the plain SHA-256 of the rows.
INPUT_KINDS = ("prediction", "explanation")


def new_salt():
    """A fresh salt: 128 random bits, as 32 hex digits."""
    return os.urandom(16).hex()


def salt_sha256(salt):
    """What the chain holds of a salt: its SHA-256 (hex), which does not reveal it."""
    return hashlib.sha256(f"sktraceprop-salt-1\n{salt}".encode()).hexdigest()


def input_commitment(salt, input_sha256):
    """The commitment to an input digest under a salt (hex)."""
    return hashlib.sha256(f"sktraceprop-input-1\n{salt}\n{input_sha256}".encode()).hexdigest()


class SaltHashes:
    """A salt text with the SHA-256 passes over it taken once, ahead (on the hashing
    thread, while the model predicts: the text holds a call's row digests, some
    hundreds of kilobytes): its :func:`salt_sha256`, and the state of
    :func:`input_commitment` before the input digest, which :meth:`commitment` ends."""

    __slots__ = ("_input", "salt_sha256", "text")

    def __init__(self, text):
        data = text.encode()
        self.text = text
        # the bytes salt_sha256 and input_commitment hash (the latter up to the input
        # digest), fed piece by piece: no copy of the text (hundreds of kilobytes) per prefix
        h = hashlib.sha256(b"sktraceprop-salt-1\n")
        h.update(data)
        self.salt_sha256 = h.hexdigest()
        self._input = hashlib.sha256(b"sktraceprop-input-1\n")
        self._input.update(data)
        self._input.update(b"\n")

    def commitment(self, input_sha256):
        """:func:`input_commitment` of ``input_sha256`` under this salt."""
        h = self._input.copy()
        h.update(input_sha256.encode())
        return h.hexdigest()


def salt_payload(payload, input_sha256, salt):
    """Put the salted commitment to ``input_sha256`` into a prediction or explanation
    event's payload; ``salt``, its text or :class:`SaltHashes` of it."""
    if isinstance(salt, SaltHashes):
        payload["input_commitment"] = salt.commitment(input_sha256)
        payload["salt_sha256"] = salt.salt_sha256
        return payload
    payload["input_commitment"] = input_commitment(salt, input_sha256)
    payload["salt_sha256"] = salt_sha256(salt)
    return payload


def is_unsalted(kind, payload):
    """Whether an event holds the plain SHA-256 of its input rows (anyone with the rows
    can find it)."""
    return kind in INPUT_KINDS and isinstance(payload, dict) and "input_sha256" in payload


def matching(events, salts, digests):
    """``[(event, note)]`` of ``events`` (prediction events, payloads decoded) whose input
    was one of ``digests`` (``{input SHA-256: note}``); ``salts``: ``{seq: salt}`` held.

    An unsalted event is compared directly; a salted one through its salt (one SHA-256
    per digest: the rows are hashed once, whatever the number of calls); a salted event
    whose salt is gone (erased) matches nothing.
    """
    out = []
    for event in events:
        payload = event["payload"]
        if not isinstance(payload, dict):
            continue
        if "input_commitment" in payload:
            salt = salts.get(event["seq"])
            if salt is None:
                continue
            wanted = payload["input_commitment"]
            for digest, note in digests.items():
                if input_commitment(salt, digest) == wanted:
                    out.append((event, note))
                    break
        elif payload.get("input_sha256") in digests:
            out.append((event, digests[payload["input_sha256"]]))
    return out


class HeldSalts:
    """The seqs whose salt is held (sorted int64) and the salts of some of them
    (``kept``): what a check of the erasures asks of every salt held (``seq in held``,
    ``held.get(seq)``), without a dict of every salt."""

    def __init__(self, seqs, kept=None):
        self.seqs, self.kept = seqs, kept or {}

    def __contains__(self, seq):
        i = int(np.searchsorted(self.seqs, seq))
        return i < len(self.seqs) and int(self.seqs[i]) == seq

    def get(self, seq, default=None):
        return self.kept.get(seq, default)


def check_salts(store, state, problems):
    """Add to ``problems`` what is wrong with the salts held beside the chain.

    ``state``: what the chain says of salted calls and their erasures
    (:class:`._prediction_erasures.State`).
    """
    from ._prediction_erasures import erasure_keys
    from ._prediction_erasures import problems as erasure_problems

    def problem(seq, message):
        problems.append({"check": "prediction_salts", "seq": seq, "message": message})

    salted, named, keys = state.salted, state.named, erasure_keys(state)
    # one salt at a time, by seq: the seqs held kept as int64 (8 bytes each) and the
    # salts of erasure keys alone, not a dict of every salt (it grew with the log)
    seqs, kept = array("q"), {}
    try:
        for seq, salt in store._raw_prediction_salt_rows():
            seqs.append(seq)
            if seq in keys:
                kept[seq] = salt
            if (seq in salted and salted[seq] is None) or seq in keys:
                continue  # (an unreadable event: the chain check names it; a key: below)
            if seq not in salted:
                problem(
                    seq,
                    "has a salt stored, but is no salted prediction or explanation event: added "
                    "outside sktraceprop",
                )
            elif seq in named:
                problem(
                    seq,
                    f"has its salt stored again after erasure event {named[seq]} erased it",
                )
            elif not isinstance(salt, str) or salt_sha256(salt) != salted[seq]:
                problem(
                    seq,
                    "has a salt (or per-row digests kept with it) that does not match the "
                    "salt_sha256 its event holds (replaced, added or removed outside "
                    "sktraceprop: find_predictions would not find the call, or would find it "
                    "from another person's row)",
                )
    except NOT_DAMAGE:
        raise
    except Exception as exc:  # noqa: BLE001 (any read error is a finding, named)
        problems.append({"check": "prediction_salts", "message": f"unreadable: {exc}"})
        return
    held = HeldSalts(np.frombuffer(seqs, dtype=np.int64), kept)
    for seq, message in erasure_problems(state, held):
        problem(seq, message)


def unsalted_inputs(store):
    """``{kind: count}`` of the events holding the plain SHA-256 of their input rows."""
    counts = {}
    with store._snapshot():
        for row in store._raw_events():
            kind = row[3]
            if kind in INPUT_KINDS and '"input_sha256"' in str(row[4]):
                try:
                    payload = json.loads(row[4])
                except ValueError:
                    continue  # (an altered event: verify() names it)
                if is_unsalted(kind, payload):
                    counts[kind] = counts.get(kind, 0) + 1
    return counts


def warn_unsalted_inputs(store):
    """Warn, once, where the store holds events with the plain SHA-256 of their input
    rows: an erasure reaches none of them, and the store cannot tell whether the rows
    erased were scored or explained."""
    counts = unsalted_inputs(store)
    if not counts:
        return
    said = " and ".join(
        f"{n} {'prediction' if kind == 'prediction' else 'explanation'} event(s)"
        + f" logged before {kind} events were salted"
        for kind, n in sorted(counts.items(), key=lambda item: item[0] != "prediction")
    )
    warnings.warn(
        f"{store!r} holds {said}, each with the plain SHA-256 of its input rows under "
        "the hash chain, which no erasure reaches: whoever holds a person's rows can hash "
        "them and find a call that scored (or explained) them alone, or in a batch they "
        "hold whole. The store keeps no rows, so it cannot tell whether the rows erased "
        "were among them.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def input_was(store, event, input_sha256):
    """Whether a logged event (as ``store.events()`` returns it) was given rows whose
    :func:`~sktraceprop.compliance.hash_rows` is ``input_sha256``: through its salt,
    or its plain digest where unsalted (False for a call erased)."""
    return bool(matching([event], store._raw_prediction_salts(), {input_sha256: None}))
