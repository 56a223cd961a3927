"""Opening a SQLite store: its file created with the schema (or upgraded), the schema
read and checked, and the read-only connections (immutable on read-only media) that
opening and :meth:`SQLiteStore.check <sktraceprop.stores.SQLiteStore.check>` use."""

import os
import sqlite3
import uuid
import warnings
from pathlib import Path

from .._lineage._source import utc_now
from ..exceptions import (
    CorruptStoreError,
    StoreBusyError,
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
)
from ..utils._stack import user_stacklevel
from . import _sqlite_journal, _sqlite_scrub
from ._sqlite_errors import SQLITE_ERRORS as _SQLITE_ERRORS
from ._sqlite_files import Immutable
from ._sqlite_files import stamp as file_stamp
from ._sqlite_schema import APP, SCHEMA, SCHEMA_VERSION, check_schema, upgrade_statements
from ._sqlite_transaction import immediate
from ._sqlite_writer import Writer
from ._upgrade_event import UPGRADE_EVENT, not_upgraded, record_upgrade
from ._upgrade_repair import plan_repair, record_repair
from ._version_records import check_version_records


class OpeningMixin:
    """How :class:`~sktraceprop.stores.SQLiteStore` opens its file (see its notes)."""

    # -- opening ----------------------------------------------------------------------------
    def _open(self):
        path = Path(self.path)
        self._legacy = False
        self._immutable = False
        self._meta = {}
        if self.mode == "ro":
            if not path.exists():
                raise StoreNotFoundError(
                    f"{self.path} does not exist; mode='ro' opens an existing store and "
                    "never creates one"
                )
        elif not path.parent.is_dir():
            raise StoreNotFoundError(
                f"cannot create {self.path}: folder {path.parent} does not exist. Create the "
                "folder first."
            )
        elif not path.exists() or path.stat().st_size == 0:
            self._create()
        else:
            self._roll_back_journal()
        # The file is read through SQLite only (a read-only connection, which refuses a
        # file that is not a SQLite database): a descriptor of it opened and closed here
        # would drop the locks every connection of this process holds on it, and one kept
        # open would be kept for the life of the process (see ._sqlite_reads).
        self._read_schema()
        if not self._legacy:
            # an erasure whose write-ahead log was not folded in (see ._sqlite_scrub)
            _sqlite_scrub.on_open(self, self._meta)
        if self.check_on_open != "header":
            try:
                self.check(full=self.check_on_open == "full")
            except StoreError as exc:
                # A schema-1 store that checks out opens (read-only); its check says
                # its runs are outside the chain, which verify() keeps saying.
                if isinstance(exc, CorruptStoreError) or not self._legacy:
                    raise

    def _create(self):
        """Create the schema in a new (or 0-byte) file, unless another process just did."""
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None
        try:
            con.execute("PRAGMA journal_mode=WAL")
            with immediate(con):
                if con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                    for statement in SCHEMA:
                        con.execute(statement)
                    now = utc_now()
                    meta = (
                        ("app", APP),
                        ("schema_version", str(SCHEMA_VERSION)),
                        ("store_id", str(uuid.uuid4())),
                        ("created_at", now),
                    )
                    con.executemany("INSERT INTO stp_meta VALUES (?, ?)", meta)
                    con.execute("INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION, now))
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None
        finally:
            con.close()

    def _upgrade_to_salts(self):
        self._upgrade()

    def _upgrade_to_index(self):
        self._upgrade()

    def _upgrade(self):
        """Upgrade a store of schema version 3 or 4 to :data:`SCHEMA_VERSION`, one
        version at a time (3 -> 4: a table of prediction salts; 4 -> 5: an index on
        ``events.kind``), in one transaction with a ``store.upgrade`` event for each,
        unless another process just did. Old events stay as they are (and verify as
        before). Where it cannot (another writer holds the file past the timeout, a
        read-only file), the store stays at its version and a warning says what that
        means."""
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except _SQLITE_ERRORS as exc:
            return self._not_upgraded(exc)
        try:
            with immediate(con):
                (version,) = con.execute(
                    "SELECT value FROM stp_meta WHERE key = 'schema_version'"
                ).fetchone()
                # (the version read in this transaction: another process may have
                # upgraded it since this handle opened it)
                version = int(version) if version in ("3", "4") else SCHEMA_VERSION
                for before in range(version, SCHEMA_VERSION):
                    for statement in upgrade_statements(before):
                        con.execute(statement)
                    con.execute(
                        "INSERT INTO schema_version VALUES (?, ?)", (before + 1, utc_now())
                    )
                    record_upgrade(self, Writer(con), before, before + 1)
        except _SQLITE_ERRORS as exc:
            return self._not_upgraded(exc)
        finally:
            con.close()
        self._read_schema()
        return None

    def _repair_upgrade(self):
        """:meth:`repair_upgrade`'s transaction (see :mod:`._upgrade_repair`)."""
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            try:
                with immediate(con):
                    (version,) = con.execute(
                        "SELECT value FROM stp_meta WHERE key = 'schema_version'"
                    ).fetchone()
                    version = int(version)
                    plan = plan_repair(
                        self,
                        version,
                        dict(con.execute("SELECT version, applied_at FROM schema_version")),
                        con.execute(
                            "SELECT seq, payload, created_at FROM events WHERE kind = ? "
                            "ORDER BY seq",
                            (UPGRADE_EVENT,),
                        ).fetchall(),
                        SCHEMA_VERSION,
                    )
                    if plan is None:
                        return None
                    present = {n for (n,) in con.execute("SELECT name FROM sqlite_master")}
                    for before in range(version, plan[0]):
                        for statement in upgrade_statements(before):
                            words = statement.split()
                            # what the version adds is made again only where missing
                            if words[0] == "CREATE" and words[2] in present:
                                continue
                            con.execute(statement)
                            present.discard(words[2])
                    for v, applied_at, _ in plan[1]:
                        con.execute("INSERT INTO schema_version VALUES (?, ?)", (v, applied_at))
                    return record_repair(self, Writer(con), version, plan)
            finally:
                con.close()
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None

    def _read_schema_after_repair(self):
        self._read_schema()

    def _not_upgraded(self, exc):
        warnings.warn(
            f"{self.path} has schema version {self.schema_version} and could not be "
            f"upgraded to version {SCHEMA_VERSION} ({exc}): {not_upgraded(self)} Another "
            "handle opened writable tries again.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )

    def _read_schema(self):
        con = self._open_readonly()
        try:
            names = self._schema_names(con)
            if not names and self.mode == "rw":
                # A store being created by another process has no tables until its
                # transaction commits: wait for the write lock once, then look again.
                self._wait_for_writer()
                names = self._schema_names(con)
            tables = {n for n, kind, _ in names if kind == "table"}
            triggers = {n: sql for n, kind, sql in names if kind == "trigger"}
            if not tables:
                raise CorruptStoreError(
                    f"{self.path} is a SQLite database without tables: not a sktraceprop "
                    "store (or one whose tables were all dropped, or whose creation failed, "
                    "on a full disk for example); it was not modified. To start a new store "
                    "there, remove the file."
                )
            if "stp_meta" not in tables:
                raise CorruptStoreError(
                    f"{self.path} is a SQLite database of another application (no stp_meta "
                    "table); it was not modified."
                )
            # the two records of the version read in one statement (one snapshot: an
            # upgrade by another process changes both in one transaction)
            versions = (
                " UNION ALL SELECT NULL, version FROM schema_version"
                if "schema_version" in tables
                else ""
            )
            rows = con.execute("SELECT key, value FROM stp_meta" + versions).fetchall()
            meta = {k: v for k, v in rows if k is not None}
            recorded = [v for k, v in rows if k is None]
            run_columns = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc, opening=True) from None
        finally:
            con.close()
        version, wrong = check_schema(self.path, tables, triggers, meta, run_columns)
        check_version_records(self.path, version, recorded, SCHEMA_VERSION)
        self._meta = meta
        self._legacy = version == 1
        if wrong:
            self._refuse_writes(wrong)

    @staticmethod
    def _schema_names(con):
        return con.execute("SELECT name, type, sql FROM sqlite_master").fetchall()

    def _wait_for_writer(self):
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("ROLLBACK")
            finally:
                con.close()
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None

    def _roll_back_journal(self):
        """A writable handle: roll back a transaction a killed writer left in a rollback
        journal (see :mod:`._sqlite_journal`), as SQLite's next writable read would. True
        if there was one and it is gone."""
        if _sqlite_journal.hot_journal(self.path) is None:
            return False
        try:
            _sqlite_journal.roll_back(self.path, self.timeout)
        except _SQLITE_ERRORS as exc:
            error = self._translate(exc, opening=True)
            if isinstance(error, StoreBusyError) or _sqlite_journal.hot_journal(self.path) is None:
                raise error from None
            return False  # (the read-only connection then names the journal)
        return _sqlite_journal.hot_journal(self.path) is None

    def _readonly_uri(self, immutable=False):
        uri = Path(self.path).resolve().as_uri() + "?mode=ro"
        return uri + "&immutable=1" if immutable else uri

    def _open_readonly(self):
        """A read-only connection; on read-only media, an immutable one if that is safe.

        An immutable connection reads the file as it was (SQLite assumes it never
        changes): it keeps the file's ``stamp``, which every read compares (see
        :meth:`_connection` and :meth:`_check_read`).
        """
        con = None
        try:
            con = sqlite3.connect(self._readonly_uri(), uri=True, timeout=self.timeout)
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            self._immutable = False
            return con
        except _SQLITE_ERRORS as exc:
            if con is not None:
                con.close()
            journal = _sqlite_journal.hot_journal(self.path)
            if journal is not None:
                # never read as immutable past it: that reads uncommitted pages
                error = self._translate(exc, opening=True)
                if isinstance(error, StoreBusyError):  # its writer is still at work
                    raise error from None
                if self.mode == "rw" and self._roll_back_journal():
                    return self._open_readonly()
                raise _sqlite_journal.unreadable(self.path, journal, self.mode) from None
            if not self._readonly_media():
                raise self._translate(exc, opening=True) from None
        # SQLite cannot create the -shm file next to a WAL database on read-only media;
        # with no -wal file holding uncheckpointed writes, the file alone is the store.
        self._immutable = True
        stamp = file_stamp(self.path)
        try:
            con = sqlite3.connect(
                self._readonly_uri(True), uri=True, timeout=self.timeout, factory=Immutable
            )
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc, opening=True) from None
        con.stamp = stamp
        return con

    def _check_read(self, con):
        """Raise if ``con`` is immutable and the file changed since it was opened: what
        it read may be stale, or mix pages of two states."""
        stamp = getattr(con, "stamp", None)
        if stamp is not None and file_stamp(self.path) != stamp:
            raise StoreBusyError(
                f"{self.path} changed while this handle read it: it is read as an immutable "
                "file (mode='ro' where no -shm file can be made next to it, as on read-only "
                "media), but another process writes to it. Nothing was returned; read again "
                "(the next read opens it anew), or audit a copy of the file."
            )

    def _readonly_media(self):
        wal = Path(f"{self.path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StorePermissionError(
                f"{self.path} cannot be read on this read-only file system: its write-ahead "
                f"log {wal} holds writes not yet in the file, and SQLite cannot open it "
                "without creating a -shm file. Open it once where it is writable (or copy "
                "the folder to writable storage) to fold the log into the file."
            )
        return not os.access(Path(self.path).parent, os.W_OK) or not os.access(self.path, os.W_OK)
