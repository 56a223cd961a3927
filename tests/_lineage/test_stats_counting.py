"""The vectorised counts behind a fit's source statistics (class counts, missing values),
against plain per-value counts of pandas and NumPy, on the edge cases their fast paths
take: a few labels (binary ones, booleans, negative labels, a single label), NaN beside
infinities, empty and one-column arrays, frames of one block and of mixed dtypes."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sktraceprop._lineage._stats_labels import _class_counts
from sktraceprop._lineage._stats_missing import _has_nan, _missing_counts

_INT_DTYPES = st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64])


def _truth(y, index, n_sources):
    """Labels and counts per source by pandas' value_counts, one source at a time."""
    labels = np.sort(pd.unique(pd.Series(y)))
    counts = np.zeros((n_sources, labels.size), dtype=np.int64)
    for s in range(n_sources):
        part = y if index is None else y[index == s]
        vc = pd.Series(part).value_counts()
        counts[s] = [vc.get(v, 0) for v in labels]
    return labels, counts


@settings(max_examples=200, deadline=None)
@given(
    dtype=_INT_DTYPES,
    lo=st.integers(-3, 70000),
    width=st.integers(1, 6),
    data=st.data(),
    n_sources=st.integers(1, 3),
)
def test_integer_class_counts_match_value_counts(dtype, lo, width, data, n_sources):
    info = np.iinfo(dtype)
    lo = min(max(lo, info.min), info.max - width + 1)
    values = data.draw(
        st.lists(st.integers(lo, lo + width - 1), min_size=1, max_size=60), label="values"
    )
    y = np.array(values, dtype=dtype)
    index = None
    if n_sources > 1:
        index = np.array(
            data.draw(st.lists(st.integers(0, n_sources - 1), min_size=y.size, max_size=y.size)),
            dtype=np.int64,
        )
    labels, counts, missing = _class_counts(y, index, n_sources)
    want_labels, want_counts = _truth(y, index, n_sources)
    assert labels.tolist() == want_labels.tolist()
    np.testing.assert_array_equal(counts, want_counts)
    assert missing.tolist() == [0] * n_sources


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.booleans(), min_size=1, max_size=40))
def test_boolean_class_counts_keep_boolean_labels(values):
    y = np.array(values)
    labels, counts, _ = _class_counts(y, None, 1)
    assert labels.dtype == bool
    assert dict(zip(labels.tolist(), counts[0].tolist())) == {
        v: values.count(v) for v in set(values)
    }


_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308]),
)


@settings(max_examples=200, deadline=None)
@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@given(
    X=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=6),
        elements=_FLOATS,
    ),
    fortran=st.booleans(),
    single=st.booleans(),
)
def test_missing_counts_of_float_arrays_and_frames_match_isnan(X, fortran, single):
    if single:
        X = X.astype(np.float32)  # (large values become infinities, still not missing)
    if fortran:
        X = np.asfortranarray(X)
    want = np.isnan(X).sum(axis=0)
    assert _has_nan(X.ravel(order="K")) == bool(np.isnan(X).any())
    _, counts = _missing_counts(X, None, 1)
    np.testing.assert_array_equal(counts[0], want)
    frame = pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])])
    _, counts = _missing_counts(frame, None, 1)
    np.testing.assert_array_equal(counts[0], want)
    if X.shape[1]:
        # mixed dtypes: one column at a time
        frame["tag"] = np.arange(X.shape[0])
        frame["text"] = pd.Series(
            [None if i % 2 else "a" for i in range(X.shape[0])], dtype=object
        )
        names, counts = _missing_counts(frame, None, 1)
        truth = frame.isna().sum(axis=0).to_numpy()
        np.testing.assert_array_equal(counts[0], truth)
        assert names == list(frame.columns)
