"""A traced pipeline holding a pipeline among its steps, whose inner step object another
thread fits (or changes in place) while the traced pipeline fits.

The inner pipeline was watched as one step: such a fit was refused as a change of that
pipeline's ``steps``, not named as the fit it was. Its steps are now watched as steps
(named ``outer__inner``, as their parameters are), so the refusal names the inner step
and what happened; a nested pipeline given ``memory=`` has its fitted clones watched.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from sktraceprop.stores import MemoryStore
from tests._gate import fit_while_other_code_fits, plain, shifted_data


def _traced(memory=None, deeper=False):
    inner = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=2))], memory=memory)
    if deeper:  # a pipeline inside the inner one
        inner = Pipeline([("outer_pre", Pipeline([("inner", inner)])), ("pass", "passthrough")])
    store = MemoryStore()
    pipe = stp.TracedPipeline([("prep", inner), ("lr", LogisticRegression())], store=store)
    return pipe, store


def _inner(pipe, deeper):
    prep = pipe.named_steps["prep"]
    return prep.steps[0][1].steps[0][1] if deeper else prep


NAMES = {False: "prep__scale", True: "prep__outer_pre__inner__scale"}


@pytest.mark.parametrize("deeper", [False, True])
def test_an_inner_step_fitted_elsewhere_is_named(monkeypatch, deeper):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    pipe, store = _traced(deeper=deeper)
    scaler = _inner(pipe, deeper).named_steps["scale"]
    error = fit_while_other_code_fits(
        monkeypatch, pipe, X1, y1, lambda: scaler.fit(*plain(X2, y2))
    )
    # the truth: the shared inner step holds the other fit's state
    np.testing.assert_array_equal(scaler.mean_, clone(scaler).fit(*plain(X2, y2)).mean_)
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    message = str(error)
    assert f"step {NAMES[deeper]!r} was fitted in thread 'MainThread'" in message, message
    assert "(steps)" not in message, message
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


def test_an_inner_step_changed_in_place_is_named(monkeypatch):
    X1, y1 = _data(0)
    pipe, store = _traced()
    scaler = pipe.named_steps["prep"].named_steps["scale"]

    def other():
        scaler.mean_ += 1.0

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    assert isinstance(error, LineageError)
    message = str(error)
    assert "step 'prep__scale' had its fitted state replaced or changed in place (mean_" in (
        message
    ), message
    assert "'prep' had" not in message, message
    assert store.list_runs().empty


def test_an_inner_step_replaced_is_named(monkeypatch):
    X1, y1 = _data(0)
    pipe, store = _traced()
    prep = pipe.named_steps["prep"]

    def other():
        prep.steps[1] = ("pca", PCA(n_components=2).fit(plain(X1, y1)[0]))

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    assert isinstance(error, LineageError)
    assert "step 'prep__pca' is no longer the object fitted here" in str(error), str(error)
    assert store.list_runs().empty


def test_nested_pipelines_fitted_alone_record_their_run():
    # nothing done elsewhere: the run is recorded, as the same pipeline fitted untraced
    X, y = _data(0)
    for deeper in (False, True):
        pipe, store = _traced(deeper=deeper)
        pipe.fit(X, y)
        assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
        plain_pipe = make_pipeline(clone(pipe.steps[0][1]), LogisticRegression())
        plain_pipe.fit(*plain(X, y))
        np.testing.assert_array_equal(pipe.predict(X), plain_pipe.predict(plain(X, y)[0]))


def test_a_nested_pipeline_with_memory_watches_its_clones(monkeypatch, tmp_path):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    pipe, store = _traced(memory=str(tmp_path))
    given = pipe.named_steps["prep"].named_steps["scale"]
    # the step object given is not the one fitted (a clone is): a fit of it is no change
    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, lambda: given.fit(*plain(X2, y2)))
    assert error is None, error
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
    # the clone fitted in its place, fitted elsewhere: refused, named
    pipe2, store2 = _traced(memory=str(tmp_path))

    def other():
        fitted = pipe2.named_steps["prep"].named_steps["scale"]
        fitted.fit(*plain(X2, y2))

    error = fit_while_other_code_fits(monkeypatch, pipe2, X1, y1, other)
    assert isinstance(error, LineageError), "recorded a run"
    assert "step 'prep__scale' was fitted in thread 'MainThread'" in str(error), str(error)
    assert store2.list_runs().empty


def _data(seed):
    return shifted_data(seed, "nested_step")
