"""A traced imbalanced-learn pipeline whose sampler another thread resamples while it fits.

imbalanced-learn fits a sampler by ``fit_resample``, which the watch of a traced fit's
steps did not see: a sampler shared with other code and resampled on other rows after
the pipeline's fit of it returned left ``sample_indices_`` of the other fit, and the run
named the rows those indices pick, not the rows the model was trained on (with a step
between the sampler and the model: 30 row ids, 13 of them rows the model never saw), with
no error; where the rows' ids reached the model, the run was refused as rows paired with
other rows' targets. The pipeline's thread is held after its steps' fits, before the run
is built (an event, no sleep), while the test resamples the shared sampler.
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

pytest.importorskip("imblearn")
from imblearn.under_sampling import RandomUnderSampler  # noqa: E402


def _data(seed, n=60):
    # (the same class counts in both: the other fit keeps as many rows, not the same)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return stp.from_numpy(X, f"shared_sampler_{seed}"), np.arange(n) % 4 == seed


BY = {
    "through-the-step": lambda step, X, y: step.fit_resample(np.asarray(X), y),
    "through-its-class": lambda step, X, y: type(step).fit_resample(step, np.asarray(X), y),
}
LAYOUTS = {
    # the rows' ids reach the model (checked there), or do not (a step between)
    "sampler-model": lambda s: [("s", s), ("lr", LogisticRegression())],
    "sampler-scaler-model": lambda s: [
        ("s", s),
        ("sc", StandardScaler()),
        ("lr", LogisticRegression()),
    ],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("how", list(BY))
def test_a_sampler_resampled_elsewhere_during_the_fit_records_no_run(monkeypatch, how, layout):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    store = MemoryStore()
    sampler = RandomUnderSampler(random_state=0)
    pipe = stp.TracedImbPipeline(LAYOUTS[layout](sampler), store=store)
    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, lambda: BY[how](sampler, X2, y2))
    # the truth: the sampler holds the other fit's indices, not those of this fit's rows
    mine = clone(sampler)
    mine.fit_resample(np.asarray(X1), y1)
    other = clone(sampler)
    other.fit_resample(np.asarray(X2), y2)
    np.testing.assert_array_equal(sampler.sample_indices_, other.sample_indices_)
    assert not np.array_equal(sampler.sample_indices_, mine.sample_indices_)
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    assert "step 's'" in str(error) and "No run was recorded" in str(error), str(error)
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


def test_a_sampler_resampled_elsewhere_before_the_fit_is_not_refused():
    # resampled by other code before (not during) the fit: the run names the rows kept
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    store = MemoryStore()
    sampler = RandomUnderSampler(random_state=0)
    pipe = stp.TracedImbPipeline(LAYOUTS["sampler-scaler-model"](sampler), store=store)
    done = threading.Thread(target=lambda: BY["through-the-step"](sampler, X2, y2), name="other")
    done.start()
    done.join(WAIT_S)
    pipe.fit(X1, y1)
    mine = clone(sampler)
    mine.fit_resample(np.asarray(X1), y1)
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
    np.testing.assert_array_equal(pipe.lineage_.row_ids, X1.index.to_numpy()[mine.sample_indices_])
