"""A store's 3 -> 4 upgrade is recorded in its hash chain: one ``store.upgrade`` event,
appended in the upgrade's transaction, naming both versions and the sktraceprop that
upgraded it. The old store is a fixture written by an earlier sktraceprop
(``tests/stores/data/ops_without_keys.db``, schema version 3, see data/README.md); the
truth for the version is the file's own tables, read with sqlite3."""

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError
from tests.stores._store_helpers import Backend

DATA = Path(__file__).parent / "data"
_X = pd.DataFrame({"a": np.arange(8.0), "b": np.arange(8.0) % 3})
_Y = np.arange(8) % 2


def _logging_model(store):
    return stp.TracedPipeline(
        [("lr", LogisticRegression())], store=store, log_predictions=True
    ).fit(_X, _Y)


def _versions(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        meta = con.execute("SELECT value FROM stp_meta WHERE key = 'schema_version'").fetchone()
        rows = con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        return meta[0], [v for (v,) in rows]
    finally:
        con.close()


def _upgrades(store):
    return store.events(kind="store.upgrade", include_store_events=True)


@pytest.fixture
def old_store(tmp_path):
    path = tmp_path / "old.db"
    shutil.copyfile(DATA / "ops_without_keys.db", path)
    assert _versions(path) == ("3", [3])
    return path


def test_the_upgrade_of_an_old_store_is_an_event_under_the_chain(old_store):
    store = stp.stores.SQLiteStore(old_store)
    before = store.events(include_store_events=True)
    assert store.schema_version == 3 and store.verify() and _upgrades(store) == []
    model = _logging_model(store)  # its first write upgrades the store
    model.predict(_X.iloc[:2])
    assert _versions(old_store) == ("5", [3, 4, 5])
    event, indexed = _upgrades(store)  # one event per version, in one transaction
    assert event["payload"] == {
        "from_version": 3,
        "to_version": 4,
        "by": f"sktraceprop {stp.__version__}",
        "changes": "prediction_salts table: calls logged from now on are salted",
    }
    assert indexed["seq"] == event["seq"] + 1
    assert (indexed["payload"]["from_version"], indexed["payload"]["to_version"]) == (4, 5)
    after = store.events(include_store_events=True)
    assert after[: len(before)] == before  # appended: nothing before it changed
    # before the fit's first event: the first write upgrades the store, whether or
    # not a call is ever logged
    kinds = [e["kind"] for e in after[len(before) :]]
    assert kinds[:2] == ["store.upgrade", "store.upgrade"] and "store.run" in kinds[2:]
    assert event["seq"] == after[len(before)]["seq"]
    for handle in (store, stp.stores.SQLiteStore(old_store, mode="ro")):
        assert handle.verify() and handle.check(full=True)
    # a second handle finds the store upgraded: no second event
    _logging_model(stp.stores.SQLiteStore(old_store)).predict(_X.iloc[:1])
    assert len(_upgrades(stp.stores.SQLiteStore(old_store, mode="ro"))) == 2


def test_an_altered_upgrade_event_fails_verify(old_store):
    store = stp.stores.SQLiteStore(old_store)
    _logging_model(store).predict(_X.iloc[:1])
    event, _ = _upgrades(store)
    store.close()
    con = sqlite3.connect(old_store)
    con.execute("DROP TRIGGER events_append_only_update")
    con.execute(
        "UPDATE events SET payload = replace(payload, '\"from_version\":3', "
        "'\"from_version\":2') WHERE seq = ?",
        (event["seq"],),
    )
    assert con.total_changes == 1
    con.commit()
    con.close()
    with pytest.raises(CorruptStoreError, match=f"{event['seq']}.*does not match its hash"):
        stp.stores.SQLiteStore(old_store, mode="ro").verify()


def test_a_new_store_has_no_upgrade_event(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "new.db")
    _logging_model(store).predict(_X.iloc[:1])
    assert _upgrades(store) == [] and store.verify()


def test_a_postgresql_upgrade_is_an_event_under_the_chain(pg_dsn, request, tmp_path):
    backend = Backend("postgres", tmp_path, request)
    store = backend.make()
    store.append_event("review", {})
    backend.sql("DROP TABLE prediction_salts")
    backend.sql("DROP INDEX events_kind")
    backend.sql("UPDATE stp_meta SET value = '3' WHERE key = 'schema_version'")
    backend.sql("UPDATE schema_version SET version = 3 WHERE version = 5")  # (as 3 wrote it)
    store = backend.make()
    assert store.schema_version == 3 and _upgrades(store) == []
    _logging_model(store).predict(_X.iloc[:1])
    assert store.schema_version == 5
    salts, index = _upgrades(backend.make())
    assert (salts["payload"]["from_version"], salts["payload"]["to_version"]) == (3, 4)
    assert (index["payload"]["from_version"], index["payload"]["to_version"]) == (4, 5)
    assert store.verify() and store.check()
