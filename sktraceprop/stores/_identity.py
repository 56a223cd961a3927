"""A handle whose store is gone or was replaced: the error every read and write raises.

A store handle names one store, its ``store_id``. A PostgreSQL schema can be dropped
and created again by another client, a SQLite file removed and created again (or
another copy moved to its path) while a handle is open: the handle would then read
and write another store under its own name (its runs listed, a ``verify()`` that
passes, events appended to that store). So every read, write and check of
:class:`SQLiteStore` and :class:`PostgresStore` first looks whether the store it
opened is still there, and otherwise raises one of these errors before reading or
writing anything. What either store held is left as it is.
"""

from ..exceptions import StoreError, StoreNotFoundError


def store_gone(store, what, advice):
    """The error for a store that is no longer where ``store`` opened it.

    ``what`` says what was found (``"schema 'x' no longer exists"``), ``advice`` how to
    open the store again.
    """
    return StoreNotFoundError(
        f"{store!r}: the store this handle was opened on (store_id {store.store_id}) is "
        f"gone: {what}. Nothing was read or written. {advice}"
    )


def store_replaced(store, what, now, advice):
    """The error for another store (or none) found where ``store`` opened its own.

    ``now`` is the store metadata found there (a dict with ``store_id`` and
    ``created_at``), or None where what is there is no sktraceprop store.
    """
    if now is None:
        found = "what is there now is not a sktraceprop store"
    elif not now.get("store_id"):
        found = (
            "what is there now has no store_id in its metadata (altered outside "
            "sktraceprop, or not a sktraceprop store)"
        )
    elif now.get("store_id") == store.store_id:
        found = (
            "what is there now is another copy of this store (the same store_id: restored "
            "from a backup or copied there), not the one this handle has open"
        )
    else:
        found = (
            f"it now holds another store (store_id {now.get('store_id')}, created at "
            f"{now.get('created_at')})"
        )
    error = StoreError(
        f"{store!r}: the store this handle was opened on (store_id {store.store_id}) was "
        f"replaced: {what}; {found}. Nothing was read or written. {advice}"
    )
    # (its records cannot be read: sktraceprop._erasures_unreachable says so)
    error.store_replaced = True
    return error


def store_upgraded(store, opened, now):
    """The error for a store whose schema version changed (from ``opened`` to ``now``)
    since ``store`` opened it: rows read or written as version ``opened`` describes them
    could be wrong there."""
    return StoreError(
        f"{store!r} now has schema version {now}; this handle opened version {opened}: it "
        "was upgraded since (by a newer sktraceprop?). Nothing was read or written. Open it "
        "again (a newer version needs a newer sktraceprop)."
    )
