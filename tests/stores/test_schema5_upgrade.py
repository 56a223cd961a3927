"""Store schema 5: an index on the events' kind, so the mark of the removal events read at
every traced fit is found without a scan of the log. A store of schema version 4 (the
fixture ``tests/stores/data/schema4/store.db``, written at commit 3c318ea, see
data/README.md) opens and is read as it is; a writable handle's first write upgrades it
in one transaction with its ``store.upgrade`` event; nothing stored before changes. The
truth is the file's own rows and SQLite's query plan, read with sqlite3."""

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._removal_events import KINDS
from tests.stores._store_helpers import Backend

DATA = Path(__file__).parent / "data"
_TABLES = ("stp_meta", "schema_version", "sources", "runs", "events", "checkpoints")
_TABLES += ("run_leaves", "prediction_salts")


def _rows(path):
    """Every row of every table, and the index names, read with sqlite3."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = {t: con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in _TABLES}
        indexes = con.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        return rows, {name for (name,) in indexes}
    finally:
        con.close()


def _mark(path):
    """The removal events' count, last seq and its hash, and the plan SQLite takes."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        marks = ", ".join("?" * len(KINDS))
        rows = con.execute(
            f"SELECT seq, hash FROM events WHERE kind IN ({marks}) ORDER BY seq", KINDS
        ).fetchall()
        plan = con.execute(
            f"EXPLAIN QUERY PLAN SELECT count(*), max(seq) FROM events WHERE kind IN ({marks})",
            KINDS,
        ).fetchall()
        return (len(rows), *rows[-1]), " ".join(str(step[-1]) for step in plan)
    finally:
        con.close()


@pytest.fixture
def old(tmp_path):
    path = tmp_path / "store.db"
    shutil.copyfile(DATA / "schema4" / "store.db", path)
    return path


def test_a_schema_4_store_is_read_as_it_is_and_upgraded_at_its_first_write(old):
    before, indexes = _rows(old)
    assert dict(before["stp_meta"])["schema_version"] == "4" and "events_kind" not in indexes
    truth, plan = _mark(old)
    assert truth[0] == 1 and "events_kind" not in plan  # a scan of the log
    # opening, reading and verifying (read-only or writable) never alter it
    for mode in ("ro", "rw"):
        store = stp.stores.SQLiteStore(old, mode=mode)
        assert store.schema_version == 4 and store.verify() and store.check(full=True)
        assert tuple(store._raw_events_mark(KINDS)) == truth
        store.close()
    assert _rows(old) == (before, indexes)
    reader = stp.stores.SQLiteStore(old, mode="ro")
    store = stp.stores.SQLiteStore(old)
    review = store.append_event("review", {"after": "upgrade"})
    after, indexes = _rows(old)
    assert "events_kind" in indexes
    assert dict(after["stp_meta"])["schema_version"] == "5"
    assert [v for v, _ in after["schema_version"]] == [3, 4, 5]
    # nothing stored before was lost or rewritten: the old rows are all still there
    for table in _TABLES:
        if table != "stp_meta":
            assert after[table][: len(before[table])] == before[table], table
    assert {k: v for k, v in after["stp_meta"] if k != "schema_version"} == {
        k: v for k, v in before["stp_meta"] if k != "schema_version"
    }
    new = after["events"][len(before["events"]) :]
    assert [row[3] for row in new] == ["store.upgrade", "review"]
    assert new[-1][0] == review["seq"]
    # the mark is the same, now read from the index
    assert _mark(old) == (truth, _mark(old)[1]) and "events_kind" in _mark(old)[1]
    assert tuple(store._raw_events_mark(KINDS)) == truth
    for handle in (store, reader, stp.stores.SQLiteStore(old, mode="ro")):
        assert handle.verify() and handle.schema_version == 5
        report = handle.check(full=True)
        assert [(u["from_version"], u["to_version"]) for u in report["upgrades"]] == [
            (3, 4),
            (4, 5),
        ]
        (upgrade,) = handle.events(kind="store.upgrade", include_store_events=True)[1:]
        assert report["upgrades"][1]["event_seq"] == upgrade["seq"] == new[0][0]
        assert upgrade["payload"]["from_version"] == 4
        assert "events_kind index" in upgrade["payload"]["changes"]
        assert not [s for s in report["not_shown"] if "upgrade" in s]
    # a second writable handle finds it upgraded: no second event
    stp.stores.SQLiteStore(old).append_event("review", {})
    assert _rows(old)[0]["schema_version"] == after["schema_version"]


def test_a_new_store_has_the_index_and_no_upgrade(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "new.db")
    stp.TracedPipeline([("lr", LogisticRegression())], store=store).fit(
        pd.DataFrame({"a": np.arange(6.0)}), np.arange(6) % 2
    )
    store.append_event("unlearning", {})
    assert store.schema_version == 5 and store.check()["upgrades"] == []
    truth, plan = _mark(store.path)
    assert "events_kind" in plan and tuple(store._raw_events_mark(KINDS)) == truth


def test_a_postgresql_store_of_schema_4_is_upgraded_at_its_first_write(pg_dsn, request, tmp_path):
    backend = Backend("postgres", tmp_path, request)
    store = backend.make()
    indexes = "SELECT indexname FROM pg_indexes WHERE schemaname = ? AND tablename = 'events'"
    assert ("events_kind",) in backend.sql(indexes, (backend.schema,), fetch=True)
    store.append_event("unlearning", {})
    # as schema 4 wrote it: no index on kind
    backend.sql("DROP INDEX events_kind")
    backend.sql("UPDATE stp_meta SET value = '4' WHERE key = 'schema_version'")
    backend.sql("UPDATE schema_version SET version = 4 WHERE version = 5")
    before = backend.sql("SELECT * FROM events ORDER BY seq", fetch=True)
    store = backend.make()
    truth = tuple(store._raw_events_mark(KINDS))
    assert store.schema_version == 4 and store.verify() and truth[0] == 1
    store.append_event("review", {})
    assert store.schema_version == 5
    assert ("events_kind",) in backend.sql(indexes, (backend.schema,), fetch=True)
    after = backend.sql("SELECT * FROM events ORDER BY seq", fetch=True)
    assert after[: len(before)] == before
    assert [row[3] for row in after[len(before) :]] == ["store.upgrade", "review"]
    assert tuple(store._raw_events_mark(KINDS)) == truth
    fresh = backend.make(mode="ro")
    report = fresh.check()
    assert fresh.verify() and [
        (u["from_version"], u["to_version"]) for u in report["upgrades"]
    ] == [(4, 5)]
    assert report["upgrades"][0]["event_seq"] == after[len(before)][0]
