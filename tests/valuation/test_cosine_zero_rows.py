"""Rows of zeros have no direction: under ``metric="cosine"`` they are at distance 1 from
every row, as in scikit-learn, tied with the rows orthogonal to the validation row."""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.metrics.pairwise import cosine_distances

from sktraceprop import KNNShapleyValuer
from tests.valuation.test_knn_shapley import exhaustive_shapley


def _exact_cosine_keys(Xv, X):
    """Keys with the order of the cosine distances, in rationals: ``-sign(c) c**2`` for
    ``c = a.x / |a|`` (``|x|`` is common to a validation row); a zero row has ``c = 0``,
    distance 1, and a zero validation row is at distance 1 from every row."""
    keys = np.empty((len(Xv), len(X)), dtype=object)
    for r, x in enumerate(Xv):
        for j, a in enumerate(X):
            dot = int(np.dot(a.astype(int), x.astype(int)))
            norm2 = int(np.dot(a.astype(int), a.astype(int)))
            keys[r, j] = (
                Fraction(0)
                if norm2 == 0 or not x.any()
                else Fraction(-np.sign(dot) * dot * dot, norm2)
            )
    return keys


def test_a_zero_row_is_at_distance_one_from_every_row():
    x, orthogonal, zero, opposite, near = [1, 0], [0, 1], [0, 0], [-1, 0], [1, 1]
    X = np.array([near, orthogonal, zero, opposite], dtype=float)
    # scikit-learn's cosine distance of a zero row: 1 from every row, itself included
    np.testing.assert_array_equal(cosine_distances([x, zero], X)[:, 2], [1.0, 1.0])
    np.testing.assert_array_equal(cosine_distances([zero], X), [[1.0, 1.0, 1.0, 1.0]])
    # the valuer ranks the zero row with the orthogonal one (a tie at distance 1, between
    # the near row and the opposite one): with K = 2 and other labels, the tie decides
    val = KNNShapleyValuer(2, metric="cosine", task="classification").fit(X, [0, 0, 1, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = val.value([x], [0])
    assert val.n_ties_ranked_by_index_ == 1 and len(caught) == 1
    dist = np.array([[1 - 2**-0.5, 1.0, 1.0, 2.0]])
    np.testing.assert_allclose(values, exhaustive_shapley(dist, [0, 0, 1, 1], [0], 2), atol=1e-12)
    # a zero validation row: every training row at distance 1, one run of ties
    with pytest.warns(UserWarning, match="ranked by their position"):
        val.value([zero], [0])
    np.testing.assert_allclose(
        val.values_, exhaustive_shapley(np.ones((1, 4)), [0, 0, 1, 1], [0], 2), atol=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_train=st.integers(1, 6),
    k=st.integers(1, 4),
    as_sparse=st.booleans(),
)
def test_values_with_zero_rows_equal_exhaustive_shapley(seed, n_train, k, as_sparse):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, (n_train, 3)).astype(float)
    Xv = rng.integers(-2, 3, (3, 3)).astype(float)
    X[rng.random(n_train) < 0.4] = 0
    Xv[rng.random(3) < 0.4] = 0
    y, yv = rng.integers(0, 2, n_train), rng.integers(0, 2, 3)
    expected = exhaustive_shapley(_exact_cosine_keys(Xv, X), y, yv, k)
    wrap = sparse.csr_matrix if as_sparse else np.asarray
    val = KNNShapleyValuer(k, metric="cosine", task="classification").fit(wrap(X), y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ties ranked by index: the truth ranks them so
        values = val.value(wrap(Xv), yv)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
