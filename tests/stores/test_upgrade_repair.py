"""``repair_upgrade()``: the way out of a refused upgrade. A store whose version was set
back after its chain recorded the upgrade (``verify()`` fails, its first write refused)
is brought back to the version the chain records, losing nothing, with a
``store.repair`` event; ``verify()`` and ``check()`` then pass and name it. What
appending cannot mend is refused and writes nothing. The truth is the database read
raw (sqlite3 / psycopg): its rows, events and indexes before and after."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError, StoreError
from tests.stores._store_helpers import Backend

DATA = Path(__file__).parent / "data"
_X = pd.DataFrame({"a": np.arange(8.0), "b": np.arange(8.0) % 3})
_Y = np.arange(8) % 2


def _set_back_to_4(backend):
    """A restore of part of a schema-5 store: its row of 5 deleted, its version set
    back to 4, its index dropped; its events kept."""
    backend.sql("DELETE FROM schema_version WHERE version = 5")
    backend.sql("UPDATE stp_meta SET value = '4' WHERE key = 'schema_version'")
    backend.sql("DROP INDEX events_kind")


def _raw(backend):
    """The truth: schema_version rows, the version in stp_meta, every event row, and
    whether the events_kind index exists."""
    rows = backend.sql(
        "SELECT version, applied_at FROM schema_version ORDER BY version", fetch=True
    )
    (version,) = backend.sql(
        "SELECT value FROM stp_meta WHERE key = 'schema_version'", fetch=True
    )[0]
    events = backend.sql(
        "SELECT seq, kind, created_at, payload, hash FROM events ORDER BY seq", fetch=True
    )
    if backend.kind == "sqlite":
        index = backend.sql(
            "SELECT name FROM sqlite_master WHERE name = 'events_kind'", fetch=True
        )
    else:
        index = backend.sql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = ? AND indexname = 'events_kind'",
            (backend.schema,),
            fetch=True,
        )
    return [tuple(r) for r in rows], version, [tuple(e) for e in events], bool(index)


def _sqlite_set_back(tmp_path, request):
    backend = Backend("sqlite", tmp_path, request)
    shutil.copyfile(DATA / "ops_without_keys.db", backend.path)
    store = stp.stores.SQLiteStore(backend.path)
    stp.TracedPipeline([("lr", LogisticRegression())], store=store, log_predictions=True).fit(
        _X, _Y
    ).predict(_X.iloc[:1])  # 3 -> 4 -> 5, one event each
    store.close()
    return backend


def _postgres_set_back(tmp_path, request):
    backend = Backend("postgres", tmp_path, request)
    backend.make().append_event("review", {})
    # as a store created at version 4, then upgraded to 5 with its event
    backend.sql("UPDATE schema_version SET version = 4 WHERE version = 5")
    backend.sql("UPDATE stp_meta SET value = '4' WHERE key = 'schema_version'")
    backend.sql("DROP INDEX events_kind")
    backend.make().append_event("review", {})
    return backend


@pytest.fixture(params=["sqlite", "postgres"])
def set_back(request, tmp_path):
    if request.param == "postgres":
        request.getfixturevalue("pg_dsn")
        backend = _postgres_set_back(tmp_path, request)
    else:
        backend = _sqlite_set_back(tmp_path, request)
    good = _raw(backend)
    assert good[1] == "5" and good[3]
    _set_back_to_4(backend)
    return backend, good


def test_a_refused_upgrade_is_repaired_losing_nothing(set_back):
    backend, good = set_back
    good_rows, _, good_events, _ = good
    before = _raw(backend)
    # the store as the refusal leaves it: verify fails, the first write is refused
    with pytest.raises(CorruptStoreError, match="upgrade history is inconsistent"):
        backend.make(mode="ro").verify()
    refused = backend.make()
    with pytest.raises(CorruptStoreError, match="repair_upgrade"):
        refused.append_event("review", {})
    assert _raw(backend) == before

    event = backend.make().repair_upgrade()
    rows, version, events, index = _raw(backend)
    upgrades = [e for e in good_events if e[1] == "store.upgrade"]
    # the row comes back with the time of its upgrade's event (written in the one
    # transaction, microseconds apart), the version and the index too; every earlier
    # event is as it was, one event appended
    assert rows[:-1] == good_rows[:-1] and [v for v, _ in rows] == [v for v, _ in good_rows]
    assert rows[-1] == (5, upgrades[-1][2])
    assert (version, index) == ("5", True)
    assert events[:-1] == before[2] == good_events
    assert events[-1][0] == event["seq"] == good_events[-1][0] + 1
    assert events[-1][1] == event["kind"] == "store.repair"
    payload = event["payload"]
    assert payload["upgrade_events"] == [e[0] for e in upgrades]
    assert (payload["from_version"], payload["to_version"]) == (4, 5)
    assert payload["rows_restored"] == [
        {"version": 5, "applied_at": upgrades[-1][2], "from_event": upgrades[-1][0]}
    ]

    store = backend.make(mode="ro")
    assert store.verify() is True and store.schema_version == 5
    report = backend.make(mode="ro").check()
    assert report["upgrades"][-1] == {
        "from_version": 4,
        "to_version": 5,
        "applied_at": upgrades[-1][2],
        "event_seq": upgrades[-1][0],
    }
    (note,) = [n for n in report["notes"] if "store.repair" in n]
    assert note.startswith(f"store.repair event {event['seq']} ")
    # a new handle writes, without a second upgrade; a second repair has nothing to do
    store = backend.make()
    assert store.append_event("review", {})["seq"] == event["seq"] + 1
    assert [e[1] for e in _raw(backend)[2]].count("store.upgrade") == len(upgrades)
    assert backend.make().repair_upgrade() is None
    assert len(_raw(backend)[2]) == event["seq"] + 1


@pytest.mark.parametrize("refused_first", [True, False])
def test_the_handle_that_repaired_a_store_writes(set_back, refused_first):
    backend, good = set_back
    store = backend.make()
    if refused_first:
        with pytest.raises(CorruptStoreError, match="repair_upgrade"):
            store.append_event("review", {})
    event = store.repair_upgrade()
    # the same handle writes, as a new one would: one event after the repair, no
    # second upgrade, and the store still verifies
    assert store.append_event("review", {"after": 1})["seq"] == event["seq"] + 1
    events = _raw(backend)[2]
    assert [e[0] for e in events] == list(range(1, event["seq"] + 2))
    assert [e[1] for e in events].count("store.upgrade") == [e[1] for e in good[2]].count(
        "store.upgrade"
    )
    assert backend.make(mode="ro").verify() is True


def test_a_refusal_for_something_else_outlives_the_repair(set_back):
    backend, _ = set_back
    store = backend.make()
    # (as a read that found a damaged record refuses writes: not the upgrade history)
    store._refuse_writes("run r1: a damaged record")
    event = store.repair_upgrade()
    assert event["kind"] == "store.repair"
    with pytest.raises(CorruptStoreError, match="run r1: a damaged record"):
        store.append_event("review", {})
    assert _raw(backend)[2][-1][0] == event["seq"]
    assert backend.make().append_event("review", {})["seq"] == event["seq"] + 1


def test_a_consistent_store_is_not_repaired(tmp_path, request):
    backend = Backend("sqlite", tmp_path, request)
    backend.make().append_event("review", {})
    before = _raw(backend)
    assert backend.make().repair_upgrade() is None
    assert _raw(backend) == before
    with pytest.raises(StoreError, match="read-only"):
        backend.make(mode="ro").repair_upgrade()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_two_upgrade_events_to_one_version_are_not_repaired(tmp_path, request, kind):
    backend = Backend(kind, tmp_path, request)
    backend.make().append_event("review", {})
    backend.sql("INSERT INTO schema_version VALUES (4, '2026-12-01T00:00:00+00:00')")
    from sktraceprop.stores._append import _Chain
    from sktraceprop.stores._upgrade_event import UPGRADE_EVENT

    store = backend.make()
    for _ in range(2):  # as an sktraceprop without the refusal wrote them
        with store._writer() as writer:
            chain = _Chain(store, writer)
            chain.append(UPGRADE_EVENT, {"from_version": 4, "to_version": 5})
            chain.confirm()
    before = _raw(backend)
    with pytest.raises(
        StoreError, match="events 2, 3 each record an upgrade to schema version 5"
    ) as info:
        backend.make().repair_upgrade()
    # what to do: the records are intact, keep it for the audit, write elsewhere
    assert "keep it as it is" in str(info.value) and "another store" in str(info.value)
    assert _raw(backend) == before
    with pytest.raises(CorruptStoreError, match="upgrades"):
        backend.make(mode="ro").verify()


def test_other_damage_is_not_repaired(tmp_path, request):
    backend = _sqlite_set_back(tmp_path, request)
    _set_back_to_4(backend)
    backend.sql("UPDATE events SET payload = payload || ' ' WHERE seq = 1")
    before = _raw(backend)
    with pytest.raises(CorruptStoreError, match="other damage") as info:
        backend.make().repair_upgrade()
    assert "hash_chain" in str(info.value)
    assert _raw(backend) == before
