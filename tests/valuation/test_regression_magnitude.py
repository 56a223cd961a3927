"""Regression targets far from 1: values that float64 holds are those of Shapley's formula
in exact arithmetic; values it cannot hold are refused, never NaN or infinite."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop import KNNShapleyValuer

X = np.array([[0.0], [1.0], [2.0], [3.0], [5.0]])
X_VAL = np.array([[0.4], [2.6]])
FLOAT_MAX = Fraction(np.finfo(np.float64).max)


def _exact_values(y, y_val, k):
    """Shapley values in rational arithmetic, over every order of the training rows
    (distances of X_VAL to X have no ties; neighbours by distance)."""
    n = len(y)
    y, y_val = [Fraction(v) for v in y], [Fraction(v) for v in y_val]
    values = [Fraction(0)] * n
    for x, t in zip(X_VAL[:, 0], y_val):
        order = sorted(range(n), key=lambda j: abs(X[j, 0] - x))
        rank = {j: r for r, j in enumerate(order)}

        def utility(subset, t=t, rank=rank):
            near = sorted(subset, key=rank.__getitem__)[:k]
            return -((sum((y[j] for j in near), Fraction(0)) / k - t) ** 2)

        for perm in itertools.permutations(range(n)):
            before = []
            for i in perm:
                values[i] += utility([*before, i]) - utility(before)
                before.append(i)
    return [v / (math.factorial(n) * len(y_val)) for v in values]


@settings(max_examples=25, deadline=None)
@given(
    base=st.lists(st.integers(-8, 8), min_size=5, max_size=5),
    base_val=st.lists(st.integers(-8, 8), min_size=2, max_size=2),
    exponent=st.integers(480, 540),
    k=st.integers(1, 3),
)
@example(base=[1, 2, 3, 4, 1], base_val=[1, 2], exponent=515, k=2)  # 3e155: NaN before
@example(base=[1, 2, 3, 4, 1], base_val=[1, 2], exponent=505, k=2)
def test_values_equal_exact_shapley_or_are_refused(base, base_val, exponent, k):
    scale = 2.0**exponent
    y, y_val = np.array(base) * scale, np.array(base_val) * scale
    exact = _exact_values(y.tolist(), y_val.tolist(), k)
    valuer = KNNShapleyValuer(n_neighbors=k, task="regression").fit(X, y)
    if max(abs(v) for v in exact) > FLOAT_MAX / 2:
        with pytest.raises(ValueError, match="overflow float64"):
            valuer.value(X_VAL, y_val)
        with pytest.raises(ValueError, match="overflow float64"):
            valuer.score(X_VAL, y_val)
        return
    try:
        values = valuer.value(X_VAL, y_val)
    except ValueError as error:  # allowed only where the true values are near the limit
        assert "overflow float64" in str(error)
        assert max(abs(v) for v in exact) > FLOAT_MAX / 2**12
        return
    assert np.isfinite(values).all()
    for got, want in zip(values, exact):
        assert abs(Fraction(got) - want) <= Fraction(1, 10**12) * max(abs(v) for v in exact)
