"""Errors that the integrity checks raise as they are rather than list as problems."""

from ..exceptions import (
    StoreBusyError,
    StoreConnectionError,
    StoreNotFoundError,
    StorePermissionError,
)

#: A read refused by a lock another client holds, a lost connection, a store gone or a
#: privilege missing say nothing of what the store holds: listed as problems, they made
#: ``verify()`` raise :class:`~sktraceprop.exceptions.CorruptStoreError` ("events
#: unreadable") and the handle refuse every later write, long after the lock was gone.
NOT_DAMAGE = (StoreBusyError, StoreConnectionError, StoreNotFoundError, StorePermissionError)
