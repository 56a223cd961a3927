"""``store.erase_predictions``: a person's logged calls made unfindable (crypto-shredding).

Before: each prediction event held the plain SHA-256 of its input rows under the hash
chain; whoever held an erased person's row could hash it and find the call that scored
it alone, forever. Now a call commits to that digest under a salt kept beside the chain,
and erasing deletes the salt. The truths: ``find_predictions`` before and after, the
raw bytes of the store (the SQLite file and its log, the PostgreSQL table's file in the
server's data folder, a MemoryStore's pickle), and ``verify()``.
"""

import hashlib
import pickle
import sqlite3
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.compliance import find_predictions, hash_rows
from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores._prediction_salts import input_commitment
from tests.stores._store_helpers import Backend, open_reader, user_warnings

#: The wipe mark's id an erasure event names where the store keeps bytes to wipe
#: (a random id: it ties the event to nothing; stores/_wipe_marks.py).
_WIPE = {"memory": set(), "sqlite": {"wipe"}, "postgres": {"wipe"}}

_X = pd.DataFrame(
    {"age": [31.0, 47.0, 52.0, 29.0, 64.0, 38.0], "income": [2.5, 4.0, 1.2, 3.3, 5.1, 2.2]}
)
_Y = np.array([0, 1, 0, 1, 1, 0])


def _model(store):
    return stp.TracedPipeline(
        [("lr", LogisticRegression())], store=store, log_predictions=True
    ).fit(_X, _Y)


def _person(i):
    return _X.iloc[[i]]


def _found(store, X, whole=False):
    """The seqs of the calls found (``whole``: only those whose batch was ``X``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (nothing found: said)
        found = find_predictions(store, X)
    if whole:
        found = found[found.positions.isna()]
    return sorted(set(found["seq"].tolist()))


def _held_bytes(backend, store):
    """What the store's files hold, as bytes (for PostgreSQL, the files of its tables
    in the server's data folder, after a checkpoint wrote them)."""
    if backend.kind == "memory":
        return pickle.dumps(store)
    if backend.kind == "sqlite":
        store.close()
        path = backend.path
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    backend.sql("CHECKPOINT")
    (folder,) = backend.sql("SHOW data_directory", fetch=True)[0]
    out = b""
    for table in ("prediction_salts", "events"):
        (relative,) = backend.sql(
            f"SELECT pg_relation_filepath('\"{backend.schema}\".{table}')", fetch=True
        )[0]
        base = Path(folder) / relative
        out += b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*"))
    return out


def test_an_erased_call_is_no_longer_found_nor_its_salt_held(backend):
    store = backend.make()
    model = _model(store)
    for i in range(4):
        model.predict(_person(i))
    model.predict_proba(_X)  # one batch of every row
    calls = {i: _found(store, _person(i), whole=True) for i in range(4)}
    assert all(len(seqs) == 1 for seqs in calls.values())
    (batch,) = _found(store, _X, whole=True)
    # each person alone finds their own call and, by their row, the batch
    assert all(_found(store, _person(i)) == calls[i] + [batch] for i in range(4))
    target = calls[2][0]
    salt = store._raw_prediction_salts()[target]
    digest = hash_rows(_person(2))
    held = _held_bytes(backend, store)
    # the event holds neither the digest nor the salt; the salt is beside the chain
    assert salt.encode() in held and digest.encode() not in held
    event = next(e for e in store.events(kind="prediction") if e["seq"] == target)
    assert "input_sha256" not in event["payload"]
    assert event["payload"]["input_commitment"] == input_commitment(salt, digest)
    store = backend.make()
    erased = store.erase_predictions(_person(2), reason="GDPR Art. 17 request 7")
    assert erased["calls"] == [target, batch] and erased["unsalted"] == [] and erased["wiped"]
    assert erased["by_row"] == [batch]  # the batch held the row: erased whole
    store = backend.make()
    assert _found(store, _person(2)) == []
    assert {i: _found(store, _person(i)) for i in (0, 1, 3)} == {i: calls[i] for i in (0, 1, 3)}
    assert _found(store, _X, whole=True) == []  # the batch went whole, with person 2's row
    assert store.verify()
    (record,) = store.events(kind="store.prediction_erasure", include_store_events=True)
    assert record["seq"] == erased["event_seq"]
    # the event names no call: the chain must not tie the request to the call's outputs
    payload = record["payload"]
    assert set(payload) == {"reason", "erased_commitment", "key_sha256"} | _WIPE[backend.kind]
    assert payload["reason"] == "GDPR Art. 17 request 7"
    key = backend.make()._raw_prediction_salts()[record["seq"]]
    text = f"sktraceprop-erased-1\n{key}\n{target},{batch}"
    assert payload["erased_commitment"] == hashlib.sha256(text.encode()).hexdigest()
    held = _held_bytes(backend, backend.make())
    assert salt.encode() not in held and digest.encode() not in held
    # what stays, as documented: the call's outputs and counts, under the chain
    event = next(e for e in backend.make().events(kind="prediction") if e["seq"] == target)
    assert event["payload"]["n_rows"] == 1 and "outputs" in event["payload"]


def test_a_batch_is_erased_whole_and_a_dry_run_writes_nothing(backend):
    store = backend.make()
    model = _model(store)
    model.predict(_X.iloc[:3])
    model.predict(_person(1))
    before = store.events(include_store_events=True)
    plan = store.erase_predictions(_X.iloc[:3], reason="r", dry_run=True)
    (whole,) = _found(store, _X.iloc[:3], whole=True)
    (alone,) = _found(store, _person(1), whole=True)  # row 1 of the batch, scored alone too
    assert plan == {
        "event_seq": None,
        "calls": [whole, alone],
        "unsalted": [],
        "by_row": [alone],
        "no_row_digests": [],
    }
    assert store.events(include_store_events=True) == before
    assert store.erase_predictions(_person(5), reason="r")["calls"] == []  # never scored
    done = store.erase_predictions(_X.iloc[:3], reason="r")
    assert done["calls"] == plan["calls"]
    assert _found(store, _X.iloc[:3]) == [] and _found(store, _person(1)) == []
    # asked again: nothing left to erase, nothing written
    again = store.erase_predictions(_X.iloc[:3], reason="r")
    assert again["calls"] == [] and again["event_seq"] is None and again["wiped"]
    with pytest.raises(ValueError, match="reason must say why"):
        store.erase_predictions(_person(1), reason=" ")


def test_an_exact_other_form_of_the_rows_is_erased_too(backend):
    # a row read again with its columns reordered is found by find_predictions: the
    # erasure must reach it, or find_predictions would still find the call
    store = backend.make()
    model = _model(store)
    model.predict(_person(3))
    assert len(_found(store, _person(3)[["income", "age"]])) == 1
    store.erase_predictions(_person(3)[["income", "age"]], reason="r")
    assert _found(store, _person(3)) == [] and store.verify()


@pytest.mark.parametrize("edit", ["replaced", "deleted", "added", "written back"])
def test_a_salt_changed_outside_sktraceprop_fails_verify(backend, edit):
    store = backend.make()
    model = _model(store)
    model.predict(_person(0))
    model.predict(_person(1))
    first, second = sorted(store._raw_prediction_salts())
    salt = store._raw_prediction_salts()[first]
    if edit == "written back":
        store.erase_predictions(_person(0), reason="r")
    if backend.kind == "memory":
        salts = store._salts
        if edit == "replaced":
            salts[first] = "0" * 32  # hides the call from find_predictions
        elif edit == "deleted":
            del salts[first]
        elif edit == "added":
            salts[999] = salt
        else:
            salts[first] = salt
    else:
        statements = {
            "replaced": ("UPDATE prediction_salts SET salt = ? WHERE seq = ?", ("0" * 32, first)),
            "deleted": ("DELETE FROM prediction_salts WHERE seq = ?", (first,)),
            "added": ("INSERT INTO prediction_salts VALUES (?, ?)", (999, salt)),
            "written back": ("INSERT INTO prediction_salts VALUES (?, ?)", (first, salt)),
        }
        backend.sql(*statements[edit])
    store = backend.make()
    with pytest.raises(CorruptStoreError, match="prediction_salts") as info:
        store.verify()
    # a salt put back is found through the last erasure's commitment: that event named
    where = {"added": 999}.get(edit, first)
    if edit == "written back":
        where = _last_erasure(store)
    assert [p["seq"] for p in info.value.problems if p["check"] == "prediction_salts"] == [where]


def _last_erasure(store):
    return store.events(kind="store.prediction_erasure", include_store_events=True)[-1]["seq"]


def test_an_edited_or_removed_prediction_event_still_fails_verify(backend):
    store = backend.make()
    model = _model(store)
    model.predict(_person(0))
    model.predict(_person(1))
    store.erase_predictions(_person(0), reason="r")
    (seq,) = _found(store, _person(1))
    if backend.kind == "memory":
        store._events = [row for row in store._events if row[0] != seq]
    else:
        backend.sql("DELETE FROM events WHERE seq = ?", (seq,))
    with pytest.raises(CorruptStoreError, match="missing"):
        backend.make().verify()


def test_the_wipe_not_finished_is_said_in_what_is_returned(tmp_path):
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path, timeout=0.2)
    model = _model(store)
    model.predict(_person(0))
    salt = store._raw_prediction_salts()[_found(store, _person(0))[0]]
    reader, cursor = open_reader(path)
    try:
        done, said = user_warnings(lambda: store.erase_predictions(_person(0), reason="r"))
        assert done["calls"] and done["wiped"] is False
        assert any("old pages" in m for m in said), said
        assert store.check()["erased_bytes_left"]
    finally:
        cursor.fetchall()
        reader.close()
    store.append_event("review", {})  # a later write finishes the wipe
    store.close()
    held = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert salt.encode() not in held
    assert stp.stores.SQLiteStore(path).check()["erased_bytes_left"] == []


def _as_schema_3(path):
    """Turn a SQLite store into one as schema version 3 wrote it (no salts table)."""
    con = sqlite3.connect(path)
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    triggers = triggers.fetchall()
    for name, _ in triggers:
        con.execute(f"DROP TRIGGER {name}")
    con.execute("DROP TABLE prediction_salts")
    con.execute("DROP INDEX events_kind")
    con.execute("UPDATE stp_meta SET value = '3' WHERE key = 'schema_version'")
    con.execute("UPDATE schema_version SET version = 3 WHERE version = 5")  # (as 3 wrote it)
    for name, definition in triggers:
        if not name.startswith("prediction_salts"):
            con.execute(definition)
    con.commit()
    con.close()


def _unsalted_store(tmp_path, monkeypatch):
    """A store of schema version 3 with calls logged unsalted (as 3 logged them)."""
    path = tmp_path / "old.db"
    store = stp.stores.SQLiteStore(path)
    with monkeypatch.context() as m:
        m.setattr(stp.stores.SQLiteStore, "_salts_predictions", property(lambda self: False))
        model = _model(store)
        model.predict(_person(0))
        model.predict(_person(1))
    store.close()
    _as_schema_3(path)
    return path, model


def test_a_schema_3_store_is_upgraded_and_its_old_calls_said_unsalted(tmp_path, monkeypatch):
    path, model = _unsalted_store(tmp_path, monkeypatch)
    before = path.read_bytes()
    old = stp.stores.SQLiteStore(path, mode="ro")
    assert old.schema_version == 3 and old.verify()
    assert len(_found(old, _person(0))) == 1  # found by the plain digest, as before
    old.close()
    store = stp.stores.SQLiteStore(path)
    assert store.schema_version == 3 and store.verify() and len(store.events()) == 2
    store.close()
    assert path.read_bytes() == before  # opening, reading, verifying never alter it
    store = stp.stores.SQLiteStore(path)
    model.store = store
    model.predict(_person(0))  # the first call logged upgrades it: salted
    assert store.schema_version == 5 and store.verify() and store.check()
    assert stp.stores.SQLiteStore(path, mode="ro").schema_version == 5
    seqs = _found(store, _person(0))
    assert len(seqs) == 2
    done, said = user_warnings(lambda: store.erase_predictions(_person(0), reason="r"))
    assert done["unsalted"] == [seqs[0]] and done["calls"] == [seqs[1]]
    assert any("before prediction events were salted" in m for m in said), said
    assert _found(store, _person(0)) == [seqs[0]]  # the old one: findable, as warned
    assert store.verify()
    # erase_rows says, once, that unsalted digests remain
    run_id = model.lineage_.run_id
    ids = store.load_run(run_id).row_ids[:1]
    _, said = user_warnings(lambda: store.erase_rows(sample_id=ids, reason="r"))
    unsalted = [m for m in said if "plain SHA-256 of its input rows" in m]
    assert len(unsalted) == 1 and "2 prediction event(s)" in unsalted[0], said


def test_a_handle_opened_at_version_3_reads_on_after_another_upgrades(tmp_path, monkeypatch):
    path, _ = _unsalted_store(tmp_path, monkeypatch)
    reader = stp.stores.SQLiteStore(path, mode="ro")
    other = stp.stores.SQLiteStore(path)
    assert reader.schema_version == other.schema_version == 3 and reader.verify()
    model = _model(stp.stores.SQLiteStore(path))
    model.predict(_person(4))
    # read on as version 5, salts included: not refused as upgraded by a newer release
    assert len(_found(reader, _person(4))) == 1 and reader.verify()
    assert reader.schema_version == 5
    other.append_event("review", {})  # writes on too, as version 5
    assert other.schema_version == 5 and other.verify()
    assert len(_found(other, _person(0))) == 1  # an old call, unsalted


def test_a_postgresql_store_of_version_3_is_upgraded_when_a_call_is_logged(
    pg_dsn, request, tmp_path, monkeypatch
):
    backend = Backend("postgres", tmp_path, request)
    store = backend.make()
    with monkeypatch.context() as m:
        m.setattr(stp.stores.PostgresStore, "_salts_predictions", property(lambda self: False))
        model = _model(store)
        model.predict(_person(0))
    backend.sql("DROP TABLE prediction_salts")
    backend.sql("DROP INDEX events_kind")
    backend.sql("UPDATE stp_meta SET value = '3' WHERE key = 'schema_version'")
    backend.sql("UPDATE schema_version SET version = 3 WHERE version = 5")  # (as 3 wrote it)
    store = backend.make()
    assert store.schema_version == 3 and store.check() and store.verify()
    model.store = store
    model.predict(_person(0))
    assert store.schema_version == 5
    assert store.check()  # its guards as version 4 installs them, the salts' included
    found = _found(backend.make(), _person(0))
    assert len(found) == 2
    done, said = user_warnings(lambda: store.erase_predictions(_person(0), reason="r"))
    assert done["unsalted"] == found[:1] and done["calls"] == found[1:] and done["wiped"]
    assert any("before prediction events were salted" in m for m in said), said
    backend.sql("INSERT INTO prediction_salts VALUES (?, ?)", (found[1], "0" * 32))
    with pytest.raises(CorruptStoreError, match="or an erased one put back"):
        backend.make().verify()


def test_erase_rows_says_nothing_of_the_log_where_every_call_is_salted(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    model = _model(store)
    model.predict(_person(0))
    ids = store.load_run(model.lineage_.run_id).row_ids[:1]
    done, said = user_warnings(lambda: store.erase_rows(sample_id=ids, reason="r"))
    assert not [m for m in said if "SHA-256" in m], said
    assert done and all(summary["wiped"] is True for summary in done)


_PEOPLE = st.integers(0, 3)
_STEPS = st.lists(st.tuples(st.sampled_from(["log", "erase"]), _PEOPLE), max_size=12)


def _sequence_store(kind):
    if kind == "memory":
        return stp.stores.MemoryStore(), None
    path = Path(tempfile.mkdtemp()) / "s.db"
    return stp.stores.SQLiteStore(path), path


def _replace_salt(store, path, seq):
    """A salt replaced as anyone who can write the file can (the salts table takes
    deletes and inserts: no trigger need be dropped)."""
    if path is None:
        store._salts[seq] = "f" * 32
        return
    con = sqlite3.connect(path)
    con.execute("DELETE FROM prediction_salts WHERE seq = ?", (seq,))
    con.execute("INSERT INTO prediction_salts VALUES (?, ?)", (seq, "f" * 32))
    con.commit()
    con.close()


@pytest.mark.parametrize(("kind", "examples"), [("memory", 25), ("sqlite", 8)])
def test_erased_calls_are_never_found_and_the_others_always_are(kind, examples):
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(steps=_STEPS, tamper=st.booleans())
    def check(steps, tamper):
        store, path = _sequence_store(kind)
        model = _model(store)
        logged = {i: [] for i in range(4)}  # the truth: calls of each person not erased
        for action, i in steps:
            if action == "log":
                model.predict(_person(i))
                logged[i].append(store.events(kind="prediction")[-1]["seq"])
            else:
                done = store.erase_predictions(_person(i), reason=f"request {i}")
                assert done["calls"] == logged[i] and done["wiped"]
                logged[i] = []
            assert {j: _found(store, _person(j)) for j in range(4)} == logged
            assert store.verify()
        held = store._raw_prediction_salts()
        erasures = store.events(kind="store.prediction_erasure", include_store_events=True)
        keys = [e["seq"] for e in erasures[-1:]]  # the last erasure's key, and no other
        assert sorted(held) == sorted([seq for seqs in logged.values() for seq in seqs] + keys)
        held = {seq: salt for seq, salt in held.items() if seq not in keys}
        if tamper and held:
            _replace_salt(store, path, min(held))
            with pytest.raises(CorruptStoreError, match="does not match the salt_sha256"):
                store.verify()

    check()


def test_erase_rows_says_its_wipe_is_pending_where_a_reader_blocks_it(tmp_path):
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path, timeout=0.2)
    model = _model(store)
    ids = store.load_run(model.lineage_.run_id).row_ids[:2]
    reader, cursor = open_reader(path)
    try:
        done, said = user_warnings(lambda: store.erase_rows(sample_id=ids, reason="r"))
    finally:
        cursor.fetchall()
        reader.close()
    assert done and all(summary["wiped"] is False for summary in done)
    assert any("old pages" in m for m in said), said
    assert store.check()["erased_bytes_left"]  # what wiped=False stands for


def test_a_compliance_report_after_an_erasure_is_made_and_verifies(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    model = _model(store)
    for i in range(3):
        model.predict(_person(i))
    store.erase_predictions(_person(1), reason="request 1")
    path = tmp_path / "report.json"
    report = stp.compliance_report(
        model,
        system_name="Scorer",
        system_version="1",
        deployer_name="Bank",
        high_risk_category="creditworthiness",
        intended_purpose="score",
        human_oversight=["Head of credit"],
        output_path=path,
    )
    # the erased call is still a logged use of the model: counted, as it stays logged
    assert report.to_dict()["record_keeping"]["predictions"]["n_calls"] == 3
    assert stp.compliance.verify(path, store=store)


def test_an_erasure_whose_wipe_mark_was_deleted_fails_verify(backend):
    # the erasure event names its wipe mark in stp_meta (under the hash chain): a mark
    # deleted outside sktraceprop (pending or done) hid whether the salts' old bytes
    # were wiped, and verify() passed; a MemoryStore keeps nothing to wipe
    store = backend.make()
    model = _model(store)
    model.predict(_person(0))
    store.erase_predictions(_person(0), reason="r")
    if backend.kind == "memory":
        assert store.verify()
        return
    prefix = "wal_scrub:" if backend.kind == "sqlite" else "vacuum_scrub:"
    assert backend.make().verify()
    backend.sql("DELETE FROM stp_meta WHERE key LIKE ?", (prefix + "%",))
    with pytest.raises(CorruptStoreError, match="was deleted") as info:
        backend.make().verify()
    assert [(p["check"], p["seq"]) for p in info.value.problems] == [
        ("erasure_wipe", _last_erasure(store))
    ]
