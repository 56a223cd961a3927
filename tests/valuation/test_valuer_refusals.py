"""Inputs a valuer cannot value are refused with a message naming the problem, never
valued as something else: missing labels (a blank label cell of a CSV file), negative
precomputed distances (similarities passed for distances rank the farthest rows
nearest), text targets for a regression."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import pairwise_distances
from sklearn.metrics.pairwise import cosine_similarity

import sktraceprop as stp
from sktraceprop import KNNShapleyValuer


def test_a_blank_label_cell_of_a_csv_file_is_named(tmp_path):
    # Was: "Input contains NaN" (X's or y's?) in fit, and in value a TypeError from
    # comparing None with text ("'<' not supported between instances").
    path = tmp_path / "labels.csv"
    path.write_text("a,lab\n1,x\n2,\n3,y\n4,x\n")
    df = stp.read_csv(path, source_id="labels")
    X, y = df[["a"]], df["lab"]
    with pytest.raises(ValueError, match=r"training rows' labels\) holds 1 missing .* 1:"):
        KNNShapleyValuer(1).fit(X, y)
    val = KNNShapleyValuer(1).fit(X.iloc[[0, 2, 3]], y.iloc[[0, 2, 3]])
    with pytest.raises(ValueError, match=r"validation rows' labels\) holds 1 missing"):
        val.value(X, y)
    with pytest.raises(ValueError, match=r"validation rows' labels\) holds 1 missing"):
        val.score(X, y)


@pytest.mark.parametrize(
    "missing",
    [
        np.array(["a", None, "b", "a"], dtype=object),
        np.array(["a", np.nan, "b", "a"], dtype=object),
        pd.array(["a", pd.NA, "b", "a"], dtype="string"),
        pd.array([1, pd.NA, 2, 1], dtype="Int64"),
        pd.Series([0.5, np.nan, 1.5, 0.5]),
        [0.5, float("nan"), 1.5, 0.5],
    ],
)
def test_missing_labels_are_refused_in_fit_and_value(missing):
    X = np.arange(4.0)[:, None]
    with pytest.raises(ValueError, match=r"1 missing label\(s\) .* position\(s\) 1:"):
        KNNShapleyValuer(1).fit(X, missing)
    fitted = np.asarray(pd.Series(missing).dropna().tolist() * 2)[:4]
    val = KNNShapleyValuer(1).fit(X, fitted)
    with pytest.raises(ValueError, match=r"validation rows' labels\) holds 1 missing"):
        val.value(X, missing)


def test_labels_without_missing_values_still_value_as_before():
    X = np.array([[0.0], [1.0], [3.0], [6.0], [10.0], [15.0]])  # no ties
    y = np.array(["a", "b", "a", "b", "b", "a"], dtype=object)
    values = KNNShapleyValuer(1).fit(X, pd.array(y, dtype="string")).value(X, y)
    np.testing.assert_array_equal(values, KNNShapleyValuer(1).fit(X, y).value(X, y))
    np.testing.assert_allclose(values.sum(), 1.0, atol=1e-12)  # each row its own neighbour


def test_negative_precomputed_distances_are_refused():
    # Was valued: a similarity matrix (larger = nearer) ranked the farthest rows nearest.
    rng = np.random.default_rng(0)
    X, Xv = rng.normal(size=(6, 2)), rng.normal(size=(2, 2))
    y = np.array([0, 1, 0, 1, 1, 0])
    val = KNNShapleyValuer(2, metric="precomputed").fit(pairwise_distances(X), y)
    with pytest.raises(ValueError, match="Negative values .* validation rows' precomputed"):
        val.value(cosine_similarity(Xv, X) - 1.5, [0, 1])
    with pytest.raises(ValueError, match="Negative values .* training rows' precomputed"):
        KNNShapleyValuer(2, metric="precomputed").fit(-pairwise_distances(X), y)
    # distances themselves are valued as before, and agree with the metric
    dist = pairwise_distances(Xv, X)
    np.testing.assert_array_equal(
        val.value(dist, [0, 1]), KNNShapleyValuer(2).fit(X, y).value(Xv, [0, 1])
    )


def test_a_similarity_matrix_in_fit_warns():
    rng = np.random.default_rng(1)
    X = np.abs(rng.normal(size=(5, 3)))
    y = np.array([0, 1, 0, 1, 1])
    with pytest.warns(UserWarning, match=r"nonzero entries on its diagonal \(row 0 .*similarity"):
        KNNShapleyValuer(2, metric="precomputed").fit(cosine_similarity(X), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KNNShapleyValuer(2, metric="precomputed").fit(pairwise_distances(X), y)


def test_text_targets_for_a_regression_name_the_task():
    X = np.arange(3.0)[:, None]
    with pytest.raises(ValueError, match=r"training rows' targets\) must be numbers .*'a'"):
        KNNShapleyValuer(1, task="regression").fit(X, ["a", "b", "c"])
    val = KNNShapleyValuer(1).fit(X, [0.5, 1.5, 2.25])
    assert val.task_ == "regression"
    with pytest.raises(ValueError, match=r"validation rows' targets\) must be numbers"):
        val.value(X, ["a", "b", "c"])
