"""Wiping erased values' old pages from a SQLite store's write-ahead log.

``secure_delete`` overwrites an erased value in the pages it rewrites, but in WAL mode
those pages are first appended to the ``-wal`` file, and the pages written before (which
still hold the value) stay there, and in the database file, until a checkpoint folds the
log into the file and truncates it.

The transaction that deletes erased values also adds a marker (an ``stp_meta`` key
``wal_scrub:<id>``, :func:`mark`): a writer killed after it commits and before the
checkpoint leaves the marker, not a file that says nothing. The table is append-only,
so the checkpoint that finishes adds ``wal_scrub:<id>:done`` rather than removing it.
A ``TRUNCATE`` checkpoint cannot finish while another connection reads: the erasure
waits a few seconds (:data:`ERASURE_WAIT`, at most the store's timeout) and warns; then
every later write through any handle, in any process, and every writable opening of
the file, tries again (without waiting for readers) until one finishes. A plain write
does not do it by itself: SQLite's own automatic checkpoints are passive and never
truncate the log (measured: the old pages stayed through later writes until the last
connection closed).
"""

import contextlib
import sqlite3
import uuid
import warnings

from ..exceptions import StoreError
from ..utils._stack import user_stacklevel
from ._sqlite_transaction import immediate

__all__ = ["ERASURE_WAIT", "PENDING_PREFIX", "is_pending", "left", "mark", "retry", "scrub"]

PENDING_PREFIX = "wal_scrub:"

#: Seconds an erasure waits for readers before it warns (the store's timeout if less):
#: the marker makes every later write and opening try again, so a longer wait buys
#: nothing but a silent stall.
ERASURE_WAIT = 5.0

_SQLITE_ERRORS = (sqlite3.Error,)


def _truncate(con):
    """Run a TRUNCATE checkpoint on ``con``; True when it finished (no reader blocked it)."""
    busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def _pending_of(keys):
    # (a key that is not text is no marker this library wrote: an edit verify() names)
    keys = {k for k in keys if isinstance(k, str) and k.startswith(PENDING_PREFIX)}
    return sorted(k for k in keys if not k.endswith(":done") and f"{k}:done" not in keys)


def _pending_keys(con):
    return _pending_of(k for (k,) in con.execute("SELECT key FROM stp_meta"))


def _append_keys(con, keys, value):
    with immediate(con):
        con.executemany("INSERT OR IGNORE INTO stp_meta VALUES (?, ?)", [(k, value) for k in keys])


def mark(con, wipe=None):
    """Add a pending marker in the transaction open on ``con`` (the one deleting values);
    ``wipe``: its id, as the erasure event names it (:mod:`._wipe_marks`)."""
    con.execute(
        "INSERT INTO stp_meta VALUES (?, ?)",
        (f"{PENDING_PREFIX}{wipe or uuid.uuid4()}", "erased values' old pages"),
    )


def is_pending(con):
    """Whether the file says that erased values' old pages may still be in its log."""
    return bool(_pending_keys(con))


def left(path, con):
    """What of erased values a store's files may still hold, in words (``[]``: nothing)."""
    if not is_pending(con):
        return []
    return [
        f"erased values' old bytes may still be in {path} and {path}-wal: an erasure "
        "committed, but its write-ahead log was not yet folded into the file and "
        "truncated (another connection was reading, or the writer stopped first). The "
        "next write, or opening the store writable, does it once no connection reads"
    ]


def _finish(con, wait=None):
    """Checkpoint and truncate; True (and the pending markers marked done) if it finished.
    ``wait``: the seconds to wait for readers (None: the connection's busy timeout; 0
    gives up at once where a reader blocks it)."""
    # read before the checkpoint: an erasure committed after it is not wiped by it
    pending = _pending_keys(con)
    if wait is None:
        finished = _truncate(con)
    else:
        (waits,) = con.execute("PRAGMA busy_timeout").fetchone()
        con.execute(f"PRAGMA busy_timeout = {int(min(waits, wait * 1000))}")
        try:
            finished = _truncate(con)
        finally:
            con.execute(f"PRAGMA busy_timeout = {int(waits)}")
    if not finished:
        return False
    if pending:
        _append_keys(con, [f"{k}:done" for k in pending], "wiped")
        _truncate(con)  # the markers themselves went to the log: fold them in too
    return True


def scrub(store, con):
    """Fold the log into the file and truncate it after an erasure committed on ``con``
    (a connection of ``store``); where a reader blocks it, leave the file marked (the
    erasure's transaction marked it; a request run again marks it here) so that the
    next write or opening of any handle tries again, and warn."""
    try:
        if _finish(con, ERASURE_WAIT):
            return
        if not is_pending(con):
            _append_keys(con, [f"{PENDING_PREFIX}{uuid.uuid4()}"], "erased values' old pages")
    except _SQLITE_ERRORS as exc:
        # the erasure is committed: the error must not say that nothing was stored
        raise StoreError(
            f"{store.path}: the erasure is stored, but its write-ahead log could not be "
            f"folded into the file ({exc}): {store.path}-wal still holds the erased "
            f"values' old pages, as {store.path} may. The next write to the store, or opening it "
            "writable, tries again once no other connection reads (so does closing every "
            "connection to the file)"
        ) from None
    warnings.warn(
        f"{store.path}: another connection is reading (of this process or another), so "
        f"the file and its write-ahead log ({store.path}-wal) still hold the erased "
        f"values' old pages (waited {min(store.timeout, ERASURE_WAIT):g} s for it). The "
        "file is marked: every later write to the store (from any handle or process), "
        "and every writable opening of it, tries again to fold the log into the file "
        "and truncate it, once no connection reads; until then check() and verify() "
        "say so. Closing the reading connection and writing (or closing every "
        "connection to the file) removes them",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def retry(con):
    """After a commit on ``con``: if an earlier erasure's scrub is pending, try it again,
    without waiting for readers (a write must not take the busy timeout longer), and
    silently (the erasure warned; a reader still there leaves the marker)."""
    with contextlib.suppress(*_SQLITE_ERRORS):
        if is_pending(con):
            _finish(con, wait=0)


def on_open(store, meta):
    """When a store opens (``meta``: its ``stp_meta`` as read then): finish a pending
    scrub (writable, not waiting for readers), or warn that the erased values' old bytes
    are still in its files. Without one, no connection is opened (a handle holds none
    until it reads or writes)."""
    if not _pending_of(meta):
        return
    with contextlib.suppress(*_SQLITE_ERRORS, StoreError):
        con = store._connection()
        if store.mode == "rw" and getattr(store, "_integrity_failure", None) is None:
            retry(con)
        if not is_pending(con):
            return
    reason = (
        "it is opened read-only (mode='ro'): open it writable to finish"
        if store.mode == "ro"
        else "another connection is reading: the next write tries again"
    )
    warnings.warn(
        f"{store.path}: an erasure committed, but the erased values' old bytes are still in "
        f"{store.path} and {store.path}-wal (its write-ahead log was not folded into the "
        f"file: the writer stopped first, or a reader kept it in use); {reason}",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
