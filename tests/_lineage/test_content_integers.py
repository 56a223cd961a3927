"""Untraced data and plain targets are matched to loaded integers exactly, not as floats.

An untraced X (or a plain ``y``) is said to hold loaded rows (or a loaded column) when its
values equal those kept of the load's witness rows. Those were compared as float32 (X)
and float64 (``y``), which round integers past 2**24 and 2**53: account numbers near
2**60 each raised by one were still "the values loaded for" a row, and such a ``y``
still "equals column 'c'", so the warnings named rows that X and ``y`` do not hold.
The truth is Python's integers: the loaded frame's values, changed by ``d``.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._content import loaded_row_in
from sktraceprop._lineage._loaded_labels import evidence

N = 500
DTYPES = ["int64", "Int64"]
try:
    import pyarrow  # noqa: F401

    DTYPES.append("int64[pyarrow]")
except ImportError:  # pragma: no cover
    pass


def _loaded(dtype):
    """A traced frame of account numbers near 2**60: a and b spread (distinct as
    float32), c on float64's grid (each + 1 rounds back to itself)."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "a": 2**60 + rng.integers(0, 2**60, N),
            "b": 2**60 + rng.integers(0, 2**60, N),
            "c": 2**60 + 256 * rng.permutation(N).astype(np.int64),
        }
    ).astype(dtype)
    name = f"accounts-near-2-60-{dtype}"
    return stp.from_pandas(frame, name)


def _plain(df, d):
    """The frame's values changed by ``d``, without its row ids, in its own dtype."""
    return pd.DataFrame({c: df[c].to_numpy() for c in df.columns}).astype(df.dtypes) + d


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_copy_of_loaded_integers_is_found_and_a_copy_raised_by_one_is_not(dtype):
    df = _loaded(dtype)
    found = loaded_row_in(_plain(df, 0))
    assert found is not None
    position, row_id, shared = found
    assert shared == 3 and int(stp.row_ids(df)[position]) == row_id
    assert loaded_row_in(_plain(df, 1)) is None, "X + 1 was said to hold the loaded values"
    assert loaded_row_in(_plain(df, 1).to_numpy(dtype=np.int64)) is None
    # (the truth: no row of X + 1 holds any loaded value)
    loaded = {int(v) for c in df.columns for v in df[c]}
    assert not loaded & {int(v) for c in df.columns for v in _plain(df, 1)[c]}


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_target_raised_by_one_does_not_equal_the_loaded_column(dtype):
    df = _loaded(dtype)
    name = f"accounts-near-2-60-{dtype}"
    y = df["c"].to_numpy()
    assert any(name in text and "'c'" in text for text in evidence(y, {}, N))
    raised = y.astype(np.int64) + 1
    assert not any(int(u) == int(v) for u, v in zip(raised, y))  # the truth
    assert not any(name in text for text in evidence(raised, {}, N))


@settings(deadline=None, max_examples=25)
@given(d=st.integers(-(2**12), 2**12).filter(bool), dtype=st.sampled_from(DTYPES))
@example(d=1, dtype="int64")
@example(d=-1, dtype="Int64")
def test_any_change_of_loaded_integers_is_seen(d, dtype):
    df = _loaded(dtype)
    assert loaded_row_in(_plain(df, d)) is None
    y = df["c"].to_numpy().astype(np.int64) + d
    assert not any(f"accounts-near-2-60-{dtype}" in t for t in evidence(y, {}, N))


def test_integers_cast_to_float_still_count_as_the_loaded_values():
    # a cast rounds; it changes no value (as the witness rows' own check says)
    df = _loaded("int64")
    X = _plain(df, 0).astype(float)
    found = loaded_row_in(X)
    assert found is not None and int(stp.row_ids(df)[found[0]]) == found[1]
