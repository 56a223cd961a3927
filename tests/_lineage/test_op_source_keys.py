"""An op fitted on one of two sources that share a source_id (two folders' data.csv, both
read as "data") records that source's content (source_id and SHA-256): trace and
KNNShapleyValuer.by_op list it for that file's rows only, checked against the raw files.

The op recorded the name only, so trace listed it for the rows of both files (with a
warning) and by_op gave NaN; through a merge of a merge it was not listed at all.
"""

import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of
from sktraceprop._lineage._run import Op
from sktraceprop._lineage._source import REGISTRY
from tests.conftest import write_two_features

#: The fields of an op's record that sktraceprop read before source_keys (its
#: ``Op.from_dict`` took no other).
OLD_OP_FIELDS = ("name", "cls", "params", "fingerprint", "features_in", "features_out", "sources")


def _write(path, n, shift, seed):
    return write_two_features(path, n, shift, seed, first={"k": np.arange(n)})


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def files(tmp_path):
    return _write(tmp_path / "a" / "data.csv", 30, 0.0, 1), _write(
        tmp_path / "b" / "data.csv", 20, 1.0, 2
    )


def _scaled_on_a(a, b):
    """Both files read as "data"; a scaler fitted on a's rows only, before the concat."""
    A, B = stp.read_csv(a), stp.read_csv(b)
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = pd.concat([scaler.fit_transform(A[["x1", "x2"]]), B[["x1", "x2"]]])
    return X, pd.concat([A["y"], B["y"]])


def test_trace_lists_an_op_for_the_rows_of_the_file_it_was_fitted_on(files):
    a, b = files
    X, y = _scaled_on_a(a, b)
    run = stp.TracedEstimator(LogisticRegression()).fit(X, y).lineage_
    scaler = run.ops[0]
    uri_a = a.resolve().as_uri()
    frame = run.trace(np.arange(run.n_samples))
    assert (frame["uri"] == uri_a).sum() == len(pd.read_csv(a))
    for uri, ops in zip(frame["uri"], frame["ops"]):
        want = [scaler.name, "logisticregression"] if uri == uri_a else ["logisticregression"]
        assert ops == want
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it warned that it could not tell
        run.trace([0, 40])
    assert scaler.sources == ["data"]
    assert scaler.source_keys == [["data", _sha(a)]]
    # the run's record keeps it, and reads it back
    assert Op.from_dict(scaler.to_dict()) == scaler
    record = run.to_dict()
    # beside the ops, whose records keep the fields earlier versions read
    assert record["op_source_keys"] == [[["data", _sha(a)]], None]
    assert all(set(op) == set(OLD_OP_FIELDS) for op in record["ops"])
    assert type(run).from_dict(record, run.row_ids, sources=run.sources) == run


def test_an_op_fitted_on_a_merge_is_listed_through_a_merge_of_it(files):
    a, b = files
    A, B = stp.read_csv(a), stp.read_csv(b)
    inner = stp.merge(A[["k", "x1"]], B[["k", "x2"]], on="k", source_id="ab")
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    scaled = scaler.fit_transform(inner[["x1", "x2"]])
    scaled["k"] = inner["k"]
    extra = stp.from_pandas(pd.DataFrame({"k": np.arange(20), "x3": np.arange(20.0)}), "extra")
    outer = stp.merge(scaled, extra, on="k", source_id="abc")
    y = (outer["x3"] > 9).astype(int)
    run = stp.TracedEstimator(LogisticRegression()).fit(outer[["x1", "x2", "x3"]], y).lineage_
    frame = run.trace([0, 5])
    # each row: a line of a, a line of b (through "ab"), a line of extra
    for _, row in frame.iterrows():
        through_ab = row["uri"] in (a.resolve().as_uri(), b.resolve().as_uri())
        assert (run.ops[0].name in row["ops"]) == through_ab
        assert "logisticregression" in row["ops"]
    assert sorted(frame["source_id"]) == ["data", "data", "data", "data", "extra", "extra"]
    (code,) = np.unique(codes_of(stp.row_ids(inner)))
    assert run.ops[0].source_keys == [["ab", REGISTRY.by_code(code).sha256]]


def test_by_op_values_the_rows_of_the_file_an_op_was_fitted_on(files):
    a, b = files
    X, y = _scaled_on_a(a, b)
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    values = valuer.value(X.iloc[::3], y.iloc[::3])
    on_a = (stp.row_lineage(X)["uri"] == a.resolve().as_uri()).to_numpy()
    assert on_a.sum() == len(pd.read_csv(a))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it warned, and gave NaN
        table = valuer.by_op()
    row = table.set_index("op").loc["standardscaler@data"]
    assert row["sources"] == ["data"]
    assert row["n_rows"] == on_a.sum()
    np.testing.assert_allclose(row["sum"], values[on_a].sum(), rtol=1e-12)
    np.testing.assert_allclose(row["mean"], values[on_a].mean(), rtol=1e-12)


def test_an_op_of_an_older_run_falls_back_to_its_names_and_says_so(files):
    a, b = files
    X, y = _scaled_on_a(a, b)
    run = stp.TracedEstimator(LogisticRegression()).fit(X, y).lineage_
    old = run.to_dict()
    del old["op_source_keys"]  # as runs were stored before it was kept
    run = type(run).from_dict(old, run.row_ids, sources=run.sources)
    assert run.ops[0].source_keys is None
    with pytest.warns(stp.exceptions.LineageWarning, match="recorded before ops kept"):
        frame = run.trace([0, 40])
    assert [len(ops) for ops in frame["ops"]] == [2, 2]  # by name: both files


@pytest.mark.parametrize(
    "keys, sources, match",
    [
        ([["data", "0" * 64]], None, "source_keys name the source ids"),
        ([["data", "0" * 64]], ["other"], "source_keys name the source ids"),
        (["data"], ["data"], "pairs"),
    ],
)
def test_op_source_keys_must_name_its_sources(keys, sources, match):
    with pytest.raises(ValueError, match=match):
        Op("step", "x.Y", {}, "f" * 64, sources=sources, source_keys=keys)


def test_an_array_op_on_one_file_is_listed_for_that_files_rows(files):
    a, b = files
    A, B = stp.read_csv(a), stp.read_csv(b)
    X = np.concatenate([stp.array(A[["x1", "x2"]]) * 2.0, stp.array(B[["x1", "x2"]])])
    y = np.r_[A["y"].to_numpy(), B["y"].to_numpy()]
    run = stp.TracedEstimator(LogisticRegression()).fit(X, y).lineage_
    frame = run.trace(np.arange(run.n_samples))
    doubled = [op for op in run.ops if op.name.endswith(":multiply")]
    uri_a = a.resolve().as_uri()
    assert (frame["uri"] == uri_a).sum() == len(pd.read_csv(a))
    for uri, ops in zip(frame["uri"], frame["ops"]):
        assert (doubled[0].name in ops) == (uri == uri_a)
    assert [op.source_keys for op in doubled] == [[["data", _sha(a)]]]


def test_leaf_paths_name_every_source_on_each_rows_way(files):
    # against expand (the leaf rows) and the merges' own parents (the way)
    from sktraceprop._lineage._merged_parents import expand
    from sktraceprop._lineage._op_rows import leaf_paths

    a, b = files
    A, B = stp.read_csv(a), stp.read_csv(b)
    inner = stp.merge(A[["k", "x1"]], B[["k", "x2"]], on="k", how="left", source_id="ab")
    extra = stp.from_pandas(pd.DataFrame({"k": np.arange(0, 40, 2), "x3": 1.0}), "extra")
    outer = stp.merge(inner, extra, on="k", how="left", source_id="abc")
    ids = np.r_[stp.row_ids(outer), stp.row_ids(A)[:3]]  # merged rows and plain ones
    pos, leaves, entry, code, _ = leaf_paths(ids, REGISTRY.by_code)
    want_pos, want_leaves, _ = expand(ids, REGISTRY.by_code, with_via=False)
    assert sorted(zip(pos.tolist(), leaves.tolist())) == sorted(
        zip(want_pos.tolist(), want_leaves.tolist())
    )
    (c_ab,) = np.unique(codes_of(stp.row_ids(inner)))
    (c_abc,) = np.unique(codes_of(stp.row_ids(outer)))
    for k in range(pos.size):
        way = set(code[entry == k].tolist())
        leaf = int(codes_of(leaves[k : k + 1])[0])
        if pos[k] >= len(outer):  # a row of a itself
            assert way == {leaf}
        elif REGISTRY.by_code(leaf).source_id == "extra":
            assert way == {int(c_abc), leaf}
        else:  # a line of a or b, through "ab" then "abc"
            assert way == {int(c_abc), int(c_ab), leaf}
    assert leaf_paths(np.empty(0, np.int64), REGISTRY.by_code)[0].size == 0
