"""The whole-store integrity check behind ``verify()`` and ``check()``."""

from .. import signing
from . import _checkpoint
from ._audit_chain import _check_chain
from ._audit_checkpoints import _check_checkpoints, _stored_checkpoints
from ._audit_records import _check_runs, _check_sources
from ._chain import GENESIS
from ._prediction_erasures import State
from ._prediction_salts import check_salts
from ._upgrade_history import notes, upgrade_history
from ._wipe_marks import check_wipe_marks


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
        "notes": [],
    }
    with store._snapshot():
        stored = _stored_checkpoints(store, problems)
        wanted = set()
        for cp in (*stored, *external):
            try:
                wanted.add(int(cp["event_seq"]))
            except (KeyError, TypeError, ValueError):
                continue
        salts, wipes = State(), {}
        heads, run_events, source_events, redactions = _check_chain(
            store, wanted, problems, report, salts, wipes
        )
        cache = _check_sources(store, source_events, problems, report)
        _check_runs(store, run_events, cache, problems, report, redactions)
        check_salts(store, salts, problems)
        check_wipe_marks(store, wipes, problems)
        report["upgrades"], unrecorded, inconsistent = upgrade_history(store)
        problems += inconsistent
        report["notes"] = notes(store)
    _check_checkpoints(
        store, stored, external, heads, key, fingerprint, allow_unsigned_tail, problems, report
    )
    report["not_shown"] = not_shown(key is not None, external) + [FORK] + unrecorded
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
