"""Per-row digests in the stores: erased with their call down to the file bytes, checked
by ``verify()``, and absent from older stores without a silent "not found".

The truths: the raw bytes of each store (the SQLite file and its log, the PostgreSQL
tables' files, a MemoryStore's pickle), ``verify()`` after a digest replaced, added or
removed as anyone who can write the database can, and a store written by the release
before per-row digests (``data/salts_without_rows``).
"""

import base64
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop.compliance import find_predictions
from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores._prediction_salts import salt_sha256
from tests.stores.test_erase_predictions import (
    _X,
    _found,
    _held_bytes,
    _model,
    _person,
    _unsalted_store,
)

OLD = Path(__file__).parent / "data" / "salts_without_rows"


def _digests(text):
    return base64.b64decode(text.split(":")[2])


def test_the_digests_are_beside_the_chain_and_erased_from_the_files(backend):
    store = backend.make()
    model = _model(store)
    model.predict(_X)  # one batch of six applicants
    model.predict(_X.iloc[[1, 3]])
    (batch, pair) = sorted(store._raw_prediction_salts())
    kept = store._raw_prediction_salts()
    rows = _digests(kept[batch])
    assert len(rows) == 6 * 16
    # the chained events hold neither the digests nor the salt, only salt_sha256
    for event in store.events(kind="prediction"):
        assert event["payload"]["salt_sha256"] == salt_sha256(kept[event["seq"]])
        assert kept[event["seq"]].split(":")[2] not in str(event["payload"])
    held = _held_bytes(backend, store)
    assert kept[batch].encode() in held
    store = backend.make()
    (found,) = find_predictions(store, _person(4)).itertuples()
    assert found.seq == batch and found.positions == [4]
    done = store.erase_predictions(_person(4), reason="Art. 17 #9")
    assert done["calls"] == [batch] and done["by_row"] == [batch] and done["wiped"]
    store = backend.make()
    assert _found(store, _person(4)) == [] and _found(store, _person(1)) == [pair]
    assert store.verify()
    held = _held_bytes(backend, backend.make())
    assert kept[batch].encode() not in held
    # no 16-byte digest of the erased batch is left anywhere in the files (nor in base64)
    assert not [i for i in range(6) if rows[16 * i : 16 * i + 16] in held]
    assert kept[pair].encode() in held  # the other call keeps its own


@pytest.mark.parametrize("edit", ["replaced", "added", "removed"])
def test_a_row_digest_changed_outside_sktraceprop_fails_verify_and_the_lookup(backend, edit):
    store = backend.make()
    model = _model(store)
    model.predict(_X.iloc[:3])
    (seq,) = store._raw_prediction_salts()
    text = store._raw_prediction_salts()[seq]
    salt, version, data = text.split(":")
    rows = bytearray(base64.b64decode(data))
    stranger = _model(stp.stores.MemoryStore())
    if edit == "replaced":  # row 1 now names another person: frames them
        stranger.predict(_person(5))
        (other,) = stranger.store._raw_prediction_salts().values()
        rows[16:32] = _digests(other)[:16]
    elif edit == "added":
        rows += rows[:16]
    else:  # a person's row hidden from find_predictions
        del rows[16:32]
    forged = f"{salt}:{version}:{base64.b64encode(bytes(rows)).decode()}"
    if backend.kind == "memory":
        store._salts[seq] = forged
    else:
        backend.sql("DELETE FROM prediction_salts WHERE seq = ?", (seq,))
        backend.sql("INSERT INTO prediction_salts VALUES (?, ?)", (seq, forged))
    store = backend.make()
    with pytest.raises(CorruptStoreError, match="per-row digests") as info:
        store.verify()
    assert [p["seq"] for p in info.value.problems if p["check"] == "prediction_salts"] == [seq]
    with pytest.raises(CorruptStoreError, match="do not match the salt_sha256"):
        find_predictions(store, _person(1))


def test_a_store_from_before_row_digests_reads_writes_and_says_what_it_cannot(tmp_path):
    path = tmp_path / "store.db"
    shutil.copyfile(OLD / "store.db", path)
    store = stp.stores.SQLiteStore(path)
    assert store.schema_version == 4 and store.verify()  # (upgraded to 5 by a write)
    events = [e["seq"] for e in store.events(kind="prediction")]
    assert len(events) == 3  # rows 0-2; row 4 alone; rows 3-5
    # row 4 alone: its own call is found; the batch 3-5 cannot be searched by row
    with pytest.warns(UserWarning, match="single-row lookup was not possible") as caught:
        found = find_predictions(store, _person(4))
    assert found.seq.tolist() == [events[1]]
    assert found.attrs["no_row_digests"] == [events[0], events[2]]
    assert not any("no logged call" in str(w.message) for w in caught)
    with pytest.warns(UserWarning, match="single-row lookup was not possible"):
        none = find_predictions(store, _person(3))
    assert none.empty and none.attrs["no_row_digests"] == events
    assert "whole batch" in none.attrs["not_found"]
    # the whole batch still finds (and erases) its call, as before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert find_predictions(store, _X.iloc[3:6]).seq.tolist() == [events[2]]
    with pytest.warns(UserWarning, match="keep no per-row digests"):
        done = store.erase_predictions(_person(3), reason="r")
    assert done["calls"] == [] and done["no_row_digests"] == events
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert store.erase_predictions(_X.iloc[3:6], reason="r")["calls"] == [events[2]]
    # a call logged now into the old store keeps row digests: found by row
    _model(store).predict(_X.iloc[2:5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        new = find_predictions(store, _person(3))
    assert new.positions.tolist() == [[1]] and store.verify()
    store.close()
    assert stp.stores.SQLiteStore(path, mode="ro").verify()


def test_unsalted_calls_are_said_not_searchable_by_row(tmp_path, monkeypatch):
    path, _ = _unsalted_store(tmp_path, monkeypatch)  # schema 3: person 0, person 1 alone
    store = stp.stores.SQLiteStore(path, mode="ro")
    with pytest.warns(UserWarning, match="single-row lookup was not possible"):
        found = find_predictions(store, _person(0))
    person_0, person_1 = [e["seq"] for e in store.events(kind="prediction")]
    assert found.seq.tolist() == [person_0] and found.attrs["no_row_digests"] == [person_1]


def _toast_bytes(backend):
    """The files of the salts table's TOAST relation (where PostgreSQL keeps long values)."""
    backend.sql("CHECKPOINT")
    (folder,) = backend.sql("SHOW data_directory", fetch=True)[0]
    (relative,) = backend.sql(
        "SELECT pg_relation_filepath(reltoastrelid) FROM pg_class "
        f"WHERE oid = '\"{backend.schema}\".prediction_salts'::regclass",
        fetch=True,
    )[0]
    base = Path(folder) / relative
    return b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*"))


def test_a_large_batchs_digests_are_wiped_from_the_files_too(backend):
    """Digests of 3,000 rows (64 KB of text): SQLite overflow pages, PostgreSQL's TOAST."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(3_000, 2)), columns=["age", "income"])
    store = backend.make()
    model = _model(store)
    model.predict(X)
    (seq,) = store._raw_prediction_salts()
    text = store._raw_prediction_salts()[seq]
    pieces = [text[i : i + 48].encode() for i in range(40, len(text) - 48, 4_000)]
    held = _held_bytes(backend, store)
    if backend.kind == "postgres":
        held += _toast_bytes(backend)
    assert all(p in held for p in pieces)
    store = backend.make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        done = store.erase_predictions(X.iloc[[1234]], reason="r")
    assert done["calls"] == [seq] and done["by_row"] == [seq] and done["wiped"]
    held = _held_bytes(backend, backend.make())
    if backend.kind == "postgres":
        held += _toast_bytes(backend)
    assert not [p for p in pieces if p in held]
