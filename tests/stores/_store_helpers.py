"""Helpers of the store tests: making stores, tampering with them, fitting runs."""

import json
import sqlite3
import uuid
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.stores._chain import GENESIS, event_hash

#: The deployer's statements of the stores' compliance reports.
DEPLOYER = {
    "system_name": "CreditScorer",
    "system_version": "1.0.0",
    "deployer_name": "Example Bank SA",
    "high_risk_category": "creditworthiness",
    "intended_purpose": "Score consumer loan applications for manual review",
    "human_oversight": ["Head of credit risk"],
}


def new_schema():
    return f"t_{uuid.uuid4().hex[:12]}"


class Backend:
    """Makes stores of one kind, and tampers with what they hold as an attacker would.

    For SQLite and PostgreSQL the attacker has write access to the database and drops
    (or disables) the append-only triggers first; for a MemoryStore, the attacker edits
    the objects in the process.
    """

    def __init__(self, kind, tmp_path, request):
        self.kind, self.tmp_path = kind, tmp_path
        self.dsn = request.getfixturevalue("pg_dsn") if kind == "postgres" else None
        self.path = tmp_path / "store.db"
        self.schema = new_schema()

    def make(self, **kwargs):
        if self.kind == "memory":
            if not hasattr(self, "_memory"):
                self._memory = stp.stores.MemoryStore()
            return self._memory
        if self.kind == "sqlite":
            return stp.stores.SQLiteStore(self.path, **kwargs)
        return stp.stores.PostgresStore(self.dsn, schema=self.schema, **kwargs)

    # -- raw access ---------------------------------------------------------------------------
    def sql(self, statement, args=(), fetch=False):
        """Run SQL with the append-only guard off, then back on (``?`` placeholders)."""
        if self.kind == "sqlite":
            con = sqlite3.connect(self.path)
            try:
                triggers = con.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                ).fetchall()
                for name, _ in triggers:
                    con.execute(f"DROP TRIGGER {name}")
                rows = con.execute(statement, args).fetchall()
                for _, definition in triggers:  # and covers their tracks
                    con.execute(definition)
                con.commit()
            finally:
                con.close()
            return rows if fetch else None
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as con:
            con.execute(f"SET search_path = {self.schema}")
            con.execute("SET session_replication_role = replica")  # triggers off
            cur = con.execute(statement.replace("?", "%s"), args)
            return cur.fetchall() if fetch else None

    def edit_run_record(self, store, run_id, edit):
        if self.kind == "memory":
            row = list(store._runs[run_id])
            row[0] = edit(row[0])
            store._runs[run_id] = tuple(row)
            return
        (text,) = self.sql("SELECT record FROM runs WHERE run_id = ?", (run_id,), fetch=True)[0]
        self.sql("UPDATE runs SET record = ? WHERE run_id = ?", (edit(text), run_id))

    def edit_row_ids(self, store, run_id, ids):
        if self.kind == "memory":
            row = list(store._runs[run_id])
            row[3] = np.asarray(ids, dtype=np.int64)
            store._runs[run_id] = tuple(row)
            return
        from sktraceprop.stores._codec import encode_ids

        self.sql("UPDATE runs SET row_ids = ? WHERE run_id = ?", (encode_ids(ids), run_id))

    def delete_run(self, store, run_id):
        """The run and its values gone, as from a copy of the store made before it
        (values left without their run are named on their own)."""
        if self.kind == "memory":
            del store._runs[run_id]
            store._leaves.pop(run_id, None)
            return
        self.sql("DELETE FROM runs WHERE run_id = ?", (run_id,))
        self.sql("DELETE FROM run_leaves WHERE run_id = ?", (run_id,))

    def edit_source_record(self, store, source_id, edit):
        if self.kind == "memory":
            key = next(k for k in store._sources if k[0] == source_id)
            row = list(store._sources[key])
            row[0] = edit(row[0])
            store._sources[key] = tuple(row)
            return
        (text,) = self.sql(
            "SELECT record FROM sources WHERE source_id = ?", (source_id,), fetch=True
        )[0]
        self.sql("UPDATE sources SET record = ? WHERE source_id = ?", (edit(text), source_id))

    def delete_source(self, store, source_id):
        if self.kind == "memory":
            key = next(k for k in store._sources if k[0] == source_id)
            del store._sources[key]
            return
        self.sql("DELETE FROM sources WHERE source_id = ?", (source_id,))

    def events(self, store):
        """Every stored event row, oldest first."""
        if self.kind == "memory":
            return list(store._events)
        return [
            tuple(r)
            for r in self.sql(
                "SELECT seq, run_id, created_at, kind, payload, prev_hash, hash FROM events "
                "ORDER BY seq",
                fetch=True,
            )
        ]

    def replace_events(self, store, rows):
        """Replace the whole event log with ``rows`` (an attacker rewriting it)."""
        if self.kind == "memory":
            store._events[:] = [tuple(r) for r in rows]
            return
        self.sql("DELETE FROM events")
        for row in rows:
            self.sql("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(row))

    def delete_checkpoints(self, store):
        if self.kind == "memory":
            store._checkpoints.clear()
            return
        self.sql("DELETE FROM checkpoints")

    def insert_checkpoint(self, store, number, text):
        if self.kind == "memory":
            store._checkpoints.append(text)
            return
        self.sql("INSERT INTO checkpoints VALUES (?, ?)", (number, text))

    def drop_store(self):
        """Remove the store as someone else would: its file (with its -wal and -shm), or
        its schema (``DROP SCHEMA ... CASCADE``)."""
        if self.kind == "sqlite":
            for name in (self.path, f"{self.path}-wal", f"{self.path}-shm"):
                Path(name).unlink(missing_ok=True)
            return
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as con:
            con.execute(f'DROP SCHEMA "{self.schema}" CASCADE')

    def store_exists(self):
        """Whether a file or schema is where the store was."""
        if self.kind == "sqlite":
            return self.path.exists()
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as con:
            query = "SELECT 1 FROM pg_namespace WHERE nspname = %s"
            return con.execute(query, (self.schema,)).fetchone() is not None

    def reopen(self, store):
        """A fresh handle on the same store (for SQL stores; the same object in memory)."""
        if self.kind == "memory":
            store._integrity_failure = None
            return store
        return self.make()


def fit_run(store, n=60, seed=0, source="s"):
    """Fit a small traced pipeline into ``store`` and return its run."""
    rng = np.random.default_rng(seed)
    X = stp.from_numpy(rng.normal(size=(n, 3)), f"{source}{seed}")
    y = (X["x0"] > 0).astype(int)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    return pipe.fit(X, y).lineage_


def fit_two_runs(store, tmp_path, seed=0):
    """Two traced logistic regressions (C=0.5, 2.0) on one CSV file of 30 rows
    (``patients.csv`` in ``tmp_path``), each run saved to ``store``: ``(runs, source_id)``."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    frame["y"] = (frame["a"] > 0).astype(int)
    frame.to_csv(tmp_path / "patients.csv", index=False)
    df = stp.read_csv(tmp_path / "patients.csv")
    runs = []
    for C in (0.5, 2.0):
        model = stp.make_traced_pipeline(
            StandardScaler(), LogisticRegression(C=C), store=store
        ).fit(df[["a", "b"]], df["y"])
        runs.append(model.lineage_.run_id)
    (source,) = {s.source_id for s in model.lineage_.sources.values()}
    return runs, source


def run_in_processes(target, args_list, timeout=240):
    """Run ``target(*args, queue)`` in one spawned process per ``args``; each puts the
    list of its errors on the queue once. The errors of all of them, gathered."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, queue)) for args in args_list]
    for p in procs:
        p.start()
    errors = [e for _ in procs for e in queue.get(timeout=timeout)]
    for p in procs:
        p.join(timeout=60)
    return errors


def user_warnings(call):
    """``(call(), the messages of the UserWarnings it raised)``, every one recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def open_reader(path):
    """A connection to the SQLite file ``path`` holding a read transaction open (until
    its cursor, also returned, is exhausted or the connection closed)."""
    reader = sqlite3.connect(path)
    cursor = reader.execute("SELECT * FROM events")
    cursor.fetchone()
    return reader, cursor


def rechained(rows):
    """``rows`` (events as stored) renumbered from 1 with every hash re-computed: what an
    attacker who knows the scheme does after editing or deleting events."""
    out, prev = [], GENESIS
    for seq, (_, run_id, created_at, kind, text, _, _) in enumerate(rows, 1):
        record = {
            "seq": seq,
            "run_id": run_id,
            "created_at": created_at,
            "kind": kind,
            "payload": json.loads(text),
        }
        digest = event_hash(prev, record)
        out.append((seq, run_id, created_at, kind, text, prev, digest))
        prev = digest
    return out
