"""What a SQLite error means for a store, as the exception a user reads: what happened,
what was (not) stored, and what to do."""

import sqlite3
from pathlib import Path

from ..exceptions import (
    CorruptStoreError,
    StoreBusyError,
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
)

# A damaged schema makes SQLite's error message hold bytes that are not UTF-8: Python
# then raises UnicodeDecodeError where sqlite3 would have raised DatabaseError.
SQLITE_ERRORS = (sqlite3.Error, UnicodeDecodeError)


def translate(path, timeout, exc):
    """The store exception for ``exc`` (a :mod:`sqlite3` error, or the
    ``UnicodeDecodeError`` a damaged schema's message raises) on the store file at
    ``path``, opened with ``timeout``: a :class:`~sktraceprop.exceptions.CorruptStoreError`
    where the file is damaged (or not a SQLite database)."""
    if isinstance(exc, UnicodeDecodeError):
        return CorruptStoreError(
            f"{path} is corrupt (SQLite reported damage in a message that is not "
            f"UTF-8 text: {exc}); it was not modified."
        )
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    lower = text.lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in lower:
        # SQLite does not say who holds the lock: a writer, a reader or a transaction
        # left open, in this process or another; nor whether it waited (it gives up at
        # once where waiting cannot help, as on a stale WAL snapshot)
        return StoreBusyError(
            f"{path} is busy: another connection to it (a writer, or a reader or "
            "transaction holding a lock, in this process or another) kept this call from "
            f"its lock; SQLite gave up after waiting up to timeout={timeout} s ({text}; "
            f"{name or 'SQLITE_BUSY'}). Nothing was written. Retry, or open the store "
            "with a longer timeout=."
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in lower or "read-only" in lower:
        return StorePermissionError(
            f"{path} cannot be written: the file or its folder is read-only ({text}). "
            "Nothing was written. Open it with SQLiteStore(path, mode='ro') to read or "
            "audit it, or make the file and its folder writable."
        )
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or (
        "unable to open" in lower
    ):
        path = Path(path)
        if not path.parent.exists():
            return StoreNotFoundError(f"folder {path.parent} does not exist ({text})")
        return StorePermissionError(
            f"{path} cannot be opened ({text}): no permission on the file or its "
            "folder (SQLite also needs to create -wal and -shm files next to it). Fix "
            "the permissions, or open it with mode='ro' to read it."
        )
    if name.startswith("SQLITE_FULL") or "disk is full" in lower:
        return StoreError(
            f"{path}: the disk is full ({text}). Nothing of this call was stored; "
            "what the store held is unchanged. Free space, then retry."
        )
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in lower:
        # A write past a size limit (a quota, ulimit -f) fails with EFBIG, which SQLite
        # reports as an I/O error, not as a full disk.
        return StoreError(
            f"{path}: the operating system refused to read or write the file "
            f"({text}, {name or 'SQLITE_IOERR'}): the disk may be full, the file may be "
            "at a size limit (a quota, ulimit -f), or the device failed. Nothing of this "
            "call was stored; what the store held is unchanged. Free space (or raise the "
            "limit), then retry."
        )
    if name.startswith("SQLITE_NOTADB") or "file is not a database" in lower:
        return CorruptStoreError(
            f"{path} is not a SQLite database (corrupt or another file type: "
            f"{text}); it was not modified."
        )
    if (
        name.startswith("SQLITE_CORRUPT")
        or (
            isinstance(exc, sqlite3.DatabaseError)
            and not isinstance(exc, sqlite3.OperationalError)
        )
        # sktraceprop writes UTF-8 text only (the sqlite3 module's message)
        or "could not decode to utf-8" in lower
    ):
        return CorruptStoreError(f"{path} is corrupt ({text}); it was not modified.")
    return StoreError(f"{path}: {text}")
