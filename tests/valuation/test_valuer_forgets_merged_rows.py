"""A KNNShapleyValuer drops the merged rows built from rows a removal or an erasure takes
away (a merged row keeps its parents' values), and the rows it holds directly that a
request named behind removed merged rows. Truth: the merge keys (which merged rows were
built from which lines) and the raw float bytes of the removed lines' values, searched
for in the valuer's pickle."""

import itertools
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import KNNShapleyValuer
from sktraceprop.unlearning import GradientCorrectionUnlearner

_SEEDS = itertools.count(5000, 2)  # one content per example: equal bytes are one source


def _files(tmp_path, seed, keys_b):
    rng = np.random.default_rng(seed)
    paths = []
    for name, keys in (("a", np.arange(30)), ("b", np.asarray(keys_b))):
        path = tmp_path / f"{name}{seed}" / "data.csv"
        path.parent.mkdir(parents=True)
        n = len(keys)  # (|mean| < 0.5: stored as given, no shift)
        frame = pd.DataFrame(
            {"k": keys, "x1": rng.uniform(-0.4, 0.4, size=n), "y": np.arange(n) % 2}
        )
        frame.to_csv(path, index=False)
        paths.append(path)
    A, B = (stp.read_csv(p) for p in paths)
    merged = stp.merge(A, B[["k", "x1"]].rename(columns={"x1": "x2"}), on="k", source_id="m")
    return A, merged


def _unlearn(unlearner, ids):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unlearner.unlearn(sample_id=ids)
    return unlearner.unlearning_log_[-1]


def _holds(valuer, values):
    raw = pickle.dumps(valuer)
    return [np.float64(v).tobytes() in raw for v in values]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keys_b=st.lists(st.integers(0, 39), min_size=12, max_size=30),
    valued=st.sets(st.integers(0, 29), min_size=8, max_size=30),
    removed=st.sets(st.integers(0, 29), min_size=1, max_size=6),
)
def test_a_valuer_drops_the_merged_rows_built_from_removed_lines(
    tmp_path_factory, keys_b, valued, removed
):
    A, merged = _files(tmp_path_factory.mktemp("v"), next(_SEEDS), keys_b)
    kept = merged[merged["k"].isin(sorted(valued))]
    if kept["y"].nunique() < 2:
        return
    valuer = KNNShapleyValuer(n_neighbors=3).fit(kept[["x1", "x2"]], kept["y"])
    assert valuer._shift is None and valuer._scale is None  # (stored as given)
    unlearner = GradientCorrectionUnlearner(LogisticRegression()).fit(A[["x1"]], A["y"])
    gone = A.iloc[sorted(removed)]
    behind = kept["k"].isin(gone["k"]).to_numpy()  # the truth, by key
    values = gone["x1"][gone["k"].isin(kept["k"])]
    assert all(_holds(valuer, values))
    event = _unlearn(unlearner, stp.row_ids(gone))
    expected = {"KNNShapleyValuer": int(behind.sum())} if behind.any() else {}
    assert event.get("dropped_elsewhere", {}) == expected
    assert "KNNShapleyValuer" not in event.get("held_elsewhere", {})
    assert not any(_holds(valuer, values))
    np.testing.assert_array_equal(np.sort(valuer.row_ids_), np.sort(stp.row_ids(kept)[~behind]))


def test_a_valuer_drops_the_lines_behind_an_unlearners_removed_merged_rows(tmp_path):
    A, merged = _files(tmp_path, 3, np.arange(30))
    valuer = KNNShapleyValuer(n_neighbors=3).fit(A[["x1"]], A["y"])
    unlearner = GradientCorrectionUnlearner(LogisticRegression()).fit(
        merged[["x1", "x2"]], merged["y"]
    )
    gone = A.iloc[[10, 11]]
    event = _unlearn(unlearner, stp.row_ids(gone))
    assert event["dropped_elsewhere"] == {"KNNShapleyValuer": 2}
    assert "held_elsewhere" not in event
    assert not any(_holds(valuer, gone["x1"]))
    np.testing.assert_array_equal(valuer.row_ids_, np.delete(stp.row_ids(A), [10, 11]))


def test_erase_rows_has_a_valuer_drop_the_merged_rows_a_dry_run_only_names(tmp_path):
    A, merged = _files(tmp_path, 8, np.arange(30))
    store = stp.stores.MemoryStore()
    stp.make_traced_pipeline(LogisticRegression(), store=store).fit(A[["x1"]], A["y"])
    valuer = KNNShapleyValuer(n_neighbors=3).fit(merged[["x1", "x2"]], merged["y"])
    erased = A.iloc[[3, 4, 5]]
    ids = stp.row_ids(erased)
    with pytest.warns(UserWarning, match=r"KNNShapleyValuer \(3 row\(s\)\)") as caught:
        store.erase_rows(sample_id=ids, reason="request", dry_run=True)
    assert not any("dropped" in str(w.message) for w in caught)
    assert all(_holds(valuer, erased["x1"]))  # a dry run changes nothing
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store.erase_rows(sample_id=ids, reason="request")
    said = [str(w.message) for w in caught]
    assert any("dropped the rows being erased" in m and "KNNShapleyValuer (3" in m for m in said)
    assert not any("keep data of the rows" in m and "KNNShapleyValuer" in m for m in said)
    assert not any(_holds(valuer, erased["x1"]))
    assert valuer.n_samples_fit_ == 27
