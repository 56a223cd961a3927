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
from tests._gate import WAIT_S, fit_while_other_code_fits


def _data(seed, n=60):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=3.0 * seed, size=(n, 2))
    return stp.from_numpy(X, f"shared_step_{seed}"), X[:, 0] > 3.0 * seed


def _plain(X, y):
    return np.asarray(X, dtype=float), np.asarray(y)


BY_ATTRIBUTE = {
    # the other code fits the shared object as anyone does (through its attribute)
    "through-the-step": lambda step, X, y: step.fit(*_plain(X, y)),
    # or through its class, around what a traced fit watches
    "through-its-class": lambda step, X, y: type(step).fit(step, *_plain(X, y)),
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
    other = clone(step).fit(*_plain(X2, y2))
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
    done = threading.Thread(target=lambda: lr.fit(*_plain(X2, y2)), name="other")
    done.start()
    done.join(WAIT_S)
    pipe.fit(X1, y1)
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
    np.testing.assert_array_equal(pipe.lineage_.row_ids, X1.index.to_numpy())
