"""Temporaries reused when their right operand is an expression of its own
(``(x - x.mean()) / x.std()``): the proof follows the stack effects of the
instructions between the temporary's ``BINARY_OP`` and the one consuming it
(:mod:`sktraceprop.arrays._elide`).

The truth is NumPy on plain arrays (the values), the traced source left unchanged, every
array the expression kept or named left unchanged, and the row lineage of the same
expression written so that no temporary can be reused (a named intermediate).
"""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.arrays import _elide

pytestmark = pytest.mark.skipif(
    not _elide.ENABLED, reason="temporaries are reused on CPython 3.11-3.13 only"
)

_COLS = 64
_N = _elide.MIN_BYTES // (8 * _COLS) + 8  # rows: above the size at which reuse starts
_KEPT = []


def _keep(x):
    _KEPT.append(x)
    return x


# right operands, each a function of the source (plain or traced) that runs operators,
# calls and indexing of its own before the temporary is consumed
RIGHTS = {
    "std": lambda x: x.std(axis=0),
    "own_temporaries": lambda x: (x * 0.5 + 1).mean(axis=0) + 1,
    "element": lambda x: x[0, 0] * 2 + 3,
    "full": lambda x: x * 0.25 + 2,
    "kept": lambda x: _keep(x * 3 + 1),
    "plain": lambda x: np.asarray(x).sum(axis=0) + 1.0,
    "int_row": lambda x: np.arange(x.shape[1]) + 1,
    "complex": lambda x: np.full(x.shape[1], 1 + 1j),
    "wider": lambda x: np.ones((2, *x.shape)),
    "numpy_scalar": lambda x: np.float64(2.5),
}


# the expressions: the temporary (left) is made by the first operator, then the right
# operand is computed above it on the stack; none may change what the caller can see
def _div_call(t, c, right):
    return (t - c) / right(t)


def _mul_attribute(t, c, right):
    return (t * c) * right(t).T.T


def _add_nested(t, c, right):
    return (t + c) + (right(t) * 2 - right(t))


def _sub_subscript(t, c, right):
    return (t * c) - [right(t)][0]


def _walrus(t, c, right):
    return (y := t * c) + right(t), y  # y is named: never written in place


def _held_in_call(t, c, right):
    return _keep(t * c) + right(t)  # the product is kept: never written in place


def _right_temporary(t, c, right):
    return right(t) - (t * c)  # a right temporary made by a call: not proven


EXPRESSIONS = {
    f.__name__: f
    for f in (
        _div_call,
        _mul_attribute,
        _add_nested,
        _sub_subscript,
        _walrus,
        _held_in_call,
        _right_temporary,
    )
}


def _named(t, c, right, expression):
    """The same expression with the temporary named (so never reused): the lineage truth."""
    if expression in ("_div_call",):
        u = t - c
        return u / right(t)
    if expression == "_mul_attribute":
        u = t * c
        return u * right(t).T.T
    if expression == "_add_nested":
        u = t + c
        return u + (right(t) * 2 - right(t))
    if expression == "_sub_subscript":
        u = t * c
        return u - [right(t)][0]
    if expression == "_walrus":
        u = t * c
        return u + right(t), u
    if expression == "_held_in_call":
        u = t * c
        return u + right(t)
    u = t * c
    return right(t) - u


def _rows(x):
    """Source lines behind the first, second and last rows."""
    frame = stp.provenance(x).rows([0, 1, x.shape[0] - 1])
    return sorted(zip(frame["row"], frame["line"]))


def _values(result):
    return [np.asarray(r) for r in (result if isinstance(result, tuple) else (result,))]


@settings(max_examples=30, deadline=None)
@given(
    expression=st.sampled_from(sorted(EXPRESSIONS)),
    right=st.sampled_from(sorted(RIGHTS)),
    c=st.sampled_from([2.0, 3, 0.5]),
    seed=st.integers(0, 2**16),
)
@example(expression="_div_call", right="std", c=2.0, seed=0)
@example(expression="_walrus", right="own_temporaries", c=3, seed=1)
@example(expression="_held_in_call", right="kept", c=0.5, seed=2)
def test_reused_temporaries_give_numpys_values_and_the_named_expressions_lineage(
    expression, right, c, seed
):
    base = np.random.default_rng(seed).random((_N, _COLS))
    t = stp.array(base, source_id=f"elide_{expression}_{right}")
    f, r = EXPRESSIONS[expression], RIGHTS[right]
    _KEPT.clear()
    try:
        with np.errstate(all="ignore"):
            got = f(t, c, r)
            kept = [np.array(k) for k in _KEPT]
            expected = f(base, c, r)
            named = _named(t, c, r, expression)
    except ValueError:
        # NumPy's own refusal (a wider right operand broadcast into an in-place result
        # would be ours, not NumPy's): the plain expression must refuse too
        with pytest.raises(ValueError), np.errstate(all="ignore"):
            f(base, c, r)
        return
    for g, e, n in zip(_values(got), _values(expected), _values(named)):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)
        np.testing.assert_array_equal(n, e)
    np.testing.assert_array_equal(np.asarray(t), base)  # the source is never written
    # what the expression kept (a list, a name) holds what it held when it was made
    for k_now, k_then in zip(_KEPT, kept):
        np.testing.assert_array_equal(np.asarray(k_now), k_then)
    first = got[0] if isinstance(got, tuple) else got
    first_named = named[0] if isinstance(named, tuple) else named
    if first.ndim == 2 and first.shape[0] == _N:
        assert _rows(first) == _rows(first_named)


def test_a_temporary_is_reused_when_its_right_operand_runs_operators_of_its_own():
    base = np.random.default_rng(3).random((_N, _COLS))
    t = stp.array(base, source_id="elide_scale")
    before = _elide.REUSED[0]
    z = (t - t.mean()) / t.std()
    # the quotient reused the difference's memory (the old proof allowed one plain load
    # between the two operators)
    assert _elide.REUSED[0] == before + 1
    np.testing.assert_array_equal(np.asarray(z), (base - base.mean()) / base.std())
    np.testing.assert_array_equal(np.asarray(t), base)
    assert _rows(z) == _rows((t - t.mean()) + 0 * t.std())
    # a right operand to broadcast (a row of per-column figures): NumPy makes a new
    # array for the quotient, and so does the traced expression
    before = _elide.REUSED[0]
    z = (t - t.mean(axis=0)) / t.std(axis=0)
    assert _elide.REUSED[0] == before
    np.testing.assert_array_equal(np.asarray(z), (base - base.mean(axis=0)) / base.std(axis=0))
    # an expression of the temporary's shape
    before = _elide.REUSED[0]
    z = (t * 2) + t.T.T
    assert _elide.REUSED[0] == before + 1
    np.testing.assert_array_equal(np.asarray(z), base * 2 + base)


def test_the_note_of_recent_results_keeps_none_of_them_alive():
    import gc
    import weakref

    base = np.random.default_rng(4).random((_N, _COLS))
    t = stp.array(base, source_id="elide_ids")
    y = t * 2  # noted: our operator returned it to this frame
    key, alive = id(y), weakref.ref(y)
    assert _elide.RECENT[key][0]() is y
    del y
    gc.collect()
    # freed (the note holds a weak reference), and its entry can name no object now at
    # the same address
    assert alive() is None
    entry = _elide.RECENT.get(key)
    assert entry is None or entry[0]() is None
