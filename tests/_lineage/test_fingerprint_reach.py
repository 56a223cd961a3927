"""User code scheme 6 first did not follow: a module reached through ``getattr``, a
module in a local variable or a closure cell, a method replaced on the instance.

Each case writes modules to ``tmp_path``, imports them, fits, then edits a helper's
file and reloads it (or patches the instance) and checks that the fingerprint changes,
and that code read again unchanged keeps it. The slow truth beside each: what the step
now computes did change.
"""

import collections
import importlib
import keyword
import shutil
import sys
import textwrap
import types

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import FunctionTransformer

from sktraceprop._lineage import _fingerprint_cache
from sktraceprop._lineage._fingerprint import fingerprint, fingerprint_v5
from sktraceprop._lineage._fingerprint_attrs import attribute_chains, cell_chains, chains_of

X = np.arange(24, dtype=float).reshape(12, 2) - 11

_HELPERS = """
SCALE = {scale!r}
def helper(X):
    return X * SCALE
"""
_USER = """
import numpy as np
import {tag}_helpers
from sklearn.base import BaseEstimator, TransformerMixin
NAME = "helper"
def by_constant_getattr(X):
    return getattr({tag}_helpers, "helper")(X)
def by_computed_getattr(X):
    return getattr({tag}_helpers, NAME)(X)
def passed_on(X):
    return vars({tag}_helpers)["helper"](X)
def by_local_import(X):
    import {tag}_helpers as h
    return h.helper(X)
def by_local_from_import(X):
    from {tag}_helpers import helper
    return helper(X)
def make_closure():
    mod = {tag}_helpers
    def closed(X):
        return mod.helper(X)
    return closed
by_closure = make_closure()
class Step(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self
    def transform(self, X):
        return np.asarray(X) + 1.0
def other_transform(X):
    return np.asarray(X) - 1.0
def other_method(self, X):
    return np.asarray(X) - 2.0
"""
_FUNCS = (
    "by_constant_getattr",
    "by_computed_getattr",
    "passed_on",
    "by_local_import",
    "by_local_from_import",
    "by_closure",
)


def _fresh(path):
    """After ``path`` is written: no bytecode cached for its folder (a rewrite of the same
    size within the same second would otherwise be read from the stale ``.pyc``)."""
    shutil.rmtree(path.parent / "__pycache__", ignore_errors=True)
    importlib.invalidate_caches()


@pytest.fixture
def modules(tmp_path, request):
    """Writes ``helpers`` and ``user`` (names unique to the test); yields ``(write,
    load, tag)``."""
    tag = f"fpr_{abs(hash(request.node.name)) % 10**8}"
    sys.path.insert(0, str(tmp_path))
    names = []

    def write(name, source):
        path = tmp_path / f"{tag}_{name}.py"
        path.write_text(textwrap.dedent(source).replace("{tag}", tag))
        _fresh(path)

    def load(name):
        full = f"{tag}_{name}"
        if full in sys.modules:
            return importlib.reload(sys.modules[full])
        names.append(full)
        return importlib.import_module(full)

    write("helpers", _HELPERS.format(scale=2.0))
    write("user", _USER)
    yield write, load, tag
    sys.path.remove(str(tmp_path))
    for name in [*names, f"{tag}_helpers"]:
        sys.modules.pop(name, None)
    _fingerprint_cache.clear()


def _fitted(user):
    return {name: FunctionTransformer(func=getattr(user, name)).fit(X) for name in _FUNCS}


@pytest.mark.parametrize("name", _FUNCS)
def test_an_edited_helper_reached_so_is_seen(modules, name):
    write, load, _ = modules
    load("helpers")
    step = _fitted(load("user"))[name]
    np.testing.assert_allclose(step.transform(X), X * 2.0)
    before, before_v5 = fingerprint(step), fingerprint_v5(step)
    write("helpers", _HELPERS.format(scale=3.0))
    load("helpers")
    # the slow truth: the step now computes something else
    np.testing.assert_allclose(step.transform(X), X * 3.0)
    assert fingerprint(step) != before
    # scheme 5 (a module named only) did not see it, and keeps its value
    assert fingerprint_v5(step) == before_v5


@pytest.mark.parametrize("name", _FUNCS)
def test_a_helper_read_again_unchanged_keeps_the_fingerprint(modules, name):
    _, load, _ = modules
    load("helpers")
    step = _fitted(load("user"))[name]
    before = fingerprint(step)
    step.transform(X)
    load("helpers")
    assert fingerprint(step) == before
    assert fingerprint(step) == fingerprint(step)


@pytest.mark.parametrize("name", ["by_computed_getattr", "passed_on", "by_constant_getattr"])
def test_a_helper_replaced_at_run_time_is_seen(modules, name):
    _, load, _ = modules
    helpers = load("helpers")
    step = _fitted(load("user"))[name]
    before = fingerprint(step)
    old = helpers.helper
    helpers.helper = lambda X: X * 5.0
    try:
        np.testing.assert_allclose(step.transform(X), X * 5.0)
        assert fingerprint(step) != before
    finally:
        helpers.helper = old
    assert fingerprint(step) == before


def test_a_local_import_reads_the_same_before_and_after_the_module_is_imported(modules):
    """The file of a module a function imports when it runs is hashed whether or not it
    was imported yet: the fingerprint taken at fit (before the first transform imports
    it) matches the model after."""
    _, load, tag = modules
    sys.modules.pop(f"{tag}_helpers", None)
    user = load("user")
    sys.modules.pop(f"{tag}_helpers", None)  # user imported it: forget it again
    step = FunctionTransformer(func=user.by_local_import).fit(X)
    before = fingerprint(step)
    assert f"{tag}_helpers" not in sys.modules
    step.transform(X)
    assert f"{tag}_helpers" in sys.modules
    assert fingerprint(step) == before


def test_a_local_import_not_found_is_named_not_refused():
    """A module that cannot be found (nor imported at run time) is named, with a tag of
    its own, rather than the fingerprint failing; the same each time."""

    def f(X):
        import fpr_no_such_module_anywhere as m

        return m.helper(X)

    step = FunctionTransformer(func=f)
    assert fingerprint(step) == fingerprint(step)


def test_a_relative_import_in_a_function_is_followed(tmp_path):
    """``from . import helpers`` inside a function of a package: the package's
    ``helpers`` file, found from the function's ``__package__``."""
    pkg = tmp_path / "fpr_rel_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text(_HELPERS.format(scale=2.0))
    (pkg / "steps.py").write_text(
        "def scaled(X):\n    from . import helpers\n    return helpers.helper(X)\n"
    )
    _fresh(pkg / "steps.py")
    sys.path.insert(0, str(tmp_path))
    try:
        steps = importlib.import_module("fpr_rel_pkg.steps")
        step = FunctionTransformer(func=steps.scaled).fit(X)
        before = fingerprint(step)
        np.testing.assert_allclose(step.transform(X), X * 2.0)
        assert fingerprint(step) == before
        (pkg / "helpers.py").write_text(_HELPERS.format(scale=3.0))
        _fresh(pkg / "helpers.py")
        importlib.reload(sys.modules["fpr_rel_pkg.helpers"])
        np.testing.assert_allclose(step.transform(X), X * 3.0)
        assert fingerprint(step) != before
    finally:
        sys.path.remove(str(tmp_path))
        for key in [k for k in sys.modules if k.startswith("fpr_rel_pkg")]:
            del sys.modules[key]
        _fingerprint_cache.clear()


@pytest.mark.parametrize("how", ["function", "method"])
def test_a_method_replaced_on_the_instance_is_seen(modules, how):
    _, load, _ = modules
    user = load("user")
    step = user.Step().fit(X)
    before, before_v5 = fingerprint(step), fingerprint_v5(step)
    if how == "function":
        step.transform = user.other_transform
        expected = X - 1.0
    else:
        step.transform = types.MethodType(user.other_method, step)
        expected = X - 2.0
    np.testing.assert_allclose(step.transform(X), expected)
    assert fingerprint(step) != before
    assert fingerprint_v5(step) == before_v5  # scheme 5 did not see it
    del step.transform
    assert fingerprint(step) == before


def test_a_fit_method_shadowed_on_the_instance_is_not_part_of_it(modules):
    """A traced fit shadows fit methods on the instance while it runs: they do not make
    the fingerprint recorded during the fit differ from the fitted model's."""
    _, load, _ = modules
    step = load("user").Step().fit(X)
    before = fingerprint(step)
    step.fit = lambda X, y=None: step
    assert fingerprint(step) == before


_IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s)
)


@settings(deadline=None, max_examples=60)
@given(mod=_IDENT, attr=_IDENT, tail=st.lists(_IDENT, max_size=2))
@example(mod="getattr", attr="x", tail=[])
@example(mod="m", attr="getattr", tail=["a"])
def test_a_constant_getattr_reads_as_the_attribute(mod, attr, tail):
    """``getattr(m, "a").b`` gives the chains ``m.a.b`` gives (the slow truth: the
    same source written with dots), in a function and through a closure cell."""
    dotted = ".".join([attr, *tail])
    rest = "".join("." + t for t in tail)
    by_dots = compile(f"def f():\n    return {mod}.{dotted}\n", "<t>", "exec")
    by_getattr = compile(f"def f():\n    return getattr({mod}, {attr!r}){rest}\n", "<t>", "exec")
    by_dots, by_getattr = (
        next(c for c in code.co_consts if isinstance(c, types.CodeType))
        for code in (by_dots, by_getattr)
    )
    expected = attribute_chains(by_dots)
    assert attribute_chains(by_getattr) == expected
    assert expected == {mod: ((attr, *tail),)} or mod == "getattr"

    def closed(source):
        code = compile(
            f"def g({mod}):\n    def f():\n        return {source}\n    return f\n", "<t>", "exec"
        )
        outer = next(c for c in code.co_consts if isinstance(c, types.CodeType))
        return cell_chains(next(c for c in outer.co_consts if isinstance(c, types.CodeType)))

    if mod == "getattr":  # a cell named getattr is not the builtin: passed on, so all
        assert closed(f"getattr({mod}, {attr!r}){rest}") == {mod: ((),)}
    else:
        assert closed(f"getattr({mod}, {attr!r}){rest}") == closed(f"{mod}.{dotted}")


_SELF = """
import {tag}_self as me
NAME = "{name}"
def f0(X):
    return getattr(me, NAME)(X)
"""


def test_modules_that_reach_themselves_whole_are_cut_as_cycles(modules):
    """Functions of a module that use the module as a value (``getattr(me, NAME)``
    after ``import me`` in ``me``): each expansion of the module cuts at the module
    already on the path, so the walk ends (not one expansion per ordering of its
    functions), is the same each time, and still sees an edit."""
    write, load, _ = modules
    funcs = "".join(f"def f{i}(X):\n    return X + {i} + 0 * len(vars(me))\n" for i in range(1, 9))
    write("self", _SELF.format(tag="{tag}", name="f1") + funcs)
    me = load("self")
    step = FunctionTransformer(func=me.f0).fit(X)
    np.testing.assert_allclose(step.transform(X), X + 1)
    before = fingerprint(step)
    assert fingerprint(step) == before
    write("self", _SELF.format(tag="{tag}", name="f2") + funcs)
    me = load("self")
    step = FunctionTransformer(func=me.f0).fit(X)
    np.testing.assert_allclose(step.transform(X), X + 2)
    assert fingerprint(step) != before


_Ins = collections.namedtuple("_Ins", "opname argval")
_OPS = [
    "LOAD_GLOBAL",
    "LOAD_NAME",
    "LOAD_DEREF",
    "LOAD_ATTR",
    "LOAD_METHOD",
    "LOAD_CONST",
    "PRECALL",
    "CALL",
    "NOP",
    "CACHE",
    "EXTENDED_ARG",
    "POP_TOP",
    "STORE_FAST",
]
_ARGS = st.one_of(
    st.none(), st.integers(-2, 4), st.sampled_from(["getattr", "m", "a", ""]), st.tuples()
)


@settings(deadline=None, max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(_OPS), _ARGS), max_size=14))
@example([("LOAD_GLOBAL", "getattr"), ("LOAD_GLOBAL", "m"), ("LOAD_CONST", "a")])
@example([("LOAD_GLOBAL", "getattr"), ("LOAD_GLOBAL", "m"), ("LOAD_CONST", "a"), ("CALL", 2)])
def test_any_instruction_stream_is_read_without_raising(stream):
    """Odd bytecode never makes reading it fail: every name read is a string, every
    chain a tuple of strings, and a chain starts at a load of that name."""
    ins = [_Ins(op, arg) for op, arg in stream]
    for starts in (None, frozenset({"LOAD_DEREF"})):
        found = chains_of(ins) if starts is None else chains_of(ins, starts)
        loaded = {i.argval for i in ins if isinstance(i.argval, str)}
        for name, chains in found.items():
            assert isinstance(name, str) and name in loaded
            assert all(isinstance(c, tuple) and all(isinstance(a, str) for a in c) for c in chains)


def test_what_a_traced_fit_shadows_on_the_instance_is_not_part_of_it(modules):
    """sktraceprop's own callables put on an instance while a traced fit runs (a spy,
    skorch's ``get_split_datasets``) leave the fingerprint as the fitted model's."""
    from sktraceprop._lineage._final import _Spy

    _, load, _ = modules
    step = load("user").Step().fit(X)
    before = fingerprint(step)
    step.__dict__["transform"] = _Spy(step, "transform", None, None)
    assert fingerprint(step) == before
