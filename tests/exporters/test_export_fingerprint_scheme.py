"""Every export says which scheme made the run's fingerprints, as the run records it, and
that a run stored before runs recorded it does not say (never a guess)."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._fingerprint import SCHEME
from sktraceprop._lineage._fingerprint_schemes import NOT_RECORDED, NOTES
from sktraceprop.exceptions import LineageError
from sktraceprop.exporters import read_parquet, to_openlineage, to_parquet
from tests.exporters._fit_span import fit_span_attributes
from tests.exporters.test_openlineage import validate

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")

OLD_STORE = Path(__file__).parents[1] / "stores" / "data" / "frame_digest1.db"
BEFORE = Path(__file__).parent / "data" / "parquet_f5988b3"


def _check(run, scheme, note, folder):
    event = to_openlineage(run)
    validate(event)
    fit = event["run"]["facets"]["sktraceprop_fit"]
    assert (fit["modelFingerprintScheme"], fit["modelFingerprintNote"]) == (scheme, note)
    attributes = fit_span_attributes(run)
    assert attributes.get("sktraceprop.model_fingerprint_scheme") == scheme
    assert attributes["sktraceprop.model_fingerprint_scheme_note"] == note
    to_parquet(run, folder)
    (value,) = pd.read_parquet(folder / "runs.parquet")["fingerprint_scheme"].tolist()
    assert (None if pd.isna(value) else int(value)) == scheme
    back = read_parquet(folder)
    assert back == run and back.fingerprint_scheme == scheme


def test_a_new_run_exports_the_current_scheme(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    X = stp.from_numpy(np.random.default_rng(1).normal(size=(30, 2)), "fp_x")
    est = stp.TracedEstimator(LogisticRegression(), store=store).fit(X, X["x0"] > 0)
    run = store.load_run(est.lineage_.run_id)
    _check(run, SCHEME, NOTES[SCHEME], tmp_path / "new")


def test_a_run_stored_before_exports_not_recorded(tmp_path):
    shutil.copyfile(OLD_STORE, tmp_path / "old.db")
    store = stp.stores.SQLiteStore(tmp_path / "old.db")
    for k, run_id in enumerate(store.list_runs()["run_id"]):
        _check(store.load_run(run_id), None, NOT_RECORDED, tmp_path / f"old{k}")


def test_a_parquet_folder_written_before_reads_as_not_recorded():
    assert "fingerprint_scheme" not in pq.read_schema(BEFORE / "export" / "runs.parquet").names
    for run_id in pd.read_parquet(BEFORE / "export" / "runs.parquet")["run_id"]:
        assert read_parquet(BEFORE / "export", run_id=run_id).fingerprint_scheme is None


def test_an_export_holding_no_scheme_number_is_refused(tmp_path):
    X = stp.from_numpy(np.random.default_rng(2).normal(size=(30, 2)), "fp_y")
    run = stp.TracedEstimator(LogisticRegression()).fit(X, X["x0"] > 0).lineage_
    folder = to_parquet(run, tmp_path / "x")
    table = pq.read_table(folder / "runs.parquet")
    index = table.schema.get_field_index("fingerprint_scheme")
    table = table.set_column(index, table.schema.field(index), pa.array([0], pa.int64()))
    pq.write_table(table, folder / "runs.parquet")
    with pytest.raises(LineageError, match="fingerprint_scheme holds 0, not a scheme number"):
        read_parquet(folder)
