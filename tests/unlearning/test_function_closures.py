"""A FunctionTransformer whose function holds an array computed from the training data
(a mean in a closure, a default, kw_args, a partial, a global) keeps the removed rows'
influence after the unlearner refits its pipeline: refitting a FunctionTransformer
recomputes nothing. Before, this was only documented; the removal now names the step in
a warning and in its event's caveat.

The independent truth: the closure's mean after the removal is still the mean over all
rows, removed ones included (not that of the retained rows).
"""

import functools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner
from sktraceprop.unlearning._closures import functions_holding_arrays

GLOBAL_MU = np.zeros(3)


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return stp.from_numpy(X, source_id="clos"), y


def _unlearn(model, X, y, removed):
    unl = GradientCorrectionUnlearner(model, preprocessing="refit").fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unl.unlearn(sample_id=stp.row_ids(X)[removed])
    return unl.unlearning_log_[-1], [str(w.message) for w in caught]


def _centre(X, mu):
    return X - mu


def _makers(mu):
    """Ways a function can hold the training mean ``mu``, and where that is said."""

    def closure():
        return FunctionTransformer(lambda Z: Z - mu), "func closure 'mu'"

    def default():
        def f(Z, m=mu):
            return Z - m

        return FunctionTransformer(f), "func default 0"

    def kw_args():
        return FunctionTransformer(_centre, kw_args={"mu": mu}), "kw_args 'mu'"

    def partial():
        return FunctionTransformer(functools.partial(_centre, mu=mu)), "func partial keyword 'mu'"

    def global_():
        GLOBAL_MU[:] = mu
        return FunctionTransformer(lambda Z: Z - GLOBAL_MU), "func global 'GLOBAL_MU'"

    return {
        "closure": closure,
        "default": default,
        "kw_args": kw_args,
        "partial": partial,
        "global": global_,
    }


@pytest.mark.parametrize("how", ["closure", "default", "kw_args", "partial", "global"])
def test_a_function_holding_a_training_mean_is_named_at_unlearn(how):
    X, y = _data()
    mu = np.asarray(X).mean(axis=0)
    step, where = _makers(mu)[how]()
    event, messages = _unlearn(make_pipeline(step, LogisticRegression()), X, y, [0, 1, 2])
    said = [m for m in messages if "FunctionTransformer step(s) hold arrays" in m]
    assert len(said) == 1 and "'functiontransformer'" in said[0] and where in said[0]
    assert said[0] in event["caveat"]
    # the truth: the refitted step still centres on the mean over all rows
    held = functions_holding_arrays(make_pipeline(step))
    assert held == [("functiontransformer", [where])]
    kept = np.asarray(X)[3:]
    out = np.asarray(kept) - mu
    assert not np.allclose(kept.mean(axis=0), mu)
    np.testing.assert_allclose(np.asarray(step.fit(kept).transform(kept)), out)


def test_a_nested_step_is_named_by_its_path():
    X, y = _data()
    mu = np.asarray(X).mean(axis=0)
    ct = ColumnTransformer([("centre", FunctionTransformer(lambda Z: Z - mu[:2]), [0, 1])])
    _, messages = _unlearn(make_pipeline(ct, LogisticRegression()), X, y, [5])
    said = [m for m in messages if "FunctionTransformer step(s) hold arrays" in m]
    assert len(said) == 1 and "'columntransformer__centre'" in said[0]


def test_stateless_functions_are_not_named():
    X, y = _data()
    k = 2.0  # a scalar computed from nothing: not an array
    model = make_pipeline(
        FunctionTransformer(np.log1p),
        FunctionTransformer(lambda Z: Z * k),
        StandardScaler(),
        LogisticRegression(),
    )
    event, messages = _unlearn(model, np.abs(X), y, [0])
    assert not [m for m in messages if "FunctionTransformer step(s)" in m]
    assert "FunctionTransformer step(s)" not in event.get("caveat", "")


@settings(deadline=None, max_examples=15)
@given(
    holds=st.lists(st.booleans(), min_size=1, max_size=4),
    wrap=st.sampled_from(["list", "dict", "bare"]),
)
def test_exactly_the_steps_holding_arrays_are_named(holds, wrap):
    """Property: over pipelines of FunctionTransformers, some closing over an array
    (bare, in a list, in a dict) and some over a scalar, exactly the former are named."""
    steps = []
    for h in holds:
        value = np.ones(3) if h else 1.0
        value = {"list": [value], "dict": {"v": value}, "bare": value}[wrap]
        steps.append(FunctionTransformer(lambda Z, v=None, held=value: Z))
    pipe = make_pipeline(*steps)
    named = {path for path, _ in functions_holding_arrays(pipe)}
    expected = {f"functiontransformer-{i + 1}" for i, h in enumerate(holds) if h}
    if len(holds) == 1:
        expected = {"functiontransformer"} if holds[0] else set()
    assert named == expected
