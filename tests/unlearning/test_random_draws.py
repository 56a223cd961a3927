"""Preprocessing that draws randomly without an int seed: a refit cannot equal a retrain,
and the removal's event says so; seeded, or seed-independent, it says nothing."""

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectFromModel
from sklearn.kernel_approximation import Nystroem, RBFSampler
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import KBinsDiscretizer, StandardScaler, TargetEncoder

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner
from sktraceprop.unlearning._random_draws import unseeded_random_states

NOTE = "draw randomly at fit without an int seed"


def _data(n=(60, 40), seed=0):
    rng = np.random.default_rng(seed)
    frames, ys = [], []
    for k, m in enumerate(n):
        Xk = pd.DataFrame(rng.normal(size=(m, 4)) + 0.3 * k, columns=list("abcd"))
        frames.append(stp.from_pandas(Xk, source_id=f"draws_{seed}_{k}"))
        ys.append((Xk["a"] - Xk["b"] + rng.normal(scale=0.7, size=m) > 0.3 * k).astype(int))
    return pd.concat(frames), np.concatenate(ys)


def _unlearn(steps, X, y, forget):
    pipe = stp.make_traced_pipeline(
        StandardScaler(), *steps, LogisticRegression(tol=1e-12, max_iter=10_000)
    )
    unl = GradientCorrectionUnlearner(pipe, forget=forget, tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (convergence of the random forest's selection)
        unl.fit(X, y)
    return pipe, unl


def test_an_unseeded_random_step_is_named_in_the_removal_note():
    """RBFSampler(random_state=None) refitted on the retained rows draws other features
    than any retrain: the event said nothing and claimed the certificate of an exact
    correction; now it names the step (and only the steps whose draw matters)."""
    X, y = _data()
    steps = [KBinsDiscretizer(n_bins=3, encode="ordinal"), RBFSampler(n_components=15)]
    _, unl = _unlearn(steps, X, y, "draws_0_1")
    note = unl.unlearning_log_[0]["note"]
    assert f"step(s) rbfsampler {NOTE}" in note
    assert "kbinsdiscretizer" not in note  # its random_state is unused here
    # measured once: the next removal says it again
    unl.unlearn(sample_id=stp.row_ids(X)[:3])
    assert f"step(s) rbfsampler {NOTE}" in unl.unlearning_log_[1]["note"]


def test_a_random_state_instance_is_not_a_seed_for_a_refit():
    """A RandomState instance is advanced by the unlearner's fit: the refit draws from
    another state than a retrain from the unfitted pipeline, and the note says so."""
    X, y = _data(seed=1)
    rs = np.random.RandomState(0)
    pipe, unl = _unlearn([Nystroem(n_components=12, random_state=rs)], X, y, "draws_1_0")
    assert f"step(s) nystroem {NOTE}" in unl.unlearning_log_[0]["note"]
    keep = stp.row_lineage(X)["source_id"].ne("draws_1_0").to_numpy()
    retrain = clone(pipe).fit(X[keep], y[keep])
    assert not np.allclose(unl.decision_function(X), retrain.decision_function(X), atol=1e-3)


def test_seeded_random_steps_equal_a_retrain_and_need_no_note():
    X, y = _data(seed=2)
    steps = [
        RBFSampler(n_components=15, random_state=0),
        SelectFromModel(RandomForestClassifier(n_estimators=5, random_state=0)),
        PCA(n_components=3),  # random_state=None, but the full solver draws nothing
    ]
    pipe, unl = _unlearn(steps, X, y, "draws_2_1")
    assert NOTE not in unl.unlearning_log_[0].get("note", "")
    keep = stp.row_lineage(X)["source_id"].ne("draws_2_1").to_numpy()
    retrain = clone(pipe).fit(X[keep], y[keep])
    assert_allclose(unl.decision_function(X), retrain.decision_function(X), atol=1e-5)


def test_an_unseeded_selection_model_is_named_by_its_path():
    X, y = _data(seed=3)
    steps = [SelectFromModel(RandomForestClassifier(n_estimators=5), max_features=2)]
    _, unl = _unlearn(steps, X, y, "draws_3_1")
    assert f"step(s) selectfrommodel__estimator {NOTE}" in unl.unlearning_log_[0]["note"]


_SEEDS = st.one_of(
    st.none(),
    st.integers(0, 2**31 - 1),
    st.integers(0, 99).map(np.random.RandomState),
    st.integers(0, 99).map(np.random.default_rng),
)


@settings(max_examples=60, deadline=None)
@given(seeds=st.lists(_SEEDS, min_size=1, max_size=4))
def test_unseeded_random_states_are_exactly_the_non_int_seeds(seeds):
    """Any pipeline of steps with and without seeds, nested or not: the paths named are
    exactly those whose seed is not an int (TargetEncoder's left to its own note)."""
    steps, expected = [], []
    for k, seed in enumerate(seeds):
        if k % 2:
            steps.append((f"s{k}", SelectFromModel(RandomForestClassifier(random_state=seed))))
            path = f"s{k}__estimator__random_state"
        else:
            steps.append((f"s{k}", RBFSampler(random_state=seed)))
            path = f"s{k}__random_state"
        if not isinstance(seed, int):
            expected.append(path)
    steps.append(("te", TargetEncoder()))  # its random_state is None: not named here
    pipe = Pipeline(steps)
    assert unseeded_random_states(pipe) == expected
