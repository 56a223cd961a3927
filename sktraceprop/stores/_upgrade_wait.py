"""One wait for a write's lock, an upgrade's included.

A writable handle's first write to a store of schema version 3 or 4 upgrades it first,
in a transaction of its own that waits for the store's write lock up to ``timeout``.
Where another connection holds that lock past it, the upgrade gives up (a warning says
the store stays at its version) and the write then waited for the same lock again, up
to ``timeout`` more: a call to a busy store with ``timeout=1.0`` returned after 2.02 s
(SQLite). The upgrade's wait now counts against the write's: the write waits only for
what is left of ``timeout``, and its error says what the call waited for, and how long.
"""

import time

from ..exceptions import StoreBusyError

__all__ = ["busy_after_upgrade", "timed_upgrade", "wait_left"]


def timed_upgrade(store, upgrade):
    """Run ``upgrade`` (the store's upgrade before a write); where the store is still
    below the newest version after it, keep the seconds it waited for the write about
    to begin (this thread's)."""
    started = time.monotonic()
    upgrade()
    if getattr(store, "schema_version", 5) in (3, 4):
        store._local.upgrade_waited = time.monotonic() - started


def wait_left(store):
    """``(waited, left)``: the seconds a failed upgrade just waited before this write
    (taken: a later write waits in full) and the seconds the write may still wait;
    ``(None, None)`` where no upgrade waited."""
    waited = getattr(store._local, "upgrade_waited", None)
    if waited is None:
        return None, None
    del store._local.upgrade_waited
    return waited, max(0.0, store.timeout - waited)


def busy_after_upgrade(store, error, waited):
    """``error`` (the write's, translated), saying, where it is busy and an upgrade
    waited first, that the call waited for the write lock twice within ``timeout``."""
    if waited is None or not isinstance(error, StoreBusyError):
        return error
    which = (
        "the sessions the server listed above, after the second wait"
        if getattr(error, "holders", None)
        else "the database does not say which"
    )
    busy = StoreBusyError(
        f"{error} This call waited {waited:.2f} s of timeout={store.timeout} s for the "
        "store's write lock to upgrade its schema first (not upgraded: see the warning), "
        f"and {max(0.0, store.timeout - waited):.2f} s more for the write: in all, at "
        f"most timeout. Another connection held the lock through both waits ({which})."
    )
    busy.holders = getattr(error, "holders", None)
    return busy
