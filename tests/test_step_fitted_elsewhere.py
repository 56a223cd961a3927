"""A traced pipeline whose step object another thread fits while the pipeline fits.

scikit-learn fits a pipeline's steps in place; a step object shared with other code can
be fitted by another thread after this pipeline's fit of it returned and before the run
fingerprints it. Before, the run then named this fit's rows beside the other fit's
fingerprint (and the pipeline predicted with the other fit's model), with no error. The
pipeline's thread is held after its steps were fitted, before the run is built (an
event, no sleep), while the test fits the shared step on other rows.
"""

import threading

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from sktraceprop.stores import MemoryStore
from tests._gate import WAIT_S, fit_while_other_code_fits, plain, shifted_data


def _data(seed):
    return shifted_data(seed, "shared_step")


BY_ATTRIBUTE = {
    # the other code fits the shared object as anyone does (through its attribute)
    "through-the-step": lambda step, X, y: step.fit(*plain(X, y)),
    # or through its class, around what a traced fit watches
    "through-its-class": lambda step, X, y: type(step).fit(step, *plain(X, y)),
}


@pytest.mark.parametrize("how", list(BY_ATTRIBUTE), ids=list(BY_ATTRIBUTE))
@pytest.mark.parametrize("shared", ["standardscaler", "logisticregression"])
def test_a_step_fitted_elsewhere_during_the_fit_records_no_run(monkeypatch, shared, how):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    step = pipe.named_steps[shared]
    error = fit_while_other_code_fits(
        monkeypatch, pipe, X1, y1, lambda: BY_ATTRIBUTE[how](step, X2, y2)
    )
    # the truth: what the shared step holds is the other fit's state
    other = clone(step).fit(*plain(X2, y2))
    attr = "mean_" if shared == "standardscaler" else "intercept_"
    np.testing.assert_array_equal(getattr(step, attr), getattr(other, attr))
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    assert f"step {shared!r}" in str(error) and "No run was recorded" in str(error)
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


def test_a_step_fitted_elsewhere_before_the_fit_is_not_refused():
    # a shared step fitted by other code before (not during) the fit: the run is recorded
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    store = MemoryStore()
    lr = LogisticRegression()
    pipe = stp.make_traced_pipeline(StandardScaler(), lr, store=store)
    done = threading.Thread(target=lambda: lr.fit(*plain(X2, y2)), name="other")
    done.start()
    done.join(WAIT_S)
    pipe.fit(X1, y1)
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
    np.testing.assert_array_equal(pipe.lineage_.row_ids, X1.index.to_numpy())


def _add_to_mean(step):
    step.mean_ += 1.0


def _set_a_coef(step):
    step.coef_[0, 0] = 5.0


IN_PLACE = {"standardscaler": _add_to_mean, "logisticregression": _set_a_coef}


@pytest.mark.parametrize("shared", list(IN_PLACE))
def test_a_step_changed_in_place_during_the_fit_records_no_run(monkeypatch, shared):
    # the attribute stays the same object: only its content tells the change
    X1, y1 = _data(0)
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    step = pipe.named_steps[shared]
    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, lambda: IN_PLACE[shared](step))
    # the truth: the step no longer holds what a fit on X1 leaves
    fitted = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X1, y1)
    attr = "mean_" if shared == "standardscaler" else "coef_"
    assert not np.array_equal(getattr(step, attr), getattr(fitted.named_steps[shared], attr))
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    assert f"step {shared!r}" in str(error) and "changed in place" in str(error)
    assert attr in str(error) and "No run was recorded" in str(error)
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


class _Held:
    """A step whose fit in thread ``"other"`` waits, once begun, for ``go`` and says when
    it ended; in the pipeline's thread it runs ``during`` (once) after its own fit."""

    def fit(self, X, y=None, **params):
        gate = self.__dict__["_gate"]
        if threading.current_thread().name == "other":
            gate["began"].set()
            assert gate["go"].wait(WAIT_S)
            out = super().fit(X, y, **params)
            gate["ended"].set()
            return out
        out = super().fit(X, y, **params)
        gate.pop("during", lambda: None)()
        return out


class _HeldScaler(_Held, StandardScaler):
    pass


class _HeldLR(_Held, LogisticRegression):
    pass


def _gate():
    return {"began": threading.Event(), "go": threading.Event(), "ended": threading.Event()}


def _other_fit_begun(step, X, y):
    """Begin ``step.fit(X, y)`` in thread ``"other"`` and return once it is under way
    (held at its start, before the traced fit begins)."""
    other = threading.Thread(target=lambda: step.fit(*plain(X, y)), name="other")
    other.start()
    assert step._gate["began"].wait(WAIT_S)
    return other


def _let_it_end(gate):
    gate["go"].set()
    assert gate["ended"].wait(WAIT_S)


@pytest.mark.filterwarnings("ignore:X has feature names")
def test_a_fit_begun_elsewhere_before_the_fit_and_ended_during_it_records_no_run():
    # the other thread's fit of the shared scaler began before the pipeline's fit (its
    # fit method looked up before the watch) and ends inside the pipeline's fit of it,
    # after that fit computed its state: the scaler holds the other fit's state, which
    # this fit's own fit of the step then leaves as "its" state
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    store = MemoryStore()
    scaler = _HeldScaler()
    scaler._gate = gate = _gate()
    gate["during"] = lambda: _let_it_end(gate)
    other = _other_fit_begun(scaler, X2, y2)
    pipe = stp.make_traced_pipeline(scaler, LogisticRegression(), store=store)
    try:
        with pytest.raises(LineageError) as caught:
            pipe.fit(X1, y1)
    finally:
        gate["go"].set()
        other.join(WAIT_S)
    # the truth: the scaler holds the other fit's state
    np.testing.assert_array_equal(scaler.mean_, np.asarray(X2, dtype=float).mean(axis=0))
    said = str(caught.value)
    assert "step '_heldscaler' was fitted in thread 'other'" in said
    # (seen because StandardScaler.fit calls partial_fit through the step's attributes,
    # which the watch holds by then: the other threads' frames are not read, which is
    # not safe in CPython)
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


def test_a_fit_begun_elsewhere_before_the_fit_and_ended_before_the_step_is_fitted():
    # the other fit of the shared final estimator began before the pipeline's fit and
    # ended while the pipeline fitted its first step: the pipeline's own fit of it then
    # replaces all it left, and the run is recorded
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    store = MemoryStore()
    lr = _HeldLR()
    lr._gate = gate = _gate()
    other = _other_fit_begun(lr, X2, y2)
    scaler = _HeldScaler()
    scaler._gate = {"during": lambda: _let_it_end(gate)}
    pipe = stp.make_traced_pipeline(scaler, lr, store=store)
    try:
        pipe.fit(X1, y1)
    finally:
        gate["go"].set()
        other.join(WAIT_S)
    assert gate["ended"].is_set()
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
    truth = LogisticRegression().fit(StandardScaler().fit_transform(plain(X1, y1)[0]), y1)
    np.testing.assert_allclose(lr.coef_, truth.coef_, rtol=1e-6)
