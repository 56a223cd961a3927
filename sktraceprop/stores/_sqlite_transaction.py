"""One write transaction on a SQLite connection: committed, or rolled back where it fails."""

import contextlib


@contextlib.contextmanager
def immediate(con):
    """Run the block in a ``BEGIN IMMEDIATE`` transaction on ``con`` (opened with
    ``isolation_level=None``): committed when the block ends, rolled back where the
    block or the commit fails, and the error raised as it came."""
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
