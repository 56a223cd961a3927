"""UnlearningDisplay's distance ratio and the metric agree, degenerate cases included.

Where the original model already behaved like the retrain (a removal that changes
nothing on the rows compared), ``function_space_distance_ratio`` gave 0 (the unlearned
model does too) or inf (it does not), and ``UnlearningDisplay.distance_ratio`` NaN for
both: one figure, two answers. Both now read the rule from
``sktraceprop.metrics._distance.distance_ratio``. Truth: the Frobenius norms, with
NumPy.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LogisticRegression

from sktraceprop.metrics import function_space_distance_ratio
from sktraceprop.plotting import UnlearningDisplay

plt = pytest.importorskip("matplotlib.pyplot")


def _models():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
    original = LogisticRegression().fit(X, y)
    other = LogisticRegression().fit(X[:40], y[:40])
    return X, original, other


def test_original_equal_to_the_retrain_and_unlearned_too_is_zero_for_both():
    X, original, _ = _models()
    display = UnlearningDisplay.from_estimator(original, original, original, X)
    assert function_space_distance_ratio(original, original, original, X) == 0.0
    assert display.distance_ratio == 0.0
    assert display.ax_.get_title() == "Distance to a real retrain: ratio 0"


def test_original_equal_to_the_retrain_and_unlearned_not_is_inf_for_both():
    X, original, other = _models()
    assert function_space_distance_ratio(other, original, original, X) == np.inf
    display = UnlearningDisplay.from_estimator(other, original, original, X)
    assert display.distance_original == 0.0 and display.distance_unlearned > 0
    assert display.distance_ratio == np.inf
    assert display.ax_.get_title() == "Distance to a real retrain: ratio inf"


_outputs = arrays(np.float64, 6, elements=st.floats(-50, 50, allow_subnormal=False))


@settings(max_examples=200, deadline=None)
@given(
    original=_outputs,
    unlearned=_outputs,
    retrained=_outputs,
    same=st.sampled_from(["none", "original", "unlearned", "both"]),
)
def test_display_ratio_is_the_ratio_of_the_frobenius_norms(original, unlearned, retrained, same):
    if same in ("original", "both"):
        original = retrained.copy()
    if same in ("unlearned", "both"):
        unlearned = retrained.copy()
    ratio = UnlearningDisplay(
        original=original, unlearned=unlearned, retrained=retrained, response="predict"
    ).distance_ratio
    # (math.hypot: no square under- or overflows, as in np.linalg.norm of 1e-162s)
    num = math.hypot(*(unlearned - retrained))
    den = math.hypot(*(original - retrained))
    if den == 0:
        assert ratio == (0.0 if num == 0 else np.inf)
    else:
        assert ratio == pytest.approx(num / den, rel=1e-12)


def test_no_outputs_give_nan_not_a_number_that_reads_as_a_result():
    empty = np.empty(0)
    display = UnlearningDisplay(
        original=empty, unlearned=empty, retrained=empty, response="predict"
    )
    assert np.isnan(display.distance_ratio)


@pytest.mark.parametrize("scale", [1e-170, 1e-160, 1.0, 1e160, 1e170])
def test_tiny_and_huge_distances_keep_their_ratio(scale):
    # squares of differences below 1e-154 underflowed (the display read 4.50e161 where
    # the ratio is 6.70e161) and above 1e154 overflowed (inf / inf: NaN)
    from sktraceprop.metrics._distance import frobenius

    retrained = np.zeros(6)
    unlearned = np.full(6, scale)
    original = np.r_[0.0, np.full(5, 3 * scale)]
    ratio = UnlearningDisplay(
        original=original, unlearned=unlearned, retrained=retrained, response="predict"
    ).distance_ratio
    truth = math.sqrt(6) / math.sqrt(45)
    assert ratio == pytest.approx(truth, rel=1e-12)
    assert frobenius(unlearned) == pytest.approx(math.sqrt(6) * scale, rel=1e-12)
