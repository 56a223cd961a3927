"""Ops fitted outside the model (``Op.source_keys``) in the ways users fit them: in a
worker process, on one of two files that share a source id, checked against the files'
bytes and ``pandas.read_csv``."""

import hashlib

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def _write(path, n, seed):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {"x1": rng.normal(size=n), "x2": rng.normal(size=n), "y": np.arange(n) % 2}
    )
    frame.to_csv(path, index=False)
    return path


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
