"""Values of realistic pipelines checked against slow truths written here.

Several messy CSV files (a comment line, a blank line, a quoted field over two lines,
CRLF endings) read with ``read_csv``, concatenated or merged, valued through a
``ColumnTransformer`` (one-hot + scaler) with text labels: each value against Shapley's
formula over every subset, each row's (file, line) against the file's bytes, each
source's sum against its rows' brute-force values, and the per-source sums against
the Shapley values of the game whose players are the sources (a different question:
equal totals, other shares).
"""

import csv
import io
import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.metrics import pairwise_distances
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop import KNNShapleyValuer


def _utility(players, dist, y_train, label, k, regression=False):
    """KNN utility of the training rows ``players``: ties go to the smaller index."""
    nearest = sorted(players, key=lambda j: (dist[j], j))[:k]
    if regression:
        return -((sum(y_train[j] for j in nearest) / k - label) ** 2)
    return sum(y_train[j] == label for j in nearest) / k


def _shapley(groups, dist, y_train, y_val, k, regression=False):
    """Shapley values of the players ``groups`` (each a list of training rows), every
    subset of the other players enumerated, averaged over validation rows."""
    m = len(groups)
    out = np.zeros(m)
    for row, label in zip(dist, y_val):
        cache = {}

        def u(coalition, row=row, label=label, cache=cache):
            if coalition not in cache:
                rows = [j for g in coalition for j in groups[g]]
                cache[coalition] = _utility(rows, row, y_train, label, k, regression)
            return cache[coalition]

        for i in range(m):
            others = [g for g in range(m) if g != i]
            for size in range(m):
                weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
                for s in itertools.combinations(others, size):
                    out[i] += weight * (u(tuple(sorted(s + (i,)))) - u(s))
    return out / len(y_val)


def _file_rows(uri):
    """{physical 1-based line where a record starts: its fields}, from the file's bytes."""
    path = uri.removeprefix("file://")
    with open(path, "rb") as f:
        text = f.read().decode()
    # csv over the whole text: a record may span lines (a quoted newline)
    reader = csv.reader(io.StringIO(text, newline=""))
    line, out = 1, {}
    for raw in reader:
        if raw and not raw[0].startswith("#"):
            out[line] = raw
        line = reader.line_num + 1
    return out


def _write_banks(tmp_path):
    (tmp_path / "bank_a.csv").write_bytes(
        b"# export of bank A\nincome,region,status\n52.5,north,good\n\n31.0,south,bad\n"
        b'47.25,"no\nrth",good\n'
    )
    (tmp_path / "bank_b.csv").write_bytes(
        b"income,region,status\r\n40.0,south,good\r\n29.5,north,bad\r\n61.0,east,good\r\n"
    )
    (tmp_path / "bank_c.csv").write_bytes(
        b"income,region,status\n33.0,east,bad\n58.0,south,good\n"
    )
    a = stp.read_csv(tmp_path / "bank_a.csv", source_id="bank_a", comment="#")
    b = stp.read_csv(tmp_path / "bank_b.csv", source_id="bank_b")
    c = stp.read_csv(tmp_path / "bank_c.csv", source_id="bank_c")
    return a, b, c


@pytest.mark.parametrize("k", [1, 3, 8, 11])
def test_messy_files_through_a_column_transformer(tmp_path, k):
    a, b, c = _write_banks(tmp_path)
    df = pd.concat([a, b, c])
    X, y = df[["income", "region"]], df["status"]
    ct = ColumnTransformer(
        [
            ("oh", OneHotEncoder(handle_unknown="ignore"), ["region"]),
            ("sc", StandardScaler(), ["income"]),
        ]
    )
    val = KNNShapleyValuer(k, transformer=ct).fit(X, y)
    Xv = pd.DataFrame(
        {"income": [45.0, 30.0, 55.0, 35.0], "region": ["north", "south", "east", "west"]}
    )
    yv = np.array(["good", "bad", "good", "unseen"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (ties at K > N decide nothing, warned or not)
        values = val.value(Xv, yv)
        score = val.score(Xv, yv)
    features = val.transformer_.transform(X)
    dist = pairwise_distances(val.transformer_.transform(Xv), features)
    rows = [[j] for j in range(len(y))]
    truth = _shapley(rows, dist, y.to_numpy(), yv, k)
    np.testing.assert_allclose(values, truth, rtol=0, atol=1e-12)
    everyone = [j for j in range(len(y))]
    full = np.mean([_utility(everyone, d, y.to_numpy(), t, k) for d, t in zip(dist, yv)])
    assert score == pytest.approx(full, abs=1e-12)
    assert values.sum() == pytest.approx(full, abs=1e-12)  # efficiency, U(empty) = 0
    # every row's value is credited to the line of the file that holds it
    lineage = stp.row_lineage(X)
    assert lineage["row"].tolist() == list(range(len(y)))
    for r, (uri, line) in enumerate(zip(lineage["uri"], lineage["line"])):
        fields = _file_rows(uri)[line]
        assert float(fields[0]) == X["income"].iloc[r]
        assert fields[1] == X["region"].iloc[r]
        assert fields[2] == y.iloc[r]
    assert lineage["line"].tolist()[:3] == [3, 5, 6]  # comment, header, blank line
    # a source's sum is its rows' brute-force values summed; the sources as players
    table = val.by_source().set_index("source_id")
    groups = [np.flatnonzero(lineage["source_id"] == s).tolist() for s in table.index]
    for sid, members in zip(table.index, groups):
        assert table.loc[sid, "n_rows"] == len(members)
        assert table.loc[sid, "sum"] == pytest.approx(math.fsum(truth[members]), abs=1e-12)
    game = _shapley(groups, dist, y.to_numpy(), yv, k)
    assert game.sum() == pytest.approx(values.sum(), abs=1e-12)  # the same total


def test_source_sums_are_not_the_shapley_values_of_the_sources(tmp_path):
    # as doc/valuation.rst says: a group's value is its rows' values summed, not the
    # value of the group as one player (one case where the two differ, worked out here)
    a, b, c = _write_banks(tmp_path)
    df = pd.concat([a, b, c])
    X, y = df[["income"]], df["status"].to_numpy()
    Xv, yv = pd.DataFrame({"income": [45.0, 30.0]}), np.array(["good", "bad"])
    val = KNNShapleyValuer(1).fit(X, y)
    val.value(Xv, yv)
    table = val.by_source()
    source = stp.row_lineage(X)["source_id"].to_numpy()
    groups = [np.flatnonzero(source == s).tolist() for s in table["source_id"]]
    game = _shapley(groups, pairwise_distances(Xv, X), y, yv, 1)
    assert np.abs(game - table["sum"].to_numpy()).max() > 0.05
    np.testing.assert_allclose(game.sum(), table["sum"].sum(), atol=1e-12)


def test_merged_rows_count_in_full_toward_each_parent_file(tmp_path):
    (tmp_path / "patients.csv").write_text(
        "pid,age,bp\n1,34,120\n2,51,140\n3,29,118\n4,62,150\n5,45,130\n"
    )
    # patient 1 has two lab records: two merged rows share one patients line
    (tmp_path / "labs.csv").write_text(
        "pid,chol,dx\n1,180,healthy\n3,170,healthy\n2,240,sick\n4,260,sick\n5,210,sick\n"
        "1,185,healthy\n"
    )
    p = stp.read_csv(tmp_path / "patients.csv", source_id="patients")
    labs = stp.read_csv(tmp_path / "labs.csv", source_id="labs")
    m = stp.merge(p, labs, on="pid")
    X, y = m[["age", "bp", "chol"]], m["dx"].to_numpy()
    Xv = pd.DataFrame({"age": [40, 58], "bp": [125, 148], "chol": [190, 250]})
    yv = np.array(["healthy", "sick"])
    val = KNNShapleyValuer(2).fit(X, y)
    values = val.value(Xv, yv)
    truth = _shapley([[j] for j in range(len(y))], pairwise_distances(Xv, X), y, yv, 2)
    np.testing.assert_allclose(values, truth, rtol=0, atol=1e-12)
    lineage = stp.row_lineage(X)
    for _, parent in lineage.iterrows():
        r = parent["row"]
        fields = _file_rows(parent["uri"])[parent["line"]]
        assert int(fields[0]) == m["pid"].iloc[r]  # the line holds the merged row's key
        if parent["source_id"] == "labs":
            assert int(fields[1]) == X["chol"].iloc[r] and fields[2] == y[r]
        else:
            assert [int(fields[1]), int(fields[2])] == X[["age", "bp"]].iloc[r].tolist()
    table = val.by_source().set_index("source_id")
    for sid in ("patients", "labs"):
        rows = lineage.loc[lineage["source_id"] == sid, "row"].to_numpy()
        assert table.loc[sid, "n_rows"] == rows.size == 6
        assert table.loc[sid, "sum"] == pytest.approx(math.fsum(truth[rows]), abs=1e-12)
    # each file counts every merged row in full: the sums add up to twice the total
    assert table["sum"].sum() == pytest.approx(2 * values.sum(), abs=1e-12)


# -- the axioms and brute force on random small problems ---------------------------------
@st.composite
def _problems(draw):
    n = draw(st.integers(1, 7))
    d = draw(st.integers(1, 2))
    cell = st.integers(-2, 2)
    X = np.array(draw(st.lists(st.lists(cell, min_size=d, max_size=d), min_size=n, max_size=n)))
    n_val = draw(st.integers(1, 3))
    Xv = np.array(
        draw(st.lists(st.lists(cell, min_size=d, max_size=d), min_size=n_val, max_size=n_val))
    )
    regression = draw(st.booleans())
    if regression:
        target = st.sampled_from([-1.5, 0.5, 2.25])
    else:
        target = st.sampled_from(["a", "b", "c"])
    y = np.array(draw(st.lists(target, min_size=n, max_size=n)))
    yv = np.array(draw(st.lists(target, min_size=n_val, max_size=n_val)))
    k = draw(st.integers(1, n + 2))
    duplicate = draw(st.booleans()) and n >= 2
    if duplicate:  # a row repeated with its label: two players alike
        X[1], y[1] = X[0], y[0]
    return X.astype(float), y, Xv.astype(float), yv, k, regression, duplicate


@settings(deadline=None, max_examples=60)
@given(problem=_problems(), metric=st.sampled_from(["euclidean", "cosine", "manhattan"]))
@example(
    problem=(
        np.array([[0.0], [0.0], [1.0], [-1.0]]),
        np.array(["a", "a", "b", "a"]),
        np.array([[0.0], [1.0]]),
        np.array(["b", "a"]),
        5,
        False,
        True,
    ),
    metric="euclidean",
)
def test_values_obey_the_axioms_and_equal_brute_force(problem, metric):
    X, y, Xv, yv, k, regression, duplicate = problem
    task = "regression" if regression else "classification"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tie rule is part of the truth below
        val = KNNShapleyValuer(k, metric=metric, task=task).fit(X, y)
        values = val.value(Xv, yv)
        score = val.score(Xv, yv)
    # integer data: sklearn's distances rank exactly (cosine's zero rows at distance 1)
    dist = pairwise_distances(Xv, X, metric=metric)
    n = len(y)
    truth = _shapley([[j] for j in range(n)], dist, y, yv, k, regression)
    np.testing.assert_allclose(values, truth, rtol=0, atol=1e-12)
    # efficiency: U(all) - U(empty), U(empty) = 0 or -y^2
    full = np.mean([_utility(range(n), d, y, t, k, regression) for d, t in zip(dist, yv)])
    empty = -np.mean(yv.astype(float) ** 2) if regression else 0.0
    assert score == pytest.approx(full, abs=1e-12)
    assert values.sum() == pytest.approx(full - empty, abs=1e-12)
    # symmetry: a duplicated row with its label is worth what its twin is
    if duplicate:
        assert values[0] == pytest.approx(values[1], abs=1e-12)
    # null player: with K >= N every row is a neighbour of every subset, so a row
    # whose label no validation row carries adds nothing (classification)
    if not regression and k >= n:
        for j in range(n):
            if not np.isin(y[j], yv):
                assert values[j] == 0.0
            else:
                assert values[j] == pytest.approx(np.mean(yv == y[j]) / k, abs=1e-12)


def test_other_metrics_rank_on_the_float_distances_they_return():
    # doc/valuation.rst: "manhattan" on one-decimal data ranks on float64 distances, a
    # float tie of distances whose exact values differ counting (and warning) as a tie
    from fractions import Fraction

    X = np.array([[-0.4, 1.1], [-0.0, 0.7], [0.7, 1.0]])
    y = np.array(["b", "a", "c"])
    Xv, yv = np.array([[-0.4, -1.1]]), np.array(["a"])
    dist = pairwise_distances(Xv, X, metric="manhattan")
    exact = [sum(abs(Fraction(p) - Fraction(q)) for p, q in zip(Xv[0], row)) for row in X]
    assert dist[0, 0] == dist[0, 1] and exact[1] < exact[0]  # one double, two distances
    val = KNNShapleyValuer(1, metric="manhattan").fit(X, y)
    with pytest.warns(UserWarning, match="equal distance"):
        values = val.value(Xv, yv)
    assert val.n_ties_ranked_by_index_ == 1
    truth = _shapley([[0], [1], [2]], dist, y, yv, 1)
    np.testing.assert_allclose(values, truth, rtol=0, atol=1e-12)


def test_a_self_join_counts_each_merged_row_once_toward_its_file(tmp_path):
    # both parents of every merged row are lines of one file: the row counts once
    (tmp_path / "staff.csv").write_text(
        "id,mgr,sal,grade\n1,0,50,a\n2,1,40,b\n3,1,42,b\n4,2,30,a\n"
    )
    staff = stp.read_csv(tmp_path / "staff.csv", source_id="staff")
    bosses = staff[["id", "sal"]].rename(columns={"id": "mgr", "sal": "mgr_sal"})
    m = stp.merge(staff, bosses, on="mgr")
    X, y = m[["sal", "mgr_sal"]], m["grade"].to_numpy()
    val = KNNShapleyValuer(2).fit(X, y)
    values = val.value(X, y)
    lineage = stp.row_lineage(X)
    assert lineage.groupby("row")["line"].apply(sorted).tolist() == [[2, 3], [2, 4], [3, 5]]
    table = val.by_source()
    assert table["n_rows"].tolist() == [3]
    assert table["sum"].iloc[0] == pytest.approx(values.sum(), abs=1e-15)
    truth = _shapley([[0], [1], [2]], pairwise_distances(X, X), y, y, 2)
    np.testing.assert_allclose(values, truth, rtol=0, atol=1e-12)
