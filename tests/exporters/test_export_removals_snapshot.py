"""An export that reads an unpickled MemoryStore says it cannot know what the store
recorded since.

A model pickled with its MemoryStore carries a copy of the store frozen at pickling.
Its exports (OpenTelemetry, Parquet) read their removals from that copy alone in
another process, and listed no erasure request recorded in the store itself since,
with ``checked`` true and the fit's model as the current one. They now say that the
copy cannot know (``checked`` false, the current model unknown, the note and an
:class:`ErasuresUnknownWarning` in the words of ``SNAPSHOT_CHECKED``). The truth: the
same exports read against the store itself, and the data's keys of the rows requested.
"""

import pickle
import warnings
import weakref

import numpy as np
import pytest

import sktraceprop as stp
import sktraceprop.stores._saved as saved
from sktraceprop._lineage._erasures_seen import SNAPSHOT_CHECKED
from sktraceprop.exceptions import ErasuresUnknownWarning
from sktraceprop.exporters import to_parquet
from sktraceprop.exporters._removals import removal_record
from tests.exporters.test_export_removals import _spans
from tests.stores.test_trace_erasures import _data, _erased_by_key, _fit

pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("opentelemetry.sdk.trace")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _said(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [w for w in caught if issubclass(w.category, ErasuresUnknownWarning)]


def _exports(run, store, folder):
    """``[(checked, note, n_rows erased, fingerprint now)]`` of the Parquet export of
    ``store`` and the OpenTelemetry span of ``run`` read against it."""
    (row,) = [
        r
        for r in pq.read_table(to_parquet(store, folder) / "removals.parquet").to_pylist()
        if r["run_id"] == run.run_id
    ]
    span = _spans(run, store=store)
    erased = [r["n_rows"] for r in row["removals"] if r["kind"] == "erasure"]
    span_erased = [
        n
        for n, kind in zip(span["sktraceprop.removals.n_rows"], span["sktraceprop.removals.kind"])
        if kind == "erasure"
    ]
    return [
        (row["checked"], row["note"], erased, row["model_fingerprint_now"]),
        (
            span["sktraceprop.removals.checked"],
            span["sktraceprop.removals.note"],
            span_erased,
            span.get("sktraceprop.removals.model_fingerprint_now"),
        ),
    ]


@pytest.mark.parametrize("keys", [{1003, 1014}, {1000, 1011, 1029}])
def test_an_export_from_an_unpickled_memory_store_says_erasures_since_are_not_known(
    tmp_path, monkeypatch, keys
):
    store = stp.stores.MemoryStore()
    df, visits = _data(tmp_path / "data")
    pipe = _fit(store, df)
    blob = pickle.dumps(pipe)
    _erased_by_key(store, visits, keys, "art. 17")  # in the store itself, after
    n_truth = int(np.isin(df["key"].to_numpy(), sorted(keys)).sum())
    run = store.load_run(pipe.lineage_.run_id)  # (as erased: exported from the store)

    # the truth: the store itself lists the request, checked
    truth, said = _said(lambda: _exports(run, store, tmp_path / "live"))
    assert not said
    for checked, _, erased, now in truth:
        assert checked is True and erased == [n_truth] and now == run.model_fingerprint

    # another process: only the copy pickled with the model is known there
    monkeypatch.setattr(saved, "_SAVED", weakref.WeakKeyDictionary())
    loaded = pickle.loads(blob)
    copy_run = loaded.store.load_run(run.run_id)
    exported, said = _said(lambda: _exports(copy_run, loaded.store, tmp_path / "copy"))
    assert len(said) == 2  # (one per export)
    assert all(SNAPSHOT_CHECKED in str(w.message) for w in said)
    for checked, note, erased, now in exported:
        assert erased == []  # (the copy does not hold the request)
        assert checked is False and now is None
        assert note.startswith(SNAPSHOT_CHECKED) and loaded.store.store_id in note


def test_a_copy_read_beside_its_store_itself_is_checked(tmp_path):
    store = stp.stores.MemoryStore()
    df, visits = _data(tmp_path / "data")
    pipe = _fit(store, df)
    loaded = pickle.loads(pickle.dumps(pipe))
    _erased_by_key(store, visits, {1003, 1014}, "art. 17")
    # in this process the store itself is read too (it holds the run): nothing unknown
    record, said = _said(lambda: removal_record(loaded.lineage_, loaded.store))
    assert not said and record["checked"] is True
    assert [e["n_rows"] for e in record["events"] if e["kind"] == "erasure"] == [
        int(np.isin(df["key"].to_numpy(), [1003, 1014]).sum())
    ]


@pytest.mark.parametrize("n_runs", [1, 3])
def test_a_parquet_export_of_a_copy_warns_once_however_many_runs(tmp_path, monkeypatch, n_runs):
    # the docs: "the export warns" (once per export call, as an OpenTelemetry or
    # OpenLineage export of one run does), not once per run of the store exported
    store = stp.stores.MemoryStore()
    df, visits = _data(tmp_path / "data")
    runs = [_fit(store, df).lineage_.run_id for _ in range(n_runs)]
    blob = pickle.dumps(store)
    _erased_by_key(store, visits, {1003, 1014}, "art. 17")
    monkeypatch.setattr(saved, "_SAVED", weakref.WeakKeyDictionary())
    loaded = pickle.loads(blob)

    folder, said = _said(lambda: to_parquet(loaded, tmp_path / "copy"))
    (message,) = [str(w.message) for w in said]
    assert SNAPSHOT_CHECKED in message and message.count(loaded.store_id) == 1
    rows = pq.read_table(folder / "removals.parquet").to_pylist()
    assert sorted(r["run_id"] for r in rows) == sorted(runs)
    for row in rows:  # each run's row says it, whatever the warnings
        assert row["checked"] is False and row["model_fingerprint_now"] is None
        assert row["note"].startswith(SNAPSHOT_CHECKED) and row["removals"] == []
    # the truth: the store itself lists the request for every run, checked, no warning
    folder, said = _said(lambda: to_parquet(store, tmp_path / "live"))
    assert not said
    for row in pq.read_table(folder / "removals.parquet").to_pylist():
        assert row["checked"] is True
        assert [r["n_rows"] for r in row["removals"] if r["kind"] == "erasure"] == [
            int(np.isin(df["key"].to_numpy(), [1003, 1014]).sum())
        ]
