"""The audit event that records a store's schema upgrade in its hash chain.

The ``schema_version`` table keeps the time each version was applied, outside the chain
(an edit there is not detected); the event says, under the chain, when the store was
upgraded, from which version to which, and by which sktraceprop. It is appended in the
upgrade's own transaction, so a store is never upgraded without it (nor it without the
upgrade). Stores upgraded before this event existed have none: their ``schema_version``
rows are all that says when.
"""

import json

from .._version import __version__
from ..exceptions import CorruptStoreError
from ._append import _Chain

UPGRADE_EVENT = "store.upgrade"

#: What each upgrade adds, by the version it upgrades to.
_CHANGES = {
    4: "prediction_salts table: calls logged from now on are salted",
    5: "events_kind index: events of some kinds are found without reading the whole log",
}


def upgraded_here(opened, now):
    """Whether a store opened at schema version ``opened`` and found at ``now`` (the
    texts of ``stp_meta``) was upgraded by this sktraceprop (3 -> 4 or 5, 4 -> 5): a
    handle reads on at the newer version, which it knows."""
    return (opened, now) in (("3", "4"), ("3", "5"), ("4", "5"))


def not_upgraded(store):
    """What a store left at its schema version (3 or 4) lacks, in words (one sentence)."""
    if store.schema_version == 3:
        return (
            "the calls its models log are not salted (the SHA-256 of their input rows "
            "stays in the chain, and erase_predictions cannot make them unfindable), and "
            "its events are found by kind by reading the whole log (slower, never "
            "different)."
        )
    return (
        "its events are found by kind by reading the whole log (no index on their kind): "
        "slower, never different."
    )


def recorded_upgrade(seq, payload):
    """``(seq, from_version, to_version)`` of a :data:`UPGRADE_EVENT` whose payload
    text is ``payload``; None where it records no version (an edited event, which the
    chain check names)."""
    try:
        payload = json.loads(payload)
        return int(seq), int(payload["from_version"]), int(payload["to_version"])
    except (TypeError, ValueError, KeyError):
        return None


def record_upgrade(store, writer, before, after):
    """Append a :data:`UPGRADE_EVENT` through ``writer`` (what a store's write
    transaction yields) inside the upgrade's transaction; return the event.

    Refused (:class:`~sktraceprop.exceptions.CorruptStoreError` naming the event, the
    transaction rolled back, the handle then refusing writes) where the chain already
    records an upgrade to ``after``: one upgrade writes one, so the store's version was
    set back outside sktraceprop, and a second event would make its history say it was
    upgraded twice.
    """
    earlier = [
        found[0]
        for found in (recorded_upgrade(s, p) for s, p in writer.events_of_kind(UPGRADE_EVENT))
        if found is not None and found[2] == int(after)
    ]
    if earlier:
        message = (
            f"its store.upgrade event {earlier[0]} already records an upgrade to schema "
            f"version {after}, yet it has version {before}: its version was set back (or "
            "its schema_version row deleted) outside sktraceprop, so its upgrade history "
            "is inconsistent"
        )
        store._refuse_writes(message)
        store._upgrade_refusal = message  # what repair_upgrade() mends
        raise CorruptStoreError(
            f"{store!r}: {message}. It was not upgraded again (a second event would say "
            "it was upgraded twice) and was not modified; check() names the inconsistency. "
            "To bring it back to the version its chain records, losing nothing, call "
            "repair_upgrade() on a writable handle (it records a store.repair event); "
            "that handle then writes"
        )
    chain = _Chain(store, writer)
    event = chain.append(
        UPGRADE_EVENT,
        {
            "from_version": int(before),
            "to_version": int(after),
            "by": f"sktraceprop {__version__}",
            "changes": _CHANGES.get(int(after), ""),
        },
    )
    chain.confirm()
    return event
