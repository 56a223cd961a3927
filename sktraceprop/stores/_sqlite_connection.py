"""A SQLite store's connections: this thread's connection, checked to be on the store
this handle opened; reads, write and read transactions on it; SQLite's errors as
store errors."""

import contextlib
import os
import sqlite3

from ..exceptions import CorruptStoreError, StoreError, StorePermissionError
from . import _sqlite_scrub
from ._identity import store_gone, store_replaced, store_upgraded
from ._sqlite_errors import SQLITE_ERRORS as _SQLITE_ERRORS
from ._sqlite_errors import translate
from ._sqlite_files import file_id
from ._sqlite_files import stamp as file_stamp
from ._sqlite_transaction import set_sync
from ._sqlite_writer import Writer
from ._upgrade_event import upgraded_here
from ._upgrade_wait import busy_after_upgrade, wait_left


class ConnectionMixin:
    """This thread's connection of a :class:`~sktraceprop.stores.SQLiteStore`, and its
    transactions."""

    def _connection(self):
        override = getattr(self._local, "override", None)
        if override is not None:
            return override
        con = getattr(self._local, "con", None)
        stamp = getattr(con, "stamp", None)
        if stamp is not None and file_stamp(self.path) != stamp:
            # an immutable connection on a file written since: it would read it as it was
            con.close()
            con = self._local.con = None
        if con is None or getattr(self._local, "pid", None) != os.getpid():
            # sqlite3.connect would create an empty file where the store was removed
            before = file_id(self.path)
            if before is None:
                raise self._not_the_file_opened()
            if self.mode == "ro":
                con = self._open_readonly()
                con.isolation_level = None
            else:
                try:
                    con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                    set_sync(con, fast=self._fast_sync())
                    # an erased value's bytes are overwritten, not left in a free page
                    con.execute("PRAGMA secure_delete=ON")
                except _SQLITE_ERRORS as exc:
                    raise self._translate(exc) from None
            self._check_same_store(con, before)
            self._local.con, self._local.pid, self._local.file = con, os.getpid(), before
        return con

    def _check_same_store(self, con, before):
        """Close ``con`` and raise unless it is on the file that was at the path before
        it was opened, and that file is the store this handle opened (its ``store_id``):
        a handle must never read or write another store under its own name."""
        same = file_id(self.path) == before
        if same:
            try:
                row = con.execute("SELECT value FROM stp_meta WHERE key = 'store_id'").fetchone()
            except _SQLITE_ERRORS as exc:
                con.close()
                raise self._translate(exc) from None
            same = (None if row is None else row[0]) == self._meta.get("store_id")
        if not same:
            con.close()
            raise self._not_the_file_opened()

    def _check_identity(self, con):
        """Raise unless ``con`` still reads the store this handle opened, at the schema
        version it opened (see :mod:`._identity`): the file it has open is the one at the
        path (a connection keeps a removed file open), holding this handle's store_id.
        Every read and write checks this first."""
        if con is not getattr(self._local, "override", None) and (
            file_id(self.path) != getattr(self._local, "file", None)
        ):
            raise self._not_the_file_opened()
        changed = self._schema_changed(con)
        if changed is not None:
            raise changed

    def _schema_changed(self, con):
        """An error if the file's store or schema version is no longer what this handle
        opened (a newer sktraceprop upgraded it since: rows written as this version
        describes them could be wrong there), else None."""
        keys = ("store_id", "schema_version")
        try:
            now = dict(con.execute("SELECT key, value FROM stp_meta WHERE key IN (?, ?)", keys))
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None
        if now.get("store_id") != self._meta.get("store_id"):
            return self._not_the_file_opened()
        if upgraded_here(self._meta.get("schema_version"), now.get("schema_version")):
            # upgraded by another handle of this version (a table of prediction salts,
            # an index added): read on as the newer version
            self._meta = {**self._meta, "schema_version": now["schema_version"]}
            return None
        if now.get("schema_version") != self._meta.get("schema_version"):
            return store_upgraded(
                self, self._meta.get("schema_version"), now.get("schema_version")
            )
        return None

    def _not_the_file_opened(self):
        """The error for a store file removed, moved or replaced since it was opened."""
        if file_id(self.path) is None:
            return store_gone(
                self,
                f"{self.path} was removed or moved since this handle opened it",
                "Open the store where it is now (SQLiteStore(path) on the old path would "
                "create a new, empty store).",
            )
        return store_replaced(
            self,
            f"{self.path} is not the file this handle opened (it was removed and created "
            "again, or another file was moved there)",
            self._meta_now(),
            "Open the file now there with SQLiteStore(path).",
        )

    def _meta_now(self):
        """The stp_meta of the file now at the path (None if it holds none), read on a
        read-only connection of its own: for an error message only."""
        try:
            con = sqlite3.connect(self._readonly_uri(self._immutable), uri=True, timeout=1)
        except _SQLITE_ERRORS:
            return None
        try:
            return dict(con.execute("SELECT key, value FROM stp_meta"))
        except _SQLITE_ERRORS:
            return None
        finally:
            con.close()

    # -- errors -------------------------------------------------------------------------------
    def _translate(self, exc, opening=False):
        """A store exception saying what happened and what to do; a handle that found
        its file damaged (once opened) refuses writes from then on."""
        error = translate(self.path, self.timeout, exc)
        if isinstance(error, CorruptStoreError) and not opening:
            self._refuse_writes(str(error))
        return error

    def _checked_connection(self):
        """This thread's connection, its store checked unless a transaction (which
        checked it when it began) is open."""
        con = self._connection()
        if not con.in_transaction:
            self._check_identity(con)
        return con

    def _query(self, sql, args=()):
        try:
            con = self._checked_connection()
            rows = con.execute(sql, args).fetchall()
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None
        self._check_read(con)
        return rows

    def _iterate(self, sql, args=()):
        try:
            con = self._checked_connection()
            yield from con.execute(sql, args)
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None
        self._check_read(con)

    # -- transactions -------------------------------------------------------------------------
    def _fast_sync(self):
        """Whether this thread's next write may commit without syncing the WAL to disk:
        only where the user chose ``durability="fast"``, and never for a checkpoint
        (which must not sign events a power loss could still take back)."""
        fast = getattr(self, "durability", "full") == "fast"
        return fast and not getattr(self._local, "full_sync", False)

    def _writable_problem(self):
        if self.mode == "ro":
            return StorePermissionError(
                f"{self!r} was opened read-only (mode='ro'); nothing was written. Open it "
                "with mode='rw' to write."
            )
        if self._legacy:
            return StoreError(
                f"{self.path} has schema version 1 (sktraceprop 0.1): its runs are not under "
                "the hash chain, so it is read-only here; nothing was written. Write to a new "
                "store, and copy the old runs there with new.save_run(old.load_run(run_id))."
            )
        opened = getattr(self._local, "file", None)
        now = file_id(self.path)
        if now is None or (opened is not None and now != opened):
            return self._not_the_file_opened()
        if not os.access(self.path, os.W_OK):
            return StorePermissionError(
                f"{self.path} is not writable (file permissions); nothing was fitted or "
                "written. Open it with mode='ro' to read it, or fix the permissions."
            )
        return None

    @contextlib.contextmanager
    def _writer(self):
        self._indexing()
        waited, left = wait_left(self)
        con = self._connection()
        try:
            # the file's journal mode can change between two writes (set at each)
            set_sync(con, fast=self._fast_sync())
            if left is not None:
                con.execute(f"PRAGMA busy_timeout = {round(left * 1000)}")
            try:
                con.execute("BEGIN IMMEDIATE")
            finally:
                if left is not None:
                    con.execute(f"PRAGMA busy_timeout = {round(self.timeout * 1000)}")
        except _SQLITE_ERRORS as exc:
            raise busy_after_upgrade(self, self._translate(exc), waited) from None
        committed = False
        try:
            # A connection on a file no longer at the path (removed, or replaced by another
            # store) would write where it is lost, or into the wrong store.
            self._check_identity(con)
            yield Writer(con)
            con.execute("COMMIT")
            committed = True
            _sqlite_scrub.retry(con)
        except BaseException as exc:
            if committed and isinstance(exc, OSError):
                raise StoreError(
                    f"{self.path}: the write is stored, but the operating system failed "
                    f"after it ({exc}). Check the disk, then check() the store."
                ) from exc
            # SQLite rolls back by itself after some failed writes (a full disk): a
            # ROLLBACK then fails, and its error must not hide the cause
            with contextlib.suppress(*_SQLITE_ERRORS):
                if con.in_transaction:
                    con.execute("ROLLBACK")
            if isinstance(exc, sqlite3.IntegrityError) and "run_id" in str(exc):
                raise StoreError(f"a run with this id is already stored in {self.path}") from None
            if isinstance(exc, _SQLITE_ERRORS):
                raise self._translate(exc) from None
            if isinstance(exc, OSError):
                raise StoreError(
                    f"{self.path}: the operating system failed during a write ({exc}). "
                    "The transaction was rolled back: nothing of this call was stored, and "
                    "what the store held is unchanged. Check the disk, then retry."
                ) from exc
            raise

    @contextlib.contextmanager
    def _snapshot(self):
        con = self._connection()
        if con.in_transaction:
            yield
            return
        try:
            con.execute("BEGIN")
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None
        try:
            self._check_identity(con)
            yield
        finally:
            # Ending a read transaction writes nothing; on a damaged file it can fail,
            # which must not hide the error that is already on its way.
            with contextlib.suppress(*_SQLITE_ERRORS):
                if con.in_transaction:
                    con.execute("ROLLBACK")
        self._check_read(con)
