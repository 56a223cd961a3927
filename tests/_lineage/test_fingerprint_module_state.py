"""Scheme 6 and the modules a user function reaches: module-level caches are state (no
false "changed"), and a module reached through a local alias, an argument's default,
``importlib.import_module`` or ``__import__`` with a constant name is followed.

Each case writes modules to ``tmp_path`` and imports them. The slow truth beside each:
what the step computes (an edit it runs changes its output), and which attributes the
function reads (by its source).
"""

import importlib
import shutil
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import FunctionTransformer

from sktraceprop._lineage import _fingerprint_cache, _fingerprint_imports
from sktraceprop._lineage._fingerprint import fingerprint, fingerprint_v5
from sktraceprop._lineage._fingerprint_scopes import SCOPE

X = np.arange(12, dtype=float).reshape(6, 2) - 5

_HELPERS = """
import collections
import functools
SCALE = {scale!r}
UNREAD = [1, 2]
_MEMO = {{}}
_SEEN = collections.deque(maxlen=5)
calls = 0
def helper(X):
    global calls
    calls += 1
    _MEMO[len(_MEMO)] = calls
    _SEEN.append(calls)
    return X * SCALE * _twice(1)
@functools.lru_cache(maxsize=None)
def _twice(n):
    return n * 2 // 2
"""
_USER = """
import importlib
import {tag}_helpers
import {tag}_helpers as hh
NAME = "helper"
def direct(X):
    return {tag}_helpers.helper(X)
def local_alias(X):
    h = hh
    return h.helper(X)
def by_default(X, h=hh):
    return h.helper(X)
def by_kw_default(X, *, h=hh):
    return getattr(h, "helper")(X)
def make():
    m = hh
    def closed(X):
        return m.helper(X)
    return closed
closed = make()
def computed(X):
    return getattr(hh, NAME)(X)
def passed_on(X):
    return vars(hh)["helper"](X)
def by_import_module(X):
    return importlib.import_module("{tag}_helpers").helper(X)
def by_dunder_import(X):
    return __import__("{tag}_helpers").helper(X)
def by_local_import(X):
    import {tag}_helpers as m
    return m.helper(X)
_OWN = {}
def own_memo(X):
    key = X.shape
    if key not in _OWN:
        _OWN[key] = 0
    _OWN[key] += 1
    return hh.helper(X)
"""
#: How each function reaches the helpers module: its attributes followed, or whole.
_FOLLOWED = ("direct", "local_alias", "by_default", "by_kw_default", "closed", "own_memo")
_WHOLE = ("computed", "passed_on")
_BY_FILE = ("by_import_module", "by_dunder_import", "by_local_import")
_ALL = _FOLLOWED + _WHOLE + _BY_FILE


@pytest.fixture
def modules(tmp_path, request):
    tag = f"fpm_{abs(hash(request.node.name)) % 10**8}"
    sys.path.insert(0, str(tmp_path))

    def write(name, source):
        path = tmp_path / f"{tag}_{name}.py"
        path.write_text(textwrap.dedent(source).replace("{tag}", tag))
        shutil.rmtree(tmp_path / "__pycache__", ignore_errors=True)
        importlib.invalidate_caches()

    def load(name):
        full = f"{tag}_{name}"
        if full in sys.modules:
            return importlib.reload(sys.modules[full])
        return importlib.import_module(full)

    write("helpers", _HELPERS.format(scale=2.0))
    write("user", _USER)
    yield write, load, tag
    sys.path.remove(str(tmp_path))
    for name in ("helpers", "user"):
        sys.modules.pop(f"{tag}_{name}", None)
    _fingerprint_cache.clear()
    _fingerprint_imports.clear()


def _steps(user):
    return {name: FunctionTransformer(func=getattr(user, name)).fit(X) for name in _ALL}


@pytest.mark.parametrize("name", _ALL)
def test_caches_a_module_fills_with_use_do_not_change_the_fingerprint(modules, name):
    """A memo dict, a deque, a counter and an lru_cache the helpers fill as the model
    predicts: the model saved at fit and used since reads as unchanged."""
    _, load, _ = modules
    helpers = load("helpers")
    step = _steps(load("user"))[name]
    before = fingerprint(step)
    for _ in range(3):
        np.testing.assert_allclose(step.transform(X), X * 2.0)
    assert helpers.calls >= 3 and len(helpers._MEMO) >= 3  # the caches did fill
    assert fingerprint(step) == before


@pytest.mark.parametrize("name", _ALL)
def test_an_edit_of_what_the_function_reads_is_still_seen(modules, name):
    write, load, _ = modules
    load("helpers")
    step = _steps(load("user"))[name]
    step.transform(X)
    before = fingerprint(step)
    write("helpers", _HELPERS.format(scale=3.0))
    load("helpers")
    np.testing.assert_allclose(step.transform(X), X * 3.0)  # the slow truth
    assert fingerprint(step) != before


@pytest.mark.parametrize("name", _FOLLOWED + _WHOLE)
def test_an_attribute_read_and_replaced_at_run_time_is_seen(modules, name):
    _, load, _ = modules
    helpers = load("helpers")
    step = _steps(load("user"))[name]
    before = fingerprint(step)
    old, helpers.SCALE = helpers.SCALE, 5.0
    try:
        np.testing.assert_allclose(step.transform(X), X * 5.0)
        assert fingerprint(step) != before
    finally:
        helpers.SCALE = old
    assert fingerprint(step) == before


@pytest.mark.parametrize("name", _FOLLOWED + _WHOLE)
def test_an_unread_attribute_changed_by_other_code(modules, name):
    """Followed: only what the code reads is hashed, so an attribute it never reads
    changed from outside leaves the fingerprint; used as a value (a name computed at
    run time, the module passed on): hashed whole, so it is seen (loud beats silent)."""
    _, load, _ = modules
    helpers = load("helpers")
    step = _steps(load("user"))[name]
    before = fingerprint(step)
    helpers.UNREAD.append(3)
    assert (fingerprint(step) != before) == (name in _WHOLE)


def test_the_memo_a_function_fills_itself_is_state_by_its_type(modules):
    """``_OWN`` (a global dict ``own_memo`` fills) is hashed by its type: its contents
    change with use, its type is what the code is."""
    _, load, _ = modules
    load("helpers")
    user = load("user")
    step = FunctionTransformer(func=user.own_memo).fit(X)
    before = fingerprint(step)
    step.transform(X)
    assert user._OWN  # filled
    assert fingerprint(step) == before
    user._OWN = []  # another type bound to the name: seen
    assert fingerprint(step) != before


@pytest.mark.parametrize("name", _BY_FILE)
def test_a_module_imported_by_name_reads_the_same_before_and_after_import(modules, name):
    _, load, tag = modules
    user = load("user")
    sys.modules.pop(f"{tag}_helpers", None)
    step = FunctionTransformer(func=getattr(user, name)).fit(X)
    before = fingerprint(step)
    step.transform(X)
    assert f"{tag}_helpers" in sys.modules
    assert fingerprint(step) == before


@pytest.mark.parametrize("name", ["by_import_module", "by_dunder_import"])
def test_scheme_5_named_an_import_module_only(modules, name):
    """The gap: scheme 5 (and scheme 6 before this) did not see an edit of a module a
    function gets from ``import_module``/``__import__``."""
    write, load, _ = modules
    load("helpers")
    step = _steps(load("user"))[name]
    before_v5 = fingerprint_v5(step)
    write("helpers", _HELPERS.format(scale=3.0))
    load("helpers")
    assert fingerprint_v5(step) == before_v5


def test_a_module_default_of_a_recorded_package_keeps_its_bytes():
    """``def f(X, np=numpy)``: a recorded package's module is named, as a global one is;
    two such functions differing only in the default's module still differ."""
    import math

    def f(X, lib=np):
        return lib.abs(X)

    def g(X, lib=math):
        return lib.fabs(X)

    assert fingerprint(FunctionTransformer(func=f)) == fingerprint(FunctionTransformer(func=f))
    assert fingerprint(FunctionTransformer(func=f)) != fingerprint(FunctionTransformer(func=g))


def test_the_scope_says_what_is_not_followed():
    assert "with a name computed at run time" in SCOPE
    assert 'importlib.import_module("mymod")' in SCOPE
    assert "def f(X, h=mymod)" in SCOPE
    assert "kw_args" in SCOPE


_ATTRS = [f"A{i}" for i in range(5)]


@settings(deadline=None, max_examples=40)
@given(
    read=st.sets(st.sampled_from(_ATTRS), min_size=1),
    changed=st.sampled_from(_ATTRS),
    value=st.one_of(st.integers(-3, 3), st.text(max_size=3), st.lists(st.integers(0, 2))),
    how=st.sampled_from(["global", "alias", "default", "cell"]),
)
@example(read={"A0"}, changed="A1", value=[], how="alias")
@example(read={"A0"}, changed="A0", value=0, how="default")
def test_an_edit_is_seen_exactly_when_the_attribute_is_read(read, changed, value, how):
    """Random functions read some of a user module's attributes; one attribute is set
    to a random value at run time. The fingerprint changes exactly when the attribute
    is read by the function's source and its value changed."""
    name = f"fpm_prop_{how}"
    module = type(sys)(name)
    module.__file__ = f"/nonexistent/{name}.py"  # user code: not installed
    for i, attr in enumerate(_ATTRS):
        setattr(module, attr, i)
    sys.modules[name] = module
    body = " + ".join(f"len(str(m.{a}))" for a in sorted(read))
    source = {
        "global": f"import {name} as m\ndef f(X):\n    return X + {body}\n",
        "alias": f"import {name} as mod\ndef f(X):\n    m = mod\n    return X + {body}\n",
        "default": f"import {name} as mod\ndef f(X, m=mod):\n    return X + {body}\n",
        "cell": (
            f"import {name} as mod\ndef make(m):\n    def f(X):\n        return X + {body}\n"
            "    return f\nf = make(mod)\n"
        ),
    }[how]
    scope = {"__name__": "fpm_prop_user"}
    try:
        exec(compile(source, "<fpm>", "exec"), scope)
        step = FunctionTransformer(func=scope["f"])
        before = fingerprint(step)
        old = getattr(module, changed)
        setattr(module, changed, value)
        differs = type(value) is not type(old) or value != old
        assert (fingerprint(step) != before) == (changed in read and differs)
    finally:
        sys.modules.pop(name, None)
        _fingerprint_cache.clear()
