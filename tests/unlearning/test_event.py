"""The removal record: every removed id kept, a summary printed."""

import hashlib
import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of
from sktraceprop._lineage._source import REGISTRY
from sktraceprop.exceptions import LineageWarning
from sktraceprop.stores import MemoryStore
from sktraceprop.unlearning import GradientCorrectionUnlearner, RemovedRows, UnlearningEvent
from sktraceprop.unlearning._event import row_ids_digest


def _fitted(n=(600, 400), store=None):
    rng = np.random.default_rng(0)
    parts = [
        stp.from_pandas(pd.DataFrame(rng.normal(size=(m, 3)), columns=list("abc")), f"ev_{k}")
        for k, m in enumerate(n)
    ]
    X = pd.concat(parts)
    y = X.to_numpy() @ [1.0, -2.0, 0.5] + rng.normal(size=len(X))
    return X, GradientCorrectionUnlearner(Ridge(), store=store).fit(X, y)


def test_printing_an_event_summarises_the_ids_and_keeps_them_all():
    store = MemoryStore()
    X, unl = _fitted(store=store)
    ids = stp.row_ids(X)
    removed = np.r_[ids[10:510], ids[650:700]]
    unl.unlearn(sample_id=removed)
    event = unl.unlearning_log_[-1]
    text = repr(event)
    assert str(event) == text and repr(unl.unlearning_log_) == f"[{text}]"
    assert (
        "<550 row ids: ev_0 lines 11 to 510, first and last, ev_1 lines 51 to 100, first and "
        "last; sha256 " in text
    )
    assert row_ids_digest(removed)[:16] in text
    assert "sources={'ev_0': 500, 'ev_1': 50}" in text
    assert len(text) < 1500  # not 550 ids
    assert str(int(removed[123])) not in text
    # every id is kept, in order, and the digest names them
    assert isinstance(event, UnlearningEvent) and isinstance(event["row_ids"], RemovedRows)
    assert event["row_ids"] == removed and len(event["row_ids"]) == 550
    np.testing.assert_array_equal(np.asarray(event["row_ids"]), removed)
    assert event["row_ids"].tolist() == [int(i) for i in removed]
    assert event["row_ids_sha256"] == row_ids_digest(removed[::-1])  # order-free
    assert event["lines"] == {"ev_0": [11, 510], "ev_1": [51, 100]}
    # the store receives the same fields as JSON, every id included
    payload = store.events()[-1]["payload"]
    assert payload["row_ids"] == removed.tolist()
    mine = {k: v for k, v in event.payload().items() if k not in ("seq", "event_hash")}
    assert payload == json.loads(json.dumps(mine)) == mine
    assert store.verify()
    # and it travels
    back = pickle.loads(pickle.dumps(event))
    assert back == event and repr(back) == text


def test_a_row_ids_record_compares_and_prints():
    rows = RemovedRows(np.array([5, 3, 9]), {"s": (1, 3)})
    assert rows == [5, 3, 9] and rows != [3, 5, 9] and rows != [5, 3]
    assert list(rows) == [5, 3, 9] and rows[1] == 3 and len(rows) == 3
    assert repr(rows).startswith("<3 row ids: s lines 1 to 3, first and last; sha256 ")
    assert not np.asarray(rows).flags.writeable
    one = UnlearningEvent({"method": "newton", "row_ids": [7], "lines": {"s": [2, 2]}})
    assert "<1 row ids: s line 2; sha256" in repr(one)
    assert one.payload() == {"method": "newton", "row_ids": [7], "lines": {"s": [2, 2]}}


def _raw_lines(path, rows):
    """1-based line numbers of ``path`` whose values are those of ``rows``, read from
    the file's bytes (independent of the library)."""
    text = path.read_bytes().decode().splitlines()
    found = []
    for values in rows:
        hits = [
            n
            for n, line in enumerate(text[1:], start=2)
            if np.allclose([float(v) for v in line.split(",")], values, rtol=0, atol=1e-12)
        ]
        assert len(hits) == 1
        found.append(hits[0])
    return found


def test_sources_sharing_a_name_are_recorded_apart(tmp_path):
    # two folders' data.csv are both "data": the event once counted them as one source
    # with one line span across both files ({'data': [3, 27]}), which file unsaid
    rng = np.random.default_rng(3)
    paths = []
    for folder, n in (("a", 30), ("b", 20)):
        (tmp_path / folder).mkdir()
        X = rng.normal(size=(n, 2))
        frame = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "y": X @ [1.0, -1.0]})
        frame.to_csv(tmp_path / folder / "data.csv", index=False)
        paths.append(tmp_path / folder / "data.csv")
    data = pd.concat([stp.read_csv(p) for p in paths])
    store = MemoryStore()
    unl = GradientCorrectionUnlearner(Ridge(), store=store).fit(data[["x1", "x2"]], data["y"])
    removed = {0: [5, 25], 1: [1]}  # positions in a/data.csv, b/data.csv
    mask = np.zeros(50, bool)
    mask[[5, 25, 30 + 1]] = True
    unl.unlearn(mask=mask)
    event = unl.unlearning_log_[-1]
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    labels = [f"data [{d[:12]}]" for d in digests]
    assert event["sources"] == {labels[0]: 2, labels[1]: 1}
    for k, path in enumerate(paths):
        truth = _raw_lines(path, data.iloc[[30 * k + i for i in removed[k]]].to_numpy())
        assert event["lines"][labels[k]] == [min(truth), max(truth)]
        named = event["source_contents"][labels[k]]
        assert named["source_id"] == "data" and named["sha256"] == digests[k]
        assert named["uri"].endswith(f"{path.parent.name}/data.csv")
    assert f"{labels[0]} lines 7 to 27, first and last, {labels[1]} line 3" in repr(event)
    # the store keeps the same, and it verifies
    payload = store.events()[-1]["payload"]
    assert payload["sources"] == event["sources"] and payload["lines"] == event["lines"]
    assert payload["source_contents"] == event["source_contents"]
    assert store.verify()
    # a removal from one of the two names which, though the other loses nothing
    mask = np.zeros(50, bool)
    mask[40] = True
    unl.unlearn(mask=mask)
    event = unl.unlearning_log_[-1]
    assert event["sources"] == {labels[1]: 1}
    assert event["lines"] == {labels[1]: _raw_lines(paths[1], data.iloc[[40]].to_numpy()) * 2}
    assert event["source_contents"][labels[1]]["sha256"] == digests[1]


def test_a_source_id_naming_two_files_warns_and_removes_both(tmp_path):
    # unlearn(source_id="data") reaches both folders' data.csv: said, not silent
    rng = np.random.default_rng(4)
    frames = []
    for folder, name, n in (("a", "data", 25), ("b", "data", 15), ("c", "other", 20)):
        (tmp_path / folder).mkdir()
        X = rng.normal(size=(n, 2))
        frame = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "y": X @ [1.0, -1.0]})
        frame.to_csv(tmp_path / folder / f"{name}.csv", index=False)
        frames.append(stp.read_csv(tmp_path / folder / f"{name}.csv"))
    data = pd.concat(frames)
    unl = GradientCorrectionUnlearner(Ridge()).fit(data[["x1", "x2"]], data["y"])
    with pytest.warns(LineageWarning, match=r"names the training rows of 2 files .*a/data\.csv"):
        unl.unlearn(source_id="data")
    assert unl.retained_mask_.sum() == 20
    # one file's rows by their ids: no warning, only its rows
    unl = GradientCorrectionUnlearner(Ridge()).fit(data[["x1", "x2"]], data["y"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        unl.unlearn(sample_id=stp.row_ids(frames[0]))
    assert unl.retained_mask_.sum() == 35


def test_sources_with_distinct_names_are_recorded_as_before():
    X, unl = _fitted(n=(60, 40))
    unl.unlearn(sample_id=stp.row_ids(X)[[3, 70]])
    event = unl.unlearning_log_[-1]
    assert event["sources"] == {"ev_0": 1, "ev_1": 1}
    assert event["lines"] == {"ev_0": [4, 4], "ev_1": [11, 11]}  # line = index + 1
    assert "source_contents" not in event


def test_merged_parents_kept_names_sources_as_the_counts_do():
    # two "patients" tables (two contents under one name): the parent rows of removed
    # merged rows that stay are counted per content, under the labels of "sources"
    rng = np.random.default_rng(2)
    visits = stp.from_pandas(
        pd.DataFrame({"patient": rng.integers(0, 8, 60), "x0": rng.normal(size=60)}), "visits"
    )
    halves = [
        stp.from_pandas(
            pd.DataFrame({"patient": np.arange(4) + 4 * k, "x1": rng.normal(size=4)}),
            "patients",
        )
        for k in range(2)
    ]
    X = stp.merge(visits, pd.concat(halves), on="patient").drop(columns="patient")
    y = X["x0"].to_numpy() + rng.normal(size=len(X))
    unl = GradientCorrectionUnlearner(Ridge()).fit(X, y)
    lineage = stp.row_lineage(X)
    gone = stp.row_ids(visits)[:25]
    unl.unlearn(sample_id=gone)
    event = unl.unlearning_log_[-1]
    removed_rows = set(lineage.loc[lineage["row_id"].isin(gone), "row"])
    by_row = lineage.groupby("row")["row_id"].apply(set)
    behind_removed = set().union(*(by_row[r] for r in removed_rows))
    behind_kept = set().union(*(by_row[r] for r in set(by_row.index) - removed_rows))
    want = {}
    for half in halves:
        sha = REGISTRY.by_code(int(codes_of(stp.row_ids(half)[:1])[0])).sha256
        label = f"patients [{sha[:12]}]"
        assert event["source_contents"][label]["sha256"] == sha
        still = behind_removed & behind_kept & set(stp.row_ids(half).tolist())
        if still:
            want[label] = len(still)
    assert want and event["merged_parents_kept"] == want
    assert set(want) <= set(event["sources"])
