"""Fingerprint scheme 6: helpers reached through a module attribute.

Scheme 5 (``fingerprint_v5``) hashed a user function's global that is a module by the
module's name only, so a helper the function calls as ``mymod.helper(X)`` (``import
mymod``, ``from . import _utils``) was not part of the fingerprint: the helper edited
and reloaded, or replaced at run time (``mymod.helper = other``), left it unchanged (a
silent match). Each case writes modules to ``tmp_path``, imports them, fits, then edits
the file and reloads, or patches, and checks ``fingerprint`` and ``fingerprint_v5``.
"""

import importlib
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sktraceprop._lineage import _fingerprint_cache
from sktraceprop._lineage._fingerprint import fingerprint, fingerprint_v5
from sktraceprop._lineage._fingerprint_attrs import attribute_chains

X = np.arange(24, dtype=float).reshape(12, 2) - 11
Y = np.arange(12) % 2

_HELPERS = """
import numpy as np
SCALE = {scale!r}
def helper(X):
    return np.asarray(X) * SCALE {op} 1
def twice(X):
    return helper(helper(X))
"""
_PKG_UTILS = """
def helper(X):
    return X {op} 2
"""
_PKG_STEPS = """
from . import _utils
def scaled(X):
    return _utils.helper(X)
"""
_USER = """
import math
import os
import numpy as np
import {helpers}
from sklearn.base import BaseEstimator, TransformerMixin
def through_module(X):
    return {helpers}.helper(X)
def through_two(X):
    return {helpers}.twice(X)
def with_numpy(X):
    return np.log1p(np.abs(X)) + math.sqrt(2) + os.path.sep.count("/")
class Step(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self
    def transform(self, X):
        return {helpers}.helper(X)
"""


def _fresh(path):
    """After ``path`` is written: no bytecode cached for its folder (a rewrite of the same
    size within the same second would otherwise be read from the stale ``.pyc``)."""
    shutil.rmtree(path.parent / "__pycache__", ignore_errors=True)
    importlib.invalidate_caches()


@pytest.fixture
def modules(tmp_path, request):
    """Writes and imports ``helpers``, ``user`` and the package ``pkg`` (names unique to
    the test); yields ``(write, load)``: ``write(name, source)`` writes a module's file,
    ``load(name)`` imports or reloads it."""
    tag = f"fp6_{abs(hash(request.node.name)) % 10**8}"
    sys.path.insert(0, str(tmp_path))
    names = []

    def write(name, source):
        path = tmp_path / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            textwrap.dedent(source).replace("{helpers}", f"{tag}_helpers").replace("{tag}", tag)
        )
        _fresh(path)

    def load(name):
        full = f"{tag}_{name}"
        if full in sys.modules:
            return importlib.reload(sys.modules[full])
        names.append(full)
        return importlib.import_module(full)

    write(f"{tag}_helpers", _HELPERS.format(scale=2.0, op="+"))
    write(f"{tag}_user", _USER)
    write(f"{tag}_pkg/__init__", "")
    write(f"{tag}_pkg/_utils", _PKG_UTILS.format(op="+"))
    write(f"{tag}_pkg/steps", _PKG_STEPS)
    yield (lambda name, source: write(f"{tag}_{name}", source)), load
    sys.path.remove(str(tmp_path))
    for name in names:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
    _fingerprint_cache.clear()


def _steps(user, pkg_steps):
    return [
        FunctionTransformer(func=user.through_module).fit(X),
        FunctionTransformer(func=user.through_two).fit(X),
        FunctionTransformer(func=pkg_steps.scaled).fit(X),
        user.Step().fit(X),
    ]


def test_an_edited_helper_reloaded_is_seen(modules):
    write, load = modules
    helpers, user, steps = load("helpers"), load("user"), load("pkg.steps")
    fitted = _steps(user, steps)
    before = [fingerprint(s) for s in fitted]
    before_v5 = [fingerprint_v5(s) for s in fitted]
    write("helpers", _HELPERS.format(scale=2.0, op="-"))
    write("pkg/_utils", _PKG_UTILS.format(op="-"))
    load("helpers"), load("pkg._utils")
    after = [fingerprint(s) for s in fitted]
    # the defect: scheme 5 saw none of the edits
    assert [fingerprint_v5(s) for s in fitted] == before_v5
    assert all(a != b for a, b in zip(after, before))
    # the helpers' behaviour did change (the slow truth: what the steps now compute)
    np.testing.assert_allclose(fitted[0].transform(X), X * 2.0 - 1)
    np.testing.assert_allclose(fitted[2].transform(X), X - 2)
    assert helpers.helper is sys.modules[helpers.__name__].helper


def test_an_unchanged_helper_reloaded_keeps_the_fingerprint(modules):
    _, load = modules
    load("helpers"), load("pkg._utils")
    user, steps = load("user"), load("pkg.steps")
    fitted = _steps(user, steps)
    before = [fingerprint(s) for s in fitted]
    load("helpers"), load("pkg._utils")  # read again from the same files
    assert [fingerprint(s) for s in fitted] == before
    user, steps = load("user"), load("pkg.steps")
    assert [fingerprint(s) for s in _steps(user, steps)] == before


def test_a_helper_or_a_method_patched_after_fit_is_seen(modules):
    _, load = modules
    helpers, user, steps = load("helpers"), load("user"), load("pkg.steps")
    fitted = _steps(user, steps)
    before = [fingerprint(s) for s in fitted]
    before_v5 = [fingerprint_v5(s) for s in fitted]
    original = helpers.helper
    helpers.helper = lambda X: X * 7
    try:
        patched = [fingerprint(s) for s in fitted]
        assert patched[0] != before[0] and patched[1] != before[1]
        assert patched[3] != before[3]
        assert patched[2] == before[2]  # pkg._utils untouched
        np.testing.assert_allclose(fitted[0].transform(X), X * 7)
        assert [fingerprint_v5(s) for s in fitted] == before_v5  # the defect
    finally:
        helpers.helper = original
    assert [fingerprint(s) for s in fitted] == before
    del helpers.helper  # gone from its module: said so, not an error
    try:
        gone = fingerprint(fitted[0])
        assert gone not in (before[0], fingerprint(fitted[1]))
    finally:
        helpers.helper = original
    assert [fingerprint(s) for s in fitted] == before
    utils = sys.modules[steps.__name__.rpartition(".")[0] + "._utils"]
    kept = utils.helper
    utils.helper = lambda X: X
    try:
        assert fingerprint(fitted[2]) != before[2]
    finally:
        utils.helper = kept
    cls = type(fitted[3])
    method = cls.transform
    cls.transform = lambda self, X: X
    try:
        assert fingerprint(fitted[3]) != before[3]
    finally:
        cls.transform = method
    assert [fingerprint(s) for s in fitted] == before


def test_a_constant_of_the_helpers_module_is_seen(modules):
    """``helper`` reads ``SCALE``, a global of its own module: an edit is seen, through
    the helper's code (the module attribute followed, then the helper's globals)."""
    write, load = modules
    helpers, user = load("helpers"), load("user")
    step = FunctionTransformer(func=user.through_module).fit(X)
    before = fingerprint(step)
    helpers.SCALE = 3.0
    assert fingerprint(step) != before
    helpers.SCALE = 2.0
    assert fingerprint(step) == before


def test_code_without_module_attributes_of_user_code_keeps_scheme_5s_value(modules):
    """``np.log1p``, ``math.sqrt``, ``os.path.sep``: modules of a recorded package and
    of the standard library are not followed (named by module, as in scheme 5)."""
    _, load = modules
    user = load("user")
    steps = [
        FunctionTransformer(func=user.with_numpy).fit(X),
        FunctionTransformer(func=lambda X: np.log1p(np.abs(X))).fit(X),
        make_pipeline(FunctionTransformer(func=np.abs), LogisticRegression()).fit(X, Y),
    ]
    for step in steps:
        assert fingerprint(step) == fingerprint_v5(step)


_RING = """
import {tag}_ring_{other} as other
def f(X, n=3):
    return X if n == 0 else other.f(X * {factor}, n - 1)
"""


def test_cycles_between_helper_modules_are_hashed_stably(modules):
    """``ring_a.f`` calls ``ring_b.f``, which calls ``ring_a.f``: a cycle through module
    attributes is cut, and each side's edit is still seen."""
    write, load = modules
    write("ring_a", _RING.replace("{other}", "b").replace("{factor}", "2"))
    write("ring_b", _RING.replace("{other}", "a").replace("{factor}", "3"))
    ring_a = load("ring_a")
    ring_b = load("ring_b")
    step = FunctionTransformer(func=ring_a.f).fit(X)
    before = fingerprint(step)
    assert fingerprint(step) == before
    write("ring_b", _RING.replace("{other}", "a").replace("{factor}", "4"))
    load("ring_b")
    assert fingerprint(step) != before
    assert ring_b.f is not None


@settings(deadline=None, max_examples=25)
@given(chain=st.lists(st.sampled_from(["sub", "helper", "x"]), min_size=1, max_size=4))
@example(chain=["sub", "helper"])
def test_attribute_chains_are_read_from_the_code(chain):
    """The chains the code reads (the slow truth: the source's dotted names)."""
    import types

    dotted = ".".join(["mod", *chain])
    source = f"def f(X):\n    y = {dotted}\n    return {dotted}(X)\n"
    scope = {}
    exec(source, scope)
    chains = attribute_chains(scope["f"].__code__)
    assert chains == {"mod": (tuple(chain),)}
    assert isinstance(scope["f"], types.FunctionType)


_EDITS = st.tuples(st.sampled_from([1.0, 2.0, 2.5]), st.sampled_from(["+", "-", "*"]))


@settings(deadline=None, max_examples=15)
@given(first=_EDITS, second=_EDITS)
@example(first=(2.0, "+"), second=(2.0, "-"))
@example(first=(2.0, "+"), second=(2.0, "+"))
def test_an_alarm_iff_the_helpers_source_changed(first, second):
    """The helper module written with ``first`` then rewritten with ``second`` and
    reloaded: the step's fingerprint changes exactly when the source does (the slow
    truth: the two sources compared as text)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        tag = f"fp6_prop_{abs(hash((first, second))) % 10**8}"
        helpers_name = f"{tag}_helpers"
        sys.path.insert(0, folder)
        try:
            path = Path(folder) / f"{helpers_name}.py"
            path.write_text(textwrap.dedent(_HELPERS.format(scale=first[0], op=first[1])))
            source = textwrap.dedent(_USER).replace("{helpers}", helpers_name)
            (Path(folder) / f"{tag}_user.py").write_text(source)
            _fresh(path)
            helpers = importlib.import_module(helpers_name)
            user = importlib.import_module(f"{tag}_user")
            step = FunctionTransformer(func=user.through_two).fit(X)
            before = fingerprint(step)
            path.write_text(textwrap.dedent(_HELPERS.format(scale=second[0], op=second[1])))
            _fresh(path)
            importlib.reload(helpers)
            assert (fingerprint(step) != before) == (first != second)
        finally:
            sys.path.remove(folder)
            for name in (helpers_name, f"{tag}_user"):
                sys.modules.pop(name, None)
