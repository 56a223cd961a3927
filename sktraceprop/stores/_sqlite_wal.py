"""Folding a SQLite store's write-ahead log into its file at a point of the caller's
choosing (:meth:`~sktraceprop.stores.SQLiteStore.fold_wal`).

In WAL mode each commit appends its pages to the ``-wal`` file; SQLite copies them into
the database file (a checkpoint) when a commit leaves the log over 1,000 pages (about 4
MB), inside that commit. With ``durability="full"`` the checkpoint writes the pages and
syncs the file, so the call whose commit crossed the mark pays it: about one 10,000-row
logged prediction in 18 (``benchmarks/README.md``, "Logged calls and the write-ahead
log"). Folding the log between calls keeps it under the mark, so no call pays it. A
checkpoint changes nothing that is stored: a commit was on disk when it returned.
"""

from ._sqlite_errors import SQLITE_ERRORS as _SQLITE_ERRORS

__all__ = ["fold"]


def fold(store):
    """Run a passive checkpoint on ``store``'s connection; see
    :meth:`~sktraceprop.stores.SQLiteStore.fold_wal`."""
    store._check_writable()
    con = store._connection()
    try:
        store._check_identity(con)
        _busy, frames, folded = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except _SQLITE_ERRORS as exc:
        raise store._translate(exc) from None
    if frames < 0:  # (SQLite's answer on a file in a rollback-journal mode)
        return {"wal_frames": None, "folded_frames": None}
    return {"wal_frames": frames, "folded_frames": folded}
