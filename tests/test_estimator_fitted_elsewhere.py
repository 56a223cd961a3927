"""A TracedEstimator whose estimator_ other code fits, or changes in place, during its fit.

The wrapper fits a fresh clone, but hands it out as ``estimator_`` once its fit begins
(before the fit of the clone): other code holding the wrapper can fit that object in
another thread, or change its fitted attributes in place, before the run is recorded.
Before, the run then named this fit's rows beside a fingerprint of the other fit's (or
the edited) state, with no error. The wrapper's thread is held once its estimator was
fitted, before the run is built (an event, no sleep), while the test changes estimator_.
"""

import threading

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import wrappers
from sktraceprop.exceptions import LineageError
from sktraceprop.stores import MemoryStore
from tests._gate import WAIT_S, plain, shifted_data


def _data(seed):
    return shifted_data(seed, "wrapped_elsewhere")


def _fit_while_other_code_acts(monkeypatch, wrapper, X, y, act):
    """Fit ``wrapper`` in thread "wrapper", held after its estimator's fit and before its
    run is built, run ``act(wrapper.estimator_)`` meanwhile; ``(error, estimator_)``: the
    fit's error (None where it returned) and the model it fitted (a refused fit leaves
    the wrapper's last one)."""
    held, go = threading.Event(), threading.Event()
    rows = wrappers.final_row_ids

    def held_before_the_run(*args, **kwargs):
        if threading.current_thread().name == "wrapper":
            held.set()
            assert go.wait(WAIT_S)
        return rows(*args, **kwargs)

    monkeypatch.setattr(wrappers, "final_row_ids", held_before_the_run)
    out = {}

    def fit():
        try:
            wrapper.fit(X, y)
        except Exception as e:  # (read once joined)
            out["error"] = e

    fitting = threading.Thread(target=fit, name="wrapper")
    fitting.start()
    try:
        assert held.wait(WAIT_S)
        est = wrapper.estimator_
        act(est)
    finally:
        go.set()
        fitting.join(WAIT_S)
    assert not fitting.is_alive()
    return out.get("error"), est


def _refit(X, y):
    def act(est):
        est.fit(*plain(X, y))

    return act


def _refit_by_class(X, y):
    def act(est):
        type(est).fit(est, *plain(X, y))

    return act


KINDS = {
    "estimator": LogisticRegression,
    "pipeline": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("how", ["fit", "fit by its class"])
def test_estimator_fitted_elsewhere_during_the_fit_records_no_run(monkeypatch, kind, how):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    store = MemoryStore()
    wrapper = stp.TracedEstimator(KINDS[kind](), store=store)
    act = (_refit if how == "fit" else _refit_by_class)(X2, y2)
    error, est = _fit_while_other_code_acts(monkeypatch, wrapper, X1, y1, act)
    # the truth: estimator_ holds the other fit's state (a fit on X2 alone)
    truth = KINDS[kind]().fit(*plain(X2, y2))
    final = est[-1] if kind == "pipeline" else est
    np.testing.assert_array_equal(final.coef_, (truth[-1] if kind == "pipeline" else truth).coef_)
    assert isinstance(error, LineageError), f"recorded run {getattr(wrapper, 'lineage_', None)}"
    name = "logisticregression"
    assert f"step {name!r}" in str(error) and "No run was recorded" in str(error)
    assert "only through the TracedEstimator" in str(error)
    assert store.list_runs().empty and not hasattr(wrapper, "lineage_")


@pytest.mark.parametrize("kind", list(KINDS))
def test_estimator_changed_in_place_during_the_fit_records_no_run(monkeypatch, kind):
    X1, y1 = _data(0)
    store = MemoryStore()
    wrapper = stp.TracedEstimator(KINDS[kind](), store=store)

    def edit(est):
        (est[-1] if kind == "pipeline" else est).coef_[0, 0] = 5.0

    error, est = _fit_while_other_code_acts(monkeypatch, wrapper, X1, y1, edit)
    # the truth: the model no longer holds what a fit on X1 leaves
    truth = KINDS[kind]().fit(*plain(X1, y1))
    final = est[-1] if kind == "pipeline" else est
    assert final.coef_[0, 0] == 5.0
    assert not np.array_equal(final.coef_, (truth[-1] if kind == "pipeline" else truth).coef_)
    assert isinstance(error, LineageError), f"recorded run {getattr(wrapper, 'lineage_', None)}"
    said = str(error)
    assert "step 'logisticregression' had its fitted state" in said
    assert "changed in place (coef_)" in said and "No run was recorded" in said
    assert store.list_runs().empty and not hasattr(wrapper, "lineage_")


@pytest.mark.parametrize("kind", list(KINDS))
def test_estimator_left_alone_records_its_run(monkeypatch, kind):
    # the same hold with nothing done meanwhile: the run is recorded, of the rows given
    X1, y1 = _data(0)
    store = MemoryStore()
    wrapper = stp.TracedEstimator(KINDS[kind](), store=store)
    error, est = _fit_while_other_code_acts(monkeypatch, wrapper, X1, y1, lambda est: None)
    assert error is None and est is wrapper.estimator_
    assert store.list_runs()["run_id"].tolist() == [wrapper.lineage_.run_id]
    np.testing.assert_array_equal(wrapper.lineage_.row_ids, X1.index.to_numpy())
    # no watch is left on the fitted model (its own dict holds no fit method)
    steps = wrapper.estimator_ if kind == "pipeline" else [wrapper.estimator_]
    assert all("fit" not in vars(step) for step in steps)
    truth = KINDS[kind]().fit(*plain(X1, y1))
    final = wrapper.estimator_[-1] if kind == "pipeline" else wrapper.estimator_
    np.testing.assert_allclose(final.coef_, (truth[-1] if kind == "pipeline" else truth).coef_)


PRIVATE_KINDS = {
    "estimator": lambda: KNeighborsClassifier(n_neighbors=3),
    "pipeline": lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=3)),
}


@pytest.mark.parametrize("kind", list(PRIVATE_KINDS))
def test_estimator_private_state_changed_in_place_records_no_run(monkeypatch, kind):
    # a KNN predicts from its private _fit_X: a change there is a change of the model
    X1, y1 = _data(0)
    store = MemoryStore()
    wrapper = stp.TracedEstimator(PRIVATE_KINDS[kind](), store=store)

    def edit(est):
        (est[-1] if kind == "pipeline" else est)._fit_X[0, 0] = 99.0

    error, est = _fit_while_other_code_acts(monkeypatch, wrapper, X1, y1, edit)
    # the truth: the model no longer holds what a fit on X1 leaves
    truth = PRIVATE_KINDS[kind]().fit(*plain(X1, y1))
    final, true_final = (est[-1], truth[-1]) if kind == "pipeline" else (est, truth)
    assert final._fit_X[0, 0] == 99.0
    assert not np.array_equal(final._fit_X, true_final._fit_X)
    assert isinstance(error, LineageError), f"recorded run {getattr(wrapper, 'lineage_', None)}"
    said = str(error)
    assert "step 'kneighborsclassifier' had its fitted state" in said
    assert "changed in place (_fit_X)" in said and "No run was recorded" in said
    assert store.list_runs().empty and not hasattr(wrapper, "lineage_")
