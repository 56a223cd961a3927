"""A store of schema version 3 written to but never logged to stayed at 3, its events
found by kind by reading the whole log at every traced fit, and nothing said so. Its
first write now upgrades it (as a version-4 store's does), and a check of a store not
upgraded names its version and what it lacks in ``notes``. The truth is the database
read raw: the version, the ``schema_version`` rows, the index, the events' order."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from tests.stores._store_helpers import Backend

DATA = Path(__file__).parent / "data"
_X = pd.DataFrame({"a": np.arange(8.0), "b": np.arange(8.0) % 3})
_Y = np.arange(8) % 2


def _raw(backend):
    (version,) = backend.sql(
        "SELECT value FROM stp_meta WHERE key = 'schema_version'", fetch=True
    )[0]
    rows = backend.sql("SELECT version FROM schema_version ORDER BY version", fetch=True)
    kinds = backend.sql("SELECT kind FROM events ORDER BY seq", fetch=True)
    if backend.kind == "sqlite":
        index = backend.sql("SELECT 1 FROM sqlite_master WHERE name = 'events_kind'", fetch=True)
    else:
        index = backend.sql(
            "SELECT 1 FROM pg_indexes WHERE schemaname = ? AND indexname = 'events_kind'",
            (backend.schema,),
            fetch=True,
        )
    return version, [v for (v,) in rows], [k for (k,) in kinds], bool(index)


def _schema_3(request, tmp_path):
    backend = Backend(request.param, tmp_path, request)
    if backend.kind == "sqlite":
        shutil.copyfile(DATA / "ops_without_keys.db", backend.path)
    else:
        backend.make().append_event("review", {})
        # as version 3 wrote it: no salts table, no index, one row of 3
        backend.sql("DROP TABLE prediction_salts")
        backend.sql("DROP INDEX events_kind")
        backend.sql("UPDATE stp_meta SET value = '3' WHERE key = 'schema_version'")
        backend.sql("UPDATE schema_version SET version = 3 WHERE version = 5")
    return backend


@pytest.fixture(params=["sqlite", "postgres"])
def old(request, tmp_path):
    if request.param == "postgres":
        request.getfixturevalue("pg_dsn")
    return _schema_3(request, tmp_path)


def test_a_schema_3_store_is_upgraded_by_its_first_write(old):
    version, rows, kinds, index = _raw(old)
    assert (version, rows, index) == ("3", [3], False)
    # a check says what it lacks, and alters nothing
    (note,) = [n for n in old.make(mode="ro").check()["notes"] if "schema version" in n]
    assert note.startswith("the store has schema version 3, not 5:")
    assert "found by kind by reading the whole log" in note
    assert _raw(old) == (version, rows, kinds, index)
    old.make().append_event("review", {"n": 1})  # no call logged
    after = _raw(old)
    assert after[:2] == ("5", [3, 4, 5]) and after[3] is True
    # the upgrade's events, then the write, all appended after what was there
    assert after[2] == [*kinds, "store.upgrade", "store.upgrade", "review"]
    store = old.make(mode="ro")
    assert store.schema_version == 5 and store.verify()
    assert [n for n in old.make(mode="ro").check()["notes"] if "schema version" in n] == []


def test_a_traced_fit_into_a_schema_3_store_upgrades_it_and_reads_back(tmp_path, request):
    backend = Backend("sqlite", tmp_path, request)
    shutil.copyfile(DATA / "ops_without_keys.db", backend.path)
    store = stp.stores.SQLiteStore(backend.path)
    model = stp.TracedPipeline([("lr", LogisticRegression())], store=store).fit(_X, _Y)
    assert _raw(backend)[0] == "5" and _raw(backend)[3] is True
    loaded = stp.stores.SQLiteStore(backend.path, mode="ro").load_run(model.lineage_.run_id)
    assert np.array_equal(loaded.row_ids, model.lineage_.row_ids)
