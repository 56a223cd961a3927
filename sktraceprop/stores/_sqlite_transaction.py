"""One write transaction on a SQLite connection: committed, or rolled back where it fails;
and the sync level that keeps a committed write on disk in the file's journal mode."""

import contextlib

DURABILITIES = ("full", "fast")


def check_durability(durability):
    """Raise ``ValueError`` unless ``durability`` is one of :data:`DURABILITIES`."""
    if not isinstance(durability, str) or durability not in DURABILITIES:
        raise ValueError(f"durability must be 'full' or 'fast'; got {durability!r}")


def set_sync(con, fast=False):
    """Set ``con``'s ``synchronous`` now, before a write transaction (SQLite refuses to
    change it inside one); return the level set: ``FULL`` unless ``fast`` and the file
    is in WAL mode (``NORMAL``).

    ``FULL`` syncs each commit to disk before the commit returns, so a write the store
    said was recorded survives a power loss in any journal mode. In WAL mode ``NORMAL``
    keeps the file consistent through a power loss, but the last commits can roll back
    (``durability="fast"``, a user's explicit choice); in a rollback-journal mode
    (``DELETE``, ``TRUNCATE``, ``PERSIST``...) ``NORMAL`` can corrupt the file, so it
    is never used there. A mode this connection reads stale (another connection switched
    the file to WAL since) reads as not WAL: ``FULL``, only slower; the other way round
    cannot happen, as SQLite does not leave WAL while another connection has it open.
    """
    (mode,) = con.execute("PRAGMA journal_mode").fetchone()
    level = "NORMAL" if str(mode).lower() == "wal" and fast else "FULL"
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
