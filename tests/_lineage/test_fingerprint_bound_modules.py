"""Scheme 6 follows a module bound to a user function's argument outside its code: a
``FunctionTransformer``'s ``kw_args``/``inv_kw_args`` or a ``functools.partial``'s
arguments. What the function reads of that argument is followed as from a default
(an edit of the helper it calls is seen); an attribute it does not read is not hashed.
The slow truth beside each fingerprint is the transform's output."""

import functools
import importlib
import shutil
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import FunctionTransformer

from sktraceprop._lineage import _fingerprint_cache, _fingerprint_imports
from sktraceprop._lineage._fingerprint import fingerprint

X = np.arange(12, dtype=float).reshape(6, 2) - 5

_HELPERS = """
SCALE = 2.0
UNREAD = [1, 2]


def helper(X):
    return X * SCALE * {factor!r}


def unused(X):
    return X
"""

_USER = """
def scaled(X, h=None):
    return h.helper(X)


def scaled_first(h, X):
    return h.helper(X)
"""

#: The ways a step binds the helpers module to the function's argument h.
_BINDINGS = ("kw_args", "inv_kw_args", "partial_keyword", "partial_positional")


@pytest.fixture
def modules(tmp_path, request):
    tag = f"fpb_{abs(hash(request.node.name)) % 10**8}"
    sys.path.insert(0, str(tmp_path))

    def write(name, source):
        (tmp_path / f"{tag}_{name}.py").write_text(textwrap.dedent(source))
        shutil.rmtree(tmp_path / "__pycache__", ignore_errors=True)
        importlib.invalidate_caches()

    def load(name):
        full = f"{tag}_{name}"
        if full in sys.modules:
            return importlib.reload(sys.modules[full])
        return importlib.import_module(full)

    write("helpers", _HELPERS.format(factor=1.0))
    write("user", _USER)
    yield write, load
    sys.path.remove(str(tmp_path))
    for name in ("helpers", "user"):
        sys.modules.pop(f"{tag}_{name}", None)
    _fingerprint_cache.clear()
    _fingerprint_imports.clear()


def _step(binding, user, helpers):
    if binding == "kw_args":
        step = FunctionTransformer(func=user.scaled, kw_args={"h": helpers})
    elif binding == "inv_kw_args":
        step = FunctionTransformer(
            inverse_func=user.scaled, inv_kw_args={"h": helpers}, check_inverse=False
        )
    elif binding == "partial_keyword":
        step = FunctionTransformer(func=functools.partial(user.scaled, h=helpers))
    else:
        step = FunctionTransformer(func=functools.partial(user.scaled_first, helpers))
    return step.fit(X)


def _output(step, binding):
    return step.inverse_transform(X) if binding == "inv_kw_args" else step.transform(X)


@pytest.mark.parametrize("binding", _BINDINGS)
def test_an_edit_of_the_helper_called_through_the_argument_is_seen(modules, binding):
    write, load = modules
    step = _step(binding, load("user"), load("helpers"))
    np.testing.assert_allclose(_output(step, binding), X * 2.0)
    before = fingerprint(step)
    write("helpers", _HELPERS.format(factor=1.5))  # the helper's code edited in its file
    load("helpers")  # (the same module object, reloaded)
    np.testing.assert_allclose(_output(step, binding), X * 3.0)  # the slow truth
    assert fingerprint(step) != before
    write("helpers", _HELPERS.format(factor=1.0))
    load("helpers")
    assert fingerprint(step) == before


@pytest.mark.parametrize("binding", _BINDINGS)
def test_an_attribute_the_function_does_not_read_is_not_hashed(modules, binding):
    _, load = modules
    helpers = load("helpers")
    step = _step(binding, load("user"), helpers)
    before = fingerprint(step)
    helpers.UNREAD.append(3)
    helpers.unused = lambda X: X + 1
    np.testing.assert_allclose(_output(step, binding), X * 2.0)  # output unchanged
    assert fingerprint(step) == before


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(_BINDINGS), st.sampled_from([2.0, 2.5, -1.0, 0.0]))
def test_a_global_the_helper_reads_replaced_at_run_time(tmp_path_factory, binding, scale):
    """The fingerprint differs from the one at fit exactly when the output does."""
    path = tmp_path_factory.mktemp("bound")
    tag = f"fpbh_{abs(hash(path)) % 10**8}"
    (path / f"{tag}_helpers.py").write_text(_HELPERS.format(factor=1.0))
    (path / f"{tag}_user.py").write_text(_USER)
    sys.path.insert(0, str(path))
    try:
        helpers = importlib.import_module(f"{tag}_helpers")
        step = _step(binding, importlib.import_module(f"{tag}_user"), helpers)
        before, out = fingerprint(step), _output(step, binding)
        helpers.SCALE = scale
        changed = not np.array_equal(_output(step, binding), out)
        assert (fingerprint(step) != before) == changed
    finally:
        sys.path.remove(str(path))
        for name in ("helpers", "user"):
            sys.modules.pop(f"{tag}_{name}", None)
        _fingerprint_cache.clear()
