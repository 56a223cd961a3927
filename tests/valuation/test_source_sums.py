"""Values by source file checked against the raw bytes of the files and exact sums.

A data scientist values suppliers' CSV files: every value must be credited to the line
of the file that holds the row (read back from the file's bytes), each value must be
Shapley's (enumerated over every subset), and a source's sum must be the sum of its
rows' values, whatever order the rows or the sources come in.
"""

import itertools
import math
import warnings
from fractions import Fraction

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop import KNNShapleyValuer
from sktraceprop.plotting import BySourceDisplay

matplotlib.use("Agg")


def _exact_sum(values):
    """The correctly rounded sum of float64 ``values`` (exact rational arithmetic)."""
    return float(sum((Fraction(float(v)) for v in values), Fraction(0)))


def _shapley(dist, y_train, y_val, k):
    """Shapley values of the KNN classification utility, every permutation enumerated."""
    n = len(y_train)
    values = np.zeros(n)
    for row, label in zip(dist, y_val):
        for order in itertools.permutations(range(n)):
            before, seen = 0.0, []
            for i in order:
                seen.append(i)
                ranked = sorted(seen, key=lambda j: (row[j], j))[:k]
                now = sum(y_train[j] == label for j in ranked) / k
                values[i] += now - before
                before = now
    return values / math.factorial(n) / len(y_val)


def _suppliers(tmp_path, rng, n_files=3, n_rows=3):
    """Small CSV files of integer points and string labels, one per supplier."""
    paths = []
    for f in range(n_files):
        lines = ["x0,x1,label"]
        for _ in range(n_rows):
            x0, x1 = rng.integers(0, 3, 2)
            lines.append(f"{x0},{x1},{rng.choice(['cat', 'dog', 'emu'])}")
        path = tmp_path / f"supplier_{f}.csv"
        path.write_bytes(("\n".join(lines) + "\n").encode())
        paths.append(path)
    return paths


def _check_against_the_files(paths, seed, k):
    rng = np.random.default_rng(seed)
    frames = [stp.read_csv(p, source_id=f"{p.parent.name}_{p.stem}") for p in paths]
    train = pd.concat(frames[::-1]).sample(frac=1.0, random_state=seed)
    train = train.iloc[1:]  # one row dropped
    X, y = train[["x0", "x1"]], train["label"]
    X_val = pd.DataFrame(rng.integers(0, 3, (2, 2)).astype(float), columns=["x0", "x1"])
    y_val = rng.choice(["cat", "dog", "emu"], 2)
    valuer = KNNShapleyValuer(k).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ties: the rule is tested elsewhere
        values = valuer.value(X_val, y_val)

    # each value is Shapley's, on the rows as the raw bytes of their lines hold them
    raw = {f"{p.parent.name}_{p.stem}": p.read_bytes().decode().splitlines() for p in paths}
    lines = stp.row_lineage(valuer.row_ids_)
    assert lines["row"].tolist() == list(range(len(train)))
    at = zip(lines["source_id"], lines["line"])
    from_bytes = [raw[source][line - 1].split(",") for source, line in at]
    X_raw = np.array([[float(a), float(b)] for a, b, _ in from_bytes])
    y_raw = np.array([label for _, _, label in from_bytes])
    np.testing.assert_array_equal(X_raw, X.to_numpy(float))
    np.testing.assert_array_equal(y_raw, y.to_numpy())
    dist = np.sqrt(((X_val.to_numpy()[:, None, :] - X_raw[None]) ** 2).sum(-1))
    np.testing.assert_allclose(values, _shapley(dist, y_raw, y_val, k), rtol=0, atol=1e-12)

    # a source's sum is its rows' sum, exactly (correctly rounded), whatever the order
    table = valuer.by_source()
    display = BySourceDisplay.from_estimator(valuer)
    assert table["source_id"].tolist() == sorted(set(lines["source_id"]))
    for i, row in table.iterrows():
        mine = values[(lines["source_id"] == row["source_id"]).to_numpy()]
        assert row["n_rows"] == mine.size
        assert row["sum"] == _exact_sum(mine)
        assert row["sum"] == _exact_sum(mine[::-1])
        assert row["mean"] == _exact_sum(mine) / mine.size
        assert display.means_[i] == row["mean"]
        np.testing.assert_array_equal(np.sort(list(display.values.values())[i]), np.sort(mine))
    return table


@pytest.mark.parametrize("k", [1, 2, 3, 12])
def test_values_by_supplier_match_the_files_and_shapley(tmp_path, k):
    paths = _suppliers(tmp_path, np.random.default_rng(k))
    _check_against_the_files(paths, seed=k, k=k)


def test_source_sum_is_correctly_rounded_and_order_free():
    # values whose float sum depends on the order: numpy and pandas' sums of these
    # differ from the exact sum (they did for by_source before sums were fsum'd)
    values = np.array([0.1, 0.7, 0.2, 1e-17, 0.3, 0.6, -0.05, 1 / 3, 2 / 3, 0.15])
    X = pd.concat(
        [
            stp.from_numpy(np.arange(5.0)[:, None] * [1.0, 2.0], "a"),
            stp.from_numpy(np.arange(5.0, 10.0)[:, None] * [1.0, 2.0], "b"),
        ]
    )
    valuer = KNNShapleyValuer(1).fit(X, np.arange(10) % 2)
    for order in (values, values[::-1], np.roll(values, 3)):
        valuer.values_ = order  # as value() stores them
        table = valuer.by_source()
        for side, row in zip((order[:5], order[5:]), table.itertuples()):
            assert row.sum == _exact_sum(side)
            assert row.mean == _exact_sum(side) / 5
        # the same values, any order within a source: the same sums, bit for bit
        valuer.values_ = np.r_[order[:5][::-1], order[5:][::-1]]
        np.testing.assert_array_equal(valuer.by_source()["sum"], table["sum"])


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 2**16), k=st.integers(1, 8))
@example(seed=0, k=3)
def test_values_by_supplier_property(tmp_path_factory, seed, k):
    tmp = tmp_path_factory.mktemp("suppliers")
    paths = _suppliers(tmp, np.random.default_rng(seed), n_files=2, n_rows=3)
    _check_against_the_files(paths, seed=seed, k=k)
