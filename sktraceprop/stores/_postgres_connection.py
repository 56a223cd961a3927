"""A PostgreSQL store's connections: this thread's connection, the store it reads
checked to be the one this handle opened; reads, write and read transactions on it
(a write retried once on a lost connection); the server's errors as store errors."""

import contextlib
import os

from ..exceptions import (
    CorruptStoreError,
    StoreBusyError,
    StoreConnectionError,
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
)
from . import _postgres_scrub
from ._identity import store_gone, store_replaced, store_upgraded
from ._postgres_lock_holders import lock_holders
from ._postgres_schema import _psycopg
from ._postgres_writer import _Writer
from ._upgrade_event import upgraded_here
from ._upgrade_wait import busy_after_upgrade, wait_left

# A durable write commits once on the server's disk (synchronous_commit 'on', 'local',
# 'remote_write' or 'remote_apply', kept as set: the remote ones wait for a standby too);
# only 'off', which the server, database or role can set, is raised to 'on' for it.
_SYNC_COMMIT = {
    "full": "SELECT set_config('synchronous_commit', 'on', true) "
    "WHERE current_setting('synchronous_commit') = 'off'",
    "fast": "SELECT set_config('synchronous_commit', 'off', true)",
}


class ConnectionMixin:
    """This thread's connection of a :class:`~sktraceprop.stores.PostgresStore`, and its
    transactions."""

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
            held = None
            if isinstance(exc, errors.LockNotAvailable):
                held = lock_holders(self, _own_pid(self))
            error = StoreBusyError(
                f"{self!r}: {_busy(errors, exc, self.timeout)} ({text}"
                f"{f'; {held}' if held else ''}). Nothing was written. Retry, or raise "
                "timeout=."
            )
            error.holders = held  # (named in the message: busy_after_upgrade keeps it)
            return error
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
        self._indexing()
        waited, left = wait_left(self)
        con = self._connection()
        committing = False
        try:
            with con.transaction():
                con.execute(_SYNC_COMMIT[getattr(self, "durability", "full")])
                if left is not None:
                    # (for this transaction only; 0 would wait for ever: at least 1 ms)
                    con.execute(
                        "SELECT set_config('lock_timeout', %s, true)",
                        (f"{max(1, round(left * 1000))}ms",),
                    )
                con.execute(self._sql("LOCK TABLE {e} IN SHARE ROW EXCLUSIVE MODE", e="events"))
                self._check_same_store(con)
                yield _Writer(self, con)
                committing = True
        except psycopg.Error as exc:
            error = self._translate(exc, committing=committing)
            raise busy_after_upgrade(self, error, waited) from None
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
        if upgraded_here(self._meta.get("schema_version"), now.get("schema_version")):
            # upgraded by another client of this version (a table of prediction salts,
            # an index added): read on as the newer version
            self._meta = {**self._meta, "schema_version": now["schema_version"]}
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
            if self._connection().info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                # The snapshot's connection was lost and replaced (a read in it failed and
                # its caller read on): a read now would not be in the snapshot, and _query
                # would re-enter this one for ever (RecursionError).
                raise StoreConnectionError(
                    f"{self!r}: the connection was lost in the middle of a read that must "
                    "see one state of the store; nothing more is read from it. Nothing "
                    "was written; retry."
                )
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


def _own_pid(store):
    """The server pid of this thread's connection, or None."""
    con = getattr(store._local, "con", None)
    try:
        return None if con is None or con.closed else con.info.backend_pid
    except Exception:  # noqa: BLE001 (only the message depends on it)
        return None


def _busy(errors, exc, timeout):
    """What a lock error says happened, without naming a holder the server did not name
    (a writer, a reader's ``LOCK TABLE``, a transaction left open)."""
    if isinstance(exc, errors.DeadlockDetected | errors.SerializationFailure):
        return (
            "the server ended this transaction to resolve a conflict with another "
            "session's (a deadlock or a serialization failure), without waiting for timeout="
        )
    if isinstance(exc, errors.QueryCanceled):
        # the store sets lock_timeout only: a statement_timeout or a cancel request
        return "the server cancelled the statement (a statement_timeout, or a cancel request)"
    return (
        "another session held a lock on the store's tables (a writer, or a reader or "
        f"transaction holding a lock) past timeout={timeout} s"
    )
