"""Ops fitted outside the model (``Op.source_keys``) in the ways users fit them: in a
worker process, on one of two files that share a source id, checked against the files'
bytes and ``pandas.read_csv``."""

import hashlib
import itertools

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from tests.conftest import write_normal_features

_SEEDS = itertools.count(100)


def _write(path, n, seed):
    return write_normal_features(path, n, seed, label="alternating")


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fit(estimator, X):
    return estimator.fit(X)


def test_a_scaler_fitted_in_a_worker_is_listed_for_the_rows_it_was_fitted_on(tmp_path):
    # it was logged in the worker only: the parent's run of the rows it scaled did not
    # list it at all (ops ['logisticregression'] for all 50 rows)
    a, b = _write(tmp_path / "a" / "data.csv", 30, 0), _write(tmp_path / "b" / "data.csv", 20, 1)
    A, B = stp.read_csv(a), stp.read_csv(b)
    unfitted = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    (scaler,) = Parallel(n_jobs=2, backend="loky")(
        delayed(_fit)(unfitted, A[["x1", "x2"]]) for _ in range(1)
    )
    X = pd.concat([scaler.transform(A[["x1", "x2"]]), B[["x1", "x2"]]])
    y = pd.concat([A["y"], B["y"]])
    run = stp.TracedEstimator(LogisticRegression()).fit(X, y).lineage_
    assert [(op.name, op.source_keys) for op in run.ops] == [
        ("standardscaler@data", [["data", _sha(a)]]),
        ("logisticregression", None),
    ]
    frame = run.trace(np.arange(run.n_samples))
    on_a = (frame["uri"] == a.resolve().as_uri()).to_numpy()
    assert on_a.sum() == len(pd.read_csv(a))
    assert frame["line"][on_a].tolist() == list(range(2, len(pd.read_csv(a)) + 2))
    np.testing.assert_array_equal(["standardscaler@data" in ops for ops in frame["ops"]], on_a)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(4, 12), min_size=2, max_size=3),
    scaled=st.lists(st.booleans(), min_size=3, max_size=3),
    merged=st.booleans(),
    fit_on=st.integers(2, 4),
)
def test_trace_lists_each_files_own_scaler_for_its_lines_only(
    tmp_path_factory, sizes, scaled, merged, fit_on
):
    # every file read as "data"; one scaler per file in ``scaled``, fitted on its first
    # ``fit_on`` rows and applied to all of them; optionally the first file merged with
    # the last by key. Truth: the file (uri) and line of each leaf row, from
    # pandas.read_csv, and which files were scaled.
    # contents never seen before in this process: ops logged for the same bytes by an
    # earlier example would be ops of these sources too
    root = tmp_path_factory.mktemp("f")
    paths = [_write(root / str(k) / "data.csv", n, next(_SEEDS)) for k, n in enumerate(sizes)]
    frames, ops_of = [], {}
    for k, path in enumerate(paths):
        frame = stp.read_csv(path)
        frame["key"] = np.arange(len(frame))
        if scaled[k]:
            scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
            scaler.fit(frame[["x1", "x2"]].iloc[:fit_on])
            frame[["x1", "x2"]] = scaler.transform(frame[["x1", "x2"]])
            ops_of[path.resolve().as_uri()] = [["data", _sha(path)]]
        frames.append(frame)
    if merged:
        last = frames[-1][["key", "x1"]].rename(columns={"x1": "x3"})
        first = stp.merge(frames[0], last, on="key")
        frames = [first[["x1", "x2", "y"]], *(f[["x1", "x2", "y"]] for f in frames[1:])]
    X = pd.concat([f[["x1", "x2"]] for f in frames])
    y = pd.concat([f["y"] for f in frames])
    if y.nunique() < 2:
        return
    run = stp.TracedEstimator(LogisticRegression()).fit(X, y).lineage_
    scalers = [op for op in run.ops if op.source_keys is not None]
    # one op per scaled file, of its content (all are named "standardscaler@data")
    assert sorted(op.source_keys for op in scalers) == sorted(ops_of.values())
    frame = run.trace(np.arange(run.n_samples))
    for uri, line, ops in zip(frame["uri"], frame["line"], frame["ops"]):
        assert 2 <= line <= len(pd.read_csv(uri.removeprefix("file://"))) + 1
        # two scalers are told apart by fingerprint, each row naming its own file's
        named = [op for op in scalers if any(o.startswith(op.name) for o in ops)]
        if len(scalers) > 1:
            named = [op for op in scalers if f"{op.name} [{op.fingerprint[:12]}]" in ops]
        assert [op.source_keys for op in named] == ([ops_of[uri]] if uri in ops_of else [])
        assert sum(o.startswith("standardscaler@data") for o in ops) == len(named)


def test_trace_tells_apart_two_scalers_that_share_a_name(tmp_path):
    # one scaler per file, both files read as "data": both ops are named
    # "standardscaler@data", and each row's list said just that, for either file
    a, b = _write(tmp_path / "a" / "data.csv", 12, 30), _write(tmp_path / "b" / "data.csv", 9, 31)
    parts = []
    for path in (a, b):
        frame = stp.read_csv(path)
        scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
        parts.append((scaler.fit_transform(frame[["x1", "x2"]]), frame["y"]))
    X, y = pd.concat([p[0] for p in parts]), pd.concat([p[1] for p in parts])
    run = stp.TracedEstimator(LogisticRegression()).fit(X, y).lineage_
    by_file = {
        op.source_keys[0][1]: f"{op.name} [{op.fingerprint[:12]}]"
        for op in run.ops
        if op.source_keys
    }
    assert sorted(by_file) == sorted([_sha(a), _sha(b)])
    frame = run.trace(np.arange(run.n_samples))
    for uri, ops in zip(frame["uri"], frame["ops"]):
        own = _sha(a) if uri == a.resolve().as_uri() else _sha(b)
        assert ops == [by_file[own], "logisticregression"]
