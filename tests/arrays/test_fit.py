"""A traced array given to a traced fit: its row ids and its operations join the run."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY


def _data(hospital_frames):
    a, b = hospital_frames
    xa = stp.array(a[["age"]].fillna(0.0))
    xb = stp.array(b[["age"]].fillna(0.0))
    y = np.concatenate([a["label"].to_numpy(), b["label"].to_numpy()])
    return a, b, xa, xb, y


def test_row_ids_are_the_arrays_own_and_shared(hospital_frames):
    a, b, xa, xb, y = _data(hospital_frames)
    X = np.concatenate([xa * 2.0, xb])
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    run = pipe.lineage_
    assert np.array_equal(run.row_ids, np.concatenate([stp.row_ids(a), stp.row_ids(b)]))
    assert np.shares_memory(run.row_ids, stp.provenance(X)._rows.ids[0])
    trace = pipe.trace([0, len(a)])
    assert trace["line"].tolist() == [a["key"].iloc[0], b["key"].iloc[0]]  # file lines
    assert trace["ops"][0] == [
        "array/2:multiply",
        "array/4:concatenate",
        "standardscaler",
        "logisticregression",
    ]
    assert "array/2:multiply" not in trace["ops"][1]  # hospital_b rows were not scaled


def test_pooled_rows_become_aggregates_that_unlearning_sees(hospital_frames):
    a, b, xa, xb, y = _data(hospital_frames)
    X = np.concatenate([(xa - xa.mean(axis=0)) / xa.std(axis=0), xb])
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X, y)
    run = pipe.lineage_
    assert any("mean, std" in note for note in run.notes)
    kinds = {s.kind for s in run.sources.values()}
    assert {"merge", "aggregate", "file"} <= kinds
    one_row = stp.row_ids(a)[3]
    hit, via = run.depends_on(removed_ids=[one_row])
    n_a = len(a)
    assert hit[:n_a].all() and not hit[n_a:].any()  # every row of a was centred with it
    assert via.sum() == n_a - 1  # all but the row itself depend only through the mean
    trace = pipe.trace([3])
    assert set(trace["source_id"]) == {
        "hospital_a",
        REGISTRY.by_code(
            int(trace["row_id"][trace["source_id"] != "hospital_a"].iloc[0]) >> 36
        ).source_id,
    }


def test_store_round_trip_and_grid_search_folds(hospital_frames, tmp_path):
    a, b, xa, xb, y = _data(hospital_frames)
    X = np.concatenate([xa, xb])
    store = stp.stores.SQLiteStore(tmp_path / "runs.db")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=3).fit(X, y)
    run = search.best_estimator_.lineage_
    assert store.load_run(run.run_id) == run
    assert len(store.list_runs()) == 7  # 2 x 3 folds and the refit
    loaded = [store.load_run(run_id) for run_id in store.list_runs()["run_id"]]
    sizes = sorted(r.n_samples for r in loaded)
    assert sizes[-1] == len(X) and sizes[0] < len(X)  # folds saw their own rows
    everything = set(np.concatenate([stp.row_ids(a), stp.row_ids(b)]).tolist())
    assert all(set(r.row_ids.tolist()) <= everything for r in loaded)


def test_explicit_sample_id_still_wins(hospital_frames):
    a, b, xa, xb, y = _data(hospital_frames)
    X = np.concatenate([xa, xb])
    ids = np.concatenate([stp.row_ids(b), stp.row_ids(a)])
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X, y, sample_id=ids)
    assert np.array_equal(pipe.lineage_.row_ids, ids)


def test_torch_tensor_in_a_traced_pipeline():
    torch = pytest.importorskip("torch")
    x = stp.array(torch.rand(20, 3, generator=torch.Generator().manual_seed(0)), source_id="t")
    y = (np.arange(20) // 2) % 2
    est = stp.TracedEstimator(LogisticRegression()).fit(x[::2], y[::2])
    assert est.lineage_.trace([1])["line"].tolist() == [3]
    assert [op.name for op in est.lineage_.ops][:1] == ["array/2:__getitem__"]
