"""A copy of an unlearner's bare (not a pipeline) ``estimator_``, taken during a removal.

The swap cleared the estimator's dict and then filled it with the corrected model's
attributes; pickle and ``copy.deepcopy`` do not wait for the model's lock, so a copy
taken between the two was an unfitted estimator (every fitted attribute gone), which
failed later with a bare ``NotFittedError`` naming no removal. The dict is now replaced
whole, in one step: a copy is the model before the removal or after it. The removal is
held (an event, no sleep) at the first read of the corrected model's dict once the
removal's last check passed (before the fix: after the estimator's dict was cleared).
"""

import pickle
import threading

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner, _record
from tests._gate import COPIES, REMOVER, WAIT_S, estimator_copied_during_removal, removal_data

REMOVED = [3, 7, 11, 20]


class _HeldLR(LogisticRegression):
    """A LogisticRegression whose corrected copy, read in the removal's thread once the
    hold is armed there, holds the removal. (What holds it is kept on that thread: a
    global the class reads would be fingerprinted with it, changing the model.)"""

    def __getattribute__(self, name):
        if name == "__dict__":
            hold = getattr(threading.current_thread(), "hold_swap", None)
            if hold is not None and self is not hold[0]:  # (not estimator_ itself)
                hold[1]()
        return super().__getattribute__(name)


def _state(model):
    """What ``model`` holds: its learnt numbers, or None where it holds none."""
    fitted = vars(model)
    if "coef_" not in fitted:
        return None
    return np.concatenate([fitted["coef_"].ravel(), fitted["intercept_"]])


@pytest.mark.parametrize("how", list(COPIES))
def test_a_copy_of_a_bare_estimator_during_a_removal_is_the_model_before_or_after(
    monkeypatch, how
):
    X, y = removal_data("bare_estimator_copied")
    unl = GradientCorrectionUnlearner(_HeldLR()).fit(X, y)
    assert type(unl.estimator_) is _HeldLR
    before = _state(COPIES[how](unl.estimator_))

    def hold(held, go):
        def wait():
            if not held.is_set():
                held.set()
                go.wait(WAIT_S)

        marked = _record.removal_marked

        def arm(unl, *args, **kwargs):  # entered right before the swap, the event stored
            if threading.current_thread().name == REMOVER:
                threading.current_thread().hold_swap = (unl.estimator_, wait)
            return marked(unl, *args, **kwargs)

        monkeypatch.setattr(_record, "removal_marked", arm)

    copied = estimator_copied_during_removal(unl, stp.row_ids(X)[REMOVED], hold, how)
    after = _state(unl.estimator_)
    # the truth of after: the corrected model, a copy of which predicts as it does
    assert after is not None and not np.array_equal(before, after)
    state = _state(copied)
    assert state is not None, "the copy is an estimator with no fitted state"
    assert np.array_equal(state, before) or np.array_equal(state, after), (
        "the copy is neither the model before the removal nor the one after"
    )
    ref = pickle.loads(pickle.dumps(unl.estimator_))
    if np.array_equal(state, after):
        np.testing.assert_array_equal(copied.predict(np.asarray(X)), ref.predict(np.asarray(X)))
