"""One write transaction on a SQLite connection: committed, or rolled back where it fails;
and the sync level that keeps a committed write on disk in the file's journal mode."""

import contextlib


def set_sync(con, full=False):
    """Set ``con``'s ``synchronous`` for the file's journal mode now, before a write
    transaction (SQLite refuses to change it inside one); return the level set.
    ``full``: ``FULL`` in any mode (a checkpoint must be on disk before it is signed).

    In WAL mode ``NORMAL`` keeps the file consistent through a power loss (the last
    commits can roll back); in a rollback-journal mode (``DELETE``, ``TRUNCATE``,
    ``PERSIST``...) only ``FULL`` does: with ``NORMAL`` a power loss at the wrong time
    can corrupt the file, committed events with it. A mode this connection reads stale
    (another connection switched the file to WAL since) reads as not WAL: ``FULL``,
    only slower; the other way round cannot happen, as SQLite does not leave WAL while
    another connection has the file open.
    """
    (mode,) = con.execute("PRAGMA journal_mode").fetchone()
    level = "NORMAL" if str(mode).lower() == "wal" and not full else "FULL"
    con.execute(f"PRAGMA synchronous={level}")
    return level


@contextlib.contextmanager
def immediate(con):
    """Run the block in a ``BEGIN IMMEDIATE`` transaction on ``con`` (opened with
    ``isolation_level=None``, its sync level set by :func:`set_sync`): committed when
    the block ends, rolled back where the block or the commit fails, and the error
    raised as it came."""
    set_sync(con)
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        # SQLite rolls back by itself after a failed write (a full disk): a ROLLBACK
        # then fails, and its error would hide the cause
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
