"""A copy of an unlearner's ``estimator_`` alone, taken while a removal is swapped in.

The swap replaced a pipeline's steps one by one in its list, then its run
(``lineage_``); pickle and ``copy.deepcopy`` do not wait for the model's lock, and a
copy of ``estimator_`` alone carries no unlearner's removal mark. A copy taken between
two of those updates held the corrected preprocessing with the final step that learnt
from the removed rows (a plain Pipeline), or the corrected steps with the run of the
fit naming the removed rows as its training rows (a TracedPipeline), with nothing
saying so. The swap now builds the corrected pipeline aside and sets it in one update:
a copy is of the model before the removal or after it, whole. The removal is held by
an event (no sleep) at the first of the points that both versions pass; the truth is
the model before the removal (a copy taken then) and after it (the original).
"""

import pickle
import threading

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner, _record
from tests._gate import COPIES, REMOVER, WAIT_S, estimator_copied_during_removal, removal_data

REMOVED = [3, 7, 11, 20]


class _HeldSteps(list):
    """A pipeline's steps list whose replacement of the final step, in the removal's
    thread, holds the removal there (after the preprocessing was replaced); then the
    pipeline gets a plain list again (its fingerprint names the list's type)."""

    def __init__(self, pipe, hold):
        super().__init__(pipe.steps)
        self.pipe, self.hold = pipe, hold

    def __reduce_ex__(self, protocol):  # (copied as the plain list it stands for)
        return list, (list(self),)

    def __setitem__(self, i, value):
        final = i in (-1, len(self) - 1)
        if final and threading.current_thread().name == REMOVER:
            self.hold()
        super().__setitem__(i, value)
        if final:
            self.pipe.steps = list(self)


def _state(pipe):
    """What ``pipe`` holds: each step's learnt numbers, and its run's training rows."""
    scaler, model = pipe[0], pipe[-1]
    run = getattr(pipe, "lineage_", None)
    return {
        "scaler": np.concatenate([scaler.mean_, scaler.scale_]),
        "model": np.concatenate([model.coef_.ravel(), model.intercept_]),
        "rows": None if run is None else np.sort(np.asarray(run.row_ids)),
    }


def _same(a, b):
    return all(
        (a[k] is None and b[k] is None)
        or (a[k] is not None and b[k] is not None and np.array_equal(a[k], b[k]))
        for k in a
    )


@pytest.mark.parametrize("how", list(COPIES))
@pytest.mark.parametrize("kind", ["pipeline", "traced pipeline"])
def test_a_copy_of_estimator_during_a_removal_is_the_model_before_or_after(monkeypatch, kind, how):
    X, y = removal_data("estimator_copied")
    make = make_pipeline if kind == "pipeline" else stp.make_traced_pipeline
    unl = GradientCorrectionUnlearner(make(StandardScaler(), LogisticRegression())).fit(X, y)
    before = _state(COPIES[how](unl.estimator_))

    def hold(held, go):
        def wait():
            if not held.is_set():
                held.set()
                go.wait(WAIT_S)

        # the first of: the final step replaced in the list (the swap before the fix,
        # the preprocessing replaced already), the replaced parts released (after the
        # steps were replaced before the fix, before anything is set after it); the
        # list is put in once the removal's last check of the model passed
        refuse, release = _record._refuse_changed, _record.release_replaced_parts

        def checked(unl, where):
            refuse(unl, where)
            if where == "end" and threading.current_thread().name == REMOVER:
                unl.estimator_.steps = _HeldSteps(unl.estimator_, wait)

        def released(estimator):
            if threading.current_thread().name == REMOVER:
                wait()
            return release(estimator)

        monkeypatch.setattr(_record, "_refuse_changed", checked)
        monkeypatch.setattr(_record, "release_replaced_parts", released)

    copied = estimator_copied_during_removal(unl, stp.row_ids(X)[REMOVED], hold, how)
    after = _state(unl.estimator_)
    kept = np.setdiff1d(np.arange(len(y)), REMOVED)
    # the truth of after: the original's scaler is refitted on the rows kept
    np.testing.assert_allclose(after["scaler"][:3], np.asarray(X)[kept].mean(axis=0))
    assert not _same(before, after)
    state = _state(copied)
    of = {k: "after" if np.array_equal(state[k], after[k]) else "before" for k in state}
    assert _same(state, before) or _same(state, after), (
        "the copy mixes the model before the removal with the one after: "
        f"scaler of {of['scaler']}, final step of {of['model']}"
    )
    # and it answers as the model it is a copy of
    ref = pickle.loads(pickle.dumps(unl.estimator_)) if _same(state, after) else None
    if ref is not None:
        np.testing.assert_array_equal(copied.predict(X), ref.predict(X))
