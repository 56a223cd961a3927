"""-0.0 and 0.0 identify the same input in the prediction log; calls logged before (when
the sign of zero was hashed) are still found and erased.

The truths: the SHA-256 of the bytes :func:`hash_rows` documents, written out here by
hand (with every -0.0 as 0.0); numpy's ``==`` (``-0.0 == 0.0``) over the rows a test
logged; and, for calls logged before, a log written with the sign of zero hashed, as
sktraceprop did before (``_signed_zeros._SIGNED`` set for the whole process: the
logging path may hash on a helper thread).
"""

import contextvars
import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import _signed_zeros
from sktraceprop._row_digests import row_digests
from sktraceprop._row_hash_start import start_hash_rows
from sktraceprop.compliance import find_predictions, hash_rows

_POOL = pd.DataFrame({"a": [0.0, 1.0, 0.0, 2.0], "b": [1.0, 0.0, 1.0, 0.0]})  # rows 0, 2 alike
_Y = np.array([0, 1, 0, 1])


def _flip(values, mask):
    """``values`` with the zeros where ``mask`` is set made -0.0 (the others +0.0)."""
    out = np.array(values, dtype=float)
    zero = out == 0
    out[zero] = 0.0
    out[zero & mask] = -0.0
    return out


def _spec_digest(values):
    """SHA-256 of a 2-D float array as hash_rows' docstring lays it out, by hand."""

    def i8(n):
        return int(n).to_bytes(8, "little", signed=True)

    def text(s):
        return i8(len(s.encode())) + s.encode()

    out = b"sktraceprop-rows-v1\0" + i8(values.shape[0]) + i8(values.shape[1])
    for j in range(values.shape[1]):
        column = [0.0 if v == 0 else float(v) for v in values[:, j]]  # -0.0 as 0.0
        out += text("") + text("float") + i8(0) + np.array(column, "<f8").tobytes()
    return hashlib.sha256(out).hexdigest()


@settings(deadline=None, max_examples=40)
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from(["float64", "float32"]),
)
@example(rows=1, cols=1, seed=0, dtype="float64")
def test_a_negative_zero_hashes_as_zero(rows, cols, seed, dtype):
    rng = np.random.default_rng(seed)
    values = rng.choice([0.0, 1.5, -2.0], size=(rows, cols)).astype(dtype)
    signs = rng.random((rows, cols)) < 0.5
    flipped = _flip(values, signs).astype(dtype)
    assert np.array_equal(values, flipped)  # the truth: equal, as numpy compares
    truth = _spec_digest(values.astype(np.float64))
    frame = pd.DataFrame(values, columns=[f"c{j}" for j in range(cols)])
    other = pd.DataFrame(flipped, columns=frame.columns)
    assert hash_rows(values) == hash_rows(flipped) == truth
    assert hash_rows(frame) == hash_rows(other)
    assert hash_rows(frame.astype("Float64")) == hash_rows(other.astype("Float64"))
    assert hash_rows(frame.astype("category")) == hash_rows(other.astype("category"))
    assert hash_rows(sp.csr_matrix(values)) == hash_rows(sp.csr_matrix(flipped))
    for salt in ("s1", "s2"):
        assert np.array_equal(row_digests(frame, salt), row_digests(other, salt))
        assert np.array_equal(
            row_digests(sp.csr_matrix(values), salt), row_digests(sp.csr_matrix(flipped), salt)
        )


@pytest.mark.parametrize("text", [False, True])
def test_the_snapshot_paths_hash_a_negative_zero_as_zero(text):
    # 64 KiB to 64 MiB of numbers (and pyarrow text) are copied and hashed by a helper
    # thread, by other code than hash_rows: the same digest, -0.0 as 0.0
    rng = np.random.default_rng(0)
    values = rng.choice([0.0, 1.0], size=(5000, 3))
    frame = pd.DataFrame(values, columns=list("abc"))
    other = pd.DataFrame(_flip(values, rng.random(values.shape) < 0.5), columns=list("abc"))
    if text:
        words = pd.array([f"w{i % 7}" for i in range(5000)], dtype="string[pyarrow]")
        frame["t"], other["t"] = words, words
    assert start_hash_rows(frame)() == start_hash_rows(other)() == hash_rows(frame)
    if not text:
        assert start_hash_rows(values)() == _spec_digest(values)


def test_nan_payloads_hash_alike():
    quiet = np.array([[np.nan, 1.0]])
    payload = quiet.copy()
    payload.view(np.uint64)[0, 0] |= np.uint64(0x1234)  # another NaN payload, and sign
    payload.view(np.uint64)[0, 0] |= np.uint64(1) << np.uint64(63)
    assert np.isnan(payload[0, 0])
    assert hash_rows(quiet) == hash_rows(payload)
    assert np.array_equal(row_digests(quiet, "s"), row_digests(payload, "s"))


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return call(*args, **kwargs)


def _logged(signed_before, monkeypatch):
    """A store with one call of the pool's rows, their zeros all -0.0; logged with the
    sign of zero hashed (as before) where ``signed_before``."""
    store = stp.stores.MemoryStore()
    model = stp.TracedPipeline(
        [("lr", LogisticRegression())], store=store, log_predictions=True
    ).fit(_POOL, _Y)
    negative = pd.DataFrame(
        _flip(_POOL.to_numpy(), np.ones(_POOL.shape, bool)), columns=["a", "b"]
    )
    if signed_before:
        monkeypatch.setattr(
            _signed_zeros, "_SIGNED", contextvars.ContextVar("signed", default=True)
        )
    model.predict(negative)
    monkeypatch.undo()
    (event,) = store.events(kind="prediction")
    return store, negative, event["seq"]


@pytest.mark.parametrize("signed_before", [False, True])
def test_a_call_is_found_and_erased_from_rows_that_compare_equal(signed_before, monkeypatch):
    store, negative, seq = _logged(signed_before, monkeypatch)
    note = _signed_zeros.SIGNED_NOTE
    # the rows as given (with their -0.0): found, whole and by row, also when logged before
    found = _quiet(find_predictions, store, negative)
    assert found["seq"].tolist() == [seq]
    assert (
        (found["matched_as"].iloc[0] == note) if signed_before else found["matched_as"].isna()[0]
    )
    one = _quiet(find_predictions, store, negative.iloc[[2]])
    assert one["seq"].tolist() == [seq] and one["positions"].iloc[0] == [0, 2]
    assert (note in one["matched_as"].iloc[0]) == signed_before
    # the rows with +0.0 (equal values): found where the call was logged since the fix;
    # before it, the log cannot tell which zeros were negative
    positive = _POOL.copy()
    assert np.array_equal(positive.to_numpy(), negative.to_numpy())
    expected = [] if signed_before else [seq]
    assert _quiet(find_predictions, store, positive)["seq"].tolist() == expected
    assert _quiet(find_predictions, store, positive.iloc[[0]])["seq"].tolist() == expected
    # erasure finds what the lookup finds, and the store still verifies
    erased = _quiet(store.erase_predictions, negative.iloc[[0]], reason="request", dry_run=True)
    assert erased["calls"] == [seq]
    store.erase_predictions(negative, reason="request")
    assert _quiet(find_predictions, store, negative).empty
    store.verify()


def test_a_call_logged_before_without_a_negative_zero_is_found_as_it_was(monkeypatch):
    # its digest is the same under both: found as given, with no note
    store = stp.stores.MemoryStore()
    model = stp.TracedPipeline(
        [("lr", LogisticRegression())], store=store, log_predictions=True
    ).fit(_POOL, _Y)
    monkeypatch.setattr(_signed_zeros, "_SIGNED", contextvars.ContextVar("s", default=True))
    model.predict(_POOL)
    monkeypatch.undo()
    found = _quiet(find_predictions, store, _POOL)
    assert len(found) == 1 and found["matched_as"].isna().all()
    assert _quiet(find_predictions, store, _POOL.iloc[[1]])["positions"].tolist() == [[1]]
