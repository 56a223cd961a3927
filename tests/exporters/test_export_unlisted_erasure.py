"""An erasure request names rows, not runs: a run stored after the request, trained on
the same file lines, holds the erased rows all the same. Its exports listed no erasure
(only requests whose payload named the run were read), so OpenLineage, OpenTelemetry
and Parquet presented the run as holding no erased row. The truth: the data's keys of
the rows requested, and the store's ``store.erasure`` events read with sqlite3."""

import json
import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exporters import to_openlineage
from sktraceprop.exporters._removals import removal_record
from tests.stores.test_trace_erasures import _data, _erased_by_key, _fit

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _erasure_events(path):
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT seq, payload FROM events WHERE kind = 'store.erasure' ORDER BY seq"
        ).fetchall()
    return [(seq, json.loads(payload)) for seq, payload in rows]


@pytest.mark.parametrize("keys", [{1004, 1011}, {1000, 1013, 1029}])
def test_a_run_stored_after_a_request_lists_it_as_not_carried_out(tmp_path, keys):
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    df, visits = _data(tmp_path / "data")
    first = _fit(store, df)
    _erased_by_key(store, visits, keys, "art. 17")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the refit on erased rows is said)
        second = _fit(store, df)
    ((seq, payload),) = _erasure_events(tmp_path / "audit.db")
    assert payload["runs"] == [first.lineage_.run_id]  # (the second was not stored then)
    n_truth = int(np.isin(df["key"].to_numpy(), sorted(keys)).sum())

    for pipe, listed in ((first, True), (second, False)):
        record = removal_record(pipe.lineage_, store)
        (erasure,) = [e for e in record["events"] if e["kind"] == "erasure"]
        assert erasure["seq"] == seq and erasure["n_rows"] == n_truth
        assert erasure["carried_out"] is listed
    # the export of the second run states the request (it listed none before)
    events = to_openlineage(second.lineage_, store=store)
    text = json.dumps(events)
    assert f'"seq": {seq}' in text or f'"seq":{seq}' in text


def test_a_request_for_another_file_is_not_listed(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    df, _ = _data(tmp_path / "data")
    pd.DataFrame({"x": np.arange(20.0), "y": [0, 1] * 10}).to_csv(
        tmp_path / "other.csv", index=False
    )
    other = stp.read_csv(tmp_path / "other.csv")
    stp.make_traced_pipeline(LogisticRegression(), store=store).fit(other[["x"]], other["y"])
    first = _fit(store, df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(other.iloc[:2]), reason="art. 17")
    assert len(_erasure_events(tmp_path / "audit.db")) == 1
    for pipe in (first, _fit(store, df)):  # (stored before the request, and after it)
        record = removal_record(pipe.lineage_, store)
        assert [e for e in record["events"] if e["kind"] == "erasure"] == []
