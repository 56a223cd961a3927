"""Fingerprint scheme 3: user functions and classes are told apart by their code.

Scheme 2 named every function and class by module and qualified name, so each pair
below had one fingerprint (asserted on ``fingerprint_v2``, the same walk with functions
named): scheme 3 must tell them apart, while the same source text, in this process or
another, gives one fingerprint, and a model without user code keeps scheme 2's value.
"""

import functools
import subprocess
import sys
import textwrap
import types
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._current import changed_steps, check_unchanged
from sktraceprop._lineage._fingerprint import fingerprint, fingerprint_v2
from sktraceprop.exceptions import LineageError

X = np.arange(24, dtype=float).reshape(12, 2)
Y = np.arange(12) % 2


def _module(source, name="user_code"):
    """A module of user code made from ``source`` (as a script or notebook defines it)."""
    module = types.ModuleType(name)
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)
    return module


def _closure(k):
    return lambda X: X * k


def _times(X, k=1):
    return X * k


_SCALER_A = StandardScaler().fit(X)
_SCALER_B = StandardScaler().fit(X * 3)

_CLASS = """
from sklearn.base import BaseEstimator, TransformerMixin
class Step(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.n_ = 1
        return self
    def transform(self, X):
        return X * {k}
"""

COLLIDED = {
    "two lambdas": (
        FunctionTransformer(func=lambda X: X * 2),
        FunctionTransformer(func=lambda X: X * 3),
    ),
    "an edited function": (
        FunctionTransformer(func=_module("def f(X):\n    return X * 2\n").f),
        FunctionTransformer(func=_module("def f(X):\n    return X + 2\n").f),
    ),
    "closures over other values": (
        FunctionTransformer(func=_closure(2)),
        FunctionTransformer(func=_closure(3)),
    ),
    "a global it names": (
        FunctionTransformer(func=_module("K = 2\ndef f(X):\n    return X * K\n").f),
        FunctionTransformer(func=_module("K = 3\ndef f(X):\n    return X * K\n").f),
    ),
    "partials of lambdas": (
        FunctionTransformer(func=functools.partial(lambda X, k: X * k, k=2)),
        FunctionTransformer(func=functools.partial(lambda X, k: X + k, k=2)),
    ),
    "vectorized functions": (
        FunctionTransformer(func=np.vectorize(lambda v: v * 2)),
        FunctionTransformer(func=np.vectorize(lambda v: v * 3)),
    ),
    "a default value": (
        FunctionTransformer(func=_module("def f(X, k=2):\n    return X * k\n").f),
        FunctionTransformer(func=_module("def f(X, k=3):\n    return X * k\n").f),
    ),
    "score functions of SelectKBest": (
        # scoring these rows alike (so fitted alike), other rows not
        SelectKBest(lambda X, y: (np.arange(X.shape[1]), np.ones(X.shape[1])), k=1).fit(X, Y),
        SelectKBest(lambda X, y: (np.arange(len(X[0])), np.ones(X.shape[1])), k=1).fit(X, Y),
    ),
    "methods of two fitted scalers": (
        FunctionTransformer(func=_SCALER_A.transform),
        FunctionTransformer(func=_SCALER_B.transform),
    ),
    "an estimator class whose transform was edited": (
        _module(_CLASS.format(k=2)).Step().fit(X),
        _module(_CLASS.format(k=5)).Step().fit(X),
    ),
}


@pytest.mark.parametrize("name", list(COLLIDED))
def test_models_scheme_2_named_alike_now_differ(name):
    a, b = COLLIDED[name]
    assert fingerprint_v2(a) == fingerprint_v2(b)  # the collision of scheme 2
    assert fingerprint(a) != fingerprint(b)


def test_a_model_without_user_code_keeps_its_scheme_2_fingerprint():
    models = [
        make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y),
        OneHotEncoder().fit(np.array([["a"], ["b"]], dtype=object)),
        FunctionTransformer(func=np.log1p).fit(X),
        SelectKBest(f_classif, k=1).fit(X, Y),
        FunctionTransformer(func=functools.partial(np.round, decimals=2)).fit(X),
    ]
    for model in models:
        assert fingerprint(model) == fingerprint_v2(model)


def test_installed_functions_are_named_and_c_functions_told_apart_by_name():
    assert fingerprint(FunctionTransformer(func=np.log1p)) != fingerprint(
        FunctionTransformer(func=np.expm1)
    )


def test_recursive_functions_and_classes_are_hashed_stably():
    code = _module(
        """
        def down(X, n=2):
            return X if n == 0 else up(X, n - 1)
        def up(X, n=2):
            return down(X, n)
        """
    )
    a = fingerprint(FunctionTransformer(func=code.down))
    assert a == fingerprint(FunctionTransformer(func=code.down))
    code.up = lambda X, n=2: X  # the function it calls, redefined
    assert fingerprint(FunctionTransformer(func=code.down)) != a


_SOURCE = """
import numpy as np
from sklearn.preprocessing import FunctionTransformer

OFFSET = 1.5


def shift(X):
    '''Add the offset.'''
    return np.asarray(X) + OFFSET
"""
_PROGRAM = """
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from sklearn.preprocessing import FunctionTransformer
from sktraceprop._lineage._fingerprint import fingerprint
import userstep
print(fingerprint(FunctionTransformer(func=userstep.shift).fit(np.ones((3, 2)))))
"""


def _fingerprint_in_process(folder, source):
    (folder / "userstep.py").write_text(source)
    out = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(folder)], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_two_processes_agree_and_an_edit_between_runs_is_seen(tmp_path):
    first = _fingerprint_in_process(tmp_path, _SOURCE)
    assert _fingerprint_in_process(tmp_path, _SOURCE) == first
    # unrelated lines moved: the function's file and line numbers are not hashed
    assert _fingerprint_in_process(tmp_path, "# a comment\n\n\n" + _SOURCE) == first
    assert _fingerprint_in_process(tmp_path, _SOURCE.replace("+ OFFSET", "- OFFSET")) != first
    assert _fingerprint_in_process(tmp_path, _SOURCE.replace("1.5", "2.5")) != first


def test_a_traced_pipeline_whose_function_was_swapped_is_changed():
    """Before: the run still named the model after ``set_params`` gave its
    FunctionTransformer another lambda, so rows and explanations were claimed for a
    model that computes something else."""
    df = stp.from_pandas(pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": Y}), "fp_code_swap")
    pipe = stp.make_traced_pipeline(
        FunctionTransformer(func=lambda X: X * 2), LogisticRegression()
    ).fit(df[["a", "b"]], df["y"])
    assert changed_steps(pipe) == []
    pipe.set_params(functiontransformer__func=lambda X: X * 3)
    assert changed_steps(pipe) == ["functiontransformer"]
    with pytest.raises(LineageError, match="changed since its run"):
        check_unchanged(pipe, "testing")


def test_a_logged_call_of_a_swapped_function_says_so(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    df = stp.from_pandas(pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": Y}), "fp_code_log")
    pipe = stp.make_traced_pipeline(
        FunctionTransformer(func=_closure(2)),
        LogisticRegression(),
        store=store,
        log_predictions=True,
    ).fit(df[["a", "b"]], df["y"])
    pipe.predict(df[["a", "b"]])
    pipe.set_params(functiontransformer__func=_closure(-2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.predict(df[["a", "b"]])
    first, second = (e["payload"] for e in store.events(kind="prediction"))
    assert "changed_since_fit" not in first
    assert second["changed_since_fit"] == ["functiontransformer"]
    assert second["model_fingerprint_now"] != second["model_fingerprint"]


_names = st.sampled_from(["a", "b", "k"])
_ops = st.sampled_from(["+", "-", "*"])


@settings(max_examples=40, deadline=None)
@given(
    st.tuples(_ops, st.integers(-5, 5)),
    st.tuples(_ops, st.integers(-5, 5)),
)
def test_distinct_generated_lambdas_differ_and_equal_text_agrees(one, two):
    def made(op, k):
        source = f"f = lambda X: X {op} {k}\n"
        return FunctionTransformer(func=_module(source).f)

    same = fingerprint(made(*one)) == fingerprint(made(*two))
    assert same == (one == two)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=4)),
    st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=4)),
)
def test_closures_over_distinct_values_differ(a, b):
    same = fingerprint(FunctionTransformer(func=_closure(a))) == fingerprint(
        FunctionTransformer(func=_closure(b))
    )
    assert same == (type(a) is type(b) and repr(a) == repr(b))  # (0.0 and -0.0 differ)


class _Wrapped(TransformerMixin, BaseEstimator):
    """A user estimator holding a function in its fitted state."""

    def fit(self, X, y=None):
        self.func_ = functools.partial(_times, k=2)
        return self

    def transform(self, X):
        return self.func_(X)


def test_a_user_estimator_is_hashed_stably_across_a_pickle_round_trip():
    import pickle

    est = _Wrapped().fit(X)
    assert fingerprint(pickle.loads(pickle.dumps(est))) == fingerprint(est)


def test_upstream_steps_of_two_lambdas_are_told_apart_by_the_run():
    """Two FunctionTransformers fitted outside the pipeline on one source, X * 2 and
    X * 3, and a model fitted on the second's output: their outputs were kept under one
    fingerprint, so the run could not tell which the rows went through (listed, "not
    established"). Now it lists the one they went through and leaves the other out."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame["y"] = np.arange(60) % 2
    df = stp.from_pandas(frame, "fp_code_upstream")

    def step(func):
        ft = FunctionTransformer(func=func, feature_names_out="one-to-one")
        return stp.TracedEstimator(ft).set_output(transform="pandas")

    twice, thrice = step(lambda X: X * 2), step(lambda X: X * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twice.fit_transform(df[["a", "b"]])
        X = thrice.fit_transform(df[["a", "b"]])
        run = stp.make_traced_pipeline(LogisticRegression()).fit(X, df["y"]).lineage_
    upstream = [op for op in run.ops if op.name != "logisticregression"]
    # the truth: the values given to fit are the loaded ones times 3
    np.testing.assert_allclose(X.to_numpy(), frame[["a", "b"]].to_numpy() * 3)
    assert [op.fingerprint for op in upstream] == [fingerprint(thrice.estimator_)]
    left_out = fingerprint(twice.estimator_)[:12]
    (note,) = [n for n in run.notes if "left out of this run's ops" in n]
    assert left_out in note


def _over_module(module):
    return lambda X: module.sqrt(X)


def test_a_closure_over_a_module_names_the_module():
    """A class defined in a function closes over the modules it uses (``torch``): the
    module is named, its namespace not walked (it failed on torch's tensor types)."""
    import math

    a = fingerprint(FunctionTransformer(func=_over_module(np)))
    assert a == fingerprint(FunctionTransformer(func=_over_module(np)))
    assert a != fingerprint(FunctionTransformer(func=_over_module(math)))
    torch = pytest.importorskip("torch")
    fingerprint(FunctionTransformer(func=_over_module(torch)))  # no longer raises


class _Counted(TransformerMixin, BaseEstimator):
    """A user step that counts its calls in a class attribute."""

    calls = 0

    def fit(self, X, y=None):
        self.n_ = 1
        return self

    def transform(self, X):
        type(self).calls += 1
        return X


def test_state_user_code_keeps_with_use_does_not_change_the_fingerprint():
    """A class-level counter and a global a function assigns change with every call:
    the fitted model did not (an unlearner refused a removal after a transform)."""
    step = _Counted().fit(X)
    before = fingerprint(step)
    step.transform(X)
    assert fingerprint(step) == before
    code = _module(
        """
        calls = 0
        def f(X):
            global calls
            calls += 1
            return X
        """
    )
    ft = FunctionTransformer(func=code.f).fit(X)
    before = fingerprint(ft)
    ft.transform(X)
    assert code.calls == 1 and fingerprint(ft) == before
