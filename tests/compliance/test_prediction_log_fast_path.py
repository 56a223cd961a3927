"""The prediction log's fast paths give what the slow, plain ones give."""

import base64
import hashlib
import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import _row_hash_start
from sktraceprop._prediction_outputs import _output_sha256, decode_array, encode_outputs
from sktraceprop.compliance import hash_rows
from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores._chain import (
    GENESIS,
    blob_payload_text,
    canonical_json,
    event_hash,
    make_event,
)
from sktraceprop.stores._prediction_salts import input_was

_DTYPES = ["float64", "float32", "int64", "int32", "int8", "bool", "uint8"]


@pytest.fixture
def every_size_threaded(monkeypatch):
    """Send inputs of any size to the helper thread (it takes large ones only)."""
    monkeypatch.setattr(_row_hash_start, "_SNAPSHOT_MIN", 0)


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(0, 40),
    dtypes=st.lists(st.sampled_from(_DTYPES), min_size=1, max_size=5),
    names=st.lists(st.text(max_size=4), min_size=5, max_size=5),
    nan_at=st.none() | st.integers(0, 39),
    as_frame=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_threaded_hash_is_hash_rows(n_rows, dtypes, names, nan_at, as_frame, seed):
    rng = np.random.default_rng(seed)
    data = {}
    for j, dtype in enumerate(dtypes):
        values = rng.normal(size=n_rows) * 100
        if dtype == "float64" and nan_at is not None and nan_at < n_rows:
            values[nan_at] = np.nan
        data[f"{j}{names[j]}"] = values.astype(dtype) if dtype != "bool" else values > 0
    frame = pd.DataFrame(data)
    X = frame if as_frame else frame.to_numpy()
    _row_hash_start._SNAPSHOT_MIN = 0
    try:
        assert _row_hash_start.start_hash_rows(X)() == hash_rows(X)
    finally:
        _row_hash_start._SNAPSHOT_MIN = 1 << 16


@settings(max_examples=80, deadline=None)
@given(
    n_rows=st.integers(0, 30),
    n_cols=st.integers(0, 6),
    dtype=st.sampled_from(["float64", "float32", "float16", ">f8", "int64", "int16", "bool"]),
    layout=st.sampled_from(["C", "F", "rows reversed", "every other column", "transposed"]),
    specials=st.lists(st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 1e308]), max_size=4),
    seed=st.integers(0, 2**16),
)
def test_the_one_buffer_is_the_bytes_hash_rows_digests(
    n_rows, n_cols, dtype, layout, specials, seed
):
    rng = np.random.default_rng(seed)
    width = n_cols * 2 if layout == "every other column" else n_cols
    base = rng.normal(size=(n_rows, width)) * 1e3
    if dtype.lstrip("<>").startswith("f") and base.size:
        for value in specials:  # NaNs (listed as missing), infinities, overflowing sums
            base.flat[rng.integers(base.size)] = value
    with np.errstate(over="ignore"):  # 1e308 is inf in float16
        base = base > 0 if dtype == "bool" else base.astype(dtype)
    X = {
        "C": base,
        "F": np.asfortranarray(base),
        "rows reversed": base[::-1],
        "every other column": base[:, ::2],
        "transposed": np.ascontiguousarray(base.T).T,
    }[layout]
    _row_hash_start._SNAPSHOT_MIN = 0
    try:
        buffer = _row_hash_start._snapshot(X)
        assert buffer is not None and buffer.flags.c_contiguous
        expected = hash_rows(X)
        assert hashlib.sha256(buffer).hexdigest() == expected
        assert _row_hash_start.start_hash_rows(X)() == expected
        # names of one length (the heads are evenly spaced too) and of several
        for names in ([f"c{j}" for j in range(X.shape[1])], [f"c{j}" * j for j in range(9)]):
            frame = pd.DataFrame(X, columns=names[: X.shape[1]])
            assert _row_hash_start.start_hash_rows(frame)() == hash_rows(frame)
            reordered = frame.iloc[:, ::-1]
            assert _row_hash_start.start_hash_rows(reordered)() == hash_rows(reordered)
    finally:
        _row_hash_start._SNAPSHOT_MIN = 1 << 16


def test_the_columns_of_one_block_are_one_matrix_of_them():
    X = np.arange(24.0).reshape(6, 4)
    for frame in (pd.DataFrame(X), pd.DataFrame(np.asfortranarray(X)), pd.DataFrame(X[::-2])):
        matrix = _row_hash_start._numeric_columns(frame)[2]
        assert matrix is not None
        np.testing.assert_array_equal(matrix, frame.to_numpy().T)
    # columns of several dtypes, or a block's columns out of order, are not one matrix
    frame = pd.DataFrame({"a": np.arange(3.0), "b": np.arange(3)})
    assert _row_hash_start._numeric_columns(frame)[2] is None
    for reordered in (pd.DataFrame(X)[[2, 0, 1, 3]], pd.DataFrame(X).iloc[:, ::-1]):
        matrix = _row_hash_start._frame_matrix(reordered)
        assert matrix is None or np.array_equal(matrix, reordered.to_numpy().T)


def test_frames_of_several_blocks_and_the_size_bounds(every_size_threaded):
    frame = pd.DataFrame({"a": np.arange(4.0), "b": np.arange(4, dtype="int8")})
    frame["c"] = [True, False, True, True]  # a block of its own
    frame["a"] = [1.5, np.nan, -np.inf, 2.0]
    frame.insert(1, "é", np.float32([1, 2, 3, 4]))
    assert _row_hash_start._snapshot(frame) is not None
    assert _row_hash_start.start_hash_rows(frame)() == hash_rows(frame)
    assert _row_hash_start._snapshot(pd.DataFrame(index=range(3))) is not None
    # text as Python objects, unsigned or too large: hashed at once, as before
    assert _row_hash_start._snapshot(frame.astype({"b": "uint8"})) is None
    assert _row_hash_start._snapshot(frame.assign(t=pd.Series(list("abcd"), dtype=object))) is None
    # pyarrow text beside numbers: copied as hash_rows reads it (_row_hash_frames)
    texts = frame.assign(t=pd.array(["a", None, "é", ""], dtype="string[pyarrow]"))
    assert hashlib.sha256(_row_hash_start._snapshot(texts)).hexdigest() == hash_rows(texts)
    assert _row_hash_start.start_hash_rows(texts)() == hash_rows(texts)
    _row_hash_start._SNAPSHOT_MAX, saved = 8, _row_hash_start._SNAPSHOT_MAX
    try:
        assert _row_hash_start._snapshot(frame) is None
        assert _row_hash_start.start_hash_rows(frame)() == hash_rows(frame)
    finally:
        _row_hash_start._SNAPSHOT_MAX = saved


def test_the_hash_is_of_the_rows_as_given(every_size_threaded):
    X = np.arange(60.0).reshape(20, 3)
    expected = hash_rows(X)
    result = _row_hash_start.start_hash_rows(X)
    X[:] = -1  # a step scaling its input in place after the call began
    assert result() == expected
    # a NaN written after the call began is not in the digest; one written before is
    for frame in (pd.DataFrame(X, columns=["a", "bb", "c"]), pd.DataFrame(X)):
        expected = hash_rows(frame)
        result = _row_hash_start.start_hash_rows(frame)
        frame.iloc[3, 1] = np.nan
        assert result() == expected != hash_rows(frame)
        result = _row_hash_start.start_hash_rows(frame)
        frame.iloc[3, 1] = 0.5
        assert result() == hash_rows(frame.where(frame != 0.5)) != hash_rows(frame)
    # and through a pipeline that scales its input in place (copy=False)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(
        make_pipeline(StandardScaler(copy=False)),
        LogisticRegression(),
        store=store,
        log_predictions=True,
    )
    rng = np.random.default_rng(0)
    train = rng.normal(size=(50, 3))
    pipe.fit(train.copy(), (train[:, 0] > 0).astype(int))
    X = rng.normal(size=(30, 3)) * 5 + 3
    before = hash_rows(X)
    pipe.predict(X)
    assert input_was(store, store.events()[-1], before)


def test_calls_in_flight_together_each_get_their_own_rows_digest(every_size_threaded):
    # a call must never digest another call's rows, whatever the order the digests are
    # asked in, and from several threads at once
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(50 + 7 * (i % 3), 4)) for i in range(12)]
    expected = [hash_rows(X) for X in inputs]
    results = [_row_hash_start.start_hash_rows(X) for X in inputs]
    for i in (5, 0, 11, 3, 1, 2, 4, 6, 10, 9, 8, 7):
        assert results[i]() == expected[i]
    # and from several threads predicting at once
    from concurrent.futures import ThreadPoolExecutor

    def run(i):
        return [_row_hash_start.start_hash_rows(inputs[(i + k) % 12])() for k in range(24)]

    with ThreadPoolExecutor(4) as pool:
        for i, found in enumerate(pool.map(run, range(4))):
            assert found == [expected[(i + k) % 12] for k in range(24)]


def test_an_unhashable_input_fails_when_asked_not_before():
    result = _row_hash_start.start_hash_rows(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        result()


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(
    payload=st.dictionaries(st.text(max_size=4), _json, max_size=5),
    blobs=st.lists(st.binary(max_size=40), max_size=3),
    seq=st.integers(1, 10**6),
    run_id=st.none() | st.text(max_size=8),
)
def test_blob_text_and_spliced_hash_are_the_plain_ones(payload, blobs, seq, run_id):
    plain = json.loads(json.dumps(payload))
    given = dict(payload)
    for n, blob in enumerate(blobs):
        plain[f"blob{n}"] = {"inner": {"data": base64.b64encode(blob).decode("ascii")}}
        given[f"blob{n}"] = {"inner": {"data": blob}}
    paths = [(f"blob{n}", "inner") for n in range(len(blobs))]
    own = json.loads(json.dumps({k: v for k, v in given.items() if k not in dict(paths)}))
    own.update({key: {"inner": {"data": given[key]["inner"]["data"]}} for key, _ in paths})
    text, copy = blob_payload_text(given, paths)
    assert json.loads(text) == json.loads(canonical_json(plain)) == copy
    assert text == canonical_json(json.loads(text)) == canonical_json(copy)
    # serialised once, without a copy (a payload of JSON values its caller built)
    own_text, same = blob_payload_text(own, paths, copy=False)
    assert same is own and own_text == text
    event = make_event(GENESIS, "prediction", copy, run_id, seq, text)
    record = {k: event[k] for k in ("seq", "run_id", "created_at", "kind", "payload")}
    assert event["hash"] == event_hash(GENESIS, record)
    # what verify() recomputes from the stored text
    record["payload"] = json.loads(text)
    assert event["hash"] == event_hash(GENESIS, record)


def test_a_marker_found_elsewhere_falls_back_to_the_plain_text(monkeypatch):
    import uuid

    class Fixed:
        hex = "0"

    monkeypatch.setattr(uuid, "uuid4", lambda: Fixed())
    payload = {"note": "sktraceprop-blob-0-0", "out": {"data": b"\x01\x02"}}
    text, copy = blob_payload_text(payload, [("out",)])
    assert copy == {"note": "sktraceprop-blob-0-0", "out": {"data": "AQI="}}
    assert text == canonical_json(copy)


def test_non_string_keys_are_canonicalised_once_more():
    store = stp.stores.MemoryStore()
    store.append_event("review", {"x": {2: 1, 10: 2}, "y": [{10: "a", 9: "b"}]})
    assert store.verify()
    assert store.events()[-1]["payload"] == {"x": {"2": 1, "10": 2}, "y": [{"10": "a", "9": "b"}]}


def test_old_events_stored_with_spaces_still_verify_and_take_appends(tmp_path):
    path = tmp_path / "old.db"
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {"by": "internal audit"})
    store.close()
    # rewrite the event as earlier versions stored it: json.dumps(sort_keys=True)
    con = sqlite3.connect(path)
    (text,) = con.execute("SELECT payload FROM events").fetchone()
    old = json.dumps(json.loads(text), sort_keys=True)
    assert old != text
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'").fetchall()
    for name, _ in triggers:
        con.execute(f"DROP TRIGGER {name}")
    con.execute("UPDATE events SET payload = ?", (old,))
    for _, sql in triggers:
        con.execute(sql)
    con.commit()
    con.close()
    store = stp.stores.SQLiteStore(path)
    assert store.verify()
    store.append_event("review", {"by": "external audit"})
    assert store.verify() and len(store.events()) == 2


def test_an_altered_last_event_is_still_refused_after_appends(tmp_path):
    path = tmp_path / "a.db"
    store = stp.stores.SQLiteStore(path)
    store.append_event("review", {"n": 1})
    store.append_event("review", {"n": 2})  # the handle remembers this row as checked
    con = sqlite3.connect(path)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    con.execute("UPDATE events SET payload = ? WHERE seq = 2", ('{"n":3}',))
    con.commit()
    con.close()
    with pytest.raises(CorruptStoreError, match="does not match its hash"):
        store.append_event("review", {"n": 4})
    assert len(store.events()) == 2


@pytest.mark.parametrize(
    "classes",
    [np.array([0, 1]), np.array([3, 7]), np.array(["no", "yes"]), np.array([True, False])[::-1]],
)
def test_two_class_labels_are_bits_that_decode_to_the_outputs(classes):
    rng = np.random.default_rng(1)
    for n in (1, 7, 8, 9, 1000):
        values = classes[rng.integers(0, 2, n)]
        record = encode_outputs("predict", values, classes)
        assert record["labels"]["bits"] == 1
        index = decode_array(record["labels"])
        np.testing.assert_array_equal(classes[index], values)
        assert record["counts"] == np.bincount(index, minlength=2).tolist()


def test_labels_outside_the_classes_and_many_classes():
    classes = np.array([0, 1])
    record = encode_outputs("predict", np.array([0, 2, 1]), classes)
    assert "labels" not in record
    np.testing.assert_array_equal(decode_array(record["values"]), [0, 2, 1])
    classes = np.array(["a", "b", "c"])
    values = np.array(["c", "a", "c", "b"])
    record = encode_outputs("predict", values, classes)
    assert record["labels"]["zlib"] and "bits" not in record["labels"]
    np.testing.assert_array_equal(classes[decode_array(record["labels"])], values)


def test_outputs_of_no_rows_hash_and_encode():
    for empty in (np.array([], dtype=object), np.empty((0, 2), dtype=object)):
        assert len(_output_sha256(empty)) == 64
    record = encode_outputs(
        "predict", np.array([], dtype=object), np.array(["a", "b"], dtype=object)
    )
    assert record["counts"] == [0, 0] and record["shape"] == [0]
    # text outputs with rows hash as before (the same as hash_rows of one column)
    text = np.array(["a", "b"], dtype=object)
    assert _output_sha256(text) == hash_rows(text.reshape(2, 1))
