"""The neural calibration's root search, against functions whose root is known."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop.unlearning._calibration import CALIBRATION_MAX_SCALE, calibrate


@settings(max_examples=200, deadline=None)
@given(
    base=st.floats(0.0, 5.0),
    slope=st.floats(1e-3, 1e3),
    power=st.floats(0.2, 4.0),
    root=st.floats(1e-3, 2000.0),
)
def test_calibrate_reaches_its_target_within_the_tolerance(base, slope, power, root):
    calls = []

    def loss(t):
        calls.append(t)
        return base + slope * t**power

    target = loss(root)
    calls.clear()
    t, reached, n_evals = calibrate(loss, target, rtol=1e-3)
    assert reached and n_evals == len(calls) <= 32
    assert abs(loss(t) - target) <= 1e-3 * (target - base) + 1e-12 * target
    assert min(calls) == 0.0 and t >= 0


def test_calibrate_edges():
    # already at or past the target: no step
    assert calibrate(lambda t: 1.0 + t, 0.5) == (0.0, True, 1)
    # unreachable: the longest step, flagged
    t, reached, _ = calibrate(lambda t: np.tanh(t), 2.0)
    assert t == CALIBRATION_MAX_SCALE and not reached
