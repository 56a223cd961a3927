"""The report and its check read the store's calls one at a time.

A store logs one event per call for months; the report summarises calls, never copies
them. Reading every event decoded at once held about half a gigabyte at 200,000 calls.
Now each call is held without its payload (``_chain_read.chain_events``) and its
model's figures are summed as read. These tests hold the report to what the whole
events give (the same figures, the same bytes) on the stores of earlier formats and on
generated ones, and check that a store's call payloads are not all held at once.
"""

import json
import shutil
import sqlite3
import tracemalloc
import warnings
from pathlib import Path

import pytest

from sktraceprop._lineage._source import utc_now
from sktraceprop.compliance import _compliance_report, compliance_report, verify
from sktraceprop.compliance._chain_read import chain_events, verified_chain_events
from sktraceprop.compliance._evidence import all_events, retention_section
from sktraceprop.compliance._log_evidence import record_keeping
from sktraceprop.stores import SQLiteStore
from sktraceprop.stores._chain import event_hash

from .conftest import DEPLOYER, logged_pipeline, traced_frames

DATA = Path(__file__).parent / "data"
#: Characters each call appended by another writer is padded with.
PAD = 20_000
NOW = "2030-01-02T03:04:05.678901+00:00"


def _whole(store, run_id, upto=None):
    """What the report read before: every event decoded, no tally."""
    return all_events(store), None


def _whole_verified(store, run_id, upto=None):
    """... after ``store.verify()`` (which the report's read now is part of)."""
    store.verify()
    return _whole(store, run_id, upto)


def _figures(store, run, read):
    events, calls = read(store, run.run_id)
    kept, copied = record_keeping(store, run, events, NOW, None, calls)
    return kept, copied, retention_section(store, run, events, NOW)


def _stores(tmp_path, hospitals):
    """Stores of format 6 and 8 as committed, and one with two models' calls, an erased
    call and calls appended by another writer with big payloads."""
    out = []
    for name in ("format6", "format8"):
        shutil.copyfile(DATA / name / "audit.db", tmp_path / f"{name}.db")
        out.append(SQLiteStore(tmp_path / f"{name}.db", mode="ro"))
    _, _, X, y = traced_frames(hospitals)
    store = SQLiteStore(tmp_path / "made.db")
    first = logged_pipeline(store, X, y)
    second = logged_pipeline(store, X.iloc[2:], y.iloc[2:])
    for i in range(6):
        first.predict(X.iloc[i : i + 3])
        second.predict_proba(X.iloc[i : i + 2])
    with warnings.catch_warnings():  # (the other rows of its batch are erased too)
        warnings.simplefilter("ignore", UserWarning)
        store.erase_predictions(X.iloc[[1]], reason="Art. 17 request 1")
    _append_calls(store.path, first.lineage_.run_id, 5, 2_000)
    out.append(SQLiteStore(store.path))
    return out, first


def _append_calls(path, run_id, n, pad):
    """``n`` prediction events of ``run_id``, appended as another writer following the
    documented schema would, each payload padded with ``pad`` characters."""
    with sqlite3.connect(path) as con:
        seq, prev, stamp = con.execute(
            "SELECT seq, hash, created_at FROM events ORDER BY seq DESC"
        ).fetchone()
        for i in range(n):
            seq += 1
            payload = {
                "method": "predict",
                "n_rows": i + 1,
                "outputs": {"classes": [0, 1], "counts": [i, 1]},
                "pad": "x" * pad,
            }
            record = {
                "seq": seq,
                "run_id": run_id,
                "created_at": stamp,
                "kind": "prediction",
                "payload": payload,
            }
            text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
            digest = event_hash(prev, record)
            con.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                (seq, run_id, stamp, "prediction", text, prev, digest),
            )
            prev = digest


def test_the_figures_are_those_of_the_whole_events(tmp_path, hospitals):
    stores, _ = _stores(tmp_path, hospitals)
    for store in stores:
        runs = store.list_runs()["run_id"]
        assert len(runs)
        for run_id in runs:
            run = store.load_run(run_id)
            assert _figures(store, run, chain_events) == _figures(store, run, _whole)


def test_the_report_and_its_check_are_the_bytes_they_were(tmp_path, hospitals, monkeypatch):
    stores, _ = _stores(tmp_path, hospitals)
    now = utc_now()  # one time for both reports: after every event, not in the future
    monkeypatch.setattr(_compliance_report, "utc_now", lambda: now)
    for store in stores:
        for run_id in store.list_runs()["run_id"]:
            made = {}
            for name, read in (("streamed", verified_chain_events), ("whole", _whole_verified)):
                monkeypatch.setattr(_compliance_report, "verified_chain_events", read)
                report = compliance_report(store=store, run_id=run_id, **DEPLOYER)
                path = tmp_path / f"{name}-{run_id}.json"
                report.save(path)
                made[name] = path.read_bytes()
            assert made["streamed"] == made["whole"]
            assert json.loads(made["streamed"])["record_keeping"]["predictions"] is not None
            assert verify(tmp_path / f"streamed-{run_id}.json", store=store) is True


def test_a_check_finds_an_edited_call_figure_as_before(tmp_path, hospitals, monkeypatch):
    stores, model = _stores(tmp_path, hospitals)
    store = stores[-1]
    report = compliance_report(model, store=store, **DEPLOYER).to_dict()
    report["record_keeping"]["predictions"]["n_rows"] += 1
    from sktraceprop.compliance._verify_store import _record_keeping_problems

    run = store.load_run(model.lineage_.run_id)
    head = report["record_keeping"]["store"]["chain_head"]["seq"]
    events, calls = chain_events(store, run.run_id, upto=head)
    streamed = _record_keeping_problems(report, store, run, events, (), calls)
    whole = _record_keeping_problems(report, store, run, all_events(store))
    assert streamed == whole
    assert "/record_keeping/predictions/n_rows differs" in " ".join(streamed)


@pytest.mark.parametrize("n_calls", [400])
def test_the_calls_payloads_are_not_held_at_once(tmp_path, hospitals, n_calls):
    # 400 calls of 20,000 characters each: 8 MB of payload text, more decoded
    _, _, X, y = traced_frames(hospitals)
    store = SQLiteStore(tmp_path / "audit.db")
    model = logged_pipeline(store, X, y)
    model.predict(X.iloc[:2])
    _append_calls(store.path, model.lineage_.run_id, n_calls, PAD)
    store = SQLiteStore(store.path)
    store.verify()  # (its first reads, outside what is measured)
    path = tmp_path / "report.json"
    tracemalloc.start()
    try:
        compliance_report(model, store=store, output_path=path, **DEPLOYER)
        made = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        assert verify(path, store=store) is True
        checked = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(made, checked)
    report = json.loads(path.read_text())
    assert report["record_keeping"]["predictions"]["n_calls"] == n_calls + 1
    assert report["record_keeping"]["predictions"]["n_rows"] == 2 + sum(range(1, n_calls + 1))
    # a few payloads at a time (the database's page cache aside), never all of them
    assert made < n_calls * PAD / 4
    assert checked < n_calls * PAD / 4
