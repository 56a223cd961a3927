"""A run held by several stores: every export lists the removals (unlearning) recorded
in each of them, not only in the first one found, and says so where one of them could
not be read. Checked against each store's events read with sqlite3."""

import warnings
import zlib

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._fingerprint import fingerprint
from sktraceprop.exporters import to_openlineage, to_parquet
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests.exporters.test_export_removals import _events_read_with_sqlite, _spans
from tests.exporters.test_openlineage import validate

pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("opentelemetry.sdk.trace")


def _two_stores(tmp_path):
    """``(a, b, unlearner, run)``: ``b`` used first (an archive), then a run fitted by an
    unlearner into ``a`` and saved to ``b`` too, so this process lists ``b`` first."""
    rng = np.random.default_rng(zlib.crc32(tmp_path.name.encode()))
    X = stp.from_numpy(rng.normal(size=(30, 2)).round(3), f"two_{tmp_path.name}")
    y = (X["x0"] > 0).astype(int)
    b = stp.stores.SQLiteStore(tmp_path / "b.db")
    stp.make_traced_pipeline(LogisticRegression(), store=b).fit(X, y)  # an earlier run
    a = stp.stores.SQLiteStore(tmp_path / "a.db")
    pipe = stp.make_traced_pipeline(LogisticRegression())
    unl = GradientCorrectionUnlearner(pipe, store=a).fit(X, y)
    run = unl.estimator_.lineage_
    b.save_run(run)
    return a, b, unl, run


def _unlearn(unl, store, ids):
    unl.set_params(store=store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the removal's caveats: not what is tested)
        unl.unlearn(sample_id=ids)


def _recorded(run, *stores):
    """``{hash: (n_rows, fingerprint after)}`` of the run's unlearning events, read from
    each store's file with sqlite3."""
    return {
        digest: (sum(payload["sources"].values()), payload["model_fingerprint_after"])
        for store in stores
        for _, digest, kind, payload in _events_read_with_sqlite(store.path, run.run_id)
        if kind == "unlearning"
    }


def _exported(run, tmp_path, store=None):
    """``(checked, note, {hash: (n_rows, fingerprint after)}, now)`` of each export."""
    facet = to_openlineage(run, store=store)
    validate(facet)
    facet = facet["run"]["facets"]["sktraceprop_removals"]
    folder = to_parquet(run, tmp_path / f"pq{len(list(tmp_path.iterdir()))}")
    (row,) = pq.read_table(folder / "removals.parquet").to_pylist()
    spans = _spans(run, store=store)
    out = []
    for checked, note, events, now in (
        (
            facet["checked"],
            facet["note"],
            {r["hash"]: (r["nRows"], r["modelFingerprintAfter"]) for r in facet["removals"]},
            facet["modelFingerprintNow"],
        ),
        (
            row["checked"],
            row["note"],
            {r["hash"]: (r["n_rows"], r["model_fingerprint_after"]) for r in row["removals"]},
            row["model_fingerprint_now"],
        ),
        (
            spans["sktraceprop.removals.checked"],
            spans["sktraceprop.removals.note"],
            dict(
                zip(
                    spans["sktraceprop.removals.event_hash"],
                    zip(
                        spans["sktraceprop.removals.n_rows"],
                        spans["sktraceprop.removals.model_fingerprint_after"],
                    ),
                )
            ),
            spans.get("sktraceprop.removals.model_fingerprint_now"),
        ),
    ):
        out.append((checked, note, events, now))
    return out


def test_a_removal_recorded_in_the_second_store_is_exported(tmp_path):
    # Before: the exports read b (first in this process) only, and said checked, with no
    # removal, of a model that no longer exists
    a, b, unl, run = _two_stores(tmp_path)
    _unlearn(unl, a, run.row_ids[:3])
    recorded = _recorded(run, a, b)
    assert len(recorded) == 1 and not _recorded(run, b)
    for checked, note, events, now in _exported(run, tmp_path):
        assert checked is True and "2 store(s)" in note
        assert events == recorded
        assert now == fingerprint(unl.estimator_) != run.model_fingerprint
    # a store given: the process's other stores of the run are read too
    for checked, _, events, _ in _exported(run, tmp_path, store=b):
        assert checked is True and events == recorded


def test_a_store_that_cannot_be_read_is_named_and_nothing_is_claimed(tmp_path):
    a, b, unl, run = _two_stores(tmp_path)
    _unlearn(unl, a, run.row_ids[:2])
    _unlearn(unl, b, run.row_ids[4:7])
    only_a = _recorded(run, a)
    b.close()
    (tmp_path / "b.db").rename(tmp_path / "moved.db")
    for checked, note, events, now in _exported(run, tmp_path):
        assert checked is False and now is None  # b's removal (the latest) not known
        assert "1 store(s) holding this run could not be read" in note and "b.db" in note
        assert events == only_a


@settings(deadline=None, max_examples=6)
@given(where=st.lists(st.sampled_from("ab"), min_size=1, max_size=3))
@example(where=["b", "a", "b"])
def test_removals_in_either_store_are_all_exported_in_order(tmp_path_factory, where):
    tmp_path = tmp_path_factory.mktemp("either")
    a, b, unl, run = _two_stores(tmp_path)
    for i, name in enumerate(where):
        _unlearn(unl, {"a": a, "b": b}[name], run.row_ids[3 * i : 3 * i + 1 + i])
    recorded = _recorded(run, a, b)
    assert len(recorded) == len(where)
    order = [e["event_hash"] for e in unl.unlearning_log_]
    for checked, _, events, now in _exported(run, tmp_path):
        assert checked is True and events == recorded
        assert list(events) == order  # in the order they were made
        assert now == fingerprint(unl.estimator_)
