"""KNN-Shapley values of a training row that is the only row of its class equal the
exhaustive Shapley values (every subset enumerated): the KNN utility of a subset
without the row is defined (no refit to lose the class), so the exact formula holds.
"""

import warnings

import numpy as np
import pytest

from sktraceprop import KNNShapleyValuer
from tests.valuation.test_knn_shapley import exhaustive_shapley


@pytest.mark.parametrize(
    "labels, val_labels, k",
    [
        ([0, 0, 0, 1, 0, 0, 0], [1, 0, 1, 0, 1], 3),  # binary: one row of class 1
        ([0, 2, 1, 0, 1, 0, 3, 1], [2, 3, 0, 1, 2, 3], 2),  # two lone classes
        (["a", "a", "c", "a", "b", "b"], ["c", "c", "a", "b", "d"], 1),  # 1-NN, unseen "d"
        ([0, 0, 1, 0, 0, 0], [1, 1, 0, 0], 9),  # K > N
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_lone_class_row_values_equal_exhaustive_shapley(labels, val_labels, k, seed):
    y, yv = np.array(labels), np.array(val_labels)
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, (y.size, 2)).astype(float)  # ties in distance
    Xv = rng.integers(0, 3, (yv.size, 2)).astype(float)
    dist = ((Xv[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    expected = exhaustive_shapley(dist, y, yv, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (ties decide some values: warned elsewhere)
        values = KNNShapleyValuer(n_neighbors=k).fit(X, y).value(Xv, yv)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    _, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    assert np.any(counts[codes] == 1)  # (the case tested)
