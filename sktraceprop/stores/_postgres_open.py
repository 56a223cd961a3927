"""Opening a PostgreSQL store: its schema created (or upgraded to the newest version),
then read and checked, guards included."""

import uuid
import warnings

from .._lineage._source import utc_now
from ..exceptions import CorruptStoreError, StoreError, StoreNotFoundError
from ..utils._stack import user_stacklevel
from . import _postgres_scrub
from ._integrity import schema_error
from ._postgres_guards import guard_problems, guard_statements
from ._postgres_schema import (
    _ERASABLE,
    _KIND_INDEX,
    _SALTS_TABLE,
    _TABLES,
    _TABLES_BY_VERSION,
    APP,
    SCHEMA_VERSION,
    _psycopg,
)
from ._postgres_scrub_stats import never_collect, stop_collecting
from ._postgres_writer import _Writer
from ._upgrade_event import UPGRADE_EVENT, not_upgraded, record_upgrade
from ._upgrade_repair import plan_repair, record_repair
from ._version_records import check_version_records


class OpeningMixin:
    """How :class:`~sktraceprop.stores.PostgresStore` opens its schema (see its notes)."""

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
            stop_collecting(self, con)  # (a store created before never_collect ran)

    def _upgrade_to_salts(self):
        self._upgrade(self._connection())

    def _upgrade_to_index(self):
        self._upgrade(self._connection())

    def _locked_version(self, con):
        """The stored schema version (its text), read inside ``con``'s transaction after
        taking the store's advisory lock and the lock every writer takes (an upgrade's
        or a repair's event extends the chain)."""
        con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"sktraceprop:{self.schema}",))
        con.execute(self._sql("LOCK TABLE {e} IN SHARE ROW EXCLUSIVE MODE", e="events"))
        (version,) = con.execute(
            self._sql("SELECT value FROM {m} WHERE key = 'schema_version'", m="stp_meta")
        ).fetchone()
        return version

    def _upgrade(self, con):
        """Upgrade a store of schema version 3 or 4 to :data:`SCHEMA_VERSION`, one
        version at a time (3 -> 4: a table of prediction salts, under the guards; 4 -> 5:
        an index on the events' kind), in one transaction with a ``store.upgrade`` event
        for each, unless another client just did; where it cannot (a role that does not
        own the tables), warn: it stays at its version."""
        psycopg, _, sql = _psycopg()
        try:
            with con.transaction():
                version = self._locked_version(con)
                version = int(version) if version in ("3", "4") else SCHEMA_VERSION
                for before in range(version, SCHEMA_VERSION):
                    self._upgrade_step(con, before)
                    record_upgrade(self, _Writer(self, con), before, before + 1)
            self._read_schema(con)
        except psycopg.Error as exc:
            warnings.warn(
                f"{self!r} has schema version {self.schema_version} and could not be "
                f"upgraded to version {SCHEMA_VERSION} ({str(exc).strip()}): "
                f"{not_upgraded(self)} A handle of the owner of its tables upgrades it.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

    def _upgrade_step(self, con, before, *, repair=False):
        """What upgrades the store from version ``before`` to the next, inside the
        upgrade's transaction: what that version adds, and both records of the version.
        ``repair`` (:meth:`repair_upgrade`): what the version adds is made only where
        missing, and no ``schema_version`` row is written (the repair writes those)."""
        _, _, sql = _psycopg()
        schema = sql.Identifier(self.schema)
        _, triggers = guard_statements(_TABLES, _ERASABLE)
        added = "prediction_salts" if before == 3 else "events_kind"
        missing = (
            not repair
            or con.execute(
                "SELECT to_regclass(%s) IS NULL", (self._t(added).as_string(con),)
            ).fetchone()[0]
        )
        if missing and before == 3:
            con.execute(self._sql(_SALTS_TABLE, salts="prediction_salts"))
            never_collect(self, con, ["prediction_salts"])  # (as a new store's)
            for name, statement in triggers.items():
                if name.startswith("prediction_salts_"):
                    con.execute(sql.SQL(statement).format(schema=schema))
        elif missing:
            con.execute(self._sql(_KIND_INDEX, events="events"))
        # stp_meta is append-only: its guard is dropped and made again around the one
        # update, inside this transaction
        con.execute(
            sql.SQL("DROP TRIGGER stp_meta_append_only ON {}").format(
                sql.Identifier(self.schema, "stp_meta")
            )
        )
        con.execute(
            self._sql("UPDATE {m} SET value = %s WHERE key = 'schema_version'", m="stp_meta"),
            (str(before + 1),),
        )
        con.execute(sql.SQL(triggers["stp_meta_append_only"]).format(schema=schema))
        if not repair:
            con.execute(
                self._sql("INSERT INTO {v} VALUES (%s, %s)", v="schema_version"),
                (before + 1, utc_now()),
            )

    def _repair_upgrade(self):
        """:meth:`repair_upgrade`'s transaction (see :mod:`._upgrade_repair`)."""
        psycopg, _, _ = _psycopg()
        con = self._connection()
        try:
            with con.transaction():
                version = int(self._locked_version(con))
                rows = con.execute(
                    self._sql("SELECT version, applied_at FROM {v}", v="schema_version")
                )
                recorded = con.execute(
                    self._sql(
                        "SELECT seq, payload, created_at FROM {e} WHERE kind = %s ORDER BY seq",
                        e="events",
                    ),
                    (UPGRADE_EVENT,),
                )
                plan = plan_repair(
                    self, version, dict(rows.fetchall()), recorded.fetchall(), SCHEMA_VERSION
                )
                if plan is None:
                    return None
                for before in range(version, plan[0]):
                    self._upgrade_step(con, before, repair=True)
                for v, applied_at, _ in plan[1]:
                    con.execute(
                        self._sql("INSERT INTO {v} VALUES (%s, %s)", v="schema_version"),
                        (v, applied_at),
                    )
                return record_repair(self, _Writer(self, con), version, plan)
        except psycopg.Error as exc:
            raise self._translate(exc) from None

    def _read_schema_after_repair(self):
        self._read_schema(self._connection())

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
                _KIND_INDEX,
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
            # ANALYZE never samples the erasable values (see ._postgres_scrub_stats)
            never_collect(self, con, _ERASABLE)
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
        # the two records of the version read in one statement (one snapshot)
        rows = con.execute(
            self._sql(
                "SELECT key, value FROM {m}"
                + (
                    " UNION ALL SELECT NULL, version::text FROM {v}"
                    if "schema_version" in tables
                    else ""
                ),
                m="stp_meta",
                v="schema_version",
            )
        ).fetchall()
        meta = {k: v for k, v in rows if k is not None}
        recorded = [v for k, v in rows if k is None]
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
        if version not in (2, 3, 4, SCHEMA_VERSION):
            # no version this library ever wrote: the metadata was altered
            raise CorruptStoreError(
                f"schema {self.schema!r} has an unknown store schema version "
                f"{meta.get('schema_version')!r}; nothing was modified"
            )
        expected = _TABLES_BY_VERSION[version]
        if version < 4 and "prediction_salts" in tables:
            raise CorruptStoreError(
                f"schema {self.schema!r} says store schema version {version} but has a "
                "prediction_salts table, which only version 4 and later have: its version was "
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
        check_version_records(f"schema {self.schema!r}", version, recorded, SCHEMA_VERSION)
        problems = guard_problems(con, self.schema, expected, _ERASABLE)
        if problems:
            self._refuse_writes("; ".join(problems))
        self._meta = meta
