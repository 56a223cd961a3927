"""A store of schema version 2 (SQLite or PostgreSQL) used for prediction logging.

It is not upgraded (version 3 changed how runs are stored; a version 2 store keeps its
runs unsealed): before, its calls were logged with the plain SHA-256 of their input rows,
which no erasure reaches, without a word. Now the first call logged through a handle
warns, once; opening and verifying never alter it nor warn. The independent truth: the
event's ``input_sha256`` is ``hash_rows`` of the rows, and the store's bytes.
"""

import shutil
from pathlib import Path

import pytest

import sktraceprop as stp
from sktraceprop.compliance import hash_rows
from tests.stores._store_helpers import Backend, user_warnings
from tests.stores.test_erase_predictions import _found, _model, _person

_SAID = "has schema version 2, which is not upgraded"


def _sqlite_v2(tmp_path):
    path = tmp_path / "v2.db"
    shutil.copy(Path(__file__).parent / "data" / "schema2.db", path)
    return lambda: stp.stores.SQLiteStore(path)


def _postgres_v2(tmp_path, request):
    """A PostgreSQL schema as version 2 made it: no run_leaves, no prediction_salts."""
    backend = Backend("postgres", tmp_path, request)
    backend.make().close()
    backend.sql("DROP TABLE run_leaves, prediction_salts")
    backend.sql("DROP INDEX events_kind")
    backend.sql("UPDATE stp_meta SET value = '2' WHERE key = 'schema_version'")
    # (its schema_version table as version 2 wrote it: one row, 2)
    backend.sql("UPDATE schema_version SET version = 2 WHERE version = 5")
    return backend.make


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_schema_2_store_says_its_calls_are_logged_unsalted(kind, tmp_path, request):
    if kind == "postgres":
        request.getfixturevalue("pg_dsn")
        make = _postgres_v2(tmp_path, request)
    else:
        make = _sqlite_v2(tmp_path)
    store, said = user_warnings(make)
    assert store.schema_version == 2 and not said
    assert user_warnings(store.verify) == (True, [])  # opening and verifying: no word
    model = _model(store)
    _, said = user_warnings(lambda: model.predict(_person(0)))
    assert [m for m in said if _SAID in m and "erase_predictions cannot" in m], said
    _, said = user_warnings(lambda: model.predict(_person(1)))
    assert not [m for m in said if _SAID in m], said  # once per handle
    assert store.schema_version == 2 and make().schema_version == 2  # not upgraded
    event = store.events(kind="prediction")[-2]
    assert event["payload"]["input_sha256"] == hash_rows(_person(0))  # the plain digest
    seqs = _found(store, _person(0))
    done, said = user_warnings(lambda: store.erase_predictions(_person(0), reason="r"))
    assert done["calls"] == [] and done["unsalted"] == seqs
    assert any("before prediction events were salted" in m for m in said), said
    assert make().verify()
    # another handle says it again, at its first call
    again = make()
    _, said = user_warnings(lambda: _model(again).predict(_person(2)))
    assert [m for m in said if _SAID in m], said
