"""A store's check says which schema upgrades its hash chain records: one upgraded by
an sktraceprop from before the ``store.upgrade`` event (the fixture
``tests/stores/data/upgraded_without_event/store.db``, upgraded 3 -> 4 at commit 9989e5b,
see data/README.md) verifies, and its report says that upgrade is not recorded, never
that its history is complete. The truth is the file's own ``schema_version`` rows and
events, read with sqlite3."""

import io
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.cli import main
from tests.stores._store_helpers import Backend

DATA = Path(__file__).parent / "data"
_X = pd.DataFrame({"a": np.arange(8.0), "b": np.arange(8.0) % 3})
_Y = np.arange(8) % 2


def _file(path):
    """``schema_version`` rows and ``store.upgrade`` event seqs, read with sqlite3."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT version, applied_at FROM schema_version ORDER BY version")
        seqs = con.execute("SELECT seq FROM events WHERE kind = 'store.upgrade' ORDER BY seq")
        return rows.fetchall(), [s for (s,) in seqs.fetchall()]
    finally:
        con.close()


def _unrecorded(report):
    return [s for s in report["not_shown"] if "has no store.upgrade event" in s]


def test_an_upgrade_made_before_the_event_is_said_not_recorded(tmp_path):
    path = tmp_path / "store.db"
    shutil.copyfile(DATA / "upgraded_without_event" / "store.db", path)
    (created, (version, applied_at)), seqs = _file(path)
    assert (created[0], version, seqs) == (3, 4, [])
    store = stp.stores.SQLiteStore(path, mode="ro")
    assert store.verify()
    report = store.check(full=True)
    assert report["upgrades"] == [
        {"from_version": 3, "to_version": 4, "applied_at": applied_at, "event_seq": None}
    ]
    (said,) = _unrecorded(report)
    assert "from schema version 3 to 4" in said and applied_at in said
    assert "upgrade history is not recorded" in said and "complete" not in said
    # and ``sktraceprop check`` prints it
    out = io.StringIO()
    assert main(["check", str(path)], out=out) == 0
    assert f"note: {said}" in out.getvalue()


def test_a_recorded_upgrade_names_its_event(tmp_path):
    path = tmp_path / "old.db"
    shutil.copyfile(DATA / "ops_without_keys.db", path)
    store = stp.stores.SQLiteStore(path)
    assert store.check()["upgrades"] == [] and _unrecorded(store.check()) == []
    stp.TracedPipeline([("lr", LogisticRegression())], store=store, log_predictions=True).fit(
        _X, _Y
    ).predict(_X.iloc[:1])
    (_, (version, applied_at)), (seq,) = _file(path)
    report = stp.stores.SQLiteStore(path, mode="ro").check()
    assert report["upgrades"] == [
        {"from_version": 3, "to_version": version, "applied_at": applied_at, "event_seq": seq}
    ]
    assert _unrecorded(report) == []


def test_a_new_store_has_no_upgrades(tmp_path, request):
    for backend in ("memory", "sqlite"):
        store = Backend(backend, tmp_path, request).make()
        store.append_event("review", {})
        report = store.check()
        assert report["upgrades"] == [] and _unrecorded(report) == []


def test_a_postgresql_upgrade_without_its_event_is_said_not_recorded(pg_dsn, request, tmp_path):
    backend = Backend("postgres", tmp_path, request)
    store = backend.make()
    store.append_event("review", {})
    # as an sktraceprop from before the event upgraded it: a second row, no event
    backend.sql("UPDATE schema_version SET version = 3 WHERE version = 4")
    backend.sql("INSERT INTO schema_version VALUES (4, '2026-12-01T00:00:00+00:00')")
    report = backend.make().check()
    assert report["upgrades"] == [
        {
            "from_version": 3,
            "to_version": 4,
            "applied_at": "2026-12-01T00:00:00+00:00",
            "event_seq": None,
        }
    ]
    assert len(_unrecorded(report)) == 1
