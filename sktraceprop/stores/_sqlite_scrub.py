"""Wiping erased values' old pages from a SQLite store's write-ahead log.

``secure_delete`` overwrites an erased value in the pages it rewrites, but in WAL mode
those pages are first appended to the ``-wal`` file, and the pages written before (which
still hold the value) stay there until a checkpoint folds the log into the database and
truncates it. A ``TRUNCATE`` checkpoint cannot finish while another connection reads:
then the file keeps a marker (an ``stp_meta`` key ``wal_scrub:<id>``; the table is
append-only, so the scrub that finishes adds ``wal_scrub:<id>:done`` rather than removing
it), and every later write through any handle, in any process, tries the checkpoint
again after it commits, until one finishes. A plain write does not do it by itself:
SQLite's own automatic checkpoints are passive and never truncate the log (measured:
the old pages stayed through later writes until the last connection closed).
"""

import contextlib
import sqlite3
import uuid
import warnings

from ..exceptions import StoreError
from ..utils._stack import user_stacklevel

__all__ = ["PENDING_PREFIX", "is_pending", "retry", "scrub"]

PENDING_PREFIX = "wal_scrub:"

_SQLITE_ERRORS = (sqlite3.Error,)


def _truncate(con):
    """Run a TRUNCATE checkpoint on ``con``; True when it finished (no reader blocked it)."""
    busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def _pending_keys(con):
    keys = {k for (k,) in con.execute("SELECT key FROM stp_meta WHERE key LIKE 'wal_scrub:%'")}
    return sorted(k for k in keys if not k.endswith(":done") and f"{k}:done" not in keys)


def _append_keys(con, keys, value):
    con.execute("BEGIN IMMEDIATE")
    try:
        con.executemany("INSERT OR IGNORE INTO stp_meta VALUES (?, ?)", [(k, value) for k in keys])
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise


def is_pending(con):
    """Whether the file says that erased values' old pages may still be in its log."""
    return bool(_pending_keys(con))


def _finish(con, wait=True):
    """Checkpoint and truncate; True (and the pending markers marked done) if it finished.
    ``wait=False`` gives up at once where a reader blocks it (SQLite would otherwise wait
    for the connection's whole busy timeout)."""
    if wait:
        finished = _truncate(con)
    else:
        (waits,) = con.execute("PRAGMA busy_timeout").fetchone()
        con.execute("PRAGMA busy_timeout = 0")
        try:
            finished = _truncate(con)
        finally:
            con.execute(f"PRAGMA busy_timeout = {int(waits)}")
    if not finished:
        return False
    pending = _pending_keys(con)
    if pending:
        _append_keys(con, [f"{k}:done" for k in pending], "wiped")
        _truncate(con)  # the markers themselves went to the log: fold them in too
    return True


def scrub(store, con):
    """Fold the log into the file and truncate it after an erasure committed on ``con``
    (a connection of ``store``); where a reader blocks it, mark the file so that the
    next write of any handle tries again, and warn."""
    try:
        if _finish(con):
            return
        _append_keys(con, [f"{PENDING_PREFIX}{uuid.uuid4()}"], "erased values' old pages")
    except _SQLITE_ERRORS as exc:
        # the erasure is committed: the error must not say that nothing was stored
        raise StoreError(
            f"{store.path}: the erasure is stored, but its write-ahead log could not be "
            f"folded into the file ({exc}): {store.path}-wal still holds the erased "
            "values' old pages until every connection to the file is closed (SQLite "
            "then folds the log into the file and deletes it), or the erasure request "
            "is run again when no other connection reads"
        ) from None
    warnings.warn(
        f"{store.path}: another connection is reading, so the write-ahead log "
        f"({store.path}-wal) still holds the erased values' old pages. Every later write "
        "to the store (from any handle or process) tries again to fold the log into the "
        "file and truncate it, once no connection reads; closing every connection to the "
        "file, or running the erasure request again then, also removes them",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def retry(con):
    """After a commit on ``con``: if an earlier erasure's scrub is pending, try it again,
    without waiting for readers (a write must not take the busy timeout longer), and
    silently (the erasure warned; a reader still there leaves the marker)."""
    with contextlib.suppress(*_SQLITE_ERRORS):
        if is_pending(con):
            _finish(con, wait=False)
