"""The bytes of a user function kept between fingerprints (``_fingerprint_cache``).

A wrong hit would be a silently wrong "unchanged": every test changes what the function
reads between two fingerprints of the same objects and compares with an independent
truth, the fingerprint of a function made afresh from source text holding the new
values (never cached before), and checks that the cache was used where nothing changed.
"""

import textwrap
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import FunctionTransformer

from sktraceprop._lineage import _fingerprint_cache, _fingerprint_code
from sktraceprop._lineage._fingerprint import fingerprint

_SOURCE = """
import numpy as np
G = {g!r}
def outer():
    k = {k!r}
    def inner(X, c={c!r}):
        return np.asarray(X) + len(str((G, k, c)))
    return inner
f = outer()
"""


def _made(g, k, c, name="user_cached"):
    module = types.ModuleType(name)
    source = textwrap.dedent(_SOURCE.format(g=g, k=k, c=c))
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def _truth(g, k, c):
    """The fingerprint of the same function made afresh from text holding these values."""
    return fingerprint(FunctionTransformer(func=_made(g, k, c).f))


@pytest.fixture
def made_count(monkeypatch):
    """How many times a user function's bytes were made (not taken from the cache)."""
    calls = [0]
    real = _fingerprint_code._feed_function

    def counting(*args):
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(_fingerprint_code, "_feed_function", counting)
    return calls


def _cell(fn, name):
    return fn.__closure__[fn.__code__.co_freevars.index(name)]


def test_nothing_changed_is_a_hit_and_each_rebinding_a_miss(made_count):
    module = _made(2.0, "a", 1)
    step = FunctionTransformer(func=module.f)
    first = fingerprint(step)
    assert first == _truth(2.0, "a", 1)
    made = made_count[0]
    assert fingerprint(step) == first and made_count[0] == made  # a hit
    changes = [
        (lambda: setattr(module, "G", 3.0), (3.0, "a", 1)),  # a global rebound
        (lambda: setattr(_cell(module.f, "k"), "cell_contents", "b"), (3.0, "b", 1)),
        (lambda: setattr(module.f, "__defaults__", (5,)), (3.0, "b", 5)),
        (lambda: setattr(module, "G", 2.0), (2.0, "b", 5)),
    ]
    for change, values in changes:
        change()
        made = made_count[0]
        assert fingerprint(step) == _truth(*values) != first
        assert made_count[0] > made  # a miss: made again
        made = made_count[0]
        assert fingerprint(step) == _truth(*values)
    # an equal value of another identity: made again, the same fingerprint
    module.G = float("2.0")
    assert fingerprint(step) == _truth(2.0, "b", 5)


def test_a_global_unbound_then_bound_and_a_module_swapped_are_seen():
    module = _made(1, 1, 1)
    step = FunctionTransformer(func=module.f)
    before = fingerprint(step)
    del module.G
    unbound = fingerprint(step)
    assert unbound != before
    module.G = 1
    assert fingerprint(step) == before
    import pandas

    module.np = pandas  # the module it names by name
    assert fingerprint(step) != before
    module.np = np
    assert fingerprint(step) == before


def test_code_swapped_and_keyword_defaults_are_seen():
    module = _made(1, 1, 1)
    step = FunctionTransformer(func=module.f)
    before = fingerprint(step)
    other = _made(1, 1, 1)
    exec(
        compile(
            "def outer():\n    k = 1\n    def inner(X, c=1):\n"
            "        return np.asarray(X) - len(str((G, k, c)))\n    return inner\n",
            "<edited>",
            "exec",
        ),
        other.__dict__,
    )
    module.f.__code__ = other.outer().__code__  # same free variables, another body
    assert fingerprint(step) != before
    module = _made(1, 1, 1)
    step = FunctionTransformer(func=module.f)
    before = fingerprint(step)
    module.f.__kwdefaults__ = {"z": 1}
    assert fingerprint(step) != before
    module.f.__kwdefaults__["z"] = 2  # changed in place: never kept, so seen
    changed = fingerprint(step)
    module.f.__kwdefaults__["z"] = 1
    assert fingerprint(step) != changed


def test_values_that_can_change_in_place_are_never_kept(made_count):
    module = _made([1, 2], (1, [2]), {"a": 1})
    step = FunctionTransformer(func=module.f)
    before = fingerprint(step)
    assert module.f not in _fingerprint_cache._ENTRIES
    module.G.append(3)
    assert fingerprint(step) == _truth([1, 2, 3], (1, [2]), {"a": 1}) != before
    _cell(module.f, "k").cell_contents[1].append(3)
    assert fingerprint(step) == _truth([1, 2, 3], (1, [2, 3]), {"a": 1})
    module.f.__defaults__[0]["a"] = 2
    assert fingerprint(step) == _truth([1, 2, 3], (1, [2, 3]), {"a": 2})


def test_a_function_read_as_a_global_is_hashed_each_time():
    module = _made(1, 1, 1)
    exec("def helper(X):\n    return X * H\nH = 2\nG = helper\n", module.__dict__)
    step = FunctionTransformer(func=module.f)
    before = fingerprint(step)
    assert module.f not in _fingerprint_cache._ENTRIES  # reads a function: not kept
    module.H = 3  # what the helper reads
    assert fingerprint(step) != before


_atoms = st.one_of(
    st.integers(-3, 3),
    st.floats(-2, 2, allow_nan=False, width=16),
    st.text("ab", max_size=2),
    st.booleans(),
    st.none(),
    st.tuples(st.integers(0, 2), st.text("a", max_size=1)),
)


@settings(max_examples=50, deadline=None)
@given(
    st.tuples(_atoms, _atoms, _atoms),
    st.lists(st.tuples(st.sampled_from(["g", "k", "c"]), _atoms), max_size=6),
)
def test_any_sequence_of_rebindings_matches_the_function_made_afresh(start, edits):
    values = dict(zip("gkc", start))
    module = _made(*start)
    step = FunctionTransformer(func=module.f)
    assert fingerprint(step) == _truth(*start)
    for which, value in edits:
        if which == "g":
            module.G = value
        elif which == "k":
            _cell(module.f, "k").cell_contents = value
        else:
            module.f.__defaults__ = (value,)
        values[which] = value
        truth = _truth(values["g"], values["k"], values["c"])
        assert fingerprint(step) == truth
        assert fingerprint(step) == truth  # (the second from the cache)


def test_a_default_changed_in_place_is_seen():
    """Only the default can change in place (the global and the cell hold ints)."""
    module = _made(1, 1, [1])
    step = FunctionTransformer(func=module.f)
    before = fingerprint(step)
    module.f.__defaults__[0].append(2)
    assert fingerprint(step) == _truth(1, 1, [1, 2]) != before
