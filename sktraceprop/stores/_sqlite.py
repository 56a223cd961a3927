"""SQLite store: the embedded default for lineage that must persist."""

import contextlib
import os
import sqlite3
import threading
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
    UnknownRunError,
)
from ..utils._stack import user_stacklevel
from . import _legacy, _sqlite_scrub
from ._base import BaseStore, check_timeout
from ._identity import store_gone, store_replaced, store_upgraded
from ._integrity import check_with, describe, raise_problems
from ._sqlite_errors import translate
from ._sqlite_files import Immutable, file_id
from ._sqlite_files import stamp as file_stamp
from ._sqlite_schema import (
    APP,
    SCHEMA,
    SCHEMA_VERSION,
    check_schema,
    trigger_problem,
    upgrade_statements,
)
from ._sqlite_transaction import immediate
from ._sqlite_writer import Writer

_MODES = ("rw", "ro")
_CHECK_ON_OPEN = ("header", "quick", "full")
# A damaged schema makes SQLite's error message hold bytes that are not UTF-8: Python
# then raises UnicodeDecodeError where sqlite3 would have raised DatabaseError.
_SQLITE_ERRORS = (sqlite3.Error, UnicodeDecodeError)


class SQLiteStore(BaseStore):
    """Runs, audit events and checkpoints in a SQLite file, under one hash chain.

    Parameters
    ----------
    path : str or path-like
        Database file, kept as an absolute path (changing the working directory later
        does not move the store). A missing (or empty, 0-byte) file is created with the
        schema; an existing file is never altered by opening it: a file that is not a
        sktraceprop store (corrupt, another application's database, a store missing a
        table) raises :class:`~sktraceprop.exceptions.CorruptStoreError` and is left
        untouched.
    mode : {"rw", "ro"}, default="rw"
        ``"ro"`` opens an existing store read-only (also on read-only files, folders
        and media), for audits: reads and checks work, writes raise
        :class:`~sktraceprop.exceptions.StorePermissionError`.
    timeout : float, default=60.0
        Seconds (a finite number >= 0; 0: do not wait) to wait for another process's
        write transaction before raising :class:`~sktraceprop.exceptions.StoreBusyError`.
    check_on_open : {"header", "quick", "full"}, default="header"
        How much of an existing file is checked before it is used. ``"header"`` reads only
        the SQLite header, the schema and the store's metadata, so opening is fast whatever
        the file's size; damage deeper in the file raises
        :class:`~sktraceprop.exceptions.CorruptStoreError` when the damaged data is read.
        ``"quick"`` and ``"full"`` run :meth:`check` with ``full=False`` or ``full=True``
        first, and raise if it finds anything; the file is not modified either way.

    Notes
    -----
    Several processes may write to one file at once: each run is one ``BEGIN IMMEDIATE``
    transaction, and SQLite serialises them. Triggers make every table append-only; a
    store whose triggers were dropped opens for reading but refuses writes.

    A store written by sktraceprop 0.1 (schema version 1: runs outside the hash chain,
    row ids packed as ``code << 40 | line``) opens read-only: its runs load with their
    ids re-packed (or are refused where the old layout cannot be told apart), and
    :meth:`verify` says that its runs are not under a chain. Copy its runs into a new
    store (``new.save_run(old.load_run(run_id))``) to put them under one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sktraceprop.stores import SQLiteStore
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lineage.db"
    >>> store = SQLiteStore(path)
    >>> event = store.append_event("review", {"by": "auditor"})
    >>> report = store.check(full=True)
    >>> report["events"], report["runs"]
    (1, 0)
    >>> SQLiteStore(path, mode="ro").verify()
    True
    """

    def __init__(self, path, *, mode="rw", timeout=60.0, check_on_open="header"):
        if not isinstance(mode, str) or mode not in _MODES:
            raise ValueError(f"mode must be 'rw' or 'ro'; got {mode!r}")
        if not isinstance(check_on_open, str) or check_on_open not in _CHECK_ON_OPEN:
            raise ValueError(
                f"check_on_open must be one of {', '.join(map(repr, _CHECK_ON_OPEN))}; "
                f"got {check_on_open!r}"
            )
        check_timeout(timeout)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"path must be a file path (str or path-like); got {path!r}")
        if os.path.isdir(path or "."):
            raise IsADirectoryError(
                f"path {os.fspath(path)!r} is a folder: give the store's file, such as "
                f"{os.path.join(os.fspath(path), 'lineage.db')!r}"
            )
        # absolute: a later os.chdir (or a worker process started elsewhere) must not
        # take the handle to another file, or to none
        self.path = os.path.abspath(os.fspath(path))
        self.mode = mode
        self.timeout = timeout
        self.check_on_open = check_on_open
        self._local = threading.local()
        self._open()

    def __getstate__(self):
        return {
            "path": self.path,
            "mode": self.mode,
            "timeout": self.timeout,
            "check_on_open": self.check_on_open,
            "_meta": self._meta,
            "_legacy": self._legacy,
            "_immutable": self._immutable,
            "_integrity_failure": getattr(self, "_integrity_failure", None),
        }

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def __repr__(self):
        extra = ", mode='ro'" if self.mode == "ro" else ""
        return f"SQLiteStore({self.path!r}{extra})"

    @property
    def store_id(self):
        return self._meta.get("store_id", "")

    @property
    def schema_version(self):
        """Schema version of the file (1: sktraceprop 0.1, read-only here)."""
        return int(self._meta.get("schema_version", 0))

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

    def _upgrade(self):
        """Upgrade a store of schema version 3 to 4 (a table of prediction salts), in one
        transaction, unless another process just did. Old events stay as they are (and
        verify as before); calls logged from now on are salted. Where it cannot (another
        writer holds the file past the timeout, a read-only file), the store stays at
        version 3, logging unsalted, and a warning says so."""
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except _SQLITE_ERRORS as exc:
            return self._not_upgraded(exc)
        try:
            with immediate(con):
                (version,) = con.execute(
                    "SELECT value FROM stp_meta WHERE key = 'schema_version'"
                ).fetchone()
                if version == "3":
                    for statement in upgrade_statements():
                        con.execute(statement)
                    con.execute(
                        "INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION, utc_now())
                    )
        except _SQLITE_ERRORS as exc:
            return self._not_upgraded(exc)
        finally:
            con.close()
        self._read_schema()
        return None

    def _not_upgraded(self, exc):
        warnings.warn(
            f"{self.path} has schema version 3 and could not be upgraded to version "
            f"{SCHEMA_VERSION} ({exc}): the calls its models log are not salted (the "
            "SHA-256 of their input rows stays in the chain, and erase_predictions cannot "
            "make them unfindable). Another handle opened writable tries again.",
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
            meta = dict(con.execute("SELECT key, value FROM stp_meta"))
            run_columns = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc, opening=True) from None
        finally:
            con.close()
        version, wrong = check_schema(self.path, tables, triggers, meta, run_columns)
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
                    con.execute("PRAGMA synchronous=NORMAL")
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
        if (self._meta.get("schema_version"), now.get("schema_version")) == (
            "3",
            str(SCHEMA_VERSION),
        ):
            # upgraded by another handle of this version (a table of prediction salts
            # added): read on as version 4
            self._meta = {**self._meta, "schema_version": str(SCHEMA_VERSION)}
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

    def close(self):
        """Close this thread's connection to the file (a later call opens a new one).

        Also what leaving a ``with SQLiteStore(path) as store:`` block does. Other
        threads' connections close when their thread's objects are collected.
        """
        con = getattr(self._local, "con", None)
        self._local.file = None  # the next connection opens the file then at the path
        if con is not None:
            self._local.con = None
            con.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

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
        con = self._connection()
        try:
            con.execute("BEGIN IMMEDIATE")
        except _SQLITE_ERRORS as exc:
            raise self._translate(exc) from None
        try:
            # A connection on a file no longer at the path (removed, or replaced by another
            # store) would write where it is lost, or into the wrong store.
            self._check_identity(con)
            yield Writer(con)
            con.execute("COMMIT")
            _sqlite_scrub.retry(con)
        except BaseException as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            if isinstance(exc, sqlite3.IntegrityError) and "run_id" in str(exc):
                raise StoreError(f"a run with this id is already stored in {self.path}") from None
            if isinstance(exc, _SQLITE_ERRORS):
                raise self._translate(exc) from None
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

    # -- raw rows -----------------------------------------------------------------------------
    def _raw_run(self, run_id):
        if self._legacy:
            return None
        rows = self._query(
            "SELECT record, n_samples, n_input, row_ids, input_row_ids, event_seq FROM runs "
            "WHERE run_id = ?",
            (run_id,),
        )
        return rows[0] if rows else None

    def _raw_run_list(self):
        if self._legacy:
            rows = self._query("SELECT run_id, record FROM runs ORDER BY seq")
            return [(*row, None) for row in rows]
        # In the chain's order: the autoincrement seq is outside the chain, and
        # renumbering it must not reorder the runs listed.
        return self._query("SELECT run_id, record, created_at FROM runs ORDER BY event_seq")

    def _raw_source(self, source_id, sha256):
        rows = self._query(
            "SELECT record, n_parent_ids, parents, event_seq FROM sources "
            "WHERE source_id = ? AND sha256 = ?",
            (source_id, sha256),
        )
        return rows[0] if rows else None

    def _raw_sources(self):
        return self._iterate(
            "SELECT source_id, sha256, record, n_parent_ids, parents, event_seq FROM sources "
            "ORDER BY event_seq"
        )

    def _raw_source_versions(self, source_id):
        rows = self._query(
            "SELECT record FROM sources WHERE source_id = ? ORDER BY event_seq", (source_id,)
        )
        return [text for (text,) in rows]

    def _raw_leaves(self, run_id):
        if self.schema_version < 3:
            return {}
        rows = self._query("SELECT leaf, value, salt FROM run_leaves WHERE run_id = ?", (run_id,))
        return {leaf: (value, salt) for leaf, value, salt in rows}

    def _raw_prediction_salts(self):
        if self.schema_version < 4:
            return {}
        return dict(self._query("SELECT seq, salt FROM prediction_salts"))

    def _scrub(self):
        """Fold the write-ahead log into the file and truncate it: the pages that held
        erased values (overwritten in the file by ``secure_delete``) leave the log
        (see :mod:`._sqlite_scrub`)."""
        _sqlite_scrub.scrub(self, self._connection())

    def _erasure_left(self):
        return _sqlite_scrub.left(self.path, self._connection())

    _EVENT_COLUMNS = "seq, run_id, created_at, kind, payload, prev_hash, hash"

    def _raw_event(self, seq):
        rows = self._query(f"SELECT {self._EVENT_COLUMNS} FROM events WHERE seq = ?", (seq,))
        return rows[0] if rows else None

    def _raw_events(self, run_id=None):
        if run_id is None:
            return self._iterate(f"SELECT {self._EVENT_COLUMNS} FROM events ORDER BY seq")
        return self._iterate(
            f"SELECT {self._EVENT_COLUMNS} FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        )

    def _raw_checkpoints(self):
        if self._legacy:
            return []
        return [r[0] for r in self._query("SELECT record FROM checkpoints ORDER BY seq")]

    # -- runs -----------------------------------------------------------------------------------
    def load_run(self, run_id):
        if self._legacy:
            with self._snapshot():
                return _legacy.load_run(self, run_id)
        return super().load_run(run_id)

    load_run.__doc__ = BaseStore.load_run.__doc__

    def size_of_run(self, run_id):
        """Bytes the run's row ids take in the file."""
        rows = self._query(
            "SELECT length(row_ids) + coalesce(length(input_row_ids), 0) FROM runs "
            "WHERE run_id = ?",
            (run_id,),
        )
        if not rows:
            raise UnknownRunError(f"no run {run_id!r} in {self.path}")
        return int(rows[0][0])

    def checkpoint(self, private_key, *, path=None):
        if self.mode != "rw":
            return super().checkpoint(private_key, path=path)  # (refused)
        con = self._connection()
        # Writes are committed with synchronous=NORMAL: the last ones can roll back on a
        # power loss or system crash. A checkpoint (and its copy written to ``path``)
        # must never cover events that could then be lost, or verify() would later
        # report them cut from the log: its transaction syncs the log to disk, and with
        # it every write before it.
        con.execute("PRAGMA synchronous=FULL")
        try:
            return super().checkpoint(private_key, path=path)
        finally:
            # (left at FULL, writes are only slower: this must not hide an error)
            with contextlib.suppress(*_SQLITE_ERRORS):
                con.execute("PRAGMA synchronous=NORMAL")

    checkpoint.__doc__ = BaseStore.checkpoint.__doc__

    # -- checks -------------------------------------------------------------------------------
    def check_integrity(self, public_key=None, *, checkpoint=None, allow_unsigned_tail=False):
        if self._legacy:
            with self._snapshot():
                problems, counts = _legacy.audit(self)
            if problems:
                self._refuse_writes(describe(problems[0]))
                raise_problems(repr(self), problems)
            raise StoreError(
                f"{self.path} has schema version 1 (sktraceprop 0.1): its hash chain of "
                f"{counts['events']} audit events is intact and its {counts['runs']} runs "
                "load, but runs and sources are not under the chain, so edits to them could "
                "not be detected. Copy the runs into a new store to put them under one."
            )
        return super().check_integrity(
            public_key, checkpoint=checkpoint, allow_unsigned_tail=allow_unsigned_tail
        )

    check_integrity.__doc__ = BaseStore.check_integrity.__doc__

    def check(self, full=True, *, public_key=None, checkpoint=None, allow_unsigned_tail=False):
        """Check the whole file, read-only: SQLite's pages, then everything :meth:`verify` does.

        1. SQLite's ``PRAGMA integrity_check`` (``full=True``: every page, b-tree, index
           and constraint) or ``PRAGMA quick_check`` (``full=False``: the same without
           matching indexes to their tables; much faster on large files).
        2. What :meth:`verify` checks: the hash chain, every run and source against its
           digest in the chain (each run decoded, within the size it declares), the
           checkpoints (their signatures with ``public_key``).

        Both run on a separate read-only connection: the file is never modified,
        whatever they find.

        Parameters
        ----------
        full : bool, default=True
            Run ``integrity_check`` rather than ``quick_check``.
        public_key, checkpoint, allow_unsigned_tail
            As for :meth:`verify`.

        Returns
        -------
        report : dict
            ``path``, ``sqlite_check`` (the pragma that ran), and what
            :meth:`check_integrity` reports: ``runs``, ``sources``, ``events``,
            ``checkpoints``, ``chain_head`` (the hash of the last audit event, 64 zeros
            when there is none), ``last_seq``, ``signed_through``, ``key_fingerprint``,
            ``not_shown`` (what the check cannot show, in words), ``erased_bytes_left``
            (an erasure not yet wiped from the file and its write-ahead log, in words;
            ``[]`` when none).

        Raises
        ------
        CorruptStoreError
            If any check fails. The message lists what is wrong; its ``problems``
            attribute holds the same as a list of dicts with keys ``check``
            (``"integrity_check"``, ``"quick_check"``, ``"schema"``, ``"hash_chain"``,
            ``"runs"``, ``"sources"`` or ``"checkpoints"``), ``message``, and ``seq``,
            ``run_id``, ``source_id`` or ``checkpoint`` where they apply. This handle
            then refuses writes.
        StoreError
            If the file no longer holds the store this handle opened (removed, or replaced
            by another), or has schema version 1 (see the class notes).

        See Also
        --------
        verify : The same without SQLite's own check, on any store.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from sktraceprop.stores import SQLiteStore
        >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "audit.db")
        >>> store.check(full=False)["sqlite_check"]
        'quick_check'
        """
        opened = getattr(self._local, "file", None)
        if file_id(self.path) is None or (opened is not None and file_id(self.path) != opened):
            raise self._not_the_file_opened()
        pragma = "integrity_check" if full else "quick_check"
        con = self._open_readonly()
        problems = []
        try:
            # the file at the path must hold this handle's store: another one's checks
            # would be reported under this handle's name (and its store_id)
            changed = self._schema_changed(con)
            if changed is not None:
                raise changed
            try:
                messages = [r[0] for r in con.execute(f"PRAGMA {pragma}")]
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                # too damaged for the pragma to finish
                messages = [str(exc)]
            if messages != ["ok"]:
                problems += [{"check": pragma, "message": m} for m in messages]
            try:
                names = self._schema_names(con)
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                names = []
                problems.append({"check": "schema", "message": f"unreadable: {exc}"})
            if not self._legacy and names:
                wrong = trigger_problem(
                    {n: sql for n, kind, sql in names if kind == "trigger"}, self.schema_version
                )
                if wrong:
                    problems.append({"check": "schema", "message": wrong})
            con.isolation_level = None
            self._local.override = con
            try:
                report = check_with(
                    self, problems, self.path, public_key, checkpoint, allow_unsigned_tail
                )
            finally:
                self._local.override = None
            self._check_read(con)
        finally:
            con.close()
        return {"path": self.path, "sqlite_check": pragma, **report}
