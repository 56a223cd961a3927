"""Sources that share a source_id (two folders' data.csv, two contents of one file) are
counted, explained and given ops apart, checked against the raw files."""

import hashlib
import warnings

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._labels import source_labels
from sktraceprop._lineage._source import Source
from tests.conftest import write_two_features


def _write(path, n, shift, seed):
    return write_two_features(path, n, shift, seed)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _explain(frames):
    df = pd.concat(frames)
    X, y = df[["x1", "x2"]], df["y"]
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    exp = stp.InfluenceExplainer(pipe).fit(X, y).explain(X.iloc[:5], y.iloc[:5])
    return pipe, exp


def _check_apart(pipe, exp, parts):
    """``parts``: (sha256, uri, training positions) of each source, from the raw files."""
    # (the old code summed both files into one row, under the first file's uri)
    assert len(exp.by_source()) == len(parts)
    assert exp.source_scores.shape[1] == len(parts)
    assert len(pipe.lineage_.source_counts().to_dict()) == len(parts)
    table = exp.by_source().set_index("sha256")
    assert exp.source_scores.columns.is_unique
    for sha, uri, rows in parts:
        row = table.loc[sha]
        assert row["uri"] == uri
        assert row["n_rows"] == len(rows)
        np.testing.assert_allclose(row["score"], exp.scores[:, rows].sum())
        np.testing.assert_allclose(
            exp.source_scores[row["label"]].to_numpy(), exp.scores[:, rows].sum(axis=1)
        )
    counts = pipe.lineage_.source_counts()
    assert counts.index.is_unique
    by_label = dict(zip(table["label"], table["n_rows"]))
    assert counts.to_dict() == by_label


def test_two_folders_data_csv_are_two_sources(tmp_path):
    a, b = tmp_path / "a" / "data.csv", tmp_path / "b" / "data.csv"
    _write(a, 30, 0.0, 1)
    _write(b, 20, 1.0, 2)
    A, B = stp.read_csv(a), stp.read_csv(b)
    assert A.shape[0] == len(pd.read_csv(a)) == 30
    pipe, exp = _explain([A, B])
    _check_apart(
        pipe,
        exp,
        [
            (_sha(a), a.resolve().as_uri(), np.arange(30)),
            (_sha(b), b.resolve().as_uri(), np.arange(30, 50)),
        ],
    )
    assert set(exp.by_source()["source_id"]) == {"data"}
    assert sorted(exp.by_source()["label"]) == sorted(f"data [{_sha(p)[:12]}]" for p in (a, b))


def test_an_edited_file_read_again_is_a_second_source(tmp_path):
    path = tmp_path / "data.csv"
    _write(path, 30, 0.0, 3)
    first, old_sha = stp.read_csv(path, source_id="hosp"), _sha(path)
    _write(path, 25, 2.0, 4)
    second = stp.read_csv(path, source_id="hosp")
    pipe, exp = _explain([first, second])
    uri = path.resolve().as_uri()
    _check_apart(pipe, exp, [(old_sha, uri, np.arange(30)), (_sha(path), uri, np.arange(30, 55))])


def test_one_source_reads_as_before(tmp_path):
    path = tmp_path / "only.csv"
    _write(path, 30, 0.0, 5)
    pipe, exp = _explain([stp.read_csv(path)])
    assert list(exp.source_scores.columns) == ["only"]
    table = exp.by_source()
    assert table[["source_id", "label", "n_rows"]].to_dict("records") == [
        {"source_id": "only", "label": "only", "n_rows": 30}
    ]
    assert table.loc[0, "sha256"] == _sha(path)
    assert pipe.lineage_.source_counts().to_dict() == {"only": 30}


def test_merge_of_two_versions_counts_each_version(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"k": [1, 2, 3], "v": [0.1, 0.5, 0.9]}).to_csv(path, index=False)
    left = stp.read_csv(path)
    pd.DataFrame({"k": [3, 2, 1, 4], "w": [1.0, 2.0, 3.0, 4.0]}).to_csv(path, index=False)
    right = stp.read_csv(path)
    merged = stp.merge(left, right, on="k")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    counts = pipe.fit(merged[["v", "w"]], [0, 1, 0]).lineage_.source_counts()
    # each of the 3 merged rows has a line in each version
    assert sorted(counts.to_list()) == [3, 3]
    assert counts.index.is_unique


def test_an_op_fitted_on_one_data_csv_is_not_another_folders(tmp_path):
    a, b = tmp_path / "a" / "data.csv", tmp_path / "b" / "data.csv"
    _write(a, 30, 0.0, 6)
    _write(b, 20, 1.0, 7)
    A, B = stp.read_csv(a), stp.read_csv(b)
    stp.TracedEstimator(StandardScaler()).fit(A[["x1", "x2"]])
    only_b = stp.TracedEstimator(LogisticRegression()).fit(B[["x1", "x2"]], B["y"])
    assert [op.sources for op in only_b.lineage_.ops] == [None]
    both = pd.concat([A, B])
    run = stp.TracedEstimator(LogisticRegression()).fit(both[["x1", "x2"]], both["y"])
    assert [op.sources for op in run.lineage_.ops] == [["data"], None]
    # the op names "data", which both files carry, and a's content: trace tells them apart
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = run.lineage_.trace([0, 40])
    assert [len(ops) for ops in frame["ops"]] == [2, 1]


def test_trace_of_distinct_sources_does_not_warn(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    _write(a, 30, 0.0, 8)
    _write(b, 20, 1.0, 9)
    A, B = stp.read_csv(a), stp.read_csv(b)
    stp.TracedEstimator(StandardScaler()).fit(A[["x1", "x2"]])
    both = pd.concat([A, B])
    run = stp.TracedEstimator(LogisticRegression()).fit(both[["x1", "x2"]], both["y"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = run.lineage_.trace([0, 40])
    assert [len(ops) for ops in frame["ops"]] == [2, 1]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["data", "x", "data [000000000000]", "data [000000000000] (file:///a/data.csv)"]
            ),
            st.sampled_from(["file:///a/data.csv", "file:///b/data.csv"]),
            st.sampled_from(["0" * 64, "1" * 64, "0" * 12 + "2" * 52]),
        ),
        unique=True,
        max_size=8,
    )
)
def test_labels_tell_every_content_apart(contents):
    sources = [Source(i, 1, uri, sha, 0) for i, uri, sha in contents]
    labels = source_labels(sources)
    assert len(set(labels)) == len(labels)
    ids = [i for i, _, _ in contents]
    assert all(label.startswith(i) for label, i in zip(labels, ids))
    if len(set(ids)) == len(ids):
        assert labels == ids  # distinct names read as before
    for label, (i, _, sha) in zip(labels, contents):
        if ids.count(i) > 1:
            assert label.startswith(f"{i} [{sha[:12]}]")


def test_an_explainer_of_untraced_rows_explains_in_another_process(tmp_path):
    # the sources of by_source are kept at fit: an anonymous source (plain arrays) does
    # not travel with a pickle, and explain must not need the registry to know it
    import pickle
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    explainer = stp.InfluenceExplainer(LogisticRegression()).fit(X, y)
    (tmp_path / "ex.pkl").write_bytes(pickle.dumps((explainer, X)))
    want = explainer.explain(X[:3]).by_source()
    code = (
        "import pickle; ex, X = pickle.load(open('ex.pkl', 'rb')); "
        "t = ex.explain(X[:3]).by_source(); print(int(t['n_rows'][0]), float(t['score'][0]).hex())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    n_rows, score = out.stdout.split()
    assert int(n_rows) == want["n_rows"][0] == 40
    np.testing.assert_allclose(float.fromhex(score), want["score"][0], rtol=1e-12)
