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

__all__ = ["WalMixin"]


class WalMixin:
    """:meth:`fold_wal` of a :class:`~sktraceprop.stores.SQLiteStore`."""

    def fold_wal(self):
        """Copy the pages of the write-ahead log into the database file now.

        A passive checkpoint (SQLite's ``PRAGMA wal_checkpoint(PASSIVE)``): it waits
        for no other connection, and folds what no reader still needs. SQLite folds the
        log by itself inside the commit that takes it over 1,000 pages, so that one call
        (a logged prediction, an appended event) takes longer than the others; calling
        this between calls (in a service's idle time, or every few calls from a thread
        of its own) keeps the log short and that cost out of the calls. Nothing stored
        changes, and every commit was already on disk when it returned (with
        ``durability="full"``); :meth:`checkpoint` is another thing: a signature of the
        hash chain.

        Returns
        -------
        result : dict
            ``wal_frames``: pages in the log; ``folded_frames``: how many of them are now
            in the database file (fewer where a reader still uses the rest; the next
            fold copies them). Both None where the file is not in WAL mode (a
            rollback journal keeps no log to fold).

        Raises
        ------
        StorePermissionError
            If the store was opened with ``mode="ro"`` (or its file is read-only).
        CorruptStoreError
            If this handle refuses writes (it found the store damaged).
        """
        self._check_writable()
        con = self._connection()
        try:
            self._check_identity(con)
            _busy, frames, folded = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None
        if frames < 0:  # (SQLite's answer on a file in a rollback-journal mode)
            return {"wal_frames": None, "folded_frames": None}
        return {"wal_frames": frames, "folded_frames": folded}
