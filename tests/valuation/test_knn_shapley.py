import itertools
import math
import subprocess
import sys
import warnings
from fractions import Fraction

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import pairwise_distances
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

import sktraceprop as stp
from sktraceprop import KNNShapleyValuer
from tests.conftest import same_named_cancer_files


# -- independent truth: the KNN utility and Shapley's formula over every subset ------------
def knn_utility(subset, dist_row, y_train, label, k):
    """Share of the K nearest points of ``subset`` with the label; ties by index."""
    ranked = sorted(subset, key=lambda j: (dist_row[j], j))
    return sum(y_train[j] == label for j in ranked[:k]) / k


def knn_regression_utility(subset, dist_row, y_train, target, k):
    """Minus the squared error of (sum of the K nearest targets) / K; ties by index."""
    ranked = sorted(subset, key=lambda j: (dist_row[j], j))
    return -((sum(y_train[j] for j in ranked[:k]) / k - target) ** 2)


def exhaustive_shapley(dist, y_train, y_val, k, utility_of=knn_utility):
    """Shapley values averaged over validation rows, by enumerating all subsets."""
    n = dist.shape[1]
    values = np.zeros(n)
    for dist_row, label in zip(dist, y_val):
        utility = {}
        for size in range(n + 1):
            for subset in itertools.combinations(range(n), size):
                utility[subset] = utility_of(subset, dist_row, y_train, label, k)
        for i in range(n):
            others = [j for j in range(n) if j != i]
            for size in range(n):
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                for subset in itertools.combinations(others, size):
                    with_i = tuple(sorted((*subset, i)))
                    values[i] += weight * (utility[with_i] - utility[subset])
    return values / len(y_val)


def integer_data(n_train, n_val, n_classes, seed, high=3, n_features=2):
    """Small integer coordinates: many exact ties in distance, all distances exact."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, high, (n_train, n_features)).astype(float)
    Xv = rng.integers(0, high, (n_val, n_features)).astype(float)
    return X, rng.integers(0, n_classes, n_train), Xv, rng.integers(0, n_classes, n_val)


@pytest.mark.parametrize(
    "n_train, k, n_classes, seed",
    [
        (8, 3, 2, 0),  # binary, many ties
        (10, 5, 4, 1),  # multiclass
        (7, 1, 3, 2),  # 1-NN
        (6, 9, 3, 3),  # K > N: missing neighbours count as misses
        (10, 10, 2, 4),  # K = N
        (1, 2, 2, 5),  # a single training row
        (9, 4, 3, 6),
    ],
)
def test_values_equal_exhaustive_shapley(n_train, k, n_classes, seed):
    X, y, Xv, yv = integer_data(n_train, 6, n_classes, seed)
    dist = ((Xv[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    ties = sum(len(r) - len(np.unique(r)) for r in dist)
    assert n_train == 1 or ties > 0, "the data must contain ties in distance"
    expected = exhaustive_shapley(dist, y, yv, k)

    val = KNNShapleyValuer(n_neighbors=k).fit(X, y)
    values = val.value(Xv, yv)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(val.values_, values)


@pytest.mark.parametrize(
    "n_train, k, seed", [(8, 3, 0), (10, 5, 1), (7, 1, 2), (6, 9, 3), (9, 9, 4), (2, 1, 5)]
)
def test_regression_values_equal_exhaustive_shapley(n_train, k, seed):
    X, _, Xv, _ = integer_data(n_train, 5, 2, seed)
    rng = np.random.default_rng(seed)
    y, yv = rng.normal(size=n_train), rng.normal(size=5)
    dist = ((Xv[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    expected = exhaustive_shapley(dist, y, yv, k, utility_of=knn_regression_utility)

    val = KNNShapleyValuer(n_neighbors=k).fit(X, y)
    assert val.task_ == "regression" and not hasattr(val, "classes_")
    np.testing.assert_allclose(val.value(Xv, yv), expected, rtol=0, atol=1e-12)


def test_regression_efficiency_and_score():
    rng = np.random.default_rng(3)
    X, Xv = rng.normal(size=(400, 5)), rng.normal(size=(90, 5))
    y, yv = X[:, 0] + 0.1 * rng.normal(size=400), Xv[:, 0]
    for k in (1, 7, 450):
        val = KNNShapleyValuer(k).fit(X, y)
        values, score = val.value(Xv, yv), val.score(Xv, yv)
        # U(empty) = -y^2 per validation row
        assert values.sum() == pytest.approx(score + np.mean(yv**2), abs=1e-12)
        knn = np.argsort(pairwise_distances(Xv, X), axis=1, kind="stable")[:, :k]
        assert score == pytest.approx(-np.mean((y[knn].sum(1) / k - yv) ** 2), abs=1e-12)


def test_task_is_inferred_or_forced():
    X, y, Xv, yv = integer_data(8, 4, 3, seed=12)
    assert KNNShapleyValuer().fit(X, y).task_ == "classification"
    assert KNNShapleyValuer().fit(X, y + 0.5).task_ == "regression"
    forced = KNNShapleyValuer(3, task="regression").fit(X, y)
    assert forced.task_ == "regression"
    expected = exhaustive_shapley(
        ((Xv[:, None] - X[None]) ** 2).sum(-1), y, yv, 3, utility_of=knn_regression_utility
    )
    np.testing.assert_allclose(forced.value(Xv, yv), expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="Unknown label type"):
        KNNShapleyValuer(task="classification").fit(X, y + 0.5)


@pytest.mark.parametrize("metric", ["manhattan", "chebyshev"])
def test_other_metrics_equal_exhaustive_shapley(metric):
    X, y, Xv, yv = integer_data(9, 5, 3, seed=7, high=4)
    expected = exhaustive_shapley(pairwise_distances(Xv, X, metric=metric), y, yv, 3)
    values = KNNShapleyValuer(3, metric=metric).fit(X, y).value(Xv, yv)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_cosine_equals_exhaustive_shapley():
    rng = np.random.default_rng(8)
    X, Xv = rng.normal(size=(9, 4)), rng.normal(size=(5, 4))
    y, yv = rng.integers(0, 3, 9), rng.integers(0, 3, 5)
    expected = exhaustive_shapley(pairwise_distances(Xv, X, metric="cosine"), y, yv, 2)
    values = KNNShapleyValuer(2, metric="cosine").fit(X, y).value(Xv, yv)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_ties_go_to_the_smaller_training_index():
    # Rows 0 and 1 are equally far from the validation point (label 0); row 0 wins the
    # 1-NN slot of any subset holding both, so it spoils {1}, {2} and {1, 2}:
    # phi_0 = -(1/6 + 1/6 + 1/3). Had row 1 won the tie, phi_0 would be -1/6.
    X = np.array([[-1.0], [1.0], [5.0]])
    values = KNNShapleyValuer(n_neighbors=1).fit(X, [1, 0, 0]).value([[0.0]], [0])
    np.testing.assert_allclose(values, [-2 / 3, 1 / 3, 1 / 3], rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        values, exhaustive_shapley(np.array([[1, 1, 25]]), [1, 0, 0], [0], 1), atol=1e-15
    )


def _order_decides(dist_row, y_train, label, k, utility_of):
    """Whether some order of the training rows at equal distance gives other values
    for this validation row: every such order, valued by enumerating every subset."""
    n = dist_row.size
    groups = [np.flatnonzero(dist_row == d) for d in np.unique(dist_row)]
    base = None
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        order = np.concatenate([np.asarray(p, dtype=int) for p in perms])
        # row order[r] renamed r: the tie rule (smaller index first) follows this order
        rank = np.empty(n, dtype=int)
        rank[order] = np.arange(n)
        values = exhaustive_shapley(
            dist_row[order][None, :], np.asarray(y_train)[order], [label], k, utility_of
        )[rank]
        if base is None:
            base = values
        elif not np.allclose(values, base, rtol=0, atol=1e-12):
            return True
    return False


def _tied_case(seed, n_train, regression):
    """Binary features (many ties), 4 validation rows: ``X, y, Xv, yv``, the squared
    distances and the slow utility of the task."""
    X, y, Xv, yv = integer_data(n_train, 4, 2, seed, high=2)
    utility_of = knn_utility
    if regression:
        rng = np.random.default_rng(seed)
        y, yv = rng.integers(0, 3, n_train) + 0.5, rng.normal(size=4)
        utility_of = knn_regression_utility
    dist = ((Xv[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    return X, y, Xv, yv, dist, utility_of


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_train=st.integers(1, 5),
    k=st.integers(1, 6),
    regression=st.booleans(),
)
def test_the_rows_whose_values_ties_decide_are_counted_and_warned_of(seed, n_train, k, regression):
    """Tied training rows that differ in label were ranked by index without a word: the
    values (and by_source sums) depended on the order of the rows (on breast-cancer
    data one-hot encoded, a source's summed value changed sign when the sources were
    concatenated the other way round). Now the validation rows whose values some order of
    the tied rows changes are counted (n_ties_ranked_by_index_), exactly, and warned of."""
    X, y, Xv, yv, dist, utility_of = _tied_case(seed, n_train, regression)
    expected = sum(_order_decides(dist[r], y, yv[r], k, utility_of) for r in range(len(yv)))
    val = KNNShapleyValuer(n_neighbors=k, task="regression" if regression else "auto")
    val.fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        val.value(Xv, yv)
    assert val.n_ties_ranked_by_index_ == expected
    said = [w for w in caught if "ranked by their position" in str(w.message)]
    assert len(said) == (1 if expected else 0)
    if expected:
        assert f"In {expected} of 4 validation rows" in str(said[0].message)


def _order_decides_utility(dist_row, y_train, label, k, utility_of):
    """Whether some order of the training rows at equal distance gives another utility
    of the whole training set for this validation row: every such order, by the slow
    utility (ties by index, so by the order)."""
    groups = [np.flatnonzero(dist_row == d) for d in np.unique(dist_row)]
    utilities = set()
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        order = np.concatenate([np.asarray(p, dtype=int) for p in perms])
        everyone = tuple(range(dist_row.size))
        utilities.add(utility_of(everyone, dist_row[order], np.asarray(y_train)[order], label, k))
    return len(utilities) > 1


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_train=st.integers(1, 6),
    k=st.integers(1, 7),
    regression=st.booleans(),
)
def test_the_rows_whose_score_ties_decide_are_counted_and_warned_of(seed, n_train, k, regression):
    """score() ranked tied training rows by index without a word (value() warned): where
    a run of equal distances straddled the K-th neighbour and its rows differed in label
    match (or target), the score depended on the order of the rows. Now the validation
    rows whose utility some order of the tied rows changes are counted
    (n_score_ties_ranked_by_index_), exactly, and warned of; a tie that changes only the
    values (a run wholly beyond the K nearest) is not."""
    X, y, Xv, yv, dist, utility_of = _tied_case(seed, n_train, regression)
    expected = sum(
        _order_decides_utility(dist[r], y, yv[r], k, utility_of) for r in range(len(yv))
    )
    val = KNNShapleyValuer(n_neighbors=k, task="regression" if regression else "auto")
    val.fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score = val.score(Xv, yv)
    assert val.n_score_ties_ranked_by_index_ == expected
    said = [w for w in caught if "straddle the K-th neighbour" in str(w.message)]
    assert len(said) == (1 if expected else 0)
    if expected:
        assert f"In {expected} of 4 validation rows" in str(said[0].message)
    # the score itself is the index rule's, and every row it flags value() flags too
    everyone = tuple(range(n_train))
    truth = np.mean([utility_of(everyone, dist[r], y, yv[r], k) for r in range(4)])
    assert score == pytest.approx(truth, abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        val.value(Xv, yv)
    assert val.n_ties_ranked_by_index_ >= val.n_score_ties_ranked_by_index_


def test_a_tie_beyond_the_k_nearest_changes_values_not_the_score():
    # rows 1 and 2 tie at the 2nd and 3rd ranks, K = 1: row 0 alone is the nearest in
    # any order, so the score is order-free, while the values are not
    X = np.array([[0.0], [-1.0], [1.0]])
    val = KNNShapleyValuer(n_neighbors=1).fit(X, [0, 0, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert val.score([[0.0]], [0]) == 1.0
        val.value([[0.0]], [0])
    assert val.n_score_ties_ranked_by_index_ == 0
    assert val.n_ties_ranked_by_index_ == 1
    assert [("straddle" in str(w.message)) for w in caught] == [False]


def test_efficiency_values_sum_to_full_utility():
    rng = np.random.default_rng(0)
    X, Xv = rng.normal(size=(500, 6)), rng.normal(size=(120, 6))
    y = (X[:, 0] + 0.5 * rng.normal(size=500) > 0).astype(int) + (X[:, 1] > 1)
    yv = (Xv[:, 0] > 0).astype(int) + (Xv[:, 1] > 1)
    for k in (1, 5, 600):
        val = KNNShapleyValuer(k).fit(X, y)
        values = val.value(Xv, yv)
        score = val.score(Xv, yv)
        # U(empty) = 0, so the values add up to the utility of the whole training set.
        assert values.sum() == pytest.approx(score, abs=1e-12)
        knn = np.argsort(pairwise_distances(Xv, X), axis=1, kind="stable")[:, :k]
        assert score == pytest.approx((y[knn] == yv[:, None]).sum(1).mean() / k, abs=1e-15)


def test_string_labels_and_unseen_validation_labels():
    X, y, Xv, yv = integer_data(8, 6, 3, seed=9)
    names = np.array(["ant", "bee", "cat"])
    val = KNNShapleyValuer(3).fit(X, names[y])
    np.testing.assert_array_equal(val.classes_, names)
    yv_named = names[yv].astype(object)
    yv_named[:2] = "dog"  # a label no training row has never matches
    yv_codes = np.where(np.isin(np.arange(6), [0, 1]), -1, yv)
    expected = exhaustive_shapley(((Xv[:, None] - X[None]) ** 2).sum(-1), y, yv_codes, 3)
    np.testing.assert_allclose(val.value(Xv, yv_named), expected, rtol=0, atol=1e-12)


def test_float32_input_gives_float64_values():
    X, y, Xv, yv = integer_data(8, 4, 2, seed=10)
    values64 = KNNShapleyValuer(3).fit(X, y).value(Xv, yv)
    values32 = KNNShapleyValuer(3).fit(X.astype(np.float32), y).value(Xv.astype(np.float32), yv)
    assert values32.dtype == np.float64
    np.testing.assert_array_equal(values32, values64)


# -- blocks and parallelism: identical values whatever the split ---------------------------
@pytest.fixture
def medium():
    rng = np.random.default_rng(1)
    X, Xv = rng.normal(size=(3000, 8)), rng.normal(size=(400, 8))
    return X, rng.integers(0, 5, 3000), Xv, rng.integers(0, 5, 400)


def _small_blocks():
    # 3000 training rows x 48 bytes per entry: about 7 validation rows per block.
    return config_context(working_memory=1)


def test_blocks_do_not_change_values(medium):
    X, y, Xv, yv = medium
    one_block = KNNShapleyValuer(5).fit(X, y).value(Xv, yv)
    with _small_blocks():
        many_blocks = KNNShapleyValuer(5).fit(X, y).value(Xv, yv)
    np.testing.assert_allclose(many_blocks, one_block, rtol=0, atol=1e-15)
    # a direct numpy recursion over the stable order, row by row
    order = np.argsort(pairwise_distances(Xv, X, metric="sqeuclidean"), axis=1, kind="stable")
    expected = np.zeros(X.shape[0])
    steps = 1.0 / np.maximum(5, np.arange(1, X.shape[0]))
    for row, label in zip(order, yv):
        match = (y[row] == label).astype(float)
        per_rank = np.empty(X.shape[0])
        per_rank[-1] = match[-1] / X.shape[0]
        per_rank[:-1] = (
            match[-1] / X.shape[0] + np.cumsum(((match[:-1] - match[1:]) * steps)[::-1])[::-1]
        )
        expected[row] += per_rank
    np.testing.assert_allclose(one_block, expected / len(yv), rtol=0, atol=1e-13)


@pytest.mark.parametrize("backend, n_jobs", [("loky", 2), ("threading", 2), ("threading", 4)])
def test_n_jobs_gives_identical_values(medium, backend, n_jobs):
    X, y, Xv, yv = medium
    with _small_blocks():
        reference = KNNShapleyValuer(5, n_jobs=1).fit(X, y).value(Xv, yv)
        with joblib.parallel_backend(backend):
            values = KNNShapleyValuer(5, n_jobs=n_jobs).fit(X, y).value(Xv, yv)
    np.testing.assert_array_equal(values, reference)


def test_dask_backend_gives_identical_values(medium):
    distributed = pytest.importorskip("distributed")
    X, y, Xv, yv = medium
    with _small_blocks():
        reference = KNNShapleyValuer(5, n_jobs=1).fit(X, y).value(Xv, yv)
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        with cluster, distributed.Client(cluster) as client:
            with joblib.parallel_backend("dask"):
                values = KNNShapleyValuer(5).fit(X, y).value(Xv, yv)
            # the blocks really ran on the workers
            ran = client.run(lambda: "sktraceprop.valuation._kernels" in sys.modules)
    assert all(ran.values()) and len(ran) == 2
    np.testing.assert_array_equal(values, reference)


# -- lineage: by source file and by op ------------------------------------------------------
def _hospital(name, n, shift, seed):
    rng = np.random.default_rng(seed)
    features = rng.normal(shift, 1 + shift, size=(n, 3))
    frame = pd.DataFrame(features, columns=["age", "bp", "chol"])
    frame["label"] = (features[:, 0] - shift + 0.3 * rng.normal(size=n) > 0).astype(int)
    return stp.from_pandas(frame, name)


def test_by_source_sums_values_per_file(hospital_frames):
    a, b = hospital_frames
    train = pd.concat([a, b]).dropna()[["age", "bp", "label"]]
    train = train.sample(frac=1.0, random_state=0)  # ids travel with the rows
    X, y = train[["age", "bp"]], train["label"]
    val = KNNShapleyValuer(3).fit(X.iloc[:50], y.iloc[:50])
    values = val.value(X.iloc[50:], y.iloc[50:])
    np.testing.assert_array_equal(val.row_ids_, stp.row_ids(X.iloc[:50]))

    table = val.by_source()
    assert table.columns.tolist() == ["source_id", "uri", "sha256", "n_rows", "sum", "mean"]
    assert table["source_id"].tolist() == ["hospital_a", "hospital_b"]
    source = stp.row_lineage(X.iloc[:50])["source_id"].to_numpy()
    for _, row in table.iterrows():
        mine = values[source == row["source_id"]]
        assert row["n_rows"] == mine.size > 0
        assert row["sum"] == pytest.approx(mine.sum(), abs=1e-15)
        assert row["mean"] == pytest.approx(mine.mean(), abs=1e-15)
    assert table["sum"].sum() == pytest.approx(values.sum(), abs=1e-14)


def _write_cancer_files(tmp_path):
    """Three sources that read_csv names ``data``: features, target, validation rows
    and which part each training row is from."""
    train, valid, which = same_named_cancer_files(tmp_path)
    return train.drop(columns="target"), train["target"], valid, which


def test_by_source_keeps_files_and_versions_of_one_name_apart(tmp_path):
    # two folders' data.csv and a rewritten a/data.csv are three sources of source_id
    # "data": by_source gave one row "data, 95 rows" with the sum of all three
    X, y, valid, which = _write_cancer_files(tmp_path)
    val = KNNShapleyValuer(3).fit(X, y)
    values = val.value(valid.drop(columns="target"), valid["target"])
    table = val.by_source()
    assert table["source_id"].tolist() == ["data"] * 3
    assert table["uri"].tolist() == [
        (tmp_path / name / "data.csv").as_uri() for name in ("a", "a", "b")
    ]
    assert table["sha256"].nunique() == 3
    for row, part in zip(table.itertuples(), [0, 2, 1]):  # a (first), a (second), b
        assert row.n_rows == (which == part).sum()
        assert row.sum == pytest.approx(values[which == part].sum(), abs=1e-15)
        assert row.mean == pytest.approx(values[which == part].mean(), abs=1e-15)


def test_by_op_counts_the_rows_of_the_file_an_op_was_fitted_on(tmp_path):
    # a scaler fitted on b/data.csv records source id "data", which a/data.csv carries
    # too: by_op counted all 95 rows as having gone through it (only b's 30 did), then
    # gave NaN; the op now records b's content (Op.source_keys: source_id and sha256)
    X, y, valid, which = _write_cancer_files(tmp_path)
    X = X.copy()
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X.loc[which == 1, :] = scaler.fit_transform(X[which == 1]).to_numpy()
    pre = stp.make_traced_pipeline(StandardScaler()).fit(X)
    val = KNNShapleyValuer(3, transformer=pre).fit(X, y)
    values = val.value(valid.drop(columns="target"), valid["target"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = val.by_op()
    outside = table[table["sources"].notna()].iloc[0]
    assert outside["sources"] == ["data"]
    assert outside["n_rows"] == (which == 1).sum() == 30
    assert outside["sum"] == pytest.approx(values[which == 1].sum(), abs=1e-14)
    inside = table[table["sources"].isna()].iloc[0]  # the pipeline's step: every row
    assert inside["n_rows"] == 95
    assert inside["sum"] == pytest.approx(values.sum(), abs=1e-14)


def test_by_op_separates_per_hospital_scalers():
    a, b = _hospital("hospital_a", 60, 0.0, 0), _hospital("hospital_b", 40, 3.0, 1)
    scaled = []
    for frame in (a, b):
        scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
        scaled.append(scaler.fit_transform(frame[["age", "bp", "chol"]]))
    X = pd.concat(scaled)
    y = pd.concat([a, b])["label"]
    train, valid = np.arange(100) % 4 != 0, np.arange(100) % 4 == 0

    pre = stp.make_traced_pipeline(StandardScaler()).fit(X[train])
    val = KNNShapleyValuer(5, transformer=pre).fit(X[train], y[train])
    values = val.value(X[valid], y[valid])
    # the valuer works in the transformer's output space
    direct = KNNShapleyValuer(5).fit(pre.transform(X[train]), y[train])
    np.testing.assert_array_equal(direct.value(pre.transform(X[valid]), y[valid]), values)

    table = val.by_op()
    assert len(table) == 3
    from_a = stp.row_lineage(X[train])["source_id"].to_numpy() == "hospital_a"
    per_hospital = table[table["sources"].notna()]
    per_hospital = per_hospital.set_index(per_hospital["sources"].str[0])
    assert per_hospital.loc["hospital_a", "n_rows"] == from_a.sum() == 45
    assert per_hospital.loc["hospital_b", "n_rows"] == (~from_a).sum() == 30
    assert per_hospital.loc["hospital_a", "sum"] == pytest.approx(values[from_a].sum(), abs=1e-15)
    assert per_hospital.loc["hospital_b", "sum"] == pytest.approx(values[~from_a].sum(), abs=1e-15)
    assert (per_hospital["cls"] == "sklearn.preprocessing._data.StandardScaler").all()
    assert per_hospital["fingerprint"].nunique() == 2
    # the pipeline's own step went over every training row
    shared = table[table["sources"].isna()].iloc[0]
    assert shared["n_rows"] == 75
    assert shared["sum"] == pytest.approx(values.sum(), abs=1e-15)
    assert shared["fingerprint"] == pre.lineage_.ops[-1].fingerprint


def test_by_op_ignores_ops_of_other_sources():
    a, b = _hospital("hospital_a", 20, 0.0, 2), _hospital("hospital_b", 20, 1.0, 3)
    stp.TracedEstimator(StandardScaler()).fit(b[["age", "bp"]])  # never used for a's rows
    val = KNNShapleyValuer(3).fit(a[["age", "bp"]], a["label"])
    val.value(a[["age", "bp"]], a["label"])
    assert val.ops_ == [] and val.by_op().empty


def test_merged_rows_count_toward_each_parent():
    a, b = _hospital("hospital_a", 12, 0.0, 4), _hospital("hospital_b", 12, 0.0, 5)
    a["key"] = np.arange(12)
    b = b.rename(columns={"age": "age_b", "bp": "bp_b", "chol": "chol_b", "label": "label_b"})
    b["key"] = np.arange(12)[::-1]
    merged = stp.merge(a, b, on="key", source_id="ab")
    X, y = merged[["age", "bp_b"]], merged["label"]
    val = KNNShapleyValuer(3).fit(X[:8], y[:8])
    values = val.value(X[8:], y[8:])
    table = val.by_source().set_index("source_id")
    assert table["n_rows"].to_dict() == {"hospital_a": 8, "hospital_b": 8}
    for source in ("hospital_a", "hospital_b"):
        assert table.loc[source, "sum"] == pytest.approx(values.sum(), abs=1e-15)


def test_sample_id_overrides_and_plain_arrays_are_anonymous():
    a = _hospital("hospital_a", 10, 0.0, 6)
    X, y = a[["age", "bp"]].to_numpy(), a["label"].to_numpy()
    val = KNNShapleyValuer(2).fit(X, y, sample_id=stp.row_ids(a))
    val.value(X, y)
    assert val.by_source()["source_id"].tolist() == ["hospital_a"]
    val = KNNShapleyValuer(2).fit(X, y)
    val.value(X, y)
    assert val.by_source()["source_id"].str.startswith("anonymous:").all()


# -- errors, estimator checks, import cost --------------------------------------------------
def test_errors():
    X, y, Xv, yv = integer_data(8, 4, 2, seed=11)
    with pytest.raises(NotFittedError):
        KNNShapleyValuer().value(Xv, yv)
    val = KNNShapleyValuer().fit(X, y)
    with pytest.raises(NotFittedError, match="values_"):
        val.by_source()
    with pytest.raises(ValueError, match="features"):
        val.value(Xv[:, :1], yv)
    with pytest.raises(ValueError, match="one label per row"):
        val.value(Xv, yv[:2])
    with pytest.raises(TypeError, match="transform method"):
        KNNShapleyValuer(transformer=object()).fit(X, y)
    with pytest.raises(ValueError, match="requires y to be passed"):
        KNNShapleyValuer().fit(X, None)
    with pytest.raises(ValueError, match="n_neighbors"):
        KNNShapleyValuer(0).fit(X, y)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "precomputed"])
def test_sklearn_estimator_checks(metric):
    # precomputed: the checks feed square kernels through the pairwise tag
    results = check_estimator(KNNShapleyValuer(metric=metric), on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) > 30


def test_import_compiles_no_kernel():
    code = (
        "import sys, sktraceprop as stp; stp.KNNShapleyValuer; import sktraceprop.valuation;"
        "assert 'numba' not in sys.modules, 'numba imported';"
        "assert 'sktraceprop.valuation._kernels' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_by_op_lists_the_steps_of_a_sliced_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    import sktraceprop as stp

    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(30, 2)), "sliced")
    y = (X["x0"] > 0).astype(int).to_numpy()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    val = stp.KNNShapleyValuer(n_neighbors=3, transformer=pipe[:-1]).fit(X, y)
    values = val.value(X, y)
    ops = val.by_op()
    assert ops["op"].tolist() == ["standardscaler"]
    assert ops["n_rows"].tolist() == [30]
    np.testing.assert_allclose(ops["sum"].iloc[0], values.sum(), atol=1e-12)


# -- sparse data and transformers ----------------------------------------------------------
def _sparse_integer(rng, n, n_features, density):
    """Small integers, mostly zeros: exact products, ties in distance."""
    values = rng.integers(1, 4, (n, n_features)) * (rng.random((n, n_features)) < density)
    return sparse.csr_matrix(values.astype(float))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_train=st.integers(1, 60),
    n_val=st.integers(1, 12),
    n_features=st.integers(1, 30),
    density=st.floats(0.0, 1.0),
    k=st.integers(1, 8),
    regression=st.booleans(),
)
def test_sparse_values_equal_dense_values(
    seed, n_train, n_val, n_features, density, k, regression
):
    rng = np.random.default_rng(seed)
    X = _sparse_integer(rng, n_train, n_features, density)
    Xv = _sparse_integer(rng, n_val, n_features, density)
    if regression:
        y, yv = rng.normal(size=n_train), rng.normal(size=n_val)
    else:
        y, yv = rng.integers(0, 3, n_train), rng.integers(0, 3, n_val)
    task = "regression" if regression else "classification"
    dense = KNNShapleyValuer(k, task=task).fit(X.toarray(), y)
    sparse_val = KNNShapleyValuer(k, task=task).fit(X, y)
    # Integer data: every product is exact, so ties and values are identical.
    np.testing.assert_array_equal(sparse_val.value(Xv, yv), dense.value(Xv.toarray(), yv))
    assert sparse_val.score(Xv, yv) == dense.score(Xv.toarray(), yv)
    # a dense validation set against a sparse training set, and the reverse
    np.testing.assert_array_equal(sparse_val.value(Xv.toarray(), yv), dense.values_)
    np.testing.assert_array_equal(dense.value(Xv, yv), sparse_val.values_)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_sparse_values_equal_exhaustive_shapley(metric):
    rng = np.random.default_rng(4)
    # continuous values (no ties), half of them zero
    X = sparse.csr_matrix(rng.normal(size=(9, 6)) * (rng.random((9, 6)) < 0.5))
    Xv = sparse.csr_matrix(rng.normal(size=(5, 6)) * (rng.random((5, 6)) < 0.5))
    y, yv = rng.integers(0, 2, 9), rng.integers(0, 2, 5)
    dist = pairwise_distances(Xv.toarray(), X.toarray(), metric=metric)
    expected = exhaustive_shapley(dist, y, yv, 3)
    values = KNNShapleyValuer(3, metric=metric).fit(X, y).value(Xv, yv)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_sparse_training_matrix_is_never_densified(monkeypatch):
    rng = np.random.default_rng(0)
    X = _sparse_integer(rng, 3000, 40, 0.1)
    Xv = _sparse_integer(rng, 90, 40, 0.1)
    y, yv = rng.integers(0, 2, 3000), rng.integers(0, 2, 90)
    reference = KNNShapleyValuer(5).fit(X.toarray(), y).value(Xv.toarray(), yv)
    densified = []
    for cls in (sparse.csr_matrix, sparse.csr_array):
        real = cls.toarray

        def spy(self, *args, _real=real, **kwargs):
            densified.append(self.shape)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "toarray", spy)
    with config_context(working_memory=1):  # about 7 validation rows per block
        values = KNNShapleyValuer(5).fit(X, y).value(Xv, yv)
    # the blocks' sums are added in another order than one block's
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-15)
    assert densified, "the validation blocks are multiplied dense"
    assert max(rows for rows, _ in densified) <= 16 < 90


def _categorical_frame(rng, n, source_id):
    """One-hot heavy data: the transformed matrix is sparse (density below 0.3)."""
    frame = pd.DataFrame(
        {
            "city": rng.choice([f"c{i}" for i in range(25)], n),
            "job": rng.choice([f"j{i}" for i in range(15)], n),
            "age": rng.integers(18, 80, n),
        }
    )
    frame["label"] = ((frame["age"] > 45) ^ (rng.random(n) < 0.2)).astype(int)
    return stp.from_pandas(frame, source_id)


def _one_hot_pipeline():
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city", "job"]),
        (FunctionTransformer(), ["age"]),  # integer ages: exact products
    )
    return stp.make_traced_pipeline(pre, LogisticRegression())


def test_readme_recipe_with_one_hot_pipeline_equals_dense_and_exhaustive():
    rng = np.random.default_rng(0)
    data = pd.concat(
        [_categorical_frame(rng, 300, "shop_a"), _categorical_frame(rng, 200, "shop_b")]
    )
    X, y = data.drop(columns="label"), data["label"]
    X_tr, X_va, y_tr, y_va = X.iloc[:400], X.iloc[400:], y.iloc[:400], y.iloc[400:]
    pipe = _one_hot_pipeline().fit(X_tr, y_tr)
    assert sparse.issparse(pipe[:-1].transform(X_tr))

    val = KNNShapleyValuer(n_neighbors=5, transformer=pipe[:-1]).fit(X_tr, y_tr)
    values = val.value(X_va, y_va)
    dense = KNNShapleyValuer(n_neighbors=5).fit(pipe[:-1].transform(X_tr).toarray(), y_tr)
    np.testing.assert_array_equal(dense.value(pipe[:-1].transform(X_va).toarray(), y_va), values)
    assert val.by_source()["source_id"].tolist() == ["shop_a", "shop_b"]
    assert val.by_source()["sum"].sum() == pytest.approx(val.score(X_va, y_va), abs=1e-12)

    # brute force on a few rows, through the same transformer
    small = KNNShapleyValuer(n_neighbors=3, transformer=pipe[:-1]).fit(X_tr.iloc[:8], y_tr[:8])
    Zt, Zv = pipe[:-1].transform(X_tr.iloc[:8]), pipe[:-1].transform(X_va.iloc[:4])
    dist = pairwise_distances(Zv.toarray(), Zt.toarray(), metric="sqeuclidean")
    expected = exhaustive_shapley(dist, y_tr.to_numpy()[:8], y_va.to_numpy()[:4], 3)
    values = small.value(X_va.iloc[:4], y_va.iloc[:4])
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("frozen", [False, True])
def test_fitted_transformer_survives_clone_and_grid_search(frozen):
    rng = np.random.default_rng(1)
    data = _categorical_frame(rng, 240, "shop")
    X, y = data.drop(columns="label"), data["label"]
    pipe = _one_hot_pipeline().fit(X.iloc[:160], y.iloc[:160])
    transformer = FrozenEstimator(pipe[:-1]) if frozen else pipe[:-1]
    val = KNNShapleyValuer(5, transformer=transformer)
    copy = clone(val)
    assert copy.transformer is transformer  # the same fitted object, not an unfitted copy
    values = copy.fit(X.iloc[:160], y.iloc[:160]).value(X.iloc[160:], y.iloc[160:])
    assert copy.transformer_ is transformer
    np.testing.assert_array_equal(
        values, val.fit(X.iloc[:160], y.iloc[:160]).value(X.iloc[160:], y.iloc[160:])
    )
    assert copy.by_op()["op"].tolist()[-1] == "tracedcolumntransformer"

    search = GridSearchCV(val, {"n_neighbors": [1, 15]}, cv=3).fit(X, y)
    assert search.best_estimator_.transformer_ is transformer
    scores = cross_val_score(val, X, y, cv=3)
    # each fold valued with the fitted transformer as it is
    for (train, test), score in zip(KFold(3).split(X), scores):
        direct = KNNShapleyValuer(5).fit(pipe[:-1].transform(X.iloc[train]), y.iloc[train])
        assert score == direct.score(pipe[:-1].transform(X.iloc[test]), y.iloc[test])


def test_unfitted_transformer_is_fitted_on_the_training_rows():
    rng = np.random.default_rng(2)
    X, Xv = rng.normal(3, 5, size=(60, 3)), rng.normal(3, 5, size=(20, 3))
    y, yv = rng.integers(0, 2, 60), rng.integers(0, 2, 20)
    scaler = StandardScaler()
    val = KNNShapleyValuer(4, transformer=scaler).fit(X, y)
    assert val.transformer_ is not scaler and not hasattr(scaler, "mean_")
    np.testing.assert_allclose(val.transformer_.mean_, X.mean(axis=0))
    fitted = StandardScaler().fit(X)
    direct = KNNShapleyValuer(4).fit(fitted.transform(X), y)
    np.testing.assert_array_equal(val.value(Xv, yv), direct.value(fitted.transform(Xv), yv))
    assert clone(val).transformer is not scaler  # unfitted parameters are cloned as usual


@parametrize_with_checks(
    [
        KNNShapleyValuer(3, transformer=StandardScaler()),
        KNNShapleyValuer(3, transformer=FunctionTransformer().fit(np.zeros((1, 1)))),
        KNNShapleyValuer(3, transformer=FrozenEstimator(FunctionTransformer().fit([[0.0]]))),
    ],
    expected_failed_checks=lambda est: {},
)
def test_sklearn_checks_with_a_transformer(estimator, check):
    check(estimator)


# -- distances far from zero: the dot-product expansion must not rank by rounding error ----
def _exact_squared_distances(Xv, X, scale):
    """Squared distances in Python integers of ``scale * X`` (exact for these grids)."""
    A = [[round(scale * v) for v in row] for row in Xv]
    B = [[round(scale * v) for v in row] for row in X]
    exact = [[sum((a - b) ** 2 for a, b in zip(ra, rb)) for rb in B] for ra in A]
    return np.array(exact, dtype=object)


@pytest.mark.parametrize("regression", [False, True])
def test_unix_times_equal_exhaustive_shapley(regression):
    # a feature in seconds since 1970 (1.7e9) and one small one: ||x_j||^2 - 2 <x, x_j>
    # cancelled to rounding noise, and values were off by up to 0.43 (classification)
    # and 1.95 (regression) against exhaustive Shapley on the exact distances
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(10):
        X = np.c_[1.7e9 + rng.integers(0, 40, 7), rng.integers(0, 3, 7)].astype(float)
        Xv = np.c_[1.7e9 + rng.integers(0, 40, 3), rng.integers(0, 3, 3)].astype(float)
        if regression:
            y, yv = rng.normal(size=7), rng.normal(size=3)
            utility = knn_regression_utility
        else:
            y, yv = rng.integers(0, 2, 7), rng.integers(0, 2, 3)
            utility = knn_utility
        dist = _exact_squared_distances(Xv, X, 1)
        for k in (1, 3):
            expected = exhaustive_shapley(dist, y, yv, k, utility_of=utility)
            for metric in ("euclidean", "sqeuclidean", "l2"):
                values = KNNShapleyValuer(k, metric=metric).fit(X, y).value(Xv, yv)
                worst = max(worst, np.abs(values - expected).max())
    assert worst < 1e-12


def _fraction_squared_distances(Xv, X):
    """Squared distances of the stored doubles, in exact rational arithmetic."""
    exact = [
        [sum((Fraction(a) - Fraction(b)) ** 2 for a, b in zip(ra, rb)) for rb in X] for ra in Xv
    ]
    return np.array(exact, dtype=object)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    spread=st.sampled_from([1e3, 1e6, 1e9, 1e12]),
    step=st.sampled_from([1.0, 0.25, 0.1]),
    k=st.integers(1, 4),
    regression=st.booleans(),
    as_sparse=st.booleans(),
)
def test_far_apart_clusters_equal_exhaustive_shapley(seed, spread, step, k, regression, as_sparse):
    # one feature, two clusters far apart, neighbours a few steps from each other: the
    # rounding error of ||x_j||^2 - 2 <x, x_j> grows with the spread and ranked them by
    # noise (no shift removes a spread). In one dimension the order of the stored
    # doubles' distances is always resolvable, so the truth is exact rationals.
    rng = np.random.default_rng(seed)
    centres = np.floor(rng.random(2) * spread)
    X = np.r_[
        centres[0] + step * rng.integers(0, 12, 4), centres[1] + step * rng.integers(0, 12, 3)
    ]
    X, Xv = X[:, None], (centres[0] + step * rng.integers(0, 12, 2))[:, None]
    y, yv = _labels(rng, 7, 2, regression)
    _assert_exhaustive(X, y, Xv, yv, k, regression, as_sparse=as_sparse)


def _labels(rng, n_train, n_val, regression):
    """Training and validation targets: normal values, or two classes."""
    if regression:
        return rng.normal(size=n_train), rng.normal(size=n_val)
    return rng.integers(0, 2, n_train), rng.integers(0, 2, n_val)


def _assert_exhaustive(X, y, Xv, yv, k, regression, as_sparse=False):
    """The valuer's values equal exhaustive Shapley over all subsets on the exact
    (rational) squared distances of the stored doubles."""
    utility = knn_regression_utility if regression else knn_utility
    expected = exhaustive_shapley(_fraction_squared_distances(Xv, X), y, yv, k, utility)
    task = "regression" if regression else "classification"
    fit_X = sparse.csr_matrix(X) if as_sparse else X
    values = KNNShapleyValuer(k, task=task).fit(fit_X, y).value(Xv, yv)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_whole_number_quantities_valued_as_classes_warn():
    # lengths of stay in days (whole numbers) are not "continuous" to task="auto": they
    # were valued as 33 classes, a neighbour counting only on an exact match of days,
    # with nothing said; those values correlate 0.01 with the regression utility's
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    days = np.clip(np.round(15 + 8 * X[:, 0] + rng.normal(size=200)), 0, 60).astype(int)
    assert np.unique(days[:150]).size > 20
    with pytest.warns(UserWarning, match="task='regression'"):
        auto = KNNShapleyValuer(5).fit(X[:150], days[:150])
    assert auto.task_ == "classification"
    regression = KNNShapleyValuer(5, task="regression").fit(X[:150], days[:150])
    assert (
        np.corrcoef(auto.value(X[150:], days[150:]), regression.value(X[150:], days[150:]))[0, 1]
        < 0.9
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KNNShapleyValuer(5, task="classification").fit(X[:150], days[:150])
        KNNShapleyValuer(5).fit(X[:150], days[:150] % 3)  # a few classes: no doubt


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    offset=st.sampled_from([0.0, 0.5, 1e3, 1.7e9, -3e7, 1e12]),
    step=st.sampled_from([1.0, 0.25, 0.125, 3.0]),
    n_features=st.integers(1, 3),
    n_train=st.integers(1, 7),
    k=st.integers(1, 8),
    regression=st.booleans(),
    duplicate=st.booleans(),
    constant=st.booleans(),
)
def test_shifted_grids_with_duplicates_equal_exhaustive_shapley(
    seed, offset, step, n_features, n_train, k, regression, duplicate, constant
):
    # several features on a grid far from zero (the shift and the near-tie re-ranking
    # both at work), duplicated rows, a constant column, K up to more than N: exhaustive
    # Shapley over all subsets on the stored doubles' exact distances
    rng = np.random.default_rng(seed)
    X = offset + step * rng.integers(-3, 4, (n_train, n_features))
    Xv = offset + step * rng.integers(-3, 4, (3, n_features))
    if duplicate and n_train > 1:
        X[-1] = X[0]
    if constant:
        X[:, 0] = Xv[:, 0] = offset
    if regression:  # tied targets too
        y, yv = rng.integers(-2, 3, n_train) * 0.5 + 0.25, rng.normal(size=3)
    else:
        y, yv = _labels(rng, n_train, 3, regression)
    _assert_exhaustive(X, y, Xv, yv, k, regression)


def test_a_shift_that_rounds_training_values_is_not_made():
    # 1e-14 - 500 and 2e-14 - 500 both round to -500: shifted by the column's mean,
    # two different training rows became a tie, broken by index against the nearer
    # one (value -0.75 for the far row, score 0 where 1-NN is right)
    X = np.array([[2e-14], [1e-14], [1000.0], [1000.0]])
    y = np.array([1, 0, 0, 0])
    val = KNNShapleyValuer(n_neighbors=1).fit(X, y)
    expected = exhaustive_shapley(_fraction_squared_distances([[1e-14]], X), y, [0], 1)
    np.testing.assert_allclose(val.value([[1e-14]], [0]), expected, rtol=0, atol=1e-12)
    assert val.score([[1e-14]], [0]) == 1.0


def test_a_validation_row_the_shift_rounds_is_valued_on_its_own_values():
    # the training rows shift exactly (multiples of 2**-44 near 500); the validation
    # row 2**-41 + 2**-60 does not: shifted, it sat halfway between rows 0 and 1
    X = np.array([[0.0], [2.0**-40], [1000.0], [1000.0]])
    y = np.array([1, 0, 1, 1])
    Xv = np.array([[2.0**-41 + 2.0**-60]])
    val = KNNShapleyValuer(n_neighbors=1).fit(X, y)
    expected = exhaustive_shapley(_fraction_squared_distances(Xv, X), y, [0], 1)
    np.testing.assert_allclose(val.value(Xv, [0]), expected, rtol=0, atol=1e-12)
    sparse_rows = sparse.csr_matrix(Xv)
    np.testing.assert_allclose(val.value(sparse_rows, [0]), expected, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    tiny=st.sampled_from([2.0**-46, 2.0**-40, 2.0**-34]),
    large=st.sampled_from([10.0, 1000.0, 1.7e9]),
    n_train=st.integers(2, 7),
    k=st.integers(1, 4),
    regression=st.booleans(),
)
def test_columns_mixing_tiny_and_large_values_equal_exhaustive_shapley(
    seed, tiny, large, n_train, k, regression
):
    # concentrations next to large readings in one column: the column's mean shift
    # rounds the tiny values of the training rows (then no shift may be made) or of
    # the validation rows only (then those rows need distances of their own values).
    # One feature and small rows near 0: every distance is resolvable in float64.
    rng = np.random.default_rng(seed)
    small = tiny * rng.integers(0, 5, (n_train, 1))
    X = np.where(rng.random((n_train, 1)) < 0.6, small, large + rng.integers(0, 3, (n_train, 1)))
    Xv = tiny * rng.integers(0, 5, (3, 1)) * (1 + rng.integers(0, 2, (3, 1)) * 2.0**-30)
    y, yv = _labels(rng, n_train, 3, regression)
    _assert_exhaustive(X, y, Xv, yv, k, regression)


def test_validation_labels_of_another_kind_are_refused():
    # y_val read as text ("1") against integer training labels matched no class: every
    # value was 0 and the score 0, with nothing said
    X, y, Xv, yv = integer_data(8, 4, 2, 0)
    val = KNNShapleyValuer(3).fit(X, y)
    with pytest.raises(ValueError, match="string labels but the classes .* are integer"):
        val.value(Xv, yv.astype(str))
    with pytest.raises(ValueError, match="string labels but the classes .* are integer"):
        val.score(Xv, yv.astype(str))
    text = KNNShapleyValuer(3).fit(X, y.astype(str))
    with pytest.raises(ValueError, match="integer labels but the classes .* are string"):
        text.value(Xv, yv)
    # same kind, other dtype (floats, an object column of ints): the same values
    expected = val.value(Xv, yv)
    np.testing.assert_array_equal(val.value(Xv, yv.astype(float)), expected)
    np.testing.assert_array_equal(val.value(Xv, yv.astype(object)), expected)


def test_precomputed_distances_equal_exhaustive_shapley():
    # metric="precomputed" failed in fit on the user's square matrix ("requires shape
    # (n_queries, n_indexed). Got (1, 5) for 1 indexed"): a distance the user computed
    # (Gower distance of mixed records, say) could not be valued
    X, y, Xv, yv = integer_data(7, 4, 3, 2)
    train = pairwise_distances(X, X, metric="cityblock")
    dist = pairwise_distances(Xv, X, metric="cityblock")
    val = KNNShapleyValuer(3, metric="precomputed").fit(train, y)
    given = dist.copy()
    values = val.value(given, yv)
    np.testing.assert_allclose(values, exhaustive_shapley(dist, y, yv, 3), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(given, dist)  # the values did not overwrite them
    np.testing.assert_array_equal(
        values, KNNShapleyValuer(3, metric="manhattan").fit(X, y).value(Xv, yv)
    )
    np.testing.assert_array_equal(val.value(sparse.csr_matrix(dist), yv), values)
    with pytest.raises(ValueError, match="square matrix of distances"):
        KNNShapleyValuer(3, metric="precomputed").fit(dist, yv)
    with pytest.raises(ValueError, match="expecting 7 features"):
        val.value(dist[:, :5], yv)
    # cross-validation slices the square matrix by rows and columns, as for X itself
    folds = KFold(3)
    on_matrix = cross_val_score(
        KNNShapleyValuer(3, metric="precomputed"), pairwise_distances(X, X), y, cv=folds
    )
    on_rows = cross_val_score(KNNShapleyValuer(3), X, y, cv=folds)
    np.testing.assert_allclose(on_matrix, on_rows, rtol=0, atol=1e-12)


def _exact_cosine_order_keys(Xv, X):
    """A key per (validation row, training row) that orders exactly as the cosine
    distance of the stored doubles: ``1 - a.x / (|a| |x|)`` ranks as ``-sign(a.x)
    (a.x)^2 / |a|^2`` (``|x|`` is common to the row); a zero row has cosine 0."""
    out = np.empty((len(Xv), len(X)), dtype=object)
    for i, x in enumerate(Xv):
        for j, a in enumerate(X):
            dot = sum(Fraction(p) * Fraction(q) for p, q in zip(a, x))
            norm = sum(Fraction(p) ** 2 for p in a)
            out[i, j] = Fraction(0) if norm == 0 else -dot * abs(dot) / norm
    return out


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1.0, 0.1, 1 / 3, 1e6 + 0.5]),
    k=st.integers(1, 3),
    as_sparse=st.booleans(),
)
def test_cosine_ties_of_parallel_rows_equal_exhaustive_shapley(seed, scale, k, as_sparse):
    # rows in one direction at other lengths (a count row and its double) are at cosine
    # distance 0 from each other's direction: an exact tie, which normalising ranked by
    # rounding (32 of 300 random integer cases were off; dense and sparse one-hot data
    # gave different values)
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 4, (3, 3)).astype(float)
    X = base[rng.integers(0, 3, 7)] * rng.integers(1, 6, (7, 1)) * scale
    Xv = base[rng.integers(0, 3, 3)] * rng.integers(1, 4, (3, 1)) * scale
    y, yv = rng.integers(0, 2, 7), rng.integers(0, 2, 3)
    expected = exhaustive_shapley(_exact_cosine_order_keys(Xv, X), y, yv, k)
    fit_X = sparse.csr_matrix(X) if as_sparse else X
    values = KNNShapleyValuer(k, metric="cosine").fit(fit_X, y).value(Xv, yv)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_a_refit_forgets_the_values_of_the_previous_training_rows():
    # after fit(shop_b), by_source() reported shop_b with the values computed for
    # shop_a's rows by the value() call before the refit
    rng = np.random.default_rng(0)
    a = stp.from_numpy(rng.normal(size=(30, 2)), "shop_a")
    b = stp.from_numpy(rng.normal(size=(30, 2)), "shop_b")
    val = KNNShapleyValuer(3).fit(a, (a["x0"] > 0).astype(int))
    val.value(a, (a["x0"] > 0).astype(int))
    val.fit(b, (b["x0"] > 0).astype(int))
    assert not hasattr(val, "values_")
    with pytest.raises(NotFittedError, match="No values_ yet"):
        val.by_source()
    with pytest.raises(NotFittedError, match="No values_ yet"):
        val.by_op()


def test_validation_without_labels_is_refused_clearly():
    # value(X, None) raised "Input should have at least 1 dimension ... got scalar
    # array(None, dtype=object)", as BySourceDisplay.from_estimator(valuer, X) did
    X, y, Xv, _ = integer_data(5, 3, 2, 0)
    val = KNNShapleyValuer(2).fit(X, y)
    with pytest.raises(ValueError, match=r"y is None: the validation rows' labels"):
        val.value(Xv, None)
    with pytest.raises(ValueError, match=r"y is None: the validation rows' labels"):
        val.score(Xv, None)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    # extreme magnitudes, and decimal steps off a binary grid (multiples of 0.1 are not
    # multiples of one power of two: distances that would tie in decimals differ in the
    # stored doubles, often below a double's rounding)
    scale=st.sampled_from(
        [1e-300, 2.0**-600, 1e-170, 1e160, 1e200, 1e300, 0.1, 0.3, 1.1, 1e-3, 7e40]
    ),
    n_train=st.integers(2, 6),
    k=st.integers(1, 4),
    regression=st.booleans(),
    as_sparse=st.booleans(),
)
def test_extreme_magnitudes_and_decimal_steps_equal_exhaustive_shapley(
    seed, scale, n_train, k, regression, as_sparse
):
    # squared, values near 1e-300 underflowed to 0: every neighbour tied, values off by
    # up to 0.61 against exhaustive Shapley with no warning at all; near 1e200 they
    # overflowed (values off by up to 0.4 behind numpy's RuntimeWarning)
    rng = np.random.default_rng(seed)
    X = scale * rng.integers(0, 4, (n_train, 2)).astype(float)
    Xv = scale * rng.integers(0, 4, (2, 2)).astype(float)
    y, yv = _labels(rng, n_train, 2, regression)
    if scale >= 1e160 and not X.any() and Xv.any():
        # training rows all 0 give no scale: the validation rows' squared distances
        # overflow, and they are refused (a clear error, never values of inf distances)
        fit_X = sparse.csr_matrix(X) if as_sparse else X
        task = "regression" if regression else "classification"
        valuer = KNNShapleyValuer(k, task=task).fit(fit_X, y)
        with pytest.raises(ValueError, match="overflow float64"):
            valuer.value(Xv, yv)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _assert_exhaustive(X, y, Xv, yv, k, regression, as_sparse=as_sparse)


def test_neighbours_closer_than_doubles_tell_apart_are_ranked_exactly():
    # 3e160 is not 3 * 1e160 exactly: the stored doubles put training row 4 nearer the
    # second validation row than row 2 by less than a squared distance's rounding. The
    # distances summed from differences were equal doubles, the tie rule ranked row 2
    # first, and four values were off by 0.043 against exhaustive Shapley on the exact
    # distances (found by the hypothesis test above)
    X = np.array([[3.0, 2.0], [2.0, 1.0], [1.0, 0.0], [0.0, 0.0], [0.0, 3.0]]) * 1e160
    y = np.array([0.94708096, -0.70373524, -1.26542147, -0.62327446, 0.04132598])
    Xv = np.array([[2.0, 3.0], [2.0, 2.0]]) * 1e160
    yv = np.array([-2.32503077, -0.21879166])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no tie is left for the tie rule to decide
        _assert_exhaustive(X, y, Xv, yv, 1, True)


def test_runs_too_long_to_compare_exactly_are_one_tie_and_said(monkeypatch):
    # past MAX_EXACT training rows within rounding of each other, a validation row's
    # runs are one tie each: ranked by index, and counted where that decides values
    from sktraceprop.valuation import _exact_order

    monkeypatch.setattr(_exact_order, "MAX_EXACT", 0)
    X = np.array([[3.0, 2.0], [2.0, 1.0], [1.0, 0.0], [0.0, 0.0], [0.0, 3.0]]) * 1e160
    Xv = np.array([[2.0, 2.0]]) * 1e160  # rows 2 and 4 within rounding: 4 is nearer
    valuer = KNNShapleyValuer(3).fit(X, [0, 0, 1, 0, 0])
    with pytest.warns(UserWarning, match="ranked by their position"):
        valuer.value(Xv, [1])
    assert valuer.n_ties_ranked_by_index_ == 1


def test_validation_rows_whose_distances_overflow_are_refused():
    # a validation value 1e300 against training rows near 1: every squared distance
    # was inf, every neighbour a tie, and the values those of the index order
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    val = KNNShapleyValuer(n_neighbors=2).fit(X, [0, 1, 0])
    with pytest.raises(ValueError, match="overflow float64"):
        val.value(np.array([[1e300, 0.0]]), [0])
    # far, but with finite squared distances: valued
    assert val.value(np.array([[1e150, 0.0]]), [0]).shape == (3,)


def test_a_column_vector_of_labels_is_one_label_per_row_in_fit_and_value():
    # fit without a transformer took y of shape (n, 1) (scikit-learn's column-vector
    # warning), fit with one and value refused it: each is now the 1-D labels
    from sklearn.exceptions import DataConversionWarning
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    X_val, y_val = rng.normal(size=(9, 3)), rng.integers(0, 2, 9)
    for transformer in (None, StandardScaler()):
        flat = stp.KNNShapleyValuer(n_neighbors=3, transformer=transformer)
        flat.fit(X, y)
        column = stp.KNNShapleyValuer(n_neighbors=3, transformer=transformer)
        with pytest.warns(DataConversionWarning):
            column.fit(X, y[:, None])
        with pytest.warns(DataConversionWarning):
            got = column.value(X_val, y_val[:, None])
        np.testing.assert_array_equal(got, flat.value(X_val, y_val))
    with pytest.raises(ValueError, match=r"1-D with one label per row"):
        flat.value(X_val, np.stack([y_val, y_val], axis=1))


def test_value_returns_its_own_values_while_another_thread_values(monkeypatch):
    # value() stored values_ and then returned self.values_: a value() call of another
    # thread finishing in between (here: during the first call's tie warning) made the
    # first call return the other validation set's values.
    import threading

    from sktraceprop.valuation import _knn_shapley

    X = np.repeat(np.arange(6.0), 2)[:, None]  # duplicated rows: ties, so a warning
    y = np.array([0, 1] * 6)
    Xv1, yv1 = np.array([[0.1], [2.2]]), np.array([0, 1])
    Xv2, yv2 = np.array([[4.9], [5.1]]), np.array([1, 1])
    valuer = KNNShapleyValuer(3).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        own1 = clone(valuer).fit(X, y).value(Xv1, yv1)
        own2 = clone(valuer).fit(X, y).value(Xv2, yv2)
    assert not np.array_equal(own1, own2)

    real_warning, other = _knn_shapley.tie_warning, {}

    def warning_while_another_thread_values(*args):
        if not other:  # the first call only: run the other thread's value() now
            other["thread"] = threading.Thread(
                target=lambda: other.setdefault("values", valuer.value(Xv2, yv2))
            )
            other["thread"].start()
            other["thread"].join()
        return real_warning(*args)

    monkeypatch.setattr(_knn_shapley, "tie_warning", warning_while_another_thread_values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = valuer.value(Xv1, yv1)
    np.testing.assert_array_equal(other["values"], own2)
    np.testing.assert_array_equal(got, own1)
