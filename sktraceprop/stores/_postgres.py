"""PostgreSQL store (psycopg 3): the same runs, chain and checkpoints, for teams."""

import contextlib
import os
import threading
import uuid
import warnings

from .._lineage._source import utc_now
from ..exceptions import (
    CorruptStoreError,
    StoreBusyError,
    StoreConnectionError,
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
)
from ..utils._stack import user_stacklevel
from . import _postgres_scrub
from ._base import BaseStore, check_timeout
from ._identity import store_gone, store_replaced, store_upgraded
from ._integrity import check_with, schema_error
from ._postgres_guards import guard_problems, guard_statements

SCHEMA_VERSION = 4
APP = "sktraceprop"
_MODES = ("rw", "ro")
_TABLES_2 = ("stp_meta", "schema_version", "sources", "runs", "events", "checkpoints")
#: Version 3 adds the values of sealed runs (see stores/_sealed.py): erased, never updated.
_TABLES_3 = (*_TABLES_2, "run_leaves")
#: Version 4 adds the salts of salted prediction events (stores/_prediction_salts.py).
_TABLES = (*_TABLES_3, "prediction_salts")
_TABLES_BY_VERSION = {2: _TABLES_2, 3: _TABLES_3, SCHEMA_VERSION: _TABLES}
_ERASABLE = ("run_leaves", "prediction_salts")
_SALTS_TABLE = "CREATE TABLE {salts} (seq BIGINT PRIMARY KEY, salt TEXT NOT NULL)"
_EVENT_COLUMNS = "seq, run_id, created_at, kind, payload, prev_hash, hash"


def _psycopg():
    try:
        import psycopg
        from psycopg import errors, sql
    except ImportError:
        raise ImportError(
            "PostgresStore needs psycopg 3: pip install 'sktraceprop[postgres]'"
        ) from None
    return psycopg, errors, sql


class PostgresStore(BaseStore):
    """Runs, audit events and checkpoints in a PostgreSQL database, under one hash chain.

    The same semantics as :class:`SQLiteStore`: every table is append-only (triggers
    refuse ``UPDATE``, ``DELETE`` and ``TRUNCATE``), each run is one transaction with
    its audit events, writers are serialised by a table lock so the chain stays
    linear, and opening never creates or alters anything in an existing schema. SQL
    is parameterised throughout (identifiers quoted by psycopg). Opening compares the
    append-only triggers and their function with what the store installed (as
    :meth:`check` does): a store whose guards were dropped, disabled, redefined or
    worked around opens for reading and refuses writes, naming what was changed.

    Parameters
    ----------
    dsn : str
        A libpq connection string or URI (``"postgresql://user@host:5432/db"``).
    schema : str, default="sktraceprop"
        The PostgreSQL schema holding the store's tables. Created (with the tables)
        when it does not exist, which needs the ``CREATE`` privilege on the database;
        an existing schema must hold a complete store.
    mode : {"rw", "ro"}, default="rw"
        ``"ro"``: every transaction is read-only, and writes raise
        :class:`~sktraceprop.exceptions.StorePermissionError` (for auditors).
    timeout : float, default=60.0
        Seconds (a finite number >= 0) to wait to connect (at least 1 s), and for
        another writer's lock (at least 1 ms), before raising
        :class:`~sktraceprop.exceptions.StoreConnectionError` or
        :class:`~sktraceprop.exceptions.StoreBusyError`.

    Notes
    -----
    A connection lost during a write (a server restart, a terminated backend) leaves
    nothing half-written: PostgreSQL rolls the transaction back. The store then
    reconnects, looks whether the write was committed before the connection dropped,
    and otherwise retries it once; if the server cannot be reached it raises
    :class:`~sktraceprop.exceptions.StoreConnectionError` saying whether anything may
    have been written.

    Examples
    --------
    >>> store = PostgresStore("postgresql://lineage@db.example.org/lineage")  # doctest: +SKIP
    >>> store.verify()  # doctest: +SKIP
    True
    """

    def __init__(self, dsn, *, schema="sktraceprop", mode="rw", timeout=60.0):
        if not isinstance(dsn, str) or not dsn:
            raise ValueError(f"dsn must be a non-empty connection string; got {dsn!r}")
        if not isinstance(schema, str) or not schema:
            raise ValueError(f"schema must be a non-empty string; got {schema!r}")
        if not isinstance(mode, str) or mode not in _MODES:
            raise ValueError(f"mode must be 'rw' or 'ro'; got {mode!r}")
        check_timeout(timeout)
        _psycopg()
        self.dsn = dsn
        self.schema = schema
        self.mode = mode
        self.timeout = timeout
        self._local = threading.local()
        self._meta = {}
        self._open()

    def __getstate__(self):
        return {
            "dsn": self.dsn,
            "schema": self.schema,
            "mode": self.mode,
            "timeout": self.timeout,
            "_meta": self._meta,
            "_integrity_failure": getattr(self, "_integrity_failure", None),
        }

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def __repr__(self):
        extra = ", mode='ro'" if self.mode == "ro" else ""
        return f"PostgresStore(schema={self.schema!r}{extra})"

    @property
    def store_id(self):
        return self._meta.get("store_id", "")

    # -- connections ------------------------------------------------------------------------
    def _t(self, name):
        _, _, sql = _psycopg()
        return sql.Identifier(self.schema, name)

    def _sql(self, text, **tables):
        _, _, sql = _psycopg()
        return sql.SQL(text).format(**{k: self._t(v) for k, v in tables.items()})

    def _connect(self):
        psycopg, _, _ = _psycopg()
        try:
            con = psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=max(1, int(self.timeout))
            )
            con.execute(
                "SELECT set_config('lock_timeout', %s, false), "
                "set_config('default_transaction_read_only', %s, false)",
                # lock_timeout 0 would wait for ever: at least 1 ms
                (f"{max(1, round(self.timeout * 1000))}ms", "on" if self.mode == "ro" else "off"),
            )
        except psycopg.Error as exc:
            raise self._translate(exc, connecting=True) from None
        return con

    def _connection(self):
        con = getattr(self._local, "con", None)
        if con is None or con.closed or con.broken or self._local.pid != os.getpid():
            con = self._connect()
            self._local.con, self._local.pid = con, os.getpid()
        return con

    def _reset(self):
        con = getattr(self._local, "con", None)
        self._local.con = None
        if con is not None:
            with contextlib.suppress(Exception):
                con.close()

    def close(self):
        """Close this thread's connection (a later call opens a new one)."""
        self._reset()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def _translate(self, exc, connecting=False, committing=False):
        _, errors, _ = _psycopg()
        text = str(exc).strip()
        if isinstance(
            exc,
            errors.LockNotAvailable
            | errors.QueryCanceled
            | errors.DeadlockDetected
            | errors.SerializationFailure,
        ):
            return StoreBusyError(
                f"{self!r}: another writer held the store longer than {self.timeout} s "
                f"({text}). Nothing was written. Retry, or raise timeout=."
            )
        if isinstance(exc, errors.InsufficientPrivilege | errors.ReadOnlySqlTransaction):
            return StorePermissionError(
                f"{self!r} cannot be written: {text}. Nothing was written. Grant the role "
                "INSERT on the store's tables, or open it with mode='ro' to read it."
            )
        if isinstance(exc, errors.InvalidCatalogName) or "does not exist" in text and connecting:
            return StoreNotFoundError(f"{self!r}: {text}")
        if isinstance(exc, errors.UndefinedTable | errors.InvalidSchemaName):
            gone = self._gone_or_replaced()
            if gone is not None:
                return gone
            message = (
                f"{self!r}: {text}: a table of the store was dropped outside sktraceprop; "
                "nothing is recreated"
            )
            self._refuse_writes(message)
            return CorruptStoreError(message)
        if connecting or isinstance(exc, errors.OperationalError):
            outcome = (
                "the transaction may or may not have been committed: check with "
                "list_runs()/events() before writing it again"
                if committing
                else "nothing was written"
            )
            error = StoreConnectionError(
                f"{self!r}: the PostgreSQL server could not be reached or the connection "
                f"was lost ({text}); {outcome}. Retry when the server is back."
            )
            error.committing = committing
            return error
        return StoreError(f"{self!r}: {text}")

    # -- opening ----------------------------------------------------------------------------
    def _open(self):
        psycopg, _, _ = _psycopg()
        con = self._connection()
        try:
            if self.mode == "rw" and not self._schema_exists(con):
                self._create(con)
            self._read_schema(con)
        except psycopg.Error as exc:
            raise self._translate(exc) from None
        if self.schema_version >= 3:
            _postgres_scrub.on_open(self, con)

    def _upgrade_to_salts(self):
        self._upgrade(self._connection())

    def _upgrade(self, con):
        """Upgrade a store of schema version 3 to 4 (a table of prediction salts, under
        the guards) in one transaction, unless another client just did; where it cannot
        (a role that does not own the tables), warn: it stays at version 3, logging
        unsalted."""
        psycopg, _, sql = _psycopg()
        try:
            with con.transaction():
                con.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"sktraceprop:{self.schema}",)
                )
                (version,) = con.execute(
                    self._sql("SELECT value FROM {m} WHERE key = 'schema_version'", m="stp_meta")
                ).fetchone()
                if version == "3":
                    con.execute(self._sql(_SALTS_TABLE, salts="prediction_salts"))
                    _, triggers = guard_statements(_TABLES, _ERASABLE)
                    schema = sql.Identifier(self.schema)
                    for name, statement in triggers.items():
                        if name.startswith("prediction_salts_"):
                            con.execute(sql.SQL(statement).format(schema=schema))
                    # stp_meta is append-only: its guard is dropped and made again
                    # around the one update, inside this transaction
                    guard = triggers["stp_meta_append_only"]
                    con.execute(
                        sql.SQL("DROP TRIGGER stp_meta_append_only ON {}").format(
                            sql.Identifier(self.schema, "stp_meta")
                        )
                    )
                    con.execute(
                        self._sql(
                            "UPDATE {m} SET value = %s WHERE key = 'schema_version'",
                            m="stp_meta",
                        ),
                        (str(SCHEMA_VERSION),),
                    )
                    con.execute(sql.SQL(guard).format(schema=schema))
                    con.execute(
                        self._sql("INSERT INTO {v} VALUES (%s, %s)", v="schema_version"),
                        (SCHEMA_VERSION, utc_now()),
                    )
            self._read_schema(con)
        except psycopg.Error as exc:
            warnings.warn(
                f"{self!r} has schema version 3 and could not be upgraded to version "
                f"{SCHEMA_VERSION} ({str(exc).strip()}): the calls its models log are not "
                "salted (the SHA-256 of their input rows stays in the chain, and "
                "erase_predictions cannot make them unfindable). A handle of the owner of "
                "its tables upgrades it.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

    def _schema_exists(self, con):
        found = con.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
        ).fetchone()
        return found is not None

    def _create(self, con):
        """Create schema, tables and triggers, unless another client just did."""
        with con.transaction():
            con.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"sktraceprop:{self.schema}",)
            )
            if self._schema_exists(con):
                return
            _, _, sql = _psycopg()
            con.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
            statements = [
                "CREATE TABLE {meta} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                "CREATE TABLE {version} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                """CREATE TABLE {sources} (
                    source_id TEXT NOT NULL, sha256 TEXT NOT NULL, record TEXT NOT NULL,
                    n_parent_ids BIGINT, parents BYTEA, event_seq BIGINT NOT NULL,
                    PRIMARY KEY (source_id, sha256))""",
                """CREATE TABLE {runs} (
                    run_id TEXT PRIMARY KEY, created_at TEXT NOT NULL, record TEXT NOT NULL,
                    n_samples BIGINT NOT NULL, n_input BIGINT, row_ids BYTEA NOT NULL,
                    input_row_ids BYTEA, event_seq BIGINT NOT NULL)""",
                """CREATE TABLE {events} (
                    seq BIGINT PRIMARY KEY, run_id TEXT, created_at TEXT NOT NULL,
                    kind TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL)""",
                # Row ids are encoded compactly already: TOAST compression (pglz) gains
                # nothing on them and took 1.2 s per 20 MB blob.
                "ALTER TABLE {runs} ALTER COLUMN row_ids SET STORAGE EXTERNAL, "
                "ALTER COLUMN input_row_ids SET STORAGE EXTERNAL",
                "ALTER TABLE {sources} ALTER COLUMN parents SET STORAGE EXTERNAL",
                "CREATE INDEX ON {events} (run_id)",
                "CREATE TABLE {checkpoints} (seq BIGINT PRIMARY KEY, record TEXT NOT NULL)",
                """CREATE TABLE {leaves} (
                    run_id TEXT NOT NULL, leaf BIGINT NOT NULL, value TEXT NOT NULL,
                    salt TEXT NOT NULL, PRIMARY KEY (run_id, leaf))""",
                _SALTS_TABLE,
            ]
            names = {
                "meta": "stp_meta",
                "version": "schema_version",
                "sources": "sources",
                "runs": "runs",
                "events": "events",
                "checkpoints": "checkpoints",
                "leaves": "run_leaves",
                "salts": "prediction_salts",
            }
            for statement in statements:
                con.execute(self._sql(statement, **names))
            function, triggers = guard_statements(_TABLES, _ERASABLE)
            for statement in (function, *triggers.values()):
                con.execute(sql.SQL(statement).format(schema=sql.Identifier(self.schema)))
            now = utc_now()
            con.cursor().executemany(
                self._sql("INSERT INTO {meta} VALUES (%s, %s)", meta="stp_meta"),
                [
                    ("app", APP),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("store_id", str(uuid.uuid4())),
                    ("created_at", now),
                ],
            )
            con.execute(
                self._sql("INSERT INTO {v} VALUES (%s, %s)", v="schema_version"),
                (SCHEMA_VERSION, now),
            )

    def _read_schema(self, con):
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (self.schema,),
            )
        }
        if not tables:
            raise (
                CorruptStoreError(
                    f"schema {self.schema!r} exists but holds no tables: not a sktraceprop "
                    "store, or one whose tables were dropped; nothing was created. Use a "
                    "schema name that does not exist yet."
                )
                if self._schema_exists(con)
                else StoreNotFoundError(
                    f"{self!r}: schema {self.schema!r} does not exist (mode='ro' never "
                    "creates a store)"
                )
            )
        if "stp_meta" not in tables:
            raise CorruptStoreError(
                f"schema {self.schema!r} holds another application's tables (no stp_meta); "
                "nothing was modified"
            )
        meta = dict(con.execute(self._sql("SELECT key, value FROM {m}", m="stp_meta")))
        if meta.get("app") != APP:
            raise CorruptStoreError(f"schema {self.schema!r} was not written by sktraceprop")
        try:
            version = int(meta.get("schema_version", 0))
        except ValueError:
            version = None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise StoreError(
                f"schema {self.schema!r} has store schema version {version}; this "
                f"sktraceprop reads up to {SCHEMA_VERSION}. Upgrade sktraceprop."
            )
        if version not in (2, 3, SCHEMA_VERSION):
            # no version this library ever wrote: the metadata was altered
            raise CorruptStoreError(
                f"schema {self.schema!r} has an unknown store schema version "
                f"{meta.get('schema_version')!r}; nothing was modified"
            )
        expected = _TABLES_BY_VERSION[version]
        if version < SCHEMA_VERSION and "prediction_salts" in tables:
            raise CorruptStoreError(
                f"schema {self.schema!r} says store schema version {version} but has a "
                "prediction_salts table, which only version 4 has: its version was "
                "altered outside sktraceprop; nothing was modified"
            )
        if version < 3 and "run_leaves" in tables:
            raise CorruptStoreError(
                f"schema {self.schema!r} says store schema version {version} but has a "
                "run_leaves table, which only version 3 has: its version was altered "
                "outside sktraceprop; nothing was modified"
            )
        missing = [t for t in expected if t not in tables]
        if missing:
            raise schema_error(
                f"schema {self.schema!r} is missing table(s) {', '.join(missing)}: altered "
                "outside sktraceprop (the audit log may have been erased); nothing was "
                "modified or recreated",
                f"missing table(s) {missing}",
            )
        problems = guard_problems(con, self.schema, expected, _ERASABLE)
        if problems:
            self._refuse_writes("; ".join(problems))
        self._meta = meta

    def check(self, full=True, *, public_key=None, checkpoint=None, allow_unsigned_tail=False):
        """Check the store's append-only guards as they are now, then what :meth:`verify` does.

        1. The triggers and their function, read from the server's catalog and
           compared with what the store installed (``pg_get_triggerdef``,
           ``pg_get_functiondef``): none dropped, disabled, redefined or added, no rule,
           no row-level security.
        2. What :meth:`verify` checks: the hash chain, every run and source against its
           digest in the chain, the checkpoints (their signatures with ``public_key``).

        Parameters
        ----------
        full : bool, default=True
            Accepted for the same call as :meth:`SQLiteStore.check
            <sktraceprop.stores.SQLiteStore.check>`; both checks run either way.
        public_key, checkpoint, allow_unsigned_tail
            As for :meth:`verify`.

        Returns
        -------
        report : dict
            As :meth:`check_integrity`.

        Raises
        ------
        CorruptStoreError
            If any check fails; its ``problems`` attribute lists each (``check`` is
            ``"schema"`` for the guards, else as for :meth:`verify`). This handle then
            refuses writes.
        """
        problems = [{"check": "schema", "message": m} for m in self._guard_problems()]
        return check_with(self, problems, repr(self), public_key, checkpoint, allow_unsigned_tail)

    def _guard_problems(self):
        """What was done to the append-only guards, read from the catalog now."""
        psycopg, _, _ = _psycopg()
        with self._snapshot():  # the store this handle opened, not another one since
            try:
                return guard_problems(self._connection(), self.schema, self._tables, _ERASABLE)
            except psycopg.Error as exc:
                raise self._translate(exc) from None

    def checkpoint(self, private_key, *, path=None):
        """Sign the chain head, as :meth:`BaseStore.checkpoint
        <sktraceprop.stores.BaseStore.checkpoint>` does, after reading the append-only
        guards again (see :meth:`check`).

        A handle kept open for months is told here that the guards were altered since
        it opened: nothing is signed (:class:`~sktraceprop.exceptions.CorruptStoreError`,
        naming the change), and the handle refuses writes.
        """
        problems = self._guard_problems()
        if problems:
            self._refuse_writes("; ".join(problems))
            self._check_writable()
        return super().checkpoint(private_key, path=path)

    def _writable_problem(self):
        if self.mode == "ro":
            return StorePermissionError(
                f"{self!r} was opened read-only (mode='ro'); nothing was written."
            )
        return None

    # -- transactions -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _writer(self):
        psycopg, _, _ = _psycopg()
        con = self._connection()
        committing = False
        try:
            with con.transaction():
                con.execute(self._sql("LOCK TABLE {e} IN SHARE ROW EXCLUSIVE MODE", e="events"))
                self._check_same_store(con)
                yield _Writer(self, con)
                committing = True
        except psycopg.Error as exc:
            raise self._translate(exc, committing=committing) from None
        _postgres_scrub.retry(self, con)

    def _check_same_store(self, con):
        """Raise unless the schema still holds the store, at the schema version, that this
        handle opened: one dropped and created again since (by another client) is another
        store (see :mod:`._identity`), and one upgraded by a newer sktraceprop is not read
        or written as this version. Every read and write checks this first, in its
        transaction."""
        psycopg, _, _ = _psycopg()
        keys = ("store_id", "schema_version", "created_at")
        try:
            now = dict(
                con.execute(
                    self._sql(
                        "SELECT key, value FROM {m} WHERE key IN (%s, %s, %s)", m="stp_meta"
                    ),
                    keys,
                )
            )
        except psycopg.Error as exc:
            raise self._translate(exc) from None
        if now.get("store_id") != self._meta.get("store_id"):
            raise store_replaced(
                self,
                f"schema {self.schema!r} was dropped and created again since this handle "
                "opened it",
                now,
                "Open it again with PostgresStore(dsn, schema=...).",
            )
        if (self._meta.get("schema_version"), now.get("schema_version")) == (
            "3",
            str(SCHEMA_VERSION),
        ):
            # upgraded by another client of this version (a table of prediction salts
            # added): read on as version 4
            self._meta = {**self._meta, "schema_version": str(SCHEMA_VERSION)}
            return
        if now.get("schema_version") != self._meta.get("schema_version"):
            raise store_upgraded(self, self._meta.get("schema_version"), now.get("schema_version"))

    def _gone_or_replaced(self):
        """The error for a schema dropped (or dropped and created again without the
        store's metadata) since this handle opened it, read on a connection of its own;
        None when the schema still holds this store (a table of it was dropped), or when
        the server cannot say."""
        if not self._meta:
            return None  # still opening: there is no store to compare with
        try:
            con = self._connect()
        except StoreError:
            return None
        try:
            if not self._schema_exists(con):
                return store_gone(
                    self,
                    f"schema {self.schema!r} was dropped (or renamed) since this handle "
                    "opened it: no schema of that name exists now",
                    "Open the store where it is now (PostgresStore(dsn, schema=...) on this "
                    "name would create a new, empty store).",
                )
            (table,) = con.execute(
                "SELECT to_regclass(quote_ident(%s) || '.stp_meta')", (self.schema,)
            ).fetchone()
            if table is not None:
                return None  # the metadata is there: _check_same_store compares it
            return store_replaced(
                self,
                f"schema {self.schema!r} holds no stp_meta table now (the schema was dropped "
                "and created again, or that table dropped)",
                None,
                "Open it again with PostgresStore(dsn, schema=...).",
            )
        except Exception:  # noqa: BLE001 (only the message depends on it)
            return None
        finally:
            con.close()

    def _transact(self, write, committed):
        for attempt in range(2):
            try:
                return super()._transact(write, committed)
            except StoreConnectionError as exc:
                self._reset()
                try:
                    with self._snapshot():
                        done = committed()
                except StoreConnectionError:
                    raise exc from None
                if done is not None:
                    return done
                if attempt == 1:
                    raise

    @contextlib.contextmanager
    def _snapshot(self):
        psycopg, _, _ = _psycopg()
        if getattr(self._local, "depth", 0):
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        for attempt in range(2):
            con = self._connection()
            try:
                transaction = con.transaction()
                transaction.__enter__()
                con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                break
            except psycopg.OperationalError as exc:
                # A connection that died while idle (a server restart): open a new one.
                self._reset()
                if attempt == 1:
                    raise self._translate(exc) from None
        self._local.depth = 1
        try:
            self._check_same_store(con)
            yield
        except BaseException as exc:
            self._local.depth = 0
            with contextlib.suppress(psycopg.Error):
                transaction.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._local.depth = 0
        try:
            transaction.__exit__(None, None, None)
        except psycopg.Error as exc:
            raise self._translate(exc) from None

    def _query(self, query, args=()):
        psycopg, _, _ = _psycopg()
        con = self._connection()
        if con.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            # outside a transaction (whose start checked the store): check it first
            with self._snapshot():
                return self._query(query, args)
        try:
            return con.execute(query, args, binary=True).fetchall()
        except psycopg.Error as exc:
            raise self._translate(exc) from None

    # -- raw rows -----------------------------------------------------------------------------
    def _raw_run(self, run_id):
        rows = self._query(
            self._sql(
                "SELECT record, n_samples, n_input, row_ids, input_row_ids, event_seq FROM {r} "
                "WHERE run_id = %s",
                r="runs",
            ),
            (run_id,),
        )
        return rows[0] if rows else None

    def _raw_run_list(self):
        return self._query(
            self._sql("SELECT run_id, record, created_at FROM {r} ORDER BY event_seq", r="runs")
        )

    def _raw_source(self, source_id, sha256):
        rows = self._query(
            self._sql(
                "SELECT record, n_parent_ids, parents, event_seq FROM {s} "
                "WHERE source_id = %s AND sha256 = %s",
                s="sources",
            ),
            (source_id, sha256),
        )
        return rows[0] if rows else None

    def _raw_sources(self):
        return self._query(
            self._sql(
                "SELECT source_id, sha256, record, n_parent_ids, parents, event_seq FROM {s} "
                "ORDER BY event_seq",
                s="sources",
            )
        )

    def _raw_source_versions(self, source_id):
        rows = self._query(
            self._sql(
                "SELECT record FROM {s} WHERE source_id = %s ORDER BY event_seq", s="sources"
            ),
            (source_id,),
        )
        return [text for (text,) in rows]

    def _raw_event(self, seq):
        rows = self._query(
            self._sql(f"SELECT {_EVENT_COLUMNS} FROM {{e}} WHERE seq = %s", e="events"), (seq,)
        )
        return rows[0] if rows else None

    def _raw_events(self, run_id=None):
        if run_id is None:
            return self._query(
                self._sql(f"SELECT {_EVENT_COLUMNS} FROM {{e}} ORDER BY seq", e="events")
            )
        return self._query(
            self._sql(
                f"SELECT {_EVENT_COLUMNS} FROM {{e}} WHERE run_id = %s ORDER BY seq", e="events"
            ),
            (run_id,),
        )

    def _raw_checkpoints(self):
        rows = self._query(self._sql("SELECT record FROM {c} ORDER BY seq", c="checkpoints"))
        return [r[0] for r in rows]

    @property
    def schema_version(self):
        """The store's schema version (2: runs stored unsealed; 3: sealed)."""
        return int(self._meta.get("schema_version", 0))

    @property
    def _tables(self):
        return _TABLES_BY_VERSION.get(self.schema_version, _TABLES_2)

    def _raw_prediction_salts(self):
        if self.schema_version < 4:
            return {}
        rows = self._query(self._sql("SELECT seq, salt FROM {s}", s="prediction_salts"))
        return {int(seq): salt for seq, salt in rows}

    def _raw_leaves(self, run_id):
        if self.schema_version < 3:
            return {}
        rows = self._query(
            self._sql("SELECT leaf, value, salt FROM {l} WHERE run_id = %s", l="run_leaves"),
            (run_id,),
        )
        return {int(leaf): (value, salt) for leaf, value, salt in rows}

    def _scrub(self):
        """Rewrite the table of values (``VACUUM FULL``): deleted rows stay in a table's
        files until then (see :mod:`._postgres_scrub`)."""
        _postgres_scrub.scrub(self)

    def _erasure_left(self):
        return _postgres_scrub.left(self, self._connection())


class _Writer:
    """The rows of one PostgreSQL write transaction (see :class:`._append._Chain`)."""

    def __init__(self, store, con):
        self.store, self.con = store, con

    def _one(self, query, args, **tables):
        return self.con.execute(self.store._sql(query, **tables), args, binary=True).fetchone()

    def last_event(self):
        return self._one(
            f"SELECT {_EVENT_COLUMNS} FROM {{e}} ORDER BY seq DESC LIMIT 1", (), e="events"
        )

    def insert_event(self, row):
        self.con.execute(
            self.store._sql("INSERT INTO {e} VALUES (%s, %s, %s, %s, %s, %s, %s)", e="events"), row
        )

    def run_exists(self, run_id):
        return self._one("SELECT 1 FROM {r} WHERE run_id = %s", (run_id,), r="runs")

    def source_exists(self, source_id, sha256):
        return self._one(
            "SELECT 1 FROM {s} WHERE source_id = %s AND sha256 = %s",
            (source_id, sha256),
            s="sources",
        )

    def insert_source(self, source_id, sha256, record_text, n_parent_ids, parents, event_seq):
        self.con.execute(
            self.store._sql("INSERT INTO {s} VALUES (%s, %s, %s, %s, %b, %s)", s="sources"),
            (source_id, sha256, record_text, n_parent_ids, parents, event_seq),
        )

    def insert_run(self, run_id, created_at, record_text, n_samples, n_input, ids, inputs, seq):
        self.con.execute(
            self.store._sql(
                "INSERT INTO {r} (run_id, created_at, record, n_samples, n_input, row_ids, "
                "input_row_ids, event_seq) VALUES (%s, %s, %s, %s, %s, %b, %b, %s)",
                r="runs",
            ),
            (run_id, created_at, record_text, n_samples, n_input, ids, inputs, seq),
        )

    def insert_leaves(self, run_id, leaves):
        self.con.cursor().executemany(
            self.store._sql("INSERT INTO {l} VALUES (%s, %s, %s, %s)", l="run_leaves"),
            [(run_id, n, text, salt) for n, text, salt in leaves],
        )

    def delete_leaves(self, run_id, numbers):
        cursor = self.con.execute(
            self.store._sql(
                "DELETE FROM {l} WHERE run_id = %s AND leaf = ANY(%s)", l="run_leaves"
            ),
            (run_id, list(numbers)),
        )
        if cursor.rowcount:
            # committed with the deletion: a writer killed before the table is
            # rewritten leaves the store saying so
            _postgres_scrub.mark(self.store, self.con)
        return cursor.rowcount

    def insert_salt(self, seq, salt):
        self.con.execute(
            self.store._sql("INSERT INTO {s} VALUES (%s, %s)", s="prediction_salts"), (seq, salt)
        )

    def delete_salts(self, seqs):
        cursor = self.con.execute(
            self.store._sql("DELETE FROM {s} WHERE seq = ANY(%s)", s="prediction_salts"),
            (list(seqs),),
        )
        if cursor.rowcount:
            _postgres_scrub.mark(self.store, self.con)  # (as delete_leaves)
        return cursor.rowcount

    def next_checkpoint_seq(self):
        return self._one("SELECT coalesce(max(seq), 0) + 1 FROM {c}", (), c="checkpoints")[0]

    def insert_checkpoint(self, number, text):
        self.con.execute(
            self.store._sql("INSERT INTO {c} VALUES (%s, %s)", c="checkpoints"), (number, text)
        )
