"""Every store keeps which source contents went through each op (``Op.source_keys``), and
reads runs stored before it was recorded, matching their ops by source id.

The keys are stored beside the ops (``op_source_keys`` in the run's record), under the
run's digest and the hash chain like the rest of it; an op's own record keeps the fields
earlier versions read, so they read a run stored now.
"""

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError, LineageWarning
from tests.conftest import write_normal_features

DATA = Path(__file__).parent / "data"
OLD_OP_FIELDS = {"name", "cls", "params", "fingerprint", "features_in", "features_out", "sources"}


def _write(path, n, seed):
    return write_normal_features(path, n, seed, first_classes=True)


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _fit(store, tmp_path):
    """a/data.csv and b/data.csv (both "data"), a scaler fitted on a's rows only, and a
    run of a model on both in ``store``."""
    a = _write(tmp_path / "a" / "data.csv", 12, 1)
    b = _write(tmp_path / "b" / "data.csv", 8, 2)
    A, B = stp.read_csv(a), stp.read_csv(b)
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = pd.concat([scaler.fit_transform(A[["x1", "x2"]]), B[["x1", "x2"]]])
    y = pd.concat([A["y"], B["y"]])
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store).fit(X, y)
    return a, b, pipe.lineage_


def _record(backend, store, run_id):
    if backend.kind == "memory":
        return json.loads(store._runs[run_id][0])
    return json.loads(
        backend.sql("SELECT record FROM runs WHERE run_id = ?", (run_id,), True)[0][0]
    )


def test_every_store_keeps_and_checks_an_ops_source_keys(backend, tmp_path):
    store = backend.make()
    a, _, run = _fit(store, tmp_path)
    loaded = store.load_run(run.run_id)
    assert loaded == run
    assert [op.source_keys for op in loaded.ops] == [[["data", _sha(a)]], None]
    stored = _record(backend, store, run.run_id)
    assert stored["op_source_keys"] == [[["data", _sha(a)]], None]
    assert all(set(op) == OLD_OP_FIELDS for op in stored["ops"])
    assert store.verify()
    frame = loaded.trace(np.arange(loaded.n_samples))
    np.testing.assert_array_equal(
        ["standardscaler@data" in ops for ops in frame["ops"]],
        frame["uri"] == a.resolve().as_uri(),
    )
    # a sealed run's erasure leaves them, and the run still verifies
    store.redact(run.run_id, features=["x1"], reason="test")
    assert store.load_run(run.run_id).ops[0].source_keys == [["data", _sha(a)]]
    assert store.verify()


def test_an_edited_source_key_is_corruption(backend, tmp_path):
    store = backend.make()
    a, b, run = _fit(store, tmp_path)
    # the op now claims b's content: the run's digest in the chain no longer matches
    backend.edit_run_record(
        store,
        run.run_id,
        lambda text: text.replace(
            f'"op_source_keys":[[["data","{_sha(a)}"]]',
            f'"op_source_keys":[[["data","{_sha(b)}"]]',
        ),
    )
    with pytest.raises(CorruptStoreError):
        backend.make().load_run(run.run_id)


def test_a_run_stored_without_source_keys_loads_verifies_and_matches_by_name(backend, tmp_path):
    # what sktraceprop wrote before: ops with source ids only
    store = backend.make()
    a = _write(tmp_path / "a" / "data.csv", 12, 3)
    b = _write(tmp_path / "b" / "data.csv", 8, 4)
    A, B = stp.read_csv(a), stp.read_csv(b)
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = pd.concat([scaler.fit_transform(A[["x1", "x2"]]), B[["x1", "x2"]]])
    run = stp.TracedEstimator(LogisticRegression()).fit(X, pd.concat([A["y"], B["y"]])).lineage_
    record = run.to_dict()
    del record["op_source_keys"]
    old = type(run).from_dict(record, run.row_ids, sources=run.sources)
    store.save_run(old)
    assert "op_source_keys" not in _record(backend, store, run.run_id)
    loaded = store.load_run(run.run_id)
    assert loaded == old and loaded.ops[0].source_keys is None
    assert store.verify()
    with pytest.warns(LineageWarning, match="recorded before ops kept"):
        frame = loaded.trace([0, 15])
    assert ["standardscaler@data" in ops for ops in frame["ops"]] == [True, True]


def test_a_store_written_before_source_keys_loads_and_verifies(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(DATA / "ops_without_keys.db", path)
    before = path.read_bytes()
    store = stp.stores.SQLiteStore(path)
    assert store.verify()
    (run_id,) = store.list_runs()["run_id"]
    run = store.load_run(run_id)
    # the files it was fitted on, by their bytes (copied beside the store)
    files = {_sha(DATA / "ops_without_keys" / d / "data.csv"): d for d in ("a", "b")}
    assert {s.sha256: s.source_id for s in run.sources.values()} == dict.fromkeys(files, "data")
    scaler, model = run.ops
    assert (scaler.name, scaler.sources, scaler.source_keys) == (
        "standardscaler@data",
        ["data"],
        None,
    )
    assert model.sources is None
    with pytest.warns(LineageWarning, match="recorded before ops kept"):
        frame = run.trace(np.arange(run.n_samples))
    assert frame["ops"].map(len).tolist() == [2] * run.n_samples  # by name: both files
    store.close()
    assert path.read_bytes() == before  # opening, loading, verifying never alter it
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {"note": "checked"})  # a report needs an audit event
    report = stp.compliance_report(
        store=store,
        run_id=run_id,
        system_name="Scorer",
        system_version="1.0.0",
        deployer_name="Bank",
        high_risk_category="creditworthiness",
        intended_purpose="credit decisions",
        human_oversight=["risk officer"],
    )
    data = report.to_dict()
    assert all("source_keys" not in op for op in data["model"]["ops"])
    for s in data["sources"]:
        assert "standardscaler@data" in s["ops"]
        assert "cannot say which of those sources an op was fitted on" in s["name_note"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert report.verify(store=store)
