"""Keyed per-row digests: a row's digest is its own, whatever batch it is in and however
its values are stored, and differs for any other row.

The truths: the digest of the row taken alone (a one-row frame, as a deployer holds a
person's data), the same rows stored in another dtype (int32 and int64, categorical and
values, nullable and not, pyarrow and Python strings, polars and pandas), and rows that
differ in one value, name or column kind.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._row_digests import parse_salt, row_digests, salt_text

SALT = "0123456789abcdef0123456789abcdef"


def _rows(X):
    return [row.tobytes() for row in row_digests(X, SALT)]


def _frame(ints, floats, texts, when):
    return pd.DataFrame(
        {
            "age": np.array(ints, dtype=np.int64),
            "bp": np.array(floats, dtype=np.float64),
            "city": pd.array(texts, dtype=object),
            "seen": pd.to_datetime(np.array(when, dtype="int64"), utc=True),
        }
    )


_n = st.integers(1, 6)


@settings(max_examples=40, deadline=None)
@given(n=_n, data=st.data())
@example(n=2, data=None)
def test_a_rows_digest_does_not_depend_on_its_batch_nor_its_storage(n, data):
    if data is None:  # (a missing value elsewhere in the column; accents; NaN)
        ints, floats, texts, when = [1, 2], [np.nan, 0.5], ["Zürich", None], [0, 10**18]
    else:
        ints = data.draw(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=n, max_size=n))
        floats = data.draw(st.lists(st.floats(allow_nan=True, width=32), min_size=n, max_size=n))
        texts = data.draw(
            st.lists(st.one_of(st.none(), st.text(max_size=5)), min_size=n, max_size=n)
        )
        when = data.draw(st.lists(st.integers(0, 2**62), min_size=n, max_size=n))
    frame = _frame(ints, floats, texts, when)
    whole = _rows(frame)
    alone = [_rows(frame.iloc[[i]])[0] for i in range(len(frame))]
    assert whole == alone  # a row alone digests as inside its batch
    stored = frame.astype({"age": "int32", "bp": "float32", "city": "category"})
    assert _rows(stored) == whole
    assert _rows(frame.astype({"age": "Int64", "city": "string[pyarrow]"})) == whole
    assert _rows(frame.astype({"age": "category"})) == whole
    # a categorical row alone has only its own category: still the same digest
    for i in range(len(frame)):
        one = stored.iloc[[i]].copy()
        one["city"] = one["city"].cat.remove_unused_categories()
        assert _rows(one)[0] == whole[i]
    # a value changed changes that row's digest only (duplicates of it excepted)
    changed = frame.copy()
    changed.loc[0, "age"] = ints[0] + 1
    got = _rows(changed)
    assert got[0] != whole[0] and got[1:] == whole[1:]


def test_polars_rows_digest_as_the_pandas_frame_of_their_values():
    pl = pytest.importorskip("polars")
    frame = pd.DataFrame({"age": [44, 51], "city": ["Bern", "Lyon"], "bp": [1.5, 2.0]})
    assert _rows(pl.from_pandas(frame)) == _rows(frame)
    assert _rows(pl.from_pandas(frame)[1:]) == _rows(frame)[1:]


def test_names_kinds_and_keys_tell_rows_apart():
    frame = pd.DataFrame({"age": [44], "bp": [1.0]})
    base = _rows(frame)
    assert _rows(frame.rename(columns={"age": "AGE"})) != base
    assert _rows(frame.astype({"age": np.float64})) != base  # 44 and 44.0, as hash_rows
    assert _rows(frame.to_numpy()) != _rows(frame.astype(np.float64))  # names dropped
    assert _rows(frame[["bp", "age"]]) != base
    assert _rows(frame.astype({"age": bool})) != _rows(frame.assign(age=[1]))
    other = [r.tobytes() for r in row_digests(frame, "f" * 32)]
    assert other != base  # another call's salt: another key
    # an unsigned value above the int64 range is not the negative int of its bits
    big = pd.DataFrame({"v": np.array([2**64 - 1], dtype=np.uint64)})
    assert _rows(big) != _rows(pd.DataFrame({"v": np.array([-1], dtype=np.int64)}))
    # a missing value is not the value 0; a text is not the object of its text
    assert _rows(pd.DataFrame({"v": [np.nan]})) != _rows(pd.DataFrame({"v": [0.0]}))
    assert _rows(pd.DataFrame({"v": ["1"]}, dtype=object)) != _rows(
        pd.DataFrame({"v": [1]}, dtype=object)
    )


def test_arrays_and_sparse_rows():
    values = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [1.0, 0.0, 2.0]])
    rows = _rows(values)
    assert rows[0] == rows[2] != rows[1] and _rows(values[[1]]) == [rows[1]]
    assert _rows(values.astype(np.float32)) == rows
    matrix = sp.csr_matrix(values)
    sparse = _rows(matrix)
    assert sparse[0] == sparse[2] != sparse[1]
    assert _rows(matrix[[2]]) == [sparse[0]] and _rows(sp.csc_matrix(values)) == sparse


def test_the_kept_text_round_trips_and_refuses_damage():
    digests = row_digests(pd.DataFrame({"a": [1, 2, 3]}), SALT)
    text = salt_text(SALT, digests)
    salt, kept = parse_salt(text)
    assert salt == SALT and np.array_equal(kept, digests)
    assert parse_salt(SALT) == (SALT, None)  # a call logged before row digests
    with pytest.raises(ValueError):
        parse_salt(text[:-4])
    with pytest.raises(ValueError, match="unknown row digest format"):
        parse_salt(SALT + ":r9:AAAA")


def test_digests_started_before_predict_are_of_the_rows_as_given():
    from sktraceprop._call_hashes import start_salt_text

    rng = np.random.default_rng(0)
    big = pd.DataFrame(rng.normal(size=(5_000, 4)), columns=list("abcd"))  # helper thread
    small = big.iloc[:3].copy()
    for X in (big, small):
        want = salt_text(SALT, row_digests(X, SALT))
        result = start_salt_text(X, SALT)
        X.iloc[0, 0] += 1.0  # a step writing into its input (copy=False) while it predicts
        assert result() == want


def test_fitting_a_model_that_logs_loads_the_kernels_off_the_first_calls_path():
    """A traced fit with ``log_predictions=True`` asks the hashing thread to load the
    digest kernels (numba), so the first logged call does not wait ~0.5-1 s for them;
    a fit that does not log asks nothing."""
    import os

    import sktraceprop._row_digests as row_digests

    X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 3})
    y = np.arange(20) % 2
    row_digests._WARMED_IN = None
    stp.make_traced_pipeline(LogisticRegression()).fit(X, y)
    assert row_digests._WARMED_IN is None
    store = stp.stores.MemoryStore()
    stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True).fit(X, y)
    assert row_digests._WARMED_IN == os.getpid()
    assert row_digests.warm_up() is None  # once per process
    # With numba's cache empty (a fresh clone where no earlier test compiled them, an
    # empty NUMBA_CACHE_DIR) warm_up asks nothing, by design: the first logged call
    # compiles them in its own thread. Compiled here, they are cached for what follows.
    row_digests._LOADED_IN = None
    row_digests.load_kernels()
    if not row_digests._all_cached():
        pytest.skip("numba cannot write its cache here: warm_up has nothing to load")
    row_digests._WARMED_IN = None
    row_digests.warm_up().result(timeout=120)  # the kernels load without an error
