"""The audit event that records a store's schema upgrade in its hash chain.

The ``schema_version`` table keeps the time each version was applied, outside the chain
(an edit there is not detected); the event says, under the chain, when the store was
upgraded, from which version to which, and by which sktraceprop. It is appended in the
upgrade's own transaction, so a store is never upgraded without it (nor it without the
upgrade). Stores upgraded before this event existed have none: their ``schema_version``
rows are all that says when.
"""

from .._version import __version__
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
            "stays in the chain, and erase_predictions cannot make them unfindable)."
        )
    return (
        "its events are found by kind by reading the whole log (no index on their kind): "
        "slower, never different."
    )


def record_upgrade(store, writer, before, after):
    """Append a :data:`UPGRADE_EVENT` through ``writer`` (what a store's write
    transaction yields) inside the upgrade's transaction; return the event."""
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
