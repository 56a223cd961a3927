"""Exact neighbour ranks (``_exact_order.exactly_ordered``) against rational arithmetic."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop.valuation import _exact_order
from sktraceprop.valuation._exact_order import TrainingGrid, exactly_ordered
from sktraceprop.valuation._kernels import direct_squared_distances_serial


def _case(seed, step, n_train, width):
    # decimal steps on a coarse lattice: many training rows within a double's rounding
    # of each other (and many equal in decimals that the stored doubles tell apart)
    rng = np.random.default_rng(seed)
    X = step * rng.integers(-4, 5, (n_train, width)).astype(float)
    rows = step * rng.integers(-4, 5, (3, width)).astype(float)
    dist = np.empty((rows.shape[0], n_train))
    direct_squared_distances_serial(X, np.zeros(width), rows, dist)
    return X, rows, dist


def _exact(X, x):
    return [sum((Fraction(a) - Fraction(b)) ** 2 for a, b in zip(row, x)) for row in X]


def _sign(a):
    return int(a > 0) - int(a < 0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    step=st.sampled_from([0.1, 0.3, 1.1, 7e-3, 1e100 / 3]),
    n_train=st.integers(2, 80),
    width=st.integers(1, 3),
)
def test_ranks_order_neighbours_as_exact_distances_do(seed, step, n_train, width):
    X, rows, dist = _case(seed, step, n_train, width)
    ranks = exactly_ordered(X, None, rows, dist.copy(), TrainingGrid(X, None))
    for r, x in enumerate(rows):
        exact = _exact(X, x)
        for i in range(n_train):
            for j in range(n_train):
                assert _sign(ranks[r, i] - ranks[r, j]) == _sign(exact[i] - exact[j])


def _one_tie_per_run(dist, width):
    """The rule past MAX_EXACT, one run at a time (the slow reference)."""
    out = dist.copy()
    for r in range(out.shape[0]):
        order = np.argsort(out[r], kind="stable")
        starts, stops = _exact_order._runs(out[r], order, width)
        for start, stop in zip(starts, stops):
            out[r, order[start:stop]] = out[r, order[start]]
    return out


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    step=st.sampled_from([0.1, 0.3, 7e-3]),
    n_train=st.integers(2, 200),
    width=st.integers(1, 3),
)
def test_past_max_exact_each_run_is_one_tie(seed, step, n_train, width):
    X, rows, dist = _case(seed, step, n_train, width)
    expected = _one_tie_per_run(dist, width)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_exact_order, "MAX_EXACT", 0)
        got = exactly_ordered(X, None, rows, dist.copy(), TrainingGrid(X, None))
    assert np.array_equal(got, expected)
