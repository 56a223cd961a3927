"""Fingerprint scheme 4: the attributes of user classes, and packages the user installed
from a folder, are hashed.

Scheme 3 named a user class's attributes other than functions (``LIMIT = 3`` read as
``self.LIMIT``) and every module under ``site-packages``: each pair below had one
fingerprint under scheme 3 (asserted on ``fingerprint_v3``, the same walk as it was),
and scheme 4 tells them apart; a user class holding only functions keeps its scheme-3
fingerprint, and the same source gives the same fingerprint whenever it is hashed.
"""

import json
import re
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
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

import sktraceprop as stp
from sktraceprop._lineage._current import changed_steps
from sktraceprop._lineage._fingerprint import SCHEME, fingerprint, fingerprint_v3, fingerprint_v4
from sktraceprop._lineage._fingerprint_code import is_user
from sktraceprop._lineage._fingerprint_match import SCHEME_3_NOTE, matching_scheme

X = np.arange(24, dtype=float).reshape(12, 2) - 11
Y = np.arange(12) % 2


def _module(source, name="user_code4"):
    """A module of user code made from ``source`` (as a script or notebook defines it)."""
    module = types.ModuleType(name)
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)
    return module


_CLIP = """
from sklearn.base import BaseEstimator, TransformerMixin
class Clip(TransformerMixin, BaseEstimator):
    LIMIT = {limit!r}
    def fit(self, X, y=None):
        self.n_ = 1
        return self
    def transform(self, X):
        return X.clip(-self.LIMIT, self.LIMIT)
"""


def _clip(limit):
    return _module(_CLIP.format(limit=limit)).Clip().fit(X)


COLLIDED_IN_SCHEME_3 = {
    "an edited class constant": (
        lambda: _clip(3),
        lambda: _clip(4),
    ),
    "a constant of a user base class": (
        lambda: _module(_CLIP.format(limit=3) + "class Sub(Clip):\n    pass\n").Sub(),
        lambda: _module(_CLIP.format(limit=5) + "class Sub(Clip):\n    pass\n").Sub(),
    ),
    "a cached_property's code": (
        lambda: _module(
            "import functools\nclass A:\n    @functools.cached_property\n"
            "    def k(self):\n        return 2\n"
        ).A(),
        lambda: _module(
            "import functools\nclass A:\n    @functools.cached_property\n"
            "    def k(self):\n        return 3\n"
        ).A(),
    ),
    "a partialmethod's arguments": (
        lambda: _module(
            "import functools\nclass A:\n    def _t(self, X, k):\n        return X * k\n"
            "    transform = functools.partialmethod(_t, k=2)\n"
        ).A(),
        lambda: _module(
            "import functools\nclass A:\n    def _t(self, X, k):\n        return X * k\n"
            "    transform = functools.partialmethod(_t, k=3)\n"
        ).A(),
    ),
    "a compiled pattern": (
        lambda: _module("import re\nclass A:\n    PAT = re.compile('[0-9]+')\n").A(),
        lambda: _module("import re\nclass A:\n    PAT = re.compile('[0-9]*')\n").A(),
    ),
    "a table held by the class": (
        lambda: _module("class A:\n    TABLE = {'a': [1, 2]}\n").A(),
        lambda: _module("class A:\n    TABLE = {'a': [1, 3]}\n").A(),
    ),
    "an array held by the class": (
        lambda: _module("import numpy as np\nclass A:\n    W = np.ones(3)\n").A(),
        lambda: _module("import numpy as np\nclass A:\n    W = np.zeros(3)\n").A(),
    ),
}


@pytest.mark.parametrize("name", sorted(COLLIDED_IN_SCHEME_3))
def test_models_scheme_3_named_alike_now_differ(name):
    one, two = (make() for make in COLLIDED_IN_SCHEME_3[name])
    assert fingerprint_v3(one) == fingerprint_v3(two)  # the gap: scheme 3 saw no difference
    assert fingerprint(one) != fingerprint(two)
    # re-hashing the same objects, or the same source made again, never differs
    again = COLLIDED_IN_SCHEME_3[name][0]()
    assert fingerprint(one) == fingerprint(one) == fingerprint(again)


def test_a_class_constant_set_at_run_time_changes_the_fingerprint_and_is_logged(tmp_path):
    """``Clip.LIMIT = 5`` after fit: scheme 3 kept the fit's fingerprint, so a logged
    predict recorded no ``changed_since_fit`` and trace/explain named the run's rows for
    a model that computes something else."""
    cls = type(_clip(1.0))
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    df = stp.from_pandas(pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": Y}), "fp4_clip")
    pipe = stp.make_traced_pipeline(
        cls(), LogisticRegression(), store=store, log_predictions=True
    ).fit(df[["a", "b"]], df["y"])
    step = pipe.named_steps["clip"]
    fitted, fitted_v3 = fingerprint(step), fingerprint_v3(step)
    pipe.predict(df[["a", "b"]])
    cls.LIMIT = 5.0
    assert fingerprint_v3(step) == fitted_v3 and fingerprint(step) != fitted
    assert changed_steps(pipe) == ["clip"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.predict(df[["a", "b"]])
    one, two = (e["payload"] for e in store.events(kind="prediction"))
    assert "changed_since_fit" not in one
    assert two["changed_since_fit"] == ["clip"]
    cls.LIMIT = 1.0  # back as fitted: unchanged again
    assert fingerprint(step) == fitted and changed_steps(pipe) == []


class _Plain(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.n_ = 1
        return self

    def transform(self, X):
        return X


class _Classifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.zeros(len(X))


def test_user_classes_holding_only_functions_keep_their_scheme_3_fingerprint():
    """scikit-learn writes ``_sklearn_auto_wrap_output_keys`` and ``set_*_request`` into
    a subclass from its methods (hashed): named, as scheme 3 did, so stored runs of such
    classes still match by the current scheme."""
    for model in (_Plain().fit(X), _Classifier().fit(X, Y)):
        assert fingerprint(model) == fingerprint_v3(model)
        assert matching_scheme(model, fingerprint_v3(model)) == SCHEME


class _Counter(TransformerMixin, BaseEstimator):
    """State the class keeps with use: a counter its method assigns, a cache it fills."""

    calls = 0
    LIMIT = 2

    def fit(self, X, y=None):
        self.n_ = 1
        return self

    def transform(self, X):
        type(self).calls += 1
        return X.clip(-self.LIMIT, self.LIMIT)


def test_a_counter_the_class_assigns_is_named_and_its_constants_hashed():
    step = _Counter().fit(X)
    before = fingerprint(step)
    step.transform(X)
    assert _Counter.calls == 1 and fingerprint(step) == before
    _Counter.LIMIT = 3
    try:
        assert fingerprint(step) != before
    finally:
        _Counter.LIMIT = 2
    assert fingerprint(step) == before


def test_a_class_attribute_that_cannot_be_walked_is_named_by_its_class_not_a_failure():
    deep = []
    for _ in range(300):  # deeper than MAX_DEPTH: refused as a model value
        deep = [deep]
    holder = _module("class A:\n    pass\n").A
    holder.DEEP = deep
    other = _module("class A:\n    pass\n").A
    other.DEEP = [[1]]
    assert fingerprint(holder()) == fingerprint(holder())  # hashed, stably
    assert fingerprint(holder()) != fingerprint(other())  # said with a tag of its own


# --- packages installed into site-packages -------------------------------------------

_PROBE = """
import site, sys, json
site.addsitedir(sys.argv[1])
import numpy as np
from sklearn.preprocessing import FunctionTransformer
from sktraceprop._lineage._fingerprint import fingerprint, fingerprint_v3
from sktraceprop._lineage._fingerprint_code import is_user
import {name}
step = FunctionTransformer(func={name}.f)
print(json.dumps([{name}.__file__, is_user({name}.f, 4), is_user({name}.f, 3),
                  fingerprint(step), fingerprint_v3(step)]))
"""


def _site(tmp_path, name, body, origin):
    """A site-packages folder holding package ``name`` (``body`` its __init__), installed
    as ``origin`` says: "folder" (a dist-info with direct_url.json, as pip install .
    writes), "index" (a dist-info without), "egg" (a legacy .egg-info), "hand" (none)."""
    site = tmp_path / "lib" / "site-packages"
    package = site / name
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(body)
    info = site / f"{name}-0.1.dist-info"
    if origin in ("folder", "index"):
        info.mkdir(exist_ok=True)
        (info / "RECORD").write_text(
            f"{name}/__init__.py,sha256=x,1\n{name}-0.1.dist-info/RECORD,,\n"
        )
        if origin == "folder":
            (info / "direct_url.json").write_text(
                json.dumps({"dir_info": {}, "url": "file:///home/me/project"})
            )
    elif origin == "egg":
        egg = site / f"{name}-0.1-py3.11.egg-info"
        egg.mkdir(exist_ok=True)
        (egg / "top_level.txt").write_text(name + "\n")
    return site


def _probe(site, name):
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(name=name), str(site)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _installed(site, name, monkeypatch):
    """``name`` imported from ``site`` in this process, and how it is hashed now."""
    import importlib

    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # (edits within one second)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    module = importlib.reload(sys.modules[name]) if name in sys.modules else None
    module = module or importlib.import_module(name)
    step = FunctionTransformer(func=module.f)
    return (
        module.__file__,
        is_user(module.f, 4),
        is_user(module.f, 3),
        (
            fingerprint(step),
            fingerprint_v3(step),
            fingerprint_v4(step),
        ),
    )


@pytest.mark.parametrize(
    ("origin", "user"), [("folder", True), ("hand", True), ("index", False), ("egg", False)]
)
def test_a_package_in_site_packages_is_user_code_unless_installed_from_an_index(
    tmp_path, monkeypatch, origin, user
):
    name = f"stp_probe_{origin}"
    site = _site(tmp_path, name, "def f(X):\n    return X * 2\n", origin)
    try:
        path, now, before, (first, first_v3, first_v4) = _installed(site, name, monkeypatch)
        assert path.startswith(str(site))
        assert (now, before) == (user, False)
        _site(tmp_path, name, "def f(X):\n    return X * 3\n", origin)  # edited in place
        *_, (second, second_v3, second_v4) = _installed(site, name, monkeypatch)
        assert first_v3 == second_v3  # the gap: scheme 3 named it
        assert (first_v4 != second_v4) == user  # scheme 4 named one from an index
        assert first != second  # scheme 5: by its code, or by its file (from an index)
        _site(tmp_path, name, "def f(X):\n    return X * 2\n", origin)  # as it was
        assert _installed(site, name, monkeypatch)[3][0] == first
    finally:
        sys.modules.pop(name, None)


def test_a_package_pip_installs_from_a_folder_is_user_code_and_an_editable_one_too(tmp_path):
    """The independent truth of what pip writes: ``pip install .`` (a copy in
    site-packages, direct_url.json) and ``pip install -e .`` (read from the folder)."""
    project = tmp_path / "project"
    (project / "src" / "stp_pipmade").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\n'
        'build-backend = "setuptools.build_meta"\n'
        '[project]\nname = "stp-pipmade"\nversion = "0.1"\n'
    )
    (project / "src" / "stp_pipmade" / "__init__.py").write_text("def f(X):\n    return X\n")
    for mode, prefix in (([], "copy"), (["-e"], "editable")):
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation",
             "--no-deps", "--no-index", "--prefix", str(tmp_path / prefix),
             *mode, str(project)],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            pytest.skip(f"pip could not build the project here: {done.stderr[-300:]}")
        (site,) = (tmp_path / prefix).glob("lib/python*/site-packages")
        path, now, before, *_ = _probe(site, "stp_pipmade")
        assert now is True
        if mode:  # editable: read from the project, user code in scheme 3 too
            assert path.startswith(str(project)) and before is True
        else:
            assert path.startswith(str(site)) and before is False


def test_installed_libraries_stay_named():
    import scipy.special
    import sklearn.preprocessing

    for obj in (np.mean, sklearn.preprocessing.StandardScaler, scipy.special.expit, re.sub):
        assert not is_user(obj, 4)
    assert not is_user(pytest.approx, 4)  # from a package index (pytest)


# --- properties over edits -------------------------------------------------------------

_values = st.one_of(
    st.integers(-3, 3),
    st.floats(-2, 2, allow_nan=False, width=16),
    st.text("ab", max_size=2),
    st.tuples(st.integers(0, 2), st.integers(0, 2)),
    st.lists(st.integers(0, 2), max_size=2),
)
_PROGRAM = """
import functools
from sklearn.base import BaseEstimator, TransformerMixin
G = {glob!r}
def outer(c={default!r}):
    k = {cell!r}
    def inner(X):
        return (X, k, c, G)
    return inner
class Step(TransformerMixin, BaseEstimator):
    CONST = {const!r}
    def fit(self, X, y=None):
        self.f_ = outer()
        return self
    def transform(self, X):
        return (X, self.CONST, G)
"""


def _key(value):
    """What tells values apart (0.0 and -0.0 are different floats)."""
    return (type(value).__name__, repr(value))


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries({k: _values for k in ("glob", "default", "cell", "const")}),
    st.fixed_dictionaries({k: _values for k in ("glob", "default", "cell", "const")}),
)
def test_an_edit_of_any_constant_changes_the_fingerprint_and_rerunning_never_does(one, two):
    def made(spec):
        return _module(_PROGRAM.format(**spec)).Step().fit(X)

    first = fingerprint(made(one))
    assert fingerprint(made(one)) == first  # the same source run again
    same = {k: _key(v) for k, v in one.items()} == {k: _key(v) for k, v in two.items()}
    assert (fingerprint(made(two)) == first) == same


@settings(max_examples=40, deadline=None)
@given(_values, _values)
def test_mutating_what_user_code_reads_between_calls_changes_the_fingerprint(old, new):
    """The same objects fingerprinted twice, with a global, a closure cell, a default
    and a class attribute set to another value in between (what a cache of the hash
    would have to notice): each change is seen, and undoing it restores the fingerprint."""
    spec = {"glob": old, "default": old, "cell": old, "const": old}
    module = _module(_PROGRAM.format(**spec))
    step = module.Step().fit(X)
    before = fingerprint(step)
    differ = _key(old) != _key(new)
    inner = step.f_
    cell = inner.__closure__[[n for n in inner.__code__.co_freevars].index("k")]
    c_cell = inner.__closure__[[n for n in inner.__code__.co_freevars].index("c")]
    for set_to in (
        lambda v: setattr(module, "G", v),  # a global
        lambda v: setattr(cell, "cell_contents", v),  # a closure cell
        lambda v: setattr(c_cell, "cell_contents", v),  # a default, as the closure holds it
        lambda v: setattr(module.outer, "__defaults__", (v,)),  # the default itself
        lambda v: setattr(module.Step, "CONST", v),  # a class attribute
    ):
        set_to(new)
        assert (fingerprint(step) != before) == differ
        set_to(old)
        assert fingerprint(step) == before
    # a mutable value changed in place (a list constant appended to)
    if isinstance(old, list):
        module.Step.CONST.append(9)
        assert fingerprint(step) != before
        module.Step.CONST.pop()
    assert fingerprint(step) == before


def test_a_scheme_3_match_is_said_with_what_scheme_3_could_not_see():
    step = _clip(2)
    assert matching_scheme(step, fingerprint_v3(step)) == 3
    assert "class constant" in SCHEME_3_NOTE


@pytest.mark.parametrize("limit", [1, 2])
def test_a_function_transformer_of_a_user_method_sees_its_class_constant(limit):
    step = FunctionTransformer(func=_clip(limit).transform)
    other = FunctionTransformer(func=_clip(limit + 1).transform)
    assert fingerprint_v3(step) == fingerprint_v3(other)
    assert fingerprint(step) != fingerprint(other)


class _Raising:
    """An object whose every attribute lookup fails with another error than
    AttributeError (a lazy proxy)."""

    def __getattr__(self, name):
        raise RuntimeError(f"no {name}")


def test_a_class_attribute_whose_lookups_raise_is_hashed_by_its_class():
    holder = _module("class A:\n    pass\n").A
    holder.PROXY = _Raising()
    assert fingerprint(holder()) == fingerprint(holder())
