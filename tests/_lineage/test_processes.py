"""Sources across processes: never confused, and pickles that stay small."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._source import Source, SourceRegistry, identity_code
from sktraceprop.exceptions import SourceConflictError, UnknownSourceError


def _run(code, cwd):
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_frame_pickled_before_the_file_was_edited_is_never_traced_to_the_new_file(tmp_path):
    # The frame's pickle carries the record of the version it was read from (as an
    # estimator's does, below): the other process traces its rows to that version's
    # lines (its SHA-256), never to the new file's, whose rows have other ids.
    path = tmp_path / "h.csv"
    path.write_text("v,label\n1,0\n2,1\n3,0\n")
    frame = stp.read_csv(path, source_id="h")
    sha_old = REGISTRY.by_id("h").sha256
    (tmp_path / "frame.pkl").write_bytes(pickle.dumps(frame))
    # The file is edited; another process re-reads it under the same source_id, then
    # loads the frame pickled from the old version.
    path.write_text("v,label\n9,1\n1,0\n2,1\n3,0\n")
    result = _run(
        f"""
        import pickle, sktraceprop as stp
        new = stp.read_csv({str(path)!r}, source_id="h")
        old = pickle.loads(open("frame.pkl", "rb").read())
        print(stp.row_lineage(old)["line"].tolist())
        print(bool(set(stp.row_ids(old)) & set(stp.row_ids(new))))
        pipe = stp.make_traced_pipeline(__import__("sklearn.linear_model").linear_model
                                        .LogisticRegression())
        pipe.fit(old[["v"]], old["label"])
        (source,) = pipe.lineage_.sources.values()
        print(source.sha256, pipe.trace([0, 2])["line"].tolist())
        """,
        tmp_path,
    )
    lines, shared, fitted = result.splitlines()
    # lines 2-4 of the old bytes hold v = 1, 2, 3 (the new file's lines 3-5 do)
    assert lines == "[2, 3, 4]"
    assert shared == "False"
    assert fitted == f"{sha_old} [2, 4]"


def test_estimator_pickle_carries_the_old_version_to_the_other_process(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("v,label\n1,0\n2,1\n3,0\n4,1\n")
    frame = stp.read_csv(path, source_id="h")
    sha_old = REGISTRY.by_id("h").sha256
    pipe = stp.make_traced_pipeline(LogisticRegression())
    (tmp_path / "both.pkl").write_bytes(pickle.dumps((pipe, frame)))
    path.write_text("v,label\n9,1\n1,0\n2,1\n3,0\n4,1\n")
    result = _run(
        f"""
        import pickle, sktraceprop as stp
        stp.read_csv({str(path)!r}, source_id="h")
        pipe, old = pickle.loads(open("both.pkl", "rb").read())
        pipe.fit(old[["v"]], old["label"])
        (source,) = pipe.lineage_.sources.values()
        print(source.sha256, pipe.trace([0, 3])["line"].tolist())
        """,
        tmp_path,
    )
    sha, lines = result.split(" ", 1)
    assert sha == sha_old
    assert lines == "[2, 5]"


def test_code_that_names_two_sources_is_refused_not_resolved():
    # Two processes that each hold a different source under one code (a collision or
    # a probe): adopting the other's record makes that code unusable, never wrong.
    parent, worker = SourceRegistry(), SourceRegistry()
    a = parent.register(Source("hospital_5818", None, "file:///a.csv", "aa" * 32, 3))
    worker._store(Source("hospital_6870", a.code, "file:///b.csv", "bb" * 32, 3))
    for source in parent.snapshot():
        worker.adopt(source)
    with pytest.raises(SourceConflictError, match="hospital_5818.*hospital_6870|6870.*5818"):
        worker.by_code(a.code)
    # A code taken here by the same source (probed elsewhere) is an alias, not a conflict.
    other = SourceRegistry()
    b = other.register(Source("hospital_5818", None, "file:///a.csv", "aa" * 32, 3))
    moved = Source("hospital_5818", b.code % 1000 + 7, "file:///a.csv", "aa" * 32, 3)
    other.adopt(moved)
    assert other.by_code(moved.code).source_id == "hospital_5818"


def test_codes_are_the_same_in_every_process(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("v\n1\n2\n")
    here = stp.read_csv(path, source_id="h")
    there = _run(
        f"""
        import sktraceprop as stp
        print(int(stp.row_ids(stp.read_csv({str(path)!r}, source_id="h"))[0]))
        """,
        tmp_path,
    )
    assert int(there) == int(stp.row_ids(here)[0])
    source = REGISTRY.by_id("h")
    assert source.code == identity_code("h", source.sha256)


def test_pickle_of_an_estimator_stays_small_after_a_large_merge():
    n = 200_000
    left = stp.from_pandas(pd.DataFrame({"k": np.arange(n), "x": np.ones(n)}), "left")
    right = stp.from_pandas(pd.DataFrame({"k": np.arange(n), "y": np.ones(n)}), "right")
    stp.merge(left, right, on="k")
    for _ in range(50):  # many fits on untraced data register anonymous sources
        stp.make_traced_pipeline(LogisticRegression()).fit(
            np.random.default_rng(_).normal(size=(20, 2)), np.arange(20) % 2
        )
    size = len(pickle.dumps(stp.make_traced_pipeline(LogisticRegression())))
    assert size < 20_000, size


def test_grid_search_and_cross_validate_in_worker_processes_with_merged_rows():
    rng = np.random.default_rng(0)
    n = 120
    left = stp.from_pandas(
        pd.DataFrame({"k": np.arange(n), "x": rng.normal(size=n), "label": np.arange(n) % 2}),
        "left",
    )
    right = stp.from_pandas(pd.DataFrame({"k": np.arange(n), "z": rng.normal(size=n)}), "right")
    merged = stp.merge(left, right, on="k")
    X, y = merged[["x", "z"]], merged["label"]
    pipe = stp.make_traced_pipeline(LogisticRegression())
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2, n_jobs=2)
    search.fit(X, y)
    trace = search.best_estimator_.trace([0])
    assert sorted(trace["source_id"]) == ["left", "right"]
    cv = cross_validate(pipe, X, y, cv=2, n_jobs=2, return_estimator=True)
    for est in cv["estimator"]:
        # Fitted in a worker that had the merge only as a light record: the parents are
        # filled in from this process.
        trace = est.trace([0, 1])
        assert set(trace["source_id"]) == {"left", "right"}
        assert trace.groupby("train_index").size().tolist() == [2, 2]
        # statistics over the merged rows per file could not be counted there: said so
        assert "not counted in this process" in est.lineage_.source_stats["through_merges_note"]
    stats = search.best_estimator_.lineage_.source_stats  # refitted here: counted
    assert {r["source_id"] for r in stats["through_merges"]} == {"left", "right"}
    # an explainer tuned in workers, where the merge's parent rows are not
    explainer = stp.InfluenceExplainer(pipe, n_subsets=6, random_state=0)
    search = GridSearchCV(explainer, {"damping": [0.01, 0.1]}, cv=2, n_jobs=2).fit(X, y)
    top = search.best_estimator_.explain(X.iloc[:2], top_k=1).top()
    assert sorted(top["source_id"]) == ["left", "left", "right", "right"]


def test_unknown_code_after_registry_loss_is_an_error():
    frame = stp.from_pandas(pd.DataFrame({"a": [1, 2]}), "gone")
    REGISTRY.clear()
    with pytest.raises(UnknownSourceError, match="this version of the source"):
        stp.row_lineage(frame)
