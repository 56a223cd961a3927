"""The regression tie warning is exact: it fires where some order of the tied training
rows gives other values (or another score), against every order valued by brute force."""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop import KNNShapleyValuer
from tests.valuation.test_knn_shapley import (
    _order_decides,
    _order_decides_utility,
    exhaustive_shapley,
    knn_regression_utility,
)


def _valued(X, y, Xv, yv, k):
    val = KNNShapleyValuer(n_neighbors=k, task="regression").fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = val.value(Xv, yv)
        score = val.score(Xv, yv)
    return val, values, score, [str(w.message) for w in caught]


def test_tied_rows_at_the_same_squared_error_decide_nothing():
    # rows 0 and 1 are equally near (K = 1), targets 0 and 2 around the target 1: either
    # order gives the same values; the tie warning said they depended on the order
    X, y = np.array([[-1.0], [1.0], [5.0]]), np.array([0.0, 2.0, 7.0])
    val, values, score, said = _valued(X, y, [[0.0]], [1.0], 1)
    assert said == [] and val.n_ties_ranked_by_index_ == 0
    dist = np.array([[1.0, 1.0, 25.0]])
    expected = exhaustive_shapley(dist, y, [1.0], 1, knn_regression_utility)
    swapped = exhaustive_shapley(dist, y[[1, 0, 2]], [1.0], 1, knn_regression_utility)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(values, swapped[[1, 0, 2]], rtol=0, atol=1e-12)
    # a target off the midpoint: the order decides, and it is said
    val, *_, said = _valued(X, y, [[0.0]], [1.5], 1)
    assert val.n_ties_ranked_by_index_ == 1 and val.n_score_ties_ranked_by_index_ == 1
    assert len(said) == 2


@settings(max_examples=150, deadline=None)
@given(
    positions=st.lists(st.integers(-2, 2), min_size=2, max_size=5),
    targets=st.data(),
    k=st.integers(1, 5),
    half_target=st.integers(-2, 10),
)
@example(positions=[-1, 1, 3], targets=None, k=1, half_target=2)
def test_the_regression_tie_check_equals_every_order_valued(positions, targets, k, half_target):
    """Training rows on a line around a validation row at 0 (ties at +-x), small whole
    targets and a half-integer validation target, so that tied rows with different
    targets often leave values unchanged (one squared error for K = 1; one mean for K
    > 1): a validation row is counted where, and only where, some order of its tied
    rows changes a value (or, for the score, the utility)."""
    n = len(positions)
    if targets is None:
        y = np.array([0.0, 2.0, 5.0])
    else:
        y = np.array(targets.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), float)
    t = half_target / 2
    X = np.array(positions, dtype=float)[:, None]
    dist = X.T**2
    decides = _order_decides(dist[0], y, t, k, knn_regression_utility)
    decides_score = _order_decides_utility(dist[0], y, t, k, knn_regression_utility)
    val, values, score, said = _valued(X, y, [[0.0]], [t], k)
    assert val.n_ties_ranked_by_index_ == int(decides)
    assert val.n_score_ties_ranked_by_index_ == int(decides_score)
    assert len(said) == int(decides) + int(decides_score)
    expected = exhaustive_shapley(dist, y, [t], k, knn_regression_utility)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", [1.0, 2.0**-600, 2.0**500])
def test_an_equation_off_by_rounding_is_not_taken_to_hold(scale):
    # targets 0.1 and 0.2 around 0.15: in doubles 0.1 + 0.2 != 2 * 0.15, so swapping the
    # tied rows changes the values (by little): decided on the doubles, exactly
    X = np.array([[-1.0], [1.0], [5.0]])
    y = np.array([0.1, 0.2, 1.0]) * scale
    val, *_ = _valued(X, y, [[0.0]], [0.15 * scale], 1)
    holds = Fraction(y[0]) + Fraction(y[1]) == 2 * Fraction(0.15 * scale)
    assert not holds
    assert val.n_ties_ranked_by_index_ == 1
