"""X transformed outside a traced pipeline by a step that is not affine per column.

``PCA(10).fit_transform(df)`` fitted on traced rows returns an array whose values match
nothing loaded: a traced fit on it recorded an anonymous source without a word. Its
target still shows the rows: ``y`` with the frame's row ids, or a plain ``y`` equal to a
loaded column at every witness row compared by position. The truth is the raw file:
the column named holds, line by line, the values of ``y``. Unrelated labels, and labels
whose match is likely by chance (sorted, alternating, constant), name nothing.
"""

import csv
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, PolynomialFeatures

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning


@pytest.fixture
def cancer(tmp_path):
    path = tmp_path / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.to_csv(path, index=False)
    return path, stp.read_csv(path, source_id="cancer")


def _warnings(X, y, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = stp.make_traced_pipeline(LogisticRegression(max_iter=30)).fit(X, y, **params)
    found = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    return model, found


def _column_of_file(path, name):
    with open(path, newline="") as f:
        return [float(r[name]) for r in csv.DictReader(f)]


TRANSFORMS = [
    lambda X: PCA(10).fit_transform(X),
    lambda X: TruncatedSVD(5, random_state=0).fit_transform(X),
    lambda X: PolynomialFeatures(2).fit_transform(X.iloc[:, :4]),
    lambda X: KBinsDiscretizer(4, encode="ordinal").fit_transform(X.iloc[:, :5]) + 0.25,
    lambda X: OneHotEncoder(sparse_output=False).fit_transform(X.iloc[:, :2].round(0)),
]


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_transformed_outside_with_its_plain_target_is_named(cancer, transform):
    path, df = cancer
    X = df.drop(columns="target")
    Xt = transform(X)
    y = df["target"].to_numpy()
    model, [message] = _warnings(Xt, y)
    assert "equals column 'target' of source 'cancer'" in message
    assert "nothing here can check that they are those rows" in message
    assert "set_output(transform='pandas')" in message
    # the truth: the file's target column is y, line by line
    assert _column_of_file(path, "target") == y.astype(float).tolist()
    compared = int(re.search(r"at all (\d+) of its rows", message).group(1))
    assert compared >= 256
    [source] = model.lineage_.source_ids()
    assert source.startswith("anonymous:")


def test_a_split_target_with_ids_is_named_by_them(cancer):
    _, df = cancer
    Xt = PCA(5).fit_transform(df.drop(columns="target"))
    X_train, _, y_train, _ = train_test_split(Xt, df["target"], random_state=0)
    _, [message] = _warnings(X_train, y_train)
    first = int(re.search(r"its first row is cancer line (\d+)", message).group(1))
    assert first == stp.row_ids(y_train.iloc[:1]).tolist()[0] & ((1 << 36) - 1)
    assert f"carries the row ids of {len(y_train)} rows of source(s) 'cancer'" in message


def test_sample_weight_with_ids_is_named(cancer):
    _, df = cancer
    Xt = PCA(5).fit_transform(df.drop(columns="target"))
    weights = df["mean radius"] / df["mean radius"].mean()
    y = np.random.default_rng(0).integers(0, 2, len(df))
    _, [message] = _warnings(Xt, y, logisticregression__sample_weight=weights)
    assert "logisticregression__sample_weight carries the row ids" in message


def test_set_output_pandas_keeps_the_ids(cancer):
    """The fix the warning names works: the transformer's pandas output keeps the
    traced frame's index, so the run names the file's lines."""
    _, df = cancer
    Xt = PCA(5).set_output(transform="pandas").fit_transform(df.drop(columns="target"))
    model, found = _warnings(Xt, df["target"])
    assert found == []
    assert model.lineage_.source_ids() == ["cancer"]


def test_unrelated_targets_name_nothing(cancer):
    _, df = cancer
    rng = np.random.default_rng(0)
    Xt = PCA(5).fit_transform(df.drop(columns="target"))
    n = len(df)
    for y in (
        rng.integers(0, 2, n),  # unrelated labels, as many as the file's rows
        np.sort(df["target"].to_numpy()),  # the file's labels, sorted: order lost
        rng.permutation(df["target"].to_numpy()),  # shuffled apart from X
        df["target"].to_numpy()[: n - 1],  # another length
    ):
        _, found = _warnings(Xt[: len(y)], y)
        assert found == []
    _, found = _warnings(rng.normal(size=(n, 4)), rng.normal(size=n) > 0)
    assert found == []


def _small(tmp_path, labels, name="small"):
    path = tmp_path / f"{name}.csv"
    rng = np.random.default_rng(len(labels))
    pd.DataFrame({"x": rng.normal(size=len(labels)), "label": labels}).to_csv(path, index=False)
    return stp.read_csv(path, source_id=name)


def test_a_short_match_by_chance_is_not_evidence(tmp_path):
    """A file of 12 rows whose 0/1 labels equal unrelated labels: a chance of 1 in
    4096 or so, which names nothing; alternating or constant labels neither, at any
    length."""
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 12)
    _small(tmp_path, labels, "twelve")
    _, found = _warnings(rng.normal(size=(12, 3)), labels)
    assert found == []
    _small(tmp_path, np.arange(400) % 2, "alternating")
    _, found = _warnings(rng.normal(size=(400, 3)), np.arange(400) % 2)
    assert found == []
    _small(tmp_path, np.ones(400, int), "constant")
    _, found = _warnings(rng.normal(size=(400, 3)), np.r_[np.ones(399, int), 0])
    assert found == []


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(20, 700), seed=st.integers(0, 2**16), classes=st.integers(2, 4))
def test_a_named_column_is_the_target_in_the_file(tmp_path, n, seed, classes):
    """Whenever a plain y is named as a loaded column, the file holds y in that
    column line by line; random labels of a file's length are named only where the
    match is theirs (the file written from them)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    if len(set(labels.tolist())) < 2:
        return
    path = tmp_path / f"h{seed}_{n}.csv"
    pd.DataFrame({"x": rng.normal(size=n), "label": labels}).to_csv(path, index=False)
    stp.read_csv(path, source_id=f"h{seed}_{n}")
    other = rng.integers(0, classes, n)
    if len(set(other.tolist())) < 2:
        return
    for y, theirs in ((labels, True), (other, False)):
        _, found = _warnings(rng.normal(size=(n, 3)), y)
        named = [m for m in found if f"source 'h{seed}_{n}'" in m]
        if named:
            assert theirs
            assert _column_of_file(path, "label") == y.astype(float).tolist()
    if n >= 60:  # (most of a few hundred rows compared: a chance far below 1e-9)
        _, found = _warnings(rng.normal(size=(n, 3)), labels)
        assert any(f"source 'h{seed}_{n}'" in m for m in found)
