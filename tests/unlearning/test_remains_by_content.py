"""What a removal names as still carrying removed rows, for two sources that share a
source_id (two folders' data.csv, both read as "data"): a step fitted outside the model
on one file, and group statistics computed per file under one name, are matched to the
removed rows by content (source_id and SHA-256), checked against the raw files.

A step recorded the name only: removing b/data.csv's rows named a scaler fitted on
a/data.csv alone, and counted the rows of both files as going through it; two steps or
aggregates of one name were summed under that name.
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
from sktraceprop._lineage._source import REGISTRY
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests.conftest import write_two_features

OUTSIDE = "steps_fitted_outside_over_removed_rows"


def _write(path, n, shift, seed):
    return write_two_features(path, n, shift, seed, first={"g": np.arange(n) % 3})


@pytest.fixture
def files(tmp_path):
    a = _write(tmp_path / "a" / "data.csv", 30, 0.0, 11)
    b = _write(tmp_path / "b" / "data.csv", 20, 1.0, 12)
    return a, b


def _scaled(frames, which):
    """The frames' x1, x2 concatenated, scaled by one TracedEstimator per frame in
    ``which`` (fitted on that frame only), and their labels."""
    parts = []
    for k, frame in enumerate(frames):
        part = frame[["x1", "x2"]]
        if k in which:
            scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
            part = scaler.fit_transform(part)
        parts.append(part)
    return pd.concat(parts), pd.concat([f["y"] for f in frames])


def _unlearn(unl, ids):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unl.unlearn(sample_id=ids)
    return unl.unlearning_log_[-1], [str(w.message) for w in caught]


def test_a_step_fitted_on_one_file_is_named_for_that_files_rows_only(files):
    a, b = files
    A, B = stp.read_csv(a), stp.read_csv(b)
    X, y = _scaled([A, B], which={0})
    on_a = (stp.row_lineage(X)["uri"] == a.resolve().as_uri()).to_numpy()
    n_a, n_b = len(pd.read_csv(a)), len(pd.read_csv(b))
    assert (on_a.sum(), (~on_a).sum()) == (n_a, n_b)
    ids = stp.row_ids(X)
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    # rows of b/data.csv: the scaler never saw them
    event, said = _unlearn(unl, ids[~on_a][:2])
    assert OUTSIDE not in event
    assert not any("fitted outside the model" in s for s in said)
    # rows of a/data.csv: the scaler's retained rows are a's others, not b's
    event, said = _unlearn(unl, ids[on_a][:3])
    assert event[OUTSIDE] == {"standardscaler@data": n_a - 3}
    assert any(f"'standardscaler@data' ({n_a - 3} rows)" in s for s in said)


def test_two_steps_of_one_name_are_told_apart(files):
    a, b = files
    A, B = stp.read_csv(a), stp.read_csv(b)
    X, y = _scaled([A, B], which={0, 1})
    on_a = (stp.row_lineage(X)["uri"] == a.resolve().as_uri()).to_numpy()
    n_a, n_b = len(pd.read_csv(a)), len(pd.read_csv(b))
    ids = stp.row_ids(X)
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    sha_a, sha_b = (hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b))
    # the sha256 of the file each scaler was fitted on -> its fingerprint
    print_of = {
        op.source_keys[0][1]: op.fingerprint[:12]
        for op in REGISTRY.op_log()
        if op.source_keys[0][1] in (sha_a, sha_b)
    }
    assert sorted(print_of) == sorted([sha_a, sha_b])
    event, _ = _unlearn(unl, ids[on_a][:2])
    assert event[OUTSIDE] == {f"standardscaler@data [{print_of[sha_a]}]": n_a - 2}
    event, _ = _unlearn(unl, np.r_[ids[on_a][2:3], ids[~on_a][:4]])
    assert event[OUTSIDE] == {
        f"standardscaler@data [{print_of[sha_a]}]": n_a - 3,
        f"standardscaler@data [{print_of[sha_b]}]": n_b - 4,
    }


def test_aggregates_of_one_name_are_told_apart(files):
    a, b = files
    joined, stats = [], {}
    for path in (a, b):
        frame = stp.read_csv(path)
        agg = stp.aggregate(frame, by="g", x1_g=("x1", "mean"), source_id="stats")
        (code,) = np.unique(codes_of(stp.row_ids(agg)))
        stats[path] = REGISTRY.by_code(int(code)).sha256
        joined.append(stp.merge(frame, agg, on="g"))
    X = pd.concat(joined)
    y, X = X["y"], X[["x1", "x2", "x1_g"]]
    # each training row's line of a data.csv (its other parent is a group's statistics)
    leaves = stp.row_lineage(X)
    leaves = leaves[leaves["source_id"] == "data"].set_index("row").sort_index()
    on_a = (leaves["uri"] == a.resolve().as_uri()).to_numpy()
    # the group of each training row, read from its file (line 1 is the header)
    g = np.where(on_a, 0, 0)
    for path, mine in ((a, on_a), (b, ~on_a)):
        g[mine] = pd.read_csv(path)["g"].to_numpy()[leaves["line"].to_numpy()[mine] - 2]
    ids = stp.row_ids(X)
    unl = GradientCorrectionUnlearner(stp.make_traced_pipeline(LogisticRegression()))
    unl.fit(X, y)
    label_a, label_b = (f"stats [{stats[p][:12]}]" for p in (a, b))
    # one row of a/data.csv: the retained rows of a in its group joined a's statistic
    first = np.flatnonzero(on_a & (g == 0))[0]
    event, _ = _unlearn(unl, ids[[first]])
    assert event["aggregates_over_removed_rows"] == {label_a: int((on_a & (g == 0)).sum()) - 1}
    assert f"aggregate(s) '{label_a}'" in event["caveat"]
    assert "(features x1_g)" in event["caveat"]
    # and one row of each file: each file's statistic, under its own label
    second = np.flatnonzero(on_a & (g == 1))[0], np.flatnonzero(~on_a & (g == 2))[0]
    event, _ = _unlearn(unl, ids[list(second)])
    assert event["aggregates_over_removed_rows"] == {
        label_a: int((on_a & (g == 1)).sum()) - 1,
        label_b: int((~on_a & (g == 2)).sum()) - 1,
    }


def test_a_step_fitted_on_a_merge_is_named_when_its_rows_are_removed(files):
    # the step named the merge ("ab") and the removed rows their files ("data"): the
    # name match found no step, and the removal said nothing of it
    a, b = files
    A, B = stp.read_csv(a), stp.read_csv(b)
    merged = stp.merge(A[["g", "x1", "y"]], B[["g", "x2"]].iloc[:3], on="g", source_id="ab")
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X, y = scaler.fit_transform(merged[["x1", "x2"]]), merged["y"]
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    event, said = _unlearn(unl, stp.row_ids(X)[:2])
    assert event[OUTSIDE] == {"standardscaler@ab": len(X) - 2}
    assert any("'standardscaler@ab'" in s for s in said)
