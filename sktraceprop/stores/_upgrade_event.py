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
_CHANGES = {4: "prediction_salts table: calls logged from now on are salted"}


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
