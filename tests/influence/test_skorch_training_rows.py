"""The training rows an explanation of a skorch net names are the rows the net trained on.

Property test over CSV files read with ``stp.read_csv``, concatenated, sampled and
shuffled, and a traced pipeline whose net holds out a validation split (skorch's
``ValidSplit``, stratified or not) and shuffles its batches. The truth is independent of
the explainer: skorch's own split of the rows the pipeline gave the net, and each named
file line read back from the file's raw bytes.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import sktraceprop as stp
from sktraceprop import InfluenceExplainer

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests._torch_nets import TanhNet  # noqa: E402


def _to_float32(X):
    return np.asarray(X, dtype=np.float32)


def _files(folder, sizes, seed):
    rng = np.random.RandomState(seed)
    paths = []
    for f, n in enumerate(sizes):
        X = rng.randn(n, 3).round(4)
        frame = pd.DataFrame(X, columns=["a", "b", "c"])
        frame["y"] = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
        path = folder / f"part{f}.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def _line_of(uri, line):
    """The values of a 1-based line of a file, read from its raw bytes."""
    path = uri.removeprefix("file://")
    with open(path, "rb") as fh:
        text = fh.read().decode().splitlines()[line - 1]
    return np.array(text.split(","), dtype=float)


@settings(
    deadline=None, max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(12, 30), min_size=1, max_size=3),
    frac=st.sampled_from([0.6, 1.0]),
    valid=st.sampled_from([0.2, 0.3]),
    stratified=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_named_rows_are_the_rows_the_net_trained_on(
    tmp_path, sizes, frac, valid, stratified, seed
):
    folder = tmp_path / f"s{seed}_{len(sizes)}_{sum(sizes)}"
    folder.mkdir(exist_ok=True)  # (a replayed example finds its first try's folder)
    frame = pd.concat([stp.read_csv(p) for p in _files(folder, sizes, seed)])
    frame = frame.sample(frac=frac, random_state=seed)  # a subset, shuffled
    X, y = frame[["a", "b", "c"]], frame["y"].to_numpy()
    # a stratified split of a class of one row is refused by scikit-learn, not by us
    assume(not stratified or np.bincount(y, minlength=2).min() >= 2)
    torch.manual_seed(seed)
    net = skorch.NeuralNetClassifier(
        TanhNet,
        module__n_in=3,
        module__n_hidden=4,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=1,
        lr=0.05,
        batch_size=8,
        iterator_train__shuffle=True,
        train_split=skorch.dataset.ValidSplit(valid, stratified=stratified, random_state=seed),
        verbose=0,
    )
    pipe = stp.make_traced_pipeline(StandardScaler(), FunctionTransformer(_to_float32), net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = InfluenceExplainer(pipe, method="ggn", damping=0.1).fit(X, y)
    fitted = exp.estimator_
    # skorch's own split of the rows the pipeline gave the net
    train, _ = fitted[-1].get_split_datasets(fitted[:-1].transform(X), y)
    positions = np.asarray(train.indices)
    np.testing.assert_array_equal(exp.train_row_ids_, stp.row_ids(X)[positions])
    np.testing.assert_array_equal(exp.y_, y[positions])
    np.testing.assert_allclose(exp.Xt_, fitted[:-1].transform(X)[positions], rtol=1e-6)
    explanation = exp.explain(X.iloc[:2], top_k=exp.n_train_)
    assert explanation.scores.shape == (2, positions.size)
    top = explanation.top()
    for row in top.itertuples():
        (pos,) = np.flatnonzero(stp.row_ids(X) == row.row_id)
        assert pos in positions
        values = _line_of(row.uri, row.line)
        np.testing.assert_allclose(values[:3], X.iloc[pos].to_numpy(), rtol=1e-12)
        assert values[3] == y[pos]
