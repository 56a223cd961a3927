"""SQLite store: the embedded default for lineage that must persist."""

import json
import os
import sqlite3
import threading
from pathlib import Path

from .._lineage._run import Lineage
from .._lineage._source import Parents, Source, utc_now
from ..exceptions import CorruptStoreError, StoreError, UnknownRunError
from ._base import GENESIS, BaseStore, decode_ids, encode_ids, event_hash, make_event

SCHEMA_VERSION = 1
APP = "sktraceprop"
_MAGIC = b"SQLite format 3\x00"
_CHECK_ON_OPEN = ("header", "quick", "full")
_TABLES = ("stp_meta", "schema_version", "sources", "runs", "events")
_MAX_LISTED = 20  # problems named in a CorruptStoreError message (all are in .problems)

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS stp_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS sources (
        source_id TEXT NOT NULL, sha256 TEXT NOT NULL, record TEXT NOT NULL,
        parents BLOB, PRIMARY KEY (source_id, sha256))""",
    """CREATE TABLE IF NOT EXISTS runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT UNIQUE NOT NULL,
        created_at TEXT NOT NULL, estimator TEXT NOT NULL, n_samples INTEGER NOT NULL,
        record TEXT NOT NULL, row_ids BLOB NOT NULL, input_row_ids BLOB)""",
    """CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY, run_id TEXT, created_at TEXT NOT NULL, kind TEXT NOT NULL,
        payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
]
_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS {table}_append_only_{op} BEFORE {op.upper()} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"""
    for table in ("runs", "events")
    for op in ("update", "delete")
]


class SQLiteStore(BaseStore):
    """Runs and audit events in a SQLite file (WAL, transactions, schema version table).

    Parameters
    ----------
    path : str or path-like
        Database file; created with the schema if missing or empty. A file that is not
        a sktraceprop store (corrupt, or another application's database) raises
        :class:`~sktraceprop.exceptions.CorruptStoreError` and is left untouched.
    timeout : float, default=60.0
        Seconds to wait for another process's write transaction.
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
    transaction, and SQLite serialises them.

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
    """

    def __init__(self, path, *, timeout=60.0, check_on_open="header"):
        if not isinstance(check_on_open, str) or check_on_open not in _CHECK_ON_OPEN:
            raise ValueError(
                f"check_on_open must be one of {', '.join(map(repr, _CHECK_ON_OPEN))}; "
                f"got {check_on_open!r}"
            )
        self.path = os.fspath(path)
        self.timeout = timeout
        self.check_on_open = check_on_open
        self._local = threading.local()
        self._check_and_init()

    def __getstate__(self):
        return {"path": self.path, "timeout": self.timeout, "check_on_open": self.check_on_open}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("check_on_open", "header")
        self._local = threading.local()

    def __repr__(self):
        return f"SQLiteStore({self.path!r})"

    # -- connection and schema ----------------------------------------------------------------
    def _check_and_init(self):
        path = Path(self.path)
        if path.exists() and path.stat().st_size > 0:
            with open(path, "rb") as f:
                if f.read(16) != _MAGIC:
                    raise CorruptStoreError(
                        f"{self.path} is not a SQLite database (corrupt or another file type); "
                        "it was not modified."
                    )
            self._check_existing()
            if self.check_on_open != "header":
                self._check(full=self.check_on_open == "full")
        self._initialise()

    def _readonly_uri(self):
        return Path(self.path).resolve().as_uri() + "?mode=ro"

    def _check_existing(self):
        uri = self._readonly_uri()
        try:
            con = sqlite3.connect(uri, uri=True, timeout=self.timeout)
            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
                if not tables:
                    return
                if "stp_meta" not in tables:
                    raise CorruptStoreError(
                        f"{self.path} is a SQLite database of another application (no "
                        "stp_meta table); it was not modified."
                    )
                meta = dict(con.execute("SELECT key, value FROM stp_meta"))
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise CorruptStoreError(
                f"{self.path} is corrupt ({exc}); it was not modified."
            ) from None
        if meta.get("app") != APP:
            raise CorruptStoreError(f"{self.path} was not written by sktraceprop; not modified.")
        version = int(meta.get("schema_version", 0))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}; this sktraceprop reads up to "
                f"{SCHEMA_VERSION}. Upgrade sktraceprop."
            )

    def _initialise(self):
        with self._transaction() as con:
            for statement in _SCHEMA + _TRIGGERS:
                con.execute(statement)
            con.execute("INSERT OR IGNORE INTO stp_meta VALUES ('app', ?)", (APP,))
            con.execute(
                "INSERT OR IGNORE INTO stp_meta VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            con.execute(
                "INSERT OR IGNORE INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION, utc_now())
            )

    def _connection(self):
        con = getattr(self._local, "con", None)
        if con is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.DatabaseError as exc:
                raise CorruptStoreError(f"{self.path}: {exc}") from None
            self._local.con, self._local.pid = con, os.getpid()
        return con

    def close(self):
        """Close this thread's connection to the file (a later call opens a new one).

        Also what leaving a ``with SQLiteStore(path) as store:`` block does. Other
        threads' connections close when their thread's objects are collected.
        """
        con = getattr(self._local, "con", None)
        if con is not None:
            self._local.con = None
            con.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    class _Tx:
        def __init__(self, store):
            self.store = store

        def __enter__(self):
            self.con = self.store._connection()
            try:
                self.con.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise CorruptStoreError(f"{self.store.path}: {exc}") from None
            return self.con

        def __exit__(self, exc_type, exc, tb):
            if exc_type is None:
                self.con.execute("COMMIT")
            else:
                self.con.execute("ROLLBACK")
            return False

    def _transaction(self):
        return self._Tx(self)

    def _query(self, sql, args=(), con=None):
        try:
            return (self._connection() if con is None else con).execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise CorruptStoreError(f"{self.path}: {exc}") from None

    # -- runs -----------------------------------------------------------------------------------
    def save_run(self, lineage):
        record = lineage.to_dict()
        try:
            with self._transaction() as con:
                for source in lineage.sources.values():
                    parents = None
                    if source.parents is not None:
                        parents = encode_ids(source.parents.to_flat())
                    con.execute(
                        "INSERT OR IGNORE INTO sources VALUES (?, ?, ?, ?)",
                        (source.source_id, source.sha256, json.dumps(source.to_dict()), parents),
                    )
                con.execute(
                    "INSERT INTO runs (run_id, created_at, estimator, n_samples, record, "
                    "row_ids, input_row_ids) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        lineage.run_id,
                        lineage.created_at,
                        lineage.estimator,
                        lineage.n_samples,
                        json.dumps(record),
                        encode_ids(lineage.row_ids),
                        None
                        if lineage.input_row_ids is None
                        else encode_ids(lineage.input_row_ids),
                    ),
                )
        except sqlite3.IntegrityError:
            raise StoreError(
                f"run {lineage.run_id} is already stored in {self.path}; runs are append-only"
            ) from None
        return lineage.run_id

    def load_run(self, run_id):
        return self._load_run(run_id)

    def _load_run(self, run_id, con=None):
        rows = self._query(
            "SELECT record, row_ids, input_row_ids FROM runs WHERE run_id = ?", (run_id,), con
        )
        if not rows:
            raise UnknownRunError(f"no run {run_id!r} in {self.path}")
        record, row_ids, input_row_ids = rows[0]
        try:
            d = json.loads(record)
            sources = {}
            for s in d["sources"]:
                parents = None
                found = self._query(
                    "SELECT parents FROM sources WHERE source_id = ? AND sha256 = ?",
                    (s["source_id"], s["sha256"]),
                    con,
                )
                if found and found[0][0] is not None:
                    parents = Parents.from_flat(decode_ids(found[0][0]), int(s["n_rows"]))
                sources[s["code"]] = Source.from_dict(s, parents=parents)
            return Lineage.from_dict(
                d, decode_ids(row_ids), decode_ids(input_row_ids), sources=sources
            )
        except (CorruptStoreError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # A record that is not JSON, misses fields, or row ids that do not decode.
            detail = str(exc) if isinstance(exc, CorruptStoreError) else repr(exc)
            raise CorruptStoreError(f"run {run_id} in {self.path} is corrupt: {detail}") from None

    def _run_rows(self):
        rows = self._query(
            "SELECT run_id, created_at, estimator, n_samples, record FROM runs ORDER BY seq"
        )
        out = []
        for r in rows:
            try:
                sources = [s["source_id"] for s in json.loads(r[4])["sources"]]
            except (ValueError, KeyError, TypeError) as exc:
                raise CorruptStoreError(
                    f"run {r[0]} in {self.path} is corrupt: {exc!r}; SQLiteStore.check() "
                    "lists every problem"
                ) from None
            out.append((r[0], r[1], r[2], r[3], sources))
        return out

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

    # -- audit events ---------------------------------------------------------------------------
    def append_event(self, kind, payload, run_id=None):
        with self._transaction() as con:
            last = con.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            event = make_event(prev, kind, payload, run_id, seq)
            con.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event["seq"],
                    event["run_id"],
                    event["created_at"],
                    event["kind"],
                    json.dumps(event["payload"], sort_keys=True),
                    event["prev_hash"],
                    event["hash"],
                ),
            )
        return event

    def events(self, run_id=None):
        sql = "SELECT seq, run_id, created_at, kind, payload, prev_hash, hash FROM events"
        args = ()
        if run_id is not None:
            sql += " WHERE run_id = ?"
            args = (run_id,)
        keys = ("seq", "run_id", "created_at", "kind", "payload", "prev_hash", "hash")
        out = []
        for row in self._query(sql + " ORDER BY seq", args):
            event = dict(zip(keys, row))
            try:
                event["payload"] = json.loads(event["payload"])
            except (ValueError, TypeError) as exc:
                raise CorruptStoreError(
                    f"audit event {event['seq']} in {self.path} is corrupt: {exc}"
                ) from None
            out.append(event)
        return out

    # -- full check -----------------------------------------------------------------------------
    def check(self, full=True):
        """Check the whole file, read-only: SQLite's pages, the audit chain, every run.

        Three checks run, on a separate read-only connection (the file is never
        modified, whatever they find):

        1. SQLite's ``PRAGMA integrity_check`` (``full=True``: every page, b-tree, index
           and constraint) or ``PRAGMA quick_check`` (``full=False``: the same without
           matching indexes to their tables; much faster on large files).
        2. The hash chain of the audit events, as :meth:`verify` does, naming every event
           that does not match its hash or is not linked to the event before it.
        3. Every stored run is loaded as :meth:`load_run` does: its record decodes, its
           row ids and its sources' merge parents decompress, and its id and row count
           agree with the run's row.

        Parameters
        ----------
        full : bool, default=True
            Run ``integrity_check`` rather than ``quick_check``.

        Returns
        -------
        report : dict
            ``path``; ``sqlite_check`` (the pragma that ran); ``runs`` and ``events``
            (how many were checked); ``chain_head``, the hash of the last audit event (64
            zeros when there is none). Keep ``chain_head`` elsewhere: a hash chain cannot
            show that events were removed from its end, a later check against a kept head
            can.

        Raises
        ------
        CorruptStoreError
            If any check fails. The message lists what is wrong (the check, and the run
            id or event seq where there is one); its ``problems`` attribute holds the same
            as a list of dicts with keys ``check`` (``"integrity_check"``,
            ``"quick_check"``, ``"schema"``, ``"hash_chain"`` or ``"runs"``), ``message``,
            and ``seq`` or ``run_id`` where they apply.
        StoreError
            If the file no longer exists.

        See Also
        --------
        verify : The hash-chain check alone, on any store.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from sktraceprop.stores import SQLiteStore
        >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "audit.db")
        >>> store.check(full=False)["sqlite_check"]
        'quick_check'
        """
        return self._check(full=bool(full))

    def _check(self, full):
        if not Path(self.path).exists():
            raise StoreError(f"{self.path} does not exist")
        pragma = "integrity_check" if full else "quick_check"
        report = {"path": self.path, "sqlite_check": pragma, "runs": 0, "events": 0}
        report["chain_head"] = GENESIS
        problems = []
        try:
            con = sqlite3.connect(self._readonly_uri(), uri=True, timeout=self.timeout)
        except sqlite3.DatabaseError as exc:
            raise CorruptStoreError(f"{self.path} cannot be opened read-only: {exc}") from None
        try:
            self._check_sqlite(con, pragma, problems)
            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            except sqlite3.DatabaseError as exc:
                problems.append({"check": "schema", "message": f"unreadable: {exc}"})
                tables = set()
            if tables:  # an empty database has nothing more to check
                missing = [t for t in _TABLES if t not in tables]
                if missing:
                    message = f"missing table(s) {', '.join(missing)}"
                    problems.append({"check": "schema", "message": message})
                if "events" in tables:
                    self._check_chain(con, problems, report)
                if "runs" in tables and "sources" in tables:
                    self._check_runs(con, problems, report)
        finally:
            con.close()
        if problems:
            lines = [_describe(p) for p in problems[:_MAX_LISTED]]
            if len(problems) > _MAX_LISTED:
                lines.append(f"... and {len(problems) - _MAX_LISTED} more")
            error = CorruptStoreError(
                f"{self.path} failed its {'full' if full else 'quick'} check ({len(problems)} "
                "problem(s)); it was not modified:\n  - " + "\n  - ".join(lines)
            )
            error.problems = problems
            raise error
        return report

    @staticmethod
    def _check_sqlite(con, pragma, problems):
        try:
            messages = [r[0] for r in con.execute(f"PRAGMA {pragma}")]
        except sqlite3.DatabaseError as exc:  # too damaged for the pragma to finish
            messages = [str(exc)]
        if messages != ["ok"]:
            for message in messages:
                problems.append({"check": pragma, "message": message})

    @staticmethod
    def _check_chain(con, problems, report):
        prev, seq = GENESIS, None
        try:
            cursor = con.execute(
                "SELECT seq, run_id, created_at, kind, payload, prev_hash, hash FROM events "
                "ORDER BY seq"
            )
            for seq, run_id, created_at, kind, payload, prev_hash, stored in cursor:
                report["events"] += 1
                try:
                    payload = json.loads(payload)
                except (ValueError, TypeError) as exc:
                    message = f"payload is not JSON ({exc})"
                    problems.append({"check": "hash_chain", "seq": seq, "message": message})
                    prev = stored
                    continue
                record = {
                    "seq": seq,
                    "run_id": run_id,
                    "created_at": created_at,
                    "kind": kind,
                    "payload": payload,
                }
                if prev_hash != prev:
                    message = (
                        "is not linked to the event before it (an event was removed, "
                        "inserted or reordered)"
                    )
                    problems.append({"check": "hash_chain", "seq": seq, "message": message})
                if event_hash(prev_hash, record) != stored:
                    message = "does not match its hash: the event was altered"
                    problems.append({"check": "hash_chain", "seq": seq, "message": message})
                prev = stored
        except sqlite3.DatabaseError as exc:
            where = "from the start" if seq is None else f"after event {seq}"
            message = f"events unreadable {where}: {exc}"
            problems.append({"check": "hash_chain", "message": message})
        report["chain_head"] = prev

    def _check_runs(self, con, problems, report):
        try:
            rows = con.execute("SELECT run_id, n_samples FROM runs ORDER BY seq").fetchall()
        except sqlite3.DatabaseError as exc:
            problems.append({"check": "runs", "message": f"runs unreadable: {exc}"})
            return
        for run_id, n_samples in rows:
            report["runs"] += 1
            try:
                run = self._load_run(run_id, con)
            except StoreError as exc:  # CorruptStoreError, or UnknownRunError (bad index)
                message = f"cannot be loaded: {exc}"
                problems.append({"check": "runs", "run_id": run_id, "message": message})
                continue
            if run.run_id != run_id or run.n_samples != n_samples:
                message = (
                    f"record says run {run.run_id} with {run.n_samples} rows; the runs table "
                    f"says {run_id} with {n_samples}"
                )
                problems.append({"check": "runs", "run_id": run_id, "message": message})


def _describe(problem):
    where = ""
    if problem.get("seq") is not None:
        where = f" audit event {problem['seq']}"
    elif problem.get("run_id") is not None:
        where = f" run {problem['run_id']}"
    return f"{problem['check']}:{where} {problem['message']}"
