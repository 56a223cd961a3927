"""PostgreSQL store (psycopg 3): the same runs, chain and checkpoints, for teams."""

import threading

from .._state_format import check_state, stamp_state
from . import _postgres_scrub
from ._base import BaseStore, check_timeout
from ._integrity import check_with
from ._postgres_connection import ConnectionMixin
from ._postgres_guards import guard_problems
from ._postgres_open import OpeningMixin
from ._postgres_schema import (
    _ERASABLE,
    _EVENT_COLUMNS,
    _TABLES_2,
    _TABLES_BY_VERSION,
    _psycopg,
)
from ._schema_indexes import postgres_index_problems
from ._sqlite_transaction import check_durability
from ._upgrade_repair import UpgradeRepairMixin

_MODES = ("rw", "ro")


class PostgresStore(OpeningMixin, ConnectionMixin, UpgradeRepairMixin, BaseStore):
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
    durability : {"full", "fast"}, default="full"
        ``"full"``: each write is flushed to the server's disk before the call returns;
        where the server, database or role sets ``synchronous_commit=off`` (which can
        lose the last commits on a server crash after they were reported), the store's
        write transactions set it back to ``on`` for themselves. ``"fast"``: its write
        transactions set ``synchronous_commit=off`` (the data stays consistent; the last
        writes before a server crash can be lost after the call said they were
        recorded), as ``SQLiteStore(durability="fast")``. Shown in ``repr``.

    Notes
    -----
    A connection lost during a write (a server restart, a terminated backend) leaves
    nothing half-written: PostgreSQL rolls the transaction back. The store then
    reconnects, looks whether the write was committed before the connection dropped,
    and otherwise retries it once; if the server cannot be reached it raises
    :class:`~sktraceprop.exceptions.StoreConnectionError` saying whether anything may
    have been written.

    :meth:`verify` and :meth:`check` check what the server returns for their queries;
    neither checks the server's own storage. A table page the server cannot read fails
    them with an error (a damaged page is detected where the cluster has
    ``data_checksums`` on), but an index that no longer matches its table is not
    found: the server may read the events through their primary-key index, and rows
    an index scan misses at the end of the log read as a log cut there (only a
    checkpoint kept elsewhere shows that). PostgreSQL's ``amcheck`` extension checks
    indexes against their tables (``bt_index_check``, ``bt_index_parent_check``); it
    needs a superuser to install, and sktraceprop does not run it: run it on the
    store's schema as part of the database's own maintenance.

    Examples
    --------
    >>> store = PostgresStore("postgresql://lineage@db.example.org/lineage")  # doctest: +SKIP
    >>> store.verify()  # doctest: +SKIP
    True
    """

    #: PostgreSQL refuses a field over 1 GiB; 1e9 bytes leaves room for its overhead.
    _max_value_bytes = 1_000_000_000

    def __init__(self, dsn, *, schema="sktraceprop", mode="rw", timeout=60.0, durability="full"):
        if not isinstance(dsn, str) or not dsn:
            raise ValueError(f"dsn must be a non-empty connection string; got {dsn!r}")
        if not isinstance(schema, str) or not schema:
            raise ValueError(f"schema must be a non-empty string; got {schema!r}")
        if not isinstance(mode, str) or mode not in _MODES:
            raise ValueError(f"mode must be 'rw' or 'ro'; got {mode!r}")
        check_timeout(timeout)
        check_durability(durability)
        _psycopg()
        self.dsn = dsn
        self.schema = schema
        self.mode = mode
        self.timeout = timeout
        self.durability = durability
        self._local = threading.local()
        self._meta = {}
        self._open()

    _state_format = 1  # (its pickle records it: see _state_format)

    def __getstate__(self):
        return stamp_state(
            self,
            {
                "dsn": self.dsn,
                "schema": self.schema,
                "mode": self.mode,
                "timeout": self.timeout,
                "durability": self.durability,
                "_meta": self._meta,
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
        return f"PostgresStore(schema={self.schema!r}{extra})"

    @property
    def store_id(self):
        return self._meta.get("store_id", "")

    def close(self):
        """Close this thread's connection (a later call opens a new one)."""
        self._reset()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def check(self, full=True, *, public_key=None, checkpoint=None, allow_unsigned_tail=False):
        """Check the store's append-only guards as they are now, then what :meth:`verify` does.

        1. The triggers and their function, read from the server's catalog and
           compared with what the store installed (``pg_get_triggerdef``,
           ``pg_get_functiondef``): none dropped, disabled, redefined or added, no rule,
           no row-level security; and the indexes (``pg_get_indexdef``), against those
           of the store's schema version: none dropped or redefined (one added outside
           sktraceprop is named in the report's ``notes``, not refused).
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
            ``"schema"`` for the guards and indexes, else as for :meth:`verify`). This handle then
            refuses writes.
        """
        indexes, notes = self._index_problems()
        problems = [{"check": "schema", "message": m} for m in (*self._guard_problems(), *indexes)]
        return check_with(
            self, problems, repr(self), public_key, checkpoint, allow_unsigned_tail, notes
        )

    def _guard_problems(self):
        """What was done to the append-only guards, read from the catalog now."""
        psycopg, _, _ = _psycopg()
        with self._snapshot():  # the store this handle opened, not another one since
            try:
                return guard_problems(self._connection(), self.schema, self._tables, _ERASABLE)
            except psycopg.Error as exc:
                raise self._translate(exc) from None

    def _index_problems(self):
        """``(problems, notes)`` of the store's indexes, read from the catalog now."""
        psycopg, _, _ = _psycopg()
        with self._snapshot():
            try:
                return postgres_index_problems(
                    self._connection(), self.schema, self._tables, self.schema_version
                )
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

    def _raw_events_of_kinds(self, kinds, run_id=None):
        run = "" if run_id is None else " AND run_id = %s"
        return self._query(
            self._sql(
                f"SELECT {_EVENT_COLUMNS} FROM {{e}} WHERE kind = ANY(%s){run} ORDER BY seq",
                e="events",
            ),
            (list(kinds),) + (() if run_id is None else (run_id,)),
        )

    def _raw_events_mark(self, kinds):
        text = (
            "SELECT n, top, (SELECT hash FROM {e} WHERE seq = top) FROM (SELECT count(*) "
            "AS n, max(seq) AS top FROM {e} WHERE kind = ANY(%s)) AS m"
        )
        return tuple(self._query(self._sql(text, e="events"), (list(kinds),))[0])

    def _raw_schema_versions(self):
        return self._query(self._sql("SELECT version, applied_at FROM {v}", v="schema_version"))

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

    def _raw_prediction_salt_rows(self, batch=10_000):
        if self.schema_version < 4:
            return
        sql = self._sql(
            "SELECT seq, salt FROM {s} WHERE seq > %s ORDER BY seq LIMIT %s", s="prediction_salts"
        )
        last = 0  # (seqs start at 1) read in batches: never every salt at once
        while True:
            rows = self._query(sql, (last, batch))
            yield from ((int(seq), salt) for seq, salt in rows)
            if len(rows) < batch:
                return
            last = int(rows[-1][0])

    def _raw_prediction_salt_seqs(self):
        import numpy as np

        if self.schema_version < 4:
            return np.empty(0, np.int64)
        # (the seqs alone: no salt is read)
        rows = self._query(self._sql("SELECT seq FROM {s} ORDER BY seq", s="prediction_salts"))
        return np.fromiter((seq for (seq,) in rows), np.int64, count=len(rows))

    def _raw_leaves(self, run_id):
        if self.schema_version < 3:
            return {}
        rows = self._query(
            self._sql("SELECT leaf, value, salt FROM {l} WHERE run_id = %s", l="run_leaves"),
            (run_id,),
        )
        return {int(leaf): (value, salt) for leaf, value, salt in rows}

    def _wipe_marks(self):
        from ._postgres_scrub import PENDING_PREFIX

        rows = self._query(
            self._sql("SELECT key FROM {m} WHERE key LIKE %s", m="stp_meta"),
            (PENDING_PREFIX + "%",),
        )
        return PENDING_PREFIX, {key for (key,) in rows}

    def _raw_leaf_runs(self):
        if self.schema_version < 3:
            return {}
        rows = self._query(
            self._sql("SELECT run_id, count(*) FROM {l} GROUP BY run_id", l="run_leaves")
        )
        return {run_id: int(n) for run_id, n in rows}

    def _scrub(self):
        """Rewrite the table of values (``VACUUM FULL``): deleted rows stay in a table's
        files until then (see :mod:`._postgres_scrub`)."""
        _postgres_scrub.scrub(self)

    def _erasure_left(self):
        return _postgres_scrub.left(self, self._connection())
