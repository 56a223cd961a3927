"""The logged call's hashes, taken in one pass on the hashing thread (``_call_hashes``,
``_row_hash_frames``, the kernels ``sip128_records`` and ``sip128_table``), against
independent slow truths: each row's digest recomputed value by value in plain Python
(the record the ``_row_digests`` docstring defines, SipHash-2-4-128 written from the
paper in ``tests/test_siphash.py``), and ``hash_rows`` of the same rows."""

import hashlib
import struct
import threading

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop import _call_hashes, _row_hash_start
from sktraceprop._call_hashes import start_call_hashes, table_digests
from sktraceprop._row_digests import parse_salt, row_digests
from sktraceprop._row_hash_frames import assemble, frame_bytes, frame_layout, frame_parts
from sktraceprop.compliance import hash_rows
from sktraceprop.stores._prediction_salts import input_commitment, salt_sha256
from tests.test_siphash import _reference

SALT = "00112233445566778899aabbccddeeff"


def _key(salt, header):
    return hashlib.sha256(f"sktraceprop-rows-1\n{salt}\n{header}".encode()).digest()[:16]


def _cell(kind, value, text_key):
    """``(code, bytes of its words)`` of one value of a column of ``kind``."""
    if value is None or pd.isna(value):
        return 1, bytes(16 if kind == "text" else 8)
    if kind == "text":
        if not isinstance(value, str):
            return 3, _reference(text_key, f"{type(value).__name__}\0{value}".encode())
        return 0, _reference(text_key, value.encode("utf-8"))
    if kind == "float":
        return 0, struct.pack("<d", 0.0 if value == 0 else float(value))  # -0.0 as 0.0
    if kind == "bool":
        return 0, struct.pack("<Q", int(bool(value)))
    value = int(value)
    return (2 if value >= 2**63 else 0), struct.pack("<Q", value % 2**64)


def _truth(frame, kinds, salt):
    """Each row's digest, value by value in Python: ``kinds`` per column."""
    text_key = _key(salt, "text")
    names = [str(c) for c in frame.columns]
    header = [str(len(names))] + [f"{len(n)}:{n}:{k}" for n, k in zip(names, kinds)]
    row_key = _key(salt, "\n".join(header))
    n_flags = (len(names) + 31) // 32
    out = []
    for i in range(len(frame)):
        flags, words = [0] * n_flags, b""
        for j, kind in enumerate(kinds):
            code, data = _cell(kind, frame.iloc[i, j], text_key)
            flags[j // 32] |= code << (2 * (j % 32))
            words += data
        record = b"".join(struct.pack("<Q", f) for f in flags) + words
        out.append(_reference(row_key, record))
    return out


def _rows(digests):
    return [np.ascontiguousarray(row).tobytes() for row in digests]


_TEXT = st.one_of(st.none(), st.text(max_size=12))  # any Unicode, empty, missing
_COLUMNS = {
    "int": (st.integers(-(2**63), 2**63 - 1), "int64", "int"),
    "uint": (st.integers(0, 2**64 - 1), "uint64", "int"),
    "float": (st.floats(allow_nan=True, allow_infinity=True), "float64", "float"),
    "float32": (st.floats(width=32, allow_nan=True), "float32", "float"),
    "bool": (st.booleans(), "bool", "bool"),
    "arrow": (_TEXT, "string[pyarrow]", "text"),
    "object": (st.one_of(_TEXT, st.integers(-5, 5)), object, "text"),
    "category": (_TEXT, "category", "text"),
}


@st.composite
def _frames(draw):
    n = draw(st.integers(0, 7))
    chosen = draw(st.lists(st.sampled_from(sorted(_COLUMNS)), min_size=1, max_size=6))
    names = draw(st.lists(st.text(max_size=3), min_size=len(chosen), max_size=len(chosen)))
    columns, kinds = {}, []
    for j, (which, name) in enumerate(zip(chosen, names)):
        values, dtype, kind = _COLUMNS[which]
        cells = draw(st.lists(values, min_size=n, max_size=n))
        if dtype is object or dtype == "category":
            series = pd.Series(cells, dtype=object)
            if dtype == "category":
                series = series.astype("category")
        elif dtype == "string[pyarrow]":
            series = pd.Series(pd.array(cells, dtype=dtype))
        else:
            series = pd.Series(np.array(cells, dtype=dtype))
        columns[f"{name}#{j}"] = series
        kinds.append(kind)
    return pd.DataFrame(columns), kinds


@settings(max_examples=60, deadline=None)
@given(_frames())
@example((pd.DataFrame({"t": pd.array(["Zürich", None, ""], dtype="string[pyarrow]")}), ["text"]))
@example(
    (
        pd.DataFrame(
            {
                "u": np.array([2**64 - 1, 1, 2**63], dtype=np.uint64),
                "f": [np.nan, -0.0, np.inf],
                "t": pd.array(["a", "ß" * 9, None], dtype="string[pyarrow]"),
                "b": [True, False, True],
            }
        ),
        ["int", "float", "text", "bool"],
    )
)
def test_the_kernels_give_each_rows_digest_and_hash_rows_bytes(found):
    frame, kinds = found
    truth = _truth(frame, kinds, SALT)
    assert _rows(row_digests(frame, SALT)) == truth  # sip128_records
    layout = frame_layout(frame)
    if layout is None:  # objects, categories, or numbers alone: the other paths
        assert frame_bytes(frame) is None
        return
    assert _rows(table_digests(len(frame), layout, SALT)) == truth  # sip128_table
    assert hashlib.sha256(layout[0]).hexdigest() == hash_rows(frame)


@settings(max_examples=30, deadline=None)
@given(_frames(), st.booleans())
def test_a_calls_hashes_started_at_once_are_those_of_the_slow_paths(found, threaded):
    frame, kinds = found
    store = stp.stores.MemoryStore()
    saved = _row_hash_start._SNAPSHOT_MIN
    _row_hash_start._SNAPSHOT_MIN = 0 if threaded else saved
    try:
        input_sha256, salt = start_call_hashes(store, frame)
        got = input_sha256()
        hashes = salt() if callable(salt) else salt
    finally:
        _row_hash_start._SNAPSHOT_MIN = saved
    assert got == hash_rows(frame)
    text = hashes if isinstance(hashes, str) else hashes.text
    drawn, digests = parse_salt(text)
    assert _rows(digests) == _truth(frame, kinds, drawn)
    if not isinstance(hashes, str):
        assert hashes.salt_sha256 == salt_sha256(text)
        assert hashes.commitment(got) == input_commitment(text, got)


@pytest.mark.parametrize("threaded", [False, True])
def test_the_hashes_are_of_the_rows_as_given(threaded, monkeypatch):
    if threaded:
        monkeypatch.setattr(_row_hash_start, "_SNAPSHOT_MIN", 0)
    frame = pd.DataFrame(
        {"n": np.arange(50.0), "t": pd.array([f"r{i}é" for i in range(50)], "string[pyarrow]")}
    )
    given = frame.copy()
    input_sha256, salt = start_call_hashes(stp.stores.MemoryStore(), frame)
    frame.iloc[0, 0] = -1.0  # a step writing into its input while the model predicts
    frame.iloc[1, 1] = "changed"
    # (pandas writes text by making a new pyarrow array: the buffers taken are unchanged)
    frame.loc[frame.index[2:5], "t"] = "x"
    frame.loc[frame.index[6], "t"] = None
    assert input_sha256() == hash_rows(given) != hash_rows(frame)
    drawn, digests = parse_salt(salt().text)
    assert _rows(digests) == _truth(given, ["float", "text"], drawn)


@pytest.mark.parametrize(
    "values, kind",
    [
        (np.array([[1.5, np.nan], [-0.0, np.inf], [2.0, 3.0]]), "float"),
        (np.array([[1, -2, 3]], dtype=np.int32), "int"),
        (np.array([[2**64 - 1], [5]], dtype=np.uint64), "int"),
        (np.array([[True, False]]), "bool"),
        (np.zeros((0, 3), np.float32), "float"),
    ],
)
def test_arrays_of_numbers_take_the_one_pass_too(values, kind):
    layout = frame_layout(values)
    truth = _truth(
        pd.DataFrame(values, columns=[""] * values.shape[1]), [kind] * values.shape[1], SALT
    )
    assert _rows(table_digests(len(values), layout, SALT)) == truth
    assert _rows(row_digests(values, SALT)) == truth
    assert hashlib.sha256(layout[0]).hexdigest() == hash_rows(values)
    assert frame_layout(values.astype(object)) is None


@settings(max_examples=40, deadline=None)
@given(_frames())
@example((pd.DataFrame({"t": pd.array([None, "é", None], dtype="string[pyarrow]")}), ["text"]))
def test_the_snapshots_pieces_are_the_bytes_hash_rows_digests(found):
    """The caller's snapshot (``frame_parts``): its pieces hashed one after the other, and
    put into one buffer (``assemble``, on the helper), are ``hash_rows``'s bytes, and the
    table read from that buffer gives each row's digest."""
    frame, kinds = found
    parts = frame_parts(frame)
    if parts is None:
        assert frame_layout(frame) is None
        return
    pieces, size, table = parts
    buffer = assemble(pieces, size)
    assert buffer.size == size == sum(len(memoryview(p).cast("B")) for p in pieces)
    one_after_other = hashlib.sha256()
    for piece in pieces:
        one_after_other.update(piece)
    assert one_after_other.hexdigest() == hashlib.sha256(buffer).hexdigest() == hash_rows(frame)
    assert np.array_equal(buffer, frame_layout(frame)[0])
    truth = _truth(frame, kinds, SALT)
    assert _rows(table_digests(len(frame), (buffer, table), SALT)) == truth


def test_a_task_the_helper_has_not_started_is_done_by_the_caller(monkeypatch):
    """A busy helper: the call's task is taken by the caller, not waited for, and gives
    what the slow paths give; the helper, freed, does not run it again."""
    monkeypatch.setattr(_row_hash_start, "_SNAPSHOT_MIN", 0)
    frame = pd.DataFrame(
        {"n": np.arange(40.0), "t": pd.array([f"v{i % 7}" for i in range(40)], "string[pyarrow]")}
    )
    release = threading.Event()
    blocker = _row_hash_start._executor().submit(release.wait, 60)
    ran = []
    original = _call_hashes._hashes

    def counted(*args):
        ran.append(threading.current_thread() is threading.main_thread())
        return original(*args)

    monkeypatch.setattr(_call_hashes, "_hashes", counted)
    try:
        input_sha256, salt = start_call_hashes(stp.stores.MemoryStore(), frame)
        got, hashes = input_sha256(), salt()
    finally:
        release.set()
    blocker.result(timeout=60)
    _row_hash_start._executor().submit(int).result(timeout=60)  # whatever was queued has run
    assert ran == [True]  # once, by the caller
    assert got == hash_rows(frame)
    drawn, digests = parse_salt(hashes.text)
    assert _rows(digests) == _truth(frame, ["float", "text"], drawn)
    assert input_sha256() == got and salt() is hashes  # computed once


def test_a_task_the_helper_has_started_is_waited_for_not_redone(monkeypatch):
    """The helper inside the task when the caller asks: the caller waits for its result
    (the task runs once, on the helper), and both callables give it."""
    monkeypatch.setattr(_row_hash_start, "_SNAPSHOT_MIN", 0)
    frame = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30) % 4})
    started, release = threading.Event(), threading.Event()
    original = _call_hashes._hashes
    ran = []

    def slow(*args):
        ran.append(threading.current_thread() is threading.main_thread())
        started.set()
        release.wait(60)
        return original(*args)

    monkeypatch.setattr(_call_hashes, "_hashes", slow)
    input_sha256, salt = start_call_hashes(stp.stores.MemoryStore(), frame)
    assert started.wait(60)
    threading.Timer(0.2, release.set).start()
    got = input_sha256()  # waits for the helper
    hashes = salt()
    assert ran == [False]
    assert got == hash_rows(frame)
    drawn, digests = parse_salt(hashes.text)
    assert _rows(digests) == _truth(frame, ["float", "int"], drawn)


_FLOATS = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 6),
    st.integers(1, 4),
    st.data(),
    st.sampled_from(["float64", "float32"]),
    st.sampled_from(["frame", "rows", "columns", "fortran"]),
)
@example(3, 2, None, "float64", "frame")
def test_a_frame_of_one_float_block_is_taken_in_one_copy_as_column_by_column(
    n, k, data, dtype, how
):
    """A frame of one block of floats (``predict``'s common input), whole, a slice of
    its rows, its columns in another order, or over a Fortran-ordered array: the
    snapshot, taken in one copy where it can be (``_float_block``), is ``hash_rows``'s bytes and
    gives each row's digest recomputed value by value, -0.0 as 0.0; a block holding a
    NaN is taken column by column, as before."""
    from sktraceprop._row_hash_frames import _float_block

    if data is None:
        values = np.array([[-0.0, 2.5], [1.5, -2.0], [0.0, 1e3]])
    else:
        cells = data.draw(st.lists(_FLOATS, min_size=(n + 2) * k, max_size=(n + 2) * k))
        values = np.array(cells, dtype=np.float64).reshape(n + 2, k)
    values = values.astype(dtype)
    if how == "fortran":
        values = np.asfortranarray(values)
    frame = pd.DataFrame(values, columns=[f"c{j}" for j in range(k)])
    if how == "rows":
        frame = frame.iloc[1:-1]
    elif how == "columns":
        frame = frame[list(frame.columns[::-1])]
    parts = frame_parts(frame)
    pieces, size, table = parts
    buffer = assemble(pieces, size)
    assert hashlib.sha256(buffer).hexdigest() == hash_rows(frame)
    assert _rows(table_digests(len(frame), (buffer, table), SALT)) == _truth(
        frame, ["float"] * frame.shape[1], SALT
    )
    # (an infinity, or a sum past the largest double, sends the columns one by one too)
    taken_whole = _float_block(frame) is not None
    held = frame.to_numpy(dtype=np.float64)
    if np.isnan(held).any():
        assert not taken_whole
    elif how != "columns" and np.abs(held).max(initial=0.0) < 1e300:
        assert taken_whole
