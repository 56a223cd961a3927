"""A realistic record to tamper with: a logged pipeline, its uses, a removal, a report.

Built once per test module (fits take a second); each example works on a copy.
"""

import json
import shutil
import sqlite3
import uuid

from sklearn.frozen import FrozenEstimator

import sktraceprop as stp
from sktraceprop import signing
from sktraceprop._lineage import REGISTRY
from tests.compliance.conftest import DEPLOYER, logged_pipeline, traced_frames
from tests.conftest import write_hospitals


def build_record(folder, store=None):
    """Fit, predict, explain, unlearn, checkpoint and report into ``store``.

    Returns ``(store, key, report_path, checkpoint_path)``; ``store`` defaults to a
    :class:`SQLiteStore` at ``folder / "audit.db"``. The report of the unlearner's run
    (with the removal) is ``folder / "removal_report.json"``.
    """
    REGISTRY.clear()
    try:
        paths = write_hospitals(folder, n_a=12, n_b=10)
        _, _, X, y = traced_frames(paths)
        if store is None:
            store = stp.stores.SQLiteStore(folder / "audit.db")
        pipe = logged_pipeline(store, X, y)
        pipe.predict(X.iloc[:3])
        pipe.predict_proba(X.iloc[2:5])
        explainer = stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(X, y)
        explainer.explain(X.iloc[:2], top_k=2, log=True)
        unlearner = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
        unlearner.unlearn(source_id="hospital_b")
        key = signing.generate_key()
        checkpoint = folder / "checkpoint.json"
        store.checkpoint(key, path=checkpoint)
        report = folder / "report.json"
        stp.compliance_report(
            store=store,
            run_id=pipe.lineage_.run_id,
            **DEPLOYER,
            output_path=report,
            private_key=key,
        )
        # the corrected model: its report holds the removal and its certificate, and
        # names the removal whose event records the corrected model's fingerprint
        stp.compliance_report(
            unlearner,
            **DEPLOYER,
            output_path=folder / "removal_report.json",
            private_key=key,
        )
    finally:
        REGISTRY.clear()
    return store, key, report, checkpoint


def settle(path):
    """Fold the write-ahead log into the file, so that copying the file copies the store."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def copy_store(pristine, folder):
    """A copy of the store under a new name in ``folder`` (handles on older copies
    may still be open: a file is never replaced under them)."""
    path = folder / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(pristine, path)
    return path


def tamper(path, statements):
    """Run ``(sql, args)`` statements as an attacker would: triggers dropped, then restored.

    Returns False (and leaves the file as it was) when SQLite refuses the edit (a
    constraint), True when it was made.
    """
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = triggers.fetchall()
        try:
            for name, _ in triggers:
                con.execute(f"DROP TRIGGER {name}")
            for statement, args in statements:
                con.execute(statement, args)
            for _, definition in triggers:
                con.execute(definition)
        except sqlite3.Error:
            con.execute("ROLLBACK")
            return False
        con.execute("COMMIT")
        return True
    finally:
        con.close()


def tables(path):
    """``{table: (columns, rows with their rowid first)}`` of a SQLite file."""
    con = sqlite3.connect(path)
    try:
        out = {}
        names = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        for (name,) in names:
            columns = [r[1] for r in con.execute(f"PRAGMA table_info({name})")]
            out[name] = (columns, con.execute(f"SELECT rowid, * FROM {name}").fetchall())
        return out
    finally:
        con.close()


def rowid_alias(path, table):
    """The column that is the table's rowid (an INTEGER PRIMARY KEY), or None."""
    con = sqlite3.connect(path)
    try:
        info = con.execute(f"PRAGMA table_info({table})").fetchall()
    finally:
        con.close()
    keys = [r for r in info if r[5]]
    if len(keys) == 1 and keys[0][2].upper() == "INTEGER":
        return keys[0][1]
    return None


def view(store):
    """Everything a reader gets from a store through its API, loaded runs included.

    A run that does not load is recorded as the error's class: loading refused it.
    """
    runs = {}
    listed = store.list_runs()
    for run_id in listed["run_id"]:
        try:
            run = store.load_run(run_id)
        except stp.exceptions.CorruptStoreError:
            runs[run_id] = "refused"
            continue
        runs[run_id] = (
            json.dumps(run.to_dict(), sort_keys=True),
            run.row_ids.tolist(),
            None if run.input_row_ids is None else run.input_row_ids.tolist(),
            {
                code: None if s.parents is None else s.parents.to_flat().tolist()
                for code, s in run.sources.items()
            },
        )
    return {
        "store_id": store.store_id,
        "list_runs": listed.to_dict(orient="records"),
        "runs": runs,
        "events": store.events(include_store_events=True),
        "checkpoints": store.checkpoints(),
    }


def rechain(path, seq, payload):
    """Give event ``seq`` another payload and re-compute the chain from it, as an
    attacker without the signing key can; the stored checkpoints (which would show
    it) are deleted. The hashes are computed here, not by sktraceprop's code."""
    import hashlib

    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT * FROM events ORDER BY seq").fetchall()
    finally:
        con.close()
    statements, prev = [], ("0" * 64 if seq == 1 else rows[seq - 2][6])
    for n, run_id, created_at, kind, text, _, _ in rows[seq - 1 :]:
        if n == seq:
            text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        record = {
            "seq": n,
            "run_id": run_id,
            "created_at": created_at,
            "kind": kind,
            "payload": json.loads(text),
        }
        body = json.dumps(record, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256((prev + body).encode("utf-8")).hexdigest()
        edit = "UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?"
        statements.append((edit, (text, prev, digest, n)))
        prev = digest
    statements.append(("DELETE FROM checkpoints", ()))
    return tamper(path, statements)
