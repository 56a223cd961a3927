"""SQLite store: the embedded default for lineage that must persist."""

import json
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

from .._lineage._run import Lineage
from .._lineage._source import Source, utc_now
from ..exceptions import CorruptStoreError, StoreError, UnknownRunError
from ._base import GENESIS, BaseStore, decode_ids, encode_ids, make_event

SCHEMA_VERSION = 1
APP = "sktraceprop"
_MAGIC = b"SQLite format 3\x00"

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

    Notes
    -----
    Several processes may write to one file at once: each run is one ``BEGIN IMMEDIATE``
    transaction, and SQLite serialises them.
    """

    def __init__(self, path, *, timeout=60.0):
        self.path = os.fspath(path)
        self.timeout = timeout
        self._local = threading.local()
        self._check_and_init()

    def __getstate__(self):
        return {"path": self.path, "timeout": self.timeout}

    def __setstate__(self, state):
        self.__dict__.update(state)
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
        self._initialise()

    def _check_existing(self):
        uri = Path(self.path).resolve().as_uri() + "?mode=ro"
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

    def _query(self, sql, args=()):
        try:
            return self._connection().execute(sql, args).fetchall()
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
                        parents = encode_ids(np.asarray(source.parents).ravel())
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
        rows = self._query(
            "SELECT record, row_ids, input_row_ids FROM runs WHERE run_id = ?", (run_id,)
        )
        if not rows:
            raise UnknownRunError(f"no run {run_id!r} in {self.path}")
        record, row_ids, input_row_ids = rows[0]
        try:
            d = json.loads(record)
        except json.JSONDecodeError as exc:
            raise CorruptStoreError(f"run {run_id} in {self.path} is corrupt: {exc}") from None
        sources = {}
        for s in d["sources"]:
            parents = None
            found = self._query(
                "SELECT parents FROM sources WHERE source_id = ? AND sha256 = ?",
                (s["source_id"], s["sha256"]),
            )
            if found and found[0][0] is not None:
                parents = decode_ids(found[0][0]).reshape(-1, 2)
            sources[s["code"]] = Source.from_dict(s, parents=parents)
        return Lineage.from_dict(
            d, decode_ids(row_ids), decode_ids(input_row_ids), sources=sources
        )

    def _run_rows(self):
        rows = self._query(
            "SELECT run_id, created_at, estimator, n_samples, record FROM runs ORDER BY seq"
        )
        return [
            (r[0], r[1], r[2], r[3], [s["source_id"] for s in json.loads(r[4])["sources"]])
            for r in rows
        ]

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
            event["payload"] = json.loads(event["payload"])
            out.append(event)
        return out
