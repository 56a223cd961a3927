"""The SHA-256 a run records of an array given to fit (``sample_weight``, ``groups``...).

It stood for the values: two different weight vectors recorded under one digest (and one
count summary) make the record say the model was fitted with weights it was not. Before
digest scheme ``fit-param-2`` it was made by fingerprint scheme 1's walker, which fed
values by their ``repr`` with no type and no separator: the weights ``[1, 23]`` and
``[12, 3]`` (same length, same sum) had one digest and one record. The truth here is the
values themselves: equal (same type, dtype, shape and bytes) or not.
"""

import hashlib
import pickle
import struct
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._fingerprint_v1 import _feed as _feed_v1
from sktraceprop._lineage._fit_params import DIGEST_SCHEME, fit_params_record
from sktraceprop.stores import SQLiteStore


def _entry(value, name="sample_weight"):
    return fit_params_record({name: value})[name]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([1, 23], [12, 3]),
        ([11, 2, 3], [1, 12, 3]),
        (np.array([1, 23], dtype=object), np.array([12, 3], dtype=object)),
        (pd.Series([1, 23], dtype=object), pd.Series([12, 3], dtype=object)),
        (np.array([1, "1"], dtype=object), np.array(["1", 1], dtype=object)),
        ([1.0, 2.0], [1, 2]),
    ],
)
def test_different_values_never_share_a_record(a, b):
    ea, eb = _entry(a), _entry(b)
    assert ea["digest_scheme"] == eb["digest_scheme"] == DIGEST_SCHEME
    assert ea["sha256"] != eb["sha256"]
    assert ea != eb


def test_two_fits_with_different_weights_record_different_weights():
    """End to end: weights [11, 2, 3, ...] and [1, 12, 3, ...] (same rows, sum and zeros,
    and the same text run together: one record before fit-param-2)."""
    rng = np.random.default_rng(0)
    X = stp.from_pandas(pd.DataFrame({"a": rng.normal(size=20)}), "w_rows")
    y = np.arange(20) % 2
    base = [11, 2, 3] + [1] * 17
    other = [1, 12, 3] + [1] * 17
    runs = [
        stp.TracedEstimator(LogisticRegression()).fit(X, y, sample_weight=w).lineage_
        for w in (base, other)
    ]
    first, second = (r.fit_params["sample_weight"] for r in runs)
    counts = [
        {k: v for k, v in r["weights"].items() if k != "values_sha256"} for r in (first, second)
    ]
    assert counts[0] == counts[1]  # the counts cannot tell them apart
    assert first["weights"]["values_sha256"] != second["weights"]["values_sha256"]
    assert first["sha256"] != second["sha256"]
    models = [
        LogisticRegression().fit(X.to_numpy(), y, sample_weight=w).coef_ for w in (base, other)
    ]
    assert not np.allclose(*models)  # and they are different fits


def test_equal_values_share_the_digest_whatever_their_memory():
    w = np.linspace(0.5, 2.0, 12)
    strided = np.repeat(w, 2)[::2]  # the same values, not contiguous
    assert not strided.flags.c_contiguous and np.array_equal(strided, w)
    digests = {_entry(v)["sha256"] for v in (w, w.copy(), strided, pickle.loads(pickle.dumps(w)))}
    assert len(digests) == 1


def _bits(value):
    """A value as its type and exact content (floats by their bits)."""
    if isinstance(value, float):
        return float, struct.pack("<d", value)
    return type(value), value


_ITEMS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.booleans(),
)
_DTYPES = st.sampled_from(["int64", "int32", "float64", "float32", "uint8"])


@st.composite
def _arrays(draw):
    dtype = np.dtype(draw(_DTYPES))
    n = draw(st.integers(0, 6))
    raw = draw(st.lists(st.integers(0, 255), min_size=n * dtype.itemsize, max_size=n * 8))
    data = bytes(raw[: n * dtype.itemsize])
    return np.frombuffer(data, dtype=dtype).copy()


@settings(max_examples=300, deadline=None)
@given(a=st.lists(_ITEMS, max_size=5), b=st.lists(_ITEMS, max_size=5))
def test_lists_share_a_digest_exactly_when_their_items_are_equal(a, b):
    same = [_bits(v) for v in a] == [_bits(v) for v in b]
    assert (_entry(a)["sha256"] == _entry(b)["sha256"]) == same
    objects = np.empty(len(a), dtype=object)
    objects[:] = a
    again = np.empty(len(a), dtype=object)
    again[:] = list(a)
    assert _entry(objects)["sha256"] == _entry(again)["sha256"]


@settings(max_examples=300, deadline=None)
@given(a=_arrays(), b=_arrays())
def test_arrays_share_a_digest_exactly_when_dtype_shape_and_bytes_are_equal(a, b):
    same = a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    assert (_entry(a)["sha256"] == _entry(b)["sha256"]) == same
    assert _entry(a)["sha256"] == _entry(a.copy())["sha256"]


def test_a_run_recorded_with_the_earlier_digest_still_verifies_as_recorded(tmp_path):
    """A store written before fit-param-2: its entry has no digest_scheme and the digest
    of fingerprint scheme 1's walker. It is kept as recorded (the run's hash covers it),
    verifies, and the report quotes it as recorded."""
    rng = np.random.default_rng(1)
    X = stp.from_pandas(pd.DataFrame({"a": rng.normal(size=20)}), "old_weights")
    y = np.arange(20) % 2
    w = np.r_[np.zeros(2), np.ones(18)]
    run = stp.TracedEstimator(LogisticRegression()).fit(X, y, sample_weight=w).lineage_
    h = hashlib.sha256(b"fit-param")
    _feed_v1(h, w)  # what the earlier writer recorded
    entry = {k: v for k, v in run.fit_params["sample_weight"].items() if k != "digest_scheme"}
    entry["sha256"] = h.hexdigest()
    run.fit_params = {"sample_weight": entry}
    store = SQLiteStore(tmp_path / "old.db")
    store.save_run(run)
    store.append_event("review", {"by": "auditor"})
    assert store.verify()
    loaded = store.load_run(run.run_id)
    assert loaded.fit_params["sample_weight"] == entry
    report = stp.compliance_report(
        store=store,
        run_id=run.run_id,
        system_name="S",
        system_version="1",
        deployer_name="D",
        high_risk_category="creditworthiness",
        intended_purpose="scoring",
        human_oversight=["officer"],
    )
    quoted = report.to_dict()["model"]["fit_params"]["sample_weight"]
    assert "digest_scheme" not in quoted and quoted["sha256"] == entry["sha256"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert report.verify(store=store)


def test_a_value_too_deep_to_walk_gets_no_digest_rather_than_a_partial_one():
    """Scheme 1 cut values short at depth 20 (``<deep>``): two lists differing only
    below it had one digest. Too deep to walk whole, a value now has none, and says so."""

    def nested(leaf, depth):
        value = [leaf]
        for _ in range(depth):
            value = [value]
        return value

    shallow = [_entry(nested(leaf, 30), "groups")["sha256"] for leaf in (1, 2)]
    assert shallow[0] != shallow[1]
    deep = _entry(nested(1, 150), "groups")
    assert deep["sha256"] is None and "nested too deeply" in deep["digest_note"]
    assert deep["shape"] == [1] and deep["digest_scheme"] == DIGEST_SCHEME
