"""SQLite store: the embedded default for lineage that must persist."""

import contextlib
import os
import threading

from .._state_format import check_state, stamp_state
from ..exceptions import StoreError, UnknownRunError
from . import _legacy, _sqlite_scrub
from ._base import BaseStore, check_timeout
from ._integrity import describe, raise_problems
from ._sqlite_check import check_file
from ._sqlite_connection import ConnectionMixin
from ._sqlite_errors import SQLITE_ERRORS as _SQLITE_ERRORS
from ._sqlite_open import OpeningMixin
from ._sqlite_raw import RawReadsMixin
from ._sqlite_transaction import check_durability, set_sync
from ._sqlite_wal import fold
from ._upgrade_repair import UpgradeRepairMixin

_MODES = ("rw", "ro")
_CHECK_ON_OPEN = ("header", "quick", "full")


class SQLiteStore(OpeningMixin, ConnectionMixin, RawReadsMixin, UpgradeRepairMixin, BaseStore):
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
    durability : {"full", "fast"}, default="full"
        ``"full"``: each write (a run, a logged prediction, an erasure, an unlearning) is
        on disk before the call returns (``synchronous=FULL``): what the store said it
        recorded survives a power loss or an operating-system crash. ``"fast"``: in WAL
        mode, ``synchronous=NORMAL``; appends are faster and the file stays consistent,
        but the last writes before a power loss or system crash can be lost after the
        call said they were recorded (a killed process loses nothing). A checkpoint
        syncs all before it either way; a rollback journal always gets ``FULL``
        (``NORMAL`` can corrupt the file there). Shown in ``repr``.

    Notes
    -----
    :meth:`verify` (and :meth:`check_integrity`, and :meth:`checkpoint` before it
    signs) first runs SQLite's ``PRAGMA integrity_check`` on a read-only connection:
    the audit reads the tables only, so a damaged index page, or an index entry that
    points at another row, would pass it while reads through that index (the events
    of one run, a run by its id) return wrong rows. Its first problem names the
    damaged tables and indexes (``damaged``) where SQLite's ``dbstat`` can tell. The
    sync level of a write (see ``durability``) is chosen from the file's journal mode,
    read from the file before each write.

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

    #: SQLite refuses a value over ``SQLITE_MAX_LENGTH`` (1e9 bytes as built by default).
    _max_value_bytes = 1_000_000_000

    def __init__(
        self, path, *, mode="rw", timeout=60.0, check_on_open="header", durability="full"
    ):
        if not isinstance(mode, str) or mode not in _MODES:
            raise ValueError(f"mode must be 'rw' or 'ro'; got {mode!r}")
        if not isinstance(check_on_open, str) or check_on_open not in _CHECK_ON_OPEN:
            raise ValueError(
                f"check_on_open must be one of {', '.join(map(repr, _CHECK_ON_OPEN))}; "
                f"got {check_on_open!r}"
            )
        check_timeout(timeout)
        check_durability(durability)
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
        self.durability = durability
        self._local = threading.local()
        self._open()

    _state_format = 1  # (its pickle records it: see _state_format)

    def __getstate__(self):
        return stamp_state(
            self,
            {
                "path": self.path,
                "mode": self.mode,
                "timeout": self.timeout,
                "check_on_open": self.check_on_open,
                "durability": self.durability,
                "_meta": self._meta,
                "_legacy": self._legacy,
                "_immutable": self._immutable,
                "_integrity_failure": getattr(self, "_integrity_failure", None),
            },
        )

    def __setstate__(self, state):
        state = check_state(self, state)
        self.__dict__.update({"durability": "full", **state})  # (pickled before it)
        self._local = threading.local()

    def __repr__(self):
        extra = ", mode='ro'" if self.mode == "ro" else ""
        extra += ", durability='fast'" if self.durability == "fast" else ""
        return f"SQLiteStore({self.path!r}{extra})"

    @property
    def store_id(self):
        return self._meta.get("store_id", "")

    @property
    def schema_version(self):
        """Schema version of the file (1: sktraceprop 0.1, read-only here)."""
        return int(self._meta.get("schema_version", 0))

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

    # -- erasure -----------------------------------------------------------------------------
    def _scrub(self):
        """Fold the write-ahead log into the file and truncate it: the pages that held
        erased values (overwritten in the file by ``secure_delete``) leave the log
        (see :mod:`._sqlite_scrub`)."""
        _sqlite_scrub.scrub(self, self._connection())

    def _erasure_left(self):
        return _sqlite_scrub.left(self.path, self._connection())

    # -- runs -----------------------------------------------------------------------------------
    def load_run(self, run_id):
        if self._legacy:
            with self._snapshot():
                return _legacy.load_run(self, run_id)
        return super().load_run(run_id)

    load_run.__doc__ = BaseStore.load_run.__doc__

    def _fingerprint_scheme(self, run_id):
        if self._legacy:  # (0.1 runs: not under the chain, their scheme set on load)
            return self.load_run(run_id).fingerprint_scheme
        return super()._fingerprint_scheme(run_id)

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
        # durability="fast" commits with synchronous=NORMAL in WAL mode (the last writes
        # can roll back on a power loss); a checkpoint (and its copy at ``path``) must
        # not cover events that could then be lost, or verify() would report them cut:
        # its transaction syncs the log to disk, and every write before it.
        self._local.full_sync = True
        try:
            return super().checkpoint(private_key, path=path)
        finally:
            self._local.full_sync = False
            # (left at FULL, writes are only slower: this must not hide an error)
            with contextlib.suppress(*_SQLITE_ERRORS):
                set_sync(con, fast=self._fast_sync())

    checkpoint.__doc__ = BaseStore.checkpoint.__doc__

    def fold_wal(self):
        """Copy the pages of the write-ahead log into the database file now.

        A passive checkpoint (SQLite's ``PRAGMA wal_checkpoint(PASSIVE)``): it waits
        for no other connection, and folds what no reader still needs. SQLite folds the
        log by itself inside the commit that takes it over 1,000 pages, so that one call
        (a logged prediction, an appended event) takes longer than the others; calling
        this between calls (in a service's idle time, or every few calls) keeps the log
        short and that cost out of the calls. Nothing stored
        changes, and every commit was already on disk when it returned (with
        ``durability="full"``). Not :meth:`checkpoint`, which signs the hash chain.

        Returns
        -------
        result : dict
            ``wal_frames``: pages in the log; ``folded_frames``: how many of them are now
            in the database file (fewer where a reader still uses the rest; a later fold
            copies them). Both None where the file is not in WAL mode (a rollback
            journal keeps no log to fold).

        Raises
        ------
        StorePermissionError
            If the store was opened with ``mode="ro"`` (or its file is read-only).
        CorruptStoreError
            If this handle refuses writes (it found the store damaged).
        """
        return fold(self)

    # -- checks -------------------------------------------------------------------------------
    def check_integrity(self, public_key=None, *, checkpoint=None, allow_unsigned_tail=False):
        if not getattr(self._local, "pages_checked", False):
            # SQLite's pages first: the audit reads no index, so damage there passes it
            return check_file(
                self,
                True,
                triggers=False,
                audit_here=False,
                where=repr(self),
                public_key=public_key,
                checkpoint=checkpoint,
                tail=allow_unsigned_tail,
            )
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
        """Check the whole file, read-only: SQLite's pages, the triggers, then what
        :meth:`verify` checks.

        1. SQLite's ``PRAGMA integrity_check`` (``full=True``: every page, b-tree, index
           and constraint, as :meth:`verify` runs it) or ``PRAGMA quick_check``
           (``full=False``: the same without matching indexes to their tables; an
           index entry that points at another row passes it).
        2. The append-only triggers, as they are now, and the indexes against those
           of the store's schema version (none dropped or redefined; one added outside
           sktraceprop is named in ``notes``, not refused).
        3. What :meth:`verify` checks: the hash chain, every run and source against its
           digest in the chain (each run decoded, within the size it declares), the
           checkpoints (their signatures with ``public_key``).

        All run on a separate read-only connection: the file is never modified,
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
            ``[]`` when none), ``times_set_back`` and ``upgrades`` (each schema upgrade,
            with its ``store.upgrade`` event's ``event_seq`` or None where none records
            it), ``notes`` (an index added outside sktraceprop, in words).

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
        verify : SQLite's ``integrity_check`` and the audit, without the triggers.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from sktraceprop.stores import SQLiteStore
        >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "audit.db")
        >>> store.check(full=False)["sqlite_check"]
        'quick_check'
        """
        report = check_file(
            self,
            full,
            triggers=True,
            audit_here=True,
            where=self.path,
            public_key=public_key,
            checkpoint=checkpoint,
            tail=allow_unsigned_tail,
        )
        pragma = "integrity_check" if full else "quick_check"
        return {"path": self.path, "sqlite_check": pragma, **report}
