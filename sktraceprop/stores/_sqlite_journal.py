"""A rollback journal left next to a SQLite store by a write that did not finish.

A store is created in WAL mode, but its file can be switched to a rollback journal
(``PRAGMA journal_mode=DELETE``, as SQLite advises before putting a database on
read-only media). A writer killed inside a transaction then leaves ``<path>-journal``
holding the pages as they were, while the file may already hold the transaction's
uncommitted pages (SQLite writes them early when its page cache fills). SQLite rolls
such a "hot" journal back on the next read, but only through a connection that can
write: a read-only connection fails (``SQLITE_READONLY_ROLLBACK``), and an immutable one
(:meth:`SQLiteStore._open_readonly`, on read-only media) ignores the journal and reads
the uncommitted pages as if committed.
"""

import sqlite3

from ..exceptions import StorePermissionError


def hot_journal(path):
    """``<path>-journal`` where it may hold a transaction not committed (SQLite's own
    test: a file that is not empty and whose first byte is not zero; a journal SQLite
    finished with is removed, truncated or has its header zeroed), else None. A journal
    that cannot be read is taken as hot: reading past it could be wrong."""
    journal = f"{path}-journal"
    try:
        with open(journal, "rb") as file:
            first = file.read(1)
    except FileNotFoundError:
        return None
    except OSError:
        return journal
    return journal if first not in (b"", b"\0") else None


def roll_back(path, timeout):
    """Let SQLite roll a hot journal of ``path`` back, restoring what was committed: its
    first read on a connection that can write does it, under an exclusive lock (a journal
    of a transaction still running is left to its writer)."""
    con = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        con.close()


def unreadable(path, journal, mode):
    """The error for a store that cannot be read past its hot ``journal``."""
    where = (
        "this handle opened it with mode='ro', which never writes"
        if mode == "ro"
        else "the file or its folder cannot be written here"
    )
    return StorePermissionError(
        f"{path} cannot be read: {journal} holds a write transaction that did not finish "
        "(a writer killed or a machine stopped mid-write, or one still writing), so the file "
        "may hold pages that were never committed. SQLite rolls the journal back only "
        f"through a connection that can write, and {where}. Nothing was read or written. "
        "Open it once with SQLiteStore(path) where the file and its folder are writable "
        "(that rolls the journal back, restoring what was committed), then read it."
    )
