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
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.exceptions import CorruptStoreError
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
    (_, *applied), seqs = _file(path)
    report = stp.stores.SQLiteStore(path, mode="ro").check()
    assert report["upgrades"] == [
        {"from_version": v - 1, "to_version": v, "applied_at": at, "event_seq": seq}
        for (v, at), seq in zip(applied, seqs, strict=True)
    ]
    assert [u["to_version"] for u in report["upgrades"]] == [4, 5]
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
    backend.sql("UPDATE schema_version SET version = 4 WHERE version = 5")
    backend.sql("INSERT INTO schema_version VALUES (5, '2026-12-01T00:00:00+00:00')")
    report = backend.make().check()
    assert report["upgrades"] == [
        {
            "from_version": 4,
            "to_version": 5,
            "applied_at": "2026-12-01T00:00:00+00:00",
            "event_seq": None,
        }
    ]
    assert len(_unrecorded(report)) == 1


def _inconsistent(error):
    """The problems of ``error`` (a failed check) that name an inconsistent history."""
    return [
        p["message"]
        for p in error.problems
        if p["check"] == "upgrades" and "upgrade history is inconsistent" in p["message"]
    ]


def _set_back_to_4(backend):
    """Damage a schema-5 store as a restore of part of it would: its row of version 5
    deleted and its version set back to 4 (the index dropped), its events kept."""
    backend.sql("DELETE FROM schema_version WHERE version = 5")
    backend.sql("UPDATE stp_meta SET value = '4' WHERE key = 'schema_version'")
    backend.sql("DROP INDEX events_kind")


def _history(backend):
    """The truth: ``schema_version`` rows and ``store.upgrade`` event seqs, read raw."""
    rows = backend.sql("SELECT version FROM schema_version ORDER BY version", fetch=True)
    seqs = backend.sql(
        "SELECT seq FROM events WHERE kind = 'store.upgrade' ORDER BY seq", fetch=True
    )
    return [v for (v,) in rows], [s for (s,) in seqs]


def _refused(backend, seq):
    """A writable handle's first write is refused, naming the event, and writes nothing;
    the handle refuses writes after."""
    before = backend.sql("SELECT count(*) FROM events", fetch=True)
    store = backend.make()
    with pytest.raises(CorruptStoreError, match=rf"store\.upgrade event {seq} already") as info:
        store.append_event("review", {})
    assert "to schema version 5, yet it has version 4" in str(info.value)
    assert backend.sql("SELECT count(*) FROM events", fetch=True) == before
    with pytest.raises(CorruptStoreError):
        store.append_event("review", {})


def test_a_store_set_back_after_its_upgrade_fails_its_check_and_is_not_upgraded_again(
    tmp_path, request, capsys
):
    path = tmp_path / "store.db"
    shutil.copyfile(DATA / "ops_without_keys.db", path)
    backend = Backend("sqlite", tmp_path, request)
    backend.path = str(path)
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {})  # the first write: 3 -> 4 -> 5, one event each
    stp.TracedPipeline([("lr", LogisticRegression())], store=store, log_predictions=True).fit(
        _X, _Y
    ).predict(_X.iloc[:1])
    store.close()
    assert stp.stores.SQLiteStore(path, mode="ro").verify()
    _set_back_to_4(backend)
    rows, seqs = _history(backend)
    assert rows == [3, 4] and len(seqs) == 2  # the truth: an event to 5, no row of 5
    store = stp.stores.SQLiteStore(path, mode="ro")
    assert store.schema_version == 4
    with pytest.raises(CorruptStoreError, match="upgrade history is inconsistent"):
        store.verify()
    with pytest.raises(CorruptStoreError) as info:
        stp.stores.SQLiteStore(path, mode="ro").check()
    (said,) = _inconsistent(info.value)
    assert f"event {seqs[1]}" in said and "from schema version 4 to 5" in said
    assert "no row of version 5" in said
    out = io.StringIO()
    assert main(["check", str(path)], out=out) == 1
    assert said in capsys.readouterr().err
    # a writable handle's first write would upgrade it again: refused, naming the event
    _refused(backend, seqs[1])
    assert _history(backend) == (rows, seqs)


def test_a_postgresql_store_set_back_after_its_upgrade_is_refused(pg_dsn, request, tmp_path):
    backend = Backend("postgres", tmp_path, request)
    backend.make().append_event("review", {})
    # as a store created at version 4: one row, of 4
    backend.sql("UPDATE schema_version SET version = 4 WHERE version = 5")
    backend.sql("INSERT INTO schema_version VALUES (5, '2026-12-01T00:00:00+00:00')")
    _set_back_to_4(backend)
    backend.make().append_event("review", {})  # 4 -> 5, its event
    rows, seqs = _history(backend)
    assert rows == [4, 5] and len(seqs) == 1
    assert backend.make(mode="ro").verify()
    _set_back_to_4(backend)
    with pytest.raises(CorruptStoreError) as info:
        backend.make(mode="ro").check()
    (said,) = _inconsistent(info.value)
    assert f"event {seqs[0]}" in said and "no row of version 5" in said
    _refused(backend, seqs[0])
    assert _history(backend) == ([4], seqs)


def test_two_upgrade_events_to_one_version_fail_the_check(tmp_path, request):
    # as the store an sktraceprop without the refusal wrote: set back, upgraded again
    backend = Backend("sqlite", tmp_path, request)
    store = backend.make()
    store.append_event("review", {})
    backend.sql("INSERT INTO schema_version VALUES (4, '2026-12-01T00:00:00+00:00')")
    from sktraceprop.stores._append import _Chain
    from sktraceprop.stores._upgrade_event import UPGRADE_EVENT

    store = backend.make()
    for _ in range(2):
        # (appended as an upgrade appends its event, without the refusal under test above)
        with store._writer() as writer:
            chain = _Chain(store, writer)
            chain.append(UPGRADE_EVENT, {"from_version": 4, "to_version": 5})
            chain.confirm()
    seqs = _history(backend)[1]
    store = backend.make(mode="ro")
    with pytest.raises(CorruptStoreError, match="upgrade history is inconsistent"):
        store.verify()
    with pytest.raises(CorruptStoreError) as info:
        backend.make(mode="ro").check()
    (said,) = _inconsistent(info.value)
    assert f"seqs {seqs[0]}, {seqs[1]}" in said and "upgrade to schema version 5" in said


def test_an_upgrade_event_from_a_version_with_no_row_fails_the_check(tmp_path, request):
    backend = Backend("sqlite", tmp_path, request)
    store = backend.make()
    store.append_event("review", {})
    backend.sql("INSERT INTO schema_version VALUES (4, '2026-12-01T00:00:00+00:00')")
    store = backend.make()
    # an event as an upgrade 4 -> 5 writes, with the row of 4 then deleted
    from sktraceprop.stores._upgrade_event import record_upgrade

    with store._writer() as writer:
        record_upgrade(store, writer, 4, 5)
    backend.sql("DELETE FROM schema_version WHERE version = 4")
    with pytest.raises(CorruptStoreError) as info:
        backend.make(mode="ro").check()
    (said,) = _inconsistent(info.value)
    assert "from schema version 4 to 5" in said and "no row of version 4" in said
