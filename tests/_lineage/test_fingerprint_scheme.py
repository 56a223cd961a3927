"""Fingerprint scheme 2: two different values never feed the same bytes.

Scheme 1 fed leaves as their ``repr`` with no type tag and no length, so different
fitted models had one fingerprint. Each pair below is one it named alike (asserted on
``fingerprint_v1``, kept to read old records): scheme 2 must tell them apart. The truth
for the property tests is a canonical form of the value written independently here
(typed, order-free for dicts): distinct canonical forms -> distinct fingerprints, equal
ones (copies, pickled copies) -> equal fingerprints.
"""

import copy
import hashlib
import pickle
import struct

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from sktraceprop._lineage._fingerprint import MAX_DEPTH, _feed, fingerprint
from sktraceprop._lineage._fingerprint_v1 import fingerprint_v1


class _Holder(LogisticRegression):
    """An estimator whose fitted state holds an arbitrary value."""


def _holding(value):
    est = _Holder()
    est.payload_ = value
    return est


def _nested(value, levels):
    for _ in range(levels):
        value = [value]
    return value


def _cycle(distance):
    """``[[...]]``: a list in a list whose innermost item is the list ``distance``
    (1 or 2) levels up."""
    inner = []
    top = [inner]
    inner.append(inner if distance == 1 else top)
    return top


_STRUCT_A = np.zeros(3, dtype=[("a", "<i4")])
_STRUCT_B = np.zeros(3, dtype=[("b", "<f4")])  # dtype.str "|V4" for both
_EYE = sp.csr_matrix(np.eye(2))

COLLIDED = {
    "list of ints split differently": (
        FunctionTransformer(kw_args={"c": [1, 23]}),
        FunctionTransformer(kw_args={"c": [12, 3]}),
    ),
    "object categories": (
        OneHotEncoder().fit(np.array([[12], [34]], dtype=object)),
        OneHotEncoder().fit(np.array([[1], [234]], dtype=object)),
    ),
    "int then float vs one float": (
        FunctionTransformer(kw_args={"c": [1, 0.5]}),
        FunctionTransformer(kw_args={"c": [10.5]}),
    ),
    "dict key and value boundary": (
        FunctionTransformer(kw_args={1: 23}),
        FunctionTransformer(kw_args={12: 3}),
    ),
    "structured dtypes of one dtype.str": (
        _holding(_STRUCT_A),
        _holding(_STRUCT_B),
    ),
    "sparse matrices of other shapes": (
        _holding(_EYE),
        _holding(sp.csr_matrix((_EYE.data, _EYE.indices, _EYE.indptr), shape=(2, 5))),
    ),
    "content deeper than 20 levels": (
        _holding(_nested(1, 25)),
        _holding(_nested(2, 25)),
    ),
    "sets whose items' reprs concatenate alike": (
        _holding({1, 23}),
        _holding({12, 3}),
    ),
    "list vs tuple": (_holding([1]), _holding((1,))),
    "cycles to other ancestors": (
        _holding(_cycle(1)),
        _holding(_cycle(2)),
    ),
}


@pytest.mark.parametrize("name", sorted(COLLIDED))
def test_models_scheme_1_named_alike_differ(name):
    one, two = COLLIDED[name]
    assert fingerprint_v1(one) == fingerprint_v1(two)  # the defect, as recorded before
    assert fingerprint(one) != fingerprint(two)


def test_ml_dtypes_arrays_of_one_dtype_str_differ():
    """float8_e4m3fn and float8_e5m2fnuz are both ``<V1``: the same bytes, other numbers."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    raw = np.arange(8, dtype=np.uint8)
    e4m3 = raw.view(ml_dtypes.float8_e4m3fn)
    e5m2 = raw.view(ml_dtypes.float8_e5m2fnuz)
    assert e4m3.dtype.str == e5m2.dtype.str
    assert fingerprint_v1(_holding(e4m3)) == fingerprint_v1(_holding(e5m2))
    assert fingerprint(_holding(e4m3)) != fingerprint(_holding(e5m2))
    assert fingerprint(_holding(e4m3)) == fingerprint(_holding(e4m3.copy()))


def test_values_nested_too_deep_are_refused_not_cut_short():
    fingerprint(_holding(_nested(1, MAX_DEPTH - 5)))
    with pytest.raises(ValueError, match=f"deeper than {MAX_DEPTH} levels"):
        fingerprint(_holding(_nested(1, MAX_DEPTH + 5)))


def test_object_arrays_of_leaves_feed_each_item_as_alone():
    """The one-update path for arrays of plain values gives the bytes item by item does."""
    from sktraceprop._lineage._fingerprint_walk import _Collect

    values = np.array(["a", "é", 3, 2.5, None, b"x", True, 2**80], dtype=object)
    whole, parts = _Collect(), _Collect()
    _feed(whole, values)
    _feed(parts, values[:1].astype(object)[:0])  # the header of an empty array...
    header = parts.value().replace(b"1:0,", b"1:%d," % values.size)
    items = _Collect()
    for item in values.tolist():
        _feed(items, item)
    assert whole.value() == header + items.value()


def _canon(v):
    """The value as a typed canonical form (the independent truth of equality)."""
    t = type(v)
    if v is None:
        return ("none",)
    if t is float:
        return ("float", struct.pack("<d", v))
    if t in (bool, int, str, bytes):
        return (t.__name__, v)
    if t in (list, tuple):
        return (t.__name__, tuple(map(_canon, v)))
    if t is dict:
        return ("dict", frozenset((_canon(k), _canon(x)) for k, x in v.items()))
    assert t is np.ndarray, t
    if v.dtype == object:
        return ("objects", v.shape, tuple(map(_canon, v.ravel().tolist())))
    return ("array", v.dtype.str, repr(v.dtype), v.shape, v.tobytes())


_arrays = hnp.arrays(
    st.sampled_from([np.int8, np.int64, np.float32, np.float64, np.bool_, "U2", "S2"]),
    hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
)
_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-30, 300)
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(alphabet="ab1'\",[ ", max_size=3)
    | st.binary(max_size=3)
    | _arrays
    | st.lists(st.integers(0, 30) | st.text("a1", max_size=2), max_size=3).map(
        lambda items: np.array(items + [None], dtype=object)
    )
)
_keys = st.text(alphabet="ab1'", max_size=2) | st.integers(0, 30) | st.booleans()
_values = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_keys, inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_values, _values)
def test_distinct_values_have_distinct_fingerprints(one, two):
    same = _canon(one) == _canon(two)
    assert (fingerprint(_holding(one)) == fingerprint(_holding(two))) == same


@settings(max_examples=150, deadline=None)
@given(_values)
def test_copies_have_one_fingerprint(value):
    expected = fingerprint(_holding(value))
    assert fingerprint(_holding(copy.deepcopy(value))) == expected
    assert fingerprint(pickle.loads(pickle.dumps(_holding(value)))) == expected
    if isinstance(value, dict):  # insertion order is not content
        assert fingerprint(_holding(dict(reversed(list(value.items()))))) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="123456789", min_size=2, max_size=8),
    st.sets(st.integers(1, 7)),
    st.sets(st.integers(1, 7)),
    st.sampled_from(["ints", "strs", "keys"]),
)
def test_one_digit_string_split_two_ways_differs(digits, cuts_a, cuts_b, kind):
    """Values whose leaves' reprs concatenate alike (scheme 1's collisions)."""

    def split(cuts):
        cuts = sorted(c for c in cuts if c < len(digits))
        bounds = [0, *cuts, len(digits)]
        parts = [digits[a:b] for a, b in zip(bounds, bounds[1:])]
        if kind == "ints":
            return [int(p) for p in parts]
        if kind == "strs":
            return parts
        return {int(p): None for p in parts}

    one, two = split(cuts_a), split(cuts_b)
    if one != two:
        assert fingerprint(_holding(one)) != fingerprint(_holding(two))


def test_the_hash_starts_with_the_scheme():
    h = hashlib.sha256(b"sktraceprop fingerprint scheme 2\0")
    est = _holding([1, 2])
    _feed(h, est)
    assert h.hexdigest() == fingerprint(est)
