"""The digest naming a frame's content: exact in labels, dtypes, cell values and types.

Before, frames were named by SHA-256 over pandas' 64-bit ``hash_pandas_object``, which
hashes object cells by their text: each pair below had one digest, so an edited frame
registered again under its source id was taken as the first one (same row ids, the
run naming the first frame's digest).
"""

import datetime as dt
import hashlib
import math
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._frame_digest import SCHEME, frame_digest
from sktraceprop._lineage._io import _array_digest
from sktraceprop.exceptions import LineageWarning


def _objects(*values):
    return pd.DataFrame({"a": pd.Series(list(values), dtype=object)})


def _categories(categories, ordered=False):
    return pd.DataFrame({"a": pd.Categorical(["x", "y"], categories=categories, ordered=ordered)})


# each pair: two frames pandas tells apart (by value, type or dtype) that the earlier
# digest named alike
DIFFERENT = {
    "int and its text": (_objects(1), _objects("1")),
    "None and NaN": (_objects(None), _objects(np.nan)),
    "None and pd.NA": (_objects(None), _objects(pd.NA)),
    "None and NaT": (_objects(None), _objects(pd.NaT)),
    "True and its text": (_objects(True), _objects("True")),
    "bytes and text": (_objects(b"a"), _objects("a")),
    "a date and its text": (_objects(dt.date(2020, 1, 1)), _objects("2020-01-01")),
    "a tuple and its text": (_objects((1, 2)), _objects("(1, 2)")),
    "a float and its text": (_objects(0.1), _objects("0.1")),
    "Decimal and int": (_objects(Decimal("1")), _objects(1)),
    "np.int64 and int": (_objects(np.int64(1)), _objects(1)),
    "np.float32 and float": (_objects(np.float32(1.5)), _objects(1.5)),
    "-0.0 and 0.0": (pd.DataFrame({"a": [-0.0]}), pd.DataFrame({"a": [0.0]})),
    "labels 1 and '1'": (pd.DataFrame({1: [1]}), pd.DataFrame({"1": [1]})),
    "a MultiIndex label and its text": (
        pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([("a", "b")])),
        pd.DataFrame([[1]], columns=["('a', 'b')"]),
    ),
    "category order": (_categories(["x", "y"]), _categories(["y", "x"])),
    "an unused category": (_categories(["x", "y"]), _categories(["x", "y", "z"])),
    "ordered categories": (_categories(["x", "y"], True), _categories(["x", "y"])),
    "pyarrow null and 0": (
        pd.DataFrame({"a": pd.array([1, None], dtype="int64[pyarrow]")}),
        pd.DataFrame({"a": pd.array([1, 0], dtype="int64[pyarrow]")}),
    ),
    "string storages": (
        pd.DataFrame({"a": pd.array(["x"], dtype="string[python]")}),
        pd.DataFrame({"a": pd.array(["x"], dtype="string[pyarrow]")}),
    ),
}


@pytest.mark.parametrize("name", DIFFERENT)
def test_frames_pandas_tells_apart_get_two_digests(name):
    one, other = DIFFERENT[name]
    assert frame_digest(one) != frame_digest(other)


def test_a_crafted_frame_with_the_row_hashes_of_another_gets_its_own_digest():
    """pandas' row hash is 64 bits with a public key, and for integer columns it can be
    inverted: (3, b) with b solved for so that the row hashes equal those of (1, 2) took
    microseconds (pandas' uint64 mixing and its column combination undone), and gave
    the earlier digest of (1, 2)."""
    one = pd.DataFrame({"a": np.array([1], np.uint64), "b": np.array([2], np.uint64)})
    crafted = pd.DataFrame(
        {"a": np.array([3], np.uint64), "b": np.array([12784177390070650380], np.uint64)}
    )
    assert pd.util.hash_pandas_object(one, index=False).equals(
        pd.util.hash_pandas_object(crafted, index=False)
    )
    assert frame_digest(one) != frame_digest(crafted)


def test_an_edited_frame_registered_again_is_a_new_version_and_the_run_says_so():
    """End to end: site codes turned to text, registered under the same source id."""
    df1 = pd.DataFrame(
        {
            "x": [0.1, 0.5, 0.9, 0.3, 0.7, 0.2],
            "site": pd.Series([1, 2, 1, 2, 1, 2], dtype=object),
            "y": [0, 1, 1, 0, 1, 0],
        }
    )
    df2 = df1.assign(site=df1["site"].map(str).astype(object))
    a = stp.from_pandas(df1, "patients")
    b = stp.from_pandas(df2, "patients")
    first, second = REGISTRY.versions("patients")
    assert first.sha256 != second.sha256
    assert second.digest_scheme == SCHEME == "frame-2"
    assert not set(stp.row_ids(a)) & set(stp.row_ids(b))
    run = stp.TracedEstimator(LogisticRegression()).fit(b[["x"]], b["y"]).lineage_
    assert [s.sha256 for s in run.sources.values()] == [second.sha256]


def test_frames_with_equal_content_get_one_digest():
    rng = np.random.default_rng(0)
    n = 50
    df = pd.DataFrame(
        {
            "f": rng.normal(size=n),
            "i": rng.integers(0, 5, n).astype(np.int32),
            "o": pd.Series([1, "a", None, 2.5, b"x"] * 10, dtype=object),
            "c": pd.Categorical(rng.choice(["p", "q"], n)),
            "t": pd.date_range("2020", periods=n, freq="h", tz="Europe/Paris"),
            "m": pd.array(rng.integers(0, 3, n), dtype="Int64"),
            "s": pd.array(rng.choice(["u", "v"], n), dtype="string[pyarrow]"),
            "w": pd.array(rng.integers(0, 3, n), dtype="int64[pyarrow]"),
        }
    )
    df.loc[5, "w"] = None
    df.loc[3, "f"] = np.nan
    df.loc[4, "m"] = pd.NA
    digest = frame_digest(df)
    # a deep copy, one rebuilt column by column (other memory blocks), one reversed
    # twice (strided), another index, a big-endian float column, another NaN payload
    rebuilt = pd.DataFrame({c: df[c].copy() for c in df.columns})
    reversed_twice = df.iloc[::-1].iloc[::-1]
    other_nan = df.copy()
    payload = np.array([0x7FF8000000000001], dtype=np.uint64).view(np.float64)[0]
    other_nan["f"] = np.where(np.isnan(df["f"]), payload, df["f"])
    big_endian = df.copy()
    big_endian["f"] = df["f"].to_numpy().astype(">f8")
    for same in (df.copy(), rebuilt, reversed_twice, df.set_axis(range(7, 7 + n)), other_nan):
        assert frame_digest(same) == digest
    # the same values in another byte order are the same content, under another dtype
    assert big_endian["f"].dtype.str == ">f8"
    assert frame_digest(big_endian) != digest
    assert frame_digest(big_endian) == frame_digest(big_endian.copy())


def test_dtypes_of_equal_values_are_part_of_the_content():
    ints = pd.DataFrame({"a": [1, 2]})
    assert frame_digest(ints) != frame_digest(ints.astype(np.int32))
    assert frame_digest(ints) != frame_digest(ints.astype("Int64"))
    assert frame_digest(ints) != frame_digest(ints.astype(object))


def test_nested_cells_by_content_and_type():
    big = np.arange(5000)
    one = _objects([1, 2], {"k": big}, {1, 2})
    other = _objects([1, 2], {"k": np.where(big == 2500, -1, big)}, {1, 2})
    assert frame_digest(one) != frame_digest(other)
    assert frame_digest(_objects([1, 2])) != frame_digest(_objects((1, 2)))
    assert frame_digest(_objects([1, 2])) != frame_digest(_objects(np.array([1, 2])))
    # equal dicts and sets whatever their order
    assert frame_digest(_objects({"a": 1, "b": 2})) == frame_digest(_objects({"b": 2, "a": 1}))
    assert frame_digest(_objects({"a", "b"})) == frame_digest(_objects({"b", "a"}))
    # cells that hold themselves: named (by their pickle past a depth), not endless
    looped, array = [], np.empty(1, dtype=object)
    looped.append(looped)
    array[0] = array
    assert frame_digest(_objects(looped)) != frame_digest(_objects(array))
    # beyond int64, and text that is not valid UTF-8 (a lone surrogate)
    assert frame_digest(_objects(2**70)) != frame_digest(_objects(2**70 + 1))
    assert frame_digest(_objects("\ud800")) != frame_digest(_objects("\ud801"))


def test_from_numpy_names_the_labels_and_objects():
    X = np.arange(4.0).reshape(2, 2)
    a = stp.from_numpy(X, "m", columns=["bp", "hr"])
    b = stp.from_numpy(X, "m", columns=["hr", "bp"])
    assert [v.columns for v in REGISTRY.versions("m")] == [("bp", "hr"), ("hr", "bp")]
    assert not set(stp.row_ids(a)) & set(stp.row_ids(b))
    # default labels: the array digest, as before
    stp.from_numpy(X, "d")
    assert REGISTRY.by_id("d").sha256 == _array_digest(X)
    assert REGISTRY.by_id("d").digest_scheme is None
    # object and variable-length text arrays (numpy refused to view their memory)
    stp.from_numpy(np.array([1, None], dtype=object), "o")
    stp.from_numpy(np.array(["1", None], dtype=object), "o")
    assert len(REGISTRY.versions("o")) == 2
    string_dtype = getattr(getattr(np, "dtypes", None), "StringDType", None)  # numpy >= 2
    if string_dtype is not None:
        stp.from_numpy(np.array(["a", "bb"], dtype=string_dtype()), "t")
        assert REGISTRY.by_id("t").digest_scheme == SCHEME


def test_arrays_of_void_dtypes_named_by_their_fields():
    a = np.zeros(2, dtype=[("a", "<i8")])
    b = np.zeros(2, dtype=[("b", "<f8")])
    assert a.dtype.str == b.dtype.str  # '|V8': the earlier digest's only word on them
    assert _array_digest(a) != _array_digest(b)
    # every other dtype keeps its digest (stores hold them)
    x = np.arange(3.0)
    expected = hashlib.sha256(f"{x.dtype.str}{x.shape}".encode())
    expected.update(x.view(np.uint8))
    assert _array_digest(x) == expected.hexdigest()
    ml_dtypes = pytest.importorskip("ml_dtypes")
    raw = np.array([[0x38, 0x40]], dtype=np.uint8)
    e4m3fn, e4m3fnuz = raw.view(ml_dtypes.float8_e4m3fn), raw.view(ml_dtypes.float8_e4m3fnuz)
    assert not np.array_equal(e4m3fn.astype(float), e4m3fnuz.astype(float))
    assert _array_digest(e4m3fn) != _array_digest(e4m3fnuz)


def test_unpicklable_cells_are_refused_clearly():
    class Opaque:
        def __reduce__(self):
            raise TypeError("no pickling here")

    with pytest.raises(stp.exceptions.LineageError, match="column 'o' holds cells.*Opaque"):
        stp.from_pandas(pd.DataFrame({"o": [Opaque()]}), "opaque")


def test_a_version_beside_one_of_the_earlier_scheme_is_named_as_such():
    """A frame record of the earlier scheme learnt from a pickle: the frame registered
    now is a version of its own, and a warning says the two cannot be compared."""
    df = pd.DataFrame({"a": [1, 2]})
    legacy = stp.Source(
        source_id="p",
        code=12345,
        uri="pandas:p",
        sha256="0" * 64,
        n_rows=2,
        columns=("a",),
        dtypes=("int64",),
        kind="frame",
    )
    REGISTRY.adopt(legacy)
    with pytest.warns(LineageWarning, match=r"'p' in this process .*0000000000\.\.\..*frame-2"):
        stp.from_pandas(df, "p")
    assert len(REGISTRY.versions("p")) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stp.from_pandas(df, "p")  # the same version again: nothing new to say
        stp.from_pandas(df, "q")
        stp.from_pandas(df.assign(a=[3, 4]), "q")


def test_source_records_keep_their_scheme_and_old_records_read_unchanged():
    stp.from_pandas(pd.DataFrame({"a": [1]}), "p")
    record = REGISTRY.by_id("p")
    assert record.to_dict()["digest_scheme"] == SCHEME
    assert stp.Source.from_dict(record.to_dict()) == record
    old = {k: v for k, v in record.to_dict().items() if k != "digest_scheme"}
    assert stp.Source.from_dict(old).digest_scheme is None
    assert stp.Source.from_dict(old).to_dict() == old  # a stored record re-reads as written


# -- the property: one digest exactly when labels, dtypes and cells (by type) are equal --

_CELLS = st.one_of(
    st.integers(-3, 3),
    st.integers(2**63, 2**64),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from(["", "a", "1", "0", "True", "None", "é"]),
    st.booleans(),
    st.none(),
    st.just(pd.NA),
    st.binary(max_size=2),
    st.tuples(st.integers(0, 2)),
)
_LABELS = st.one_of(st.integers(0, 2), st.sampled_from(["a", "0", "1"]))


@st.composite
def _columns(draw, n):
    kind = draw(st.sampled_from(["int64", "int32", "float64", "bool", "object", "category"]))
    if kind in ("int64", "int32"):
        return pd.Series(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), dtype=kind)
    if kind == "float64":
        floats = st.sampled_from([0.0, -0.0, 1.5, np.nan, np.inf])
        return pd.Series(draw(st.lists(floats, min_size=n, max_size=n)), dtype=kind)
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=kind)
    if kind == "category":
        values = draw(st.lists(st.sampled_from("xyz"), min_size=n, max_size=n))
        extra = draw(st.lists(st.sampled_from("xyzw"), unique=True))
        categories = list(dict.fromkeys([*values, *extra]))
        draw(st.randoms()).shuffle(categories)
        ordered = draw(st.booleans())
        return pd.Series(pd.Categorical(values, categories=categories, ordered=ordered))
    return pd.Series(draw(st.lists(_CELLS, min_size=n, max_size=n)), dtype=object)


@st.composite
def _frames(draw):
    n = draw(st.integers(0, 4))
    labels = draw(st.lists(_LABELS, min_size=1, max_size=3))
    columns = [draw(_columns(n)) for _ in labels]
    frame = pd.concat(columns, axis=1) if n else pd.DataFrame(dict(enumerate(columns)))
    return frame.set_axis(labels, axis=1)


def _cell_key(value):
    """A cell as the digest should tell it: its exact type and value (NaN one value,
    -0.0 apart from 0.0)."""
    if isinstance(value, float | np.floating) and math.isnan(value):
        return (type(value), "nan")
    if isinstance(value, float | np.floating):
        return (type(value), float(value), math.copysign(1.0, value))
    if isinstance(value, tuple):
        return (tuple, tuple(_cell_key(v) for v in value))
    return (type(value), value)


def _column_key(column):
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = [_cell_key(c) for c in dtype.categories.tolist()]
        return ("category", dtype.ordered, categories, column.cat.codes.tolist())
    values = column.to_numpy()
    cells = values if values.dtype.kind == "O" else values.tolist()
    return (str(dtype), [_cell_key(v) for v in cells])


def _same(a, b):
    """The independent truth: labels (by type), dtypes and every cell equal."""
    return (
        a.shape == b.shape
        and [_cell_key(c) for c in a.columns.tolist()] == [_cell_key(c) for c in b.columns]
        and all(_column_key(a.iloc[:, j]) == _column_key(b.iloc[:, j]) for j in range(a.shape[1]))
    )


@st.composite
def _edited(draw, frame):
    """``frame`` with one edit (which may leave it equal), or an equal copy."""
    edit = draw(st.sampled_from(["copy", "cell", "type", "dtype", "label"]))
    out = frame.copy()
    if edit == "copy" or not frame.size:
        return out if draw(st.booleans()) else pd.DataFrame({j: c for j, c in frame.items()})
    i, j = draw(st.integers(0, len(frame) - 1)), draw(st.integers(0, frame.shape[1] - 1))
    column = out.iloc[:, j]
    if edit == "label":
        labels = list(out.columns)
        labels[j] = draw(_LABELS)
        return out.set_axis(labels, axis=1)
    if edit == "dtype":
        target = draw(st.sampled_from(["object", "float64", "int64", "int32"]))
        try:
            changed = column.astype(target)
        except (TypeError, ValueError, OverflowError):
            return out
    else:
        values = column.astype(object).tolist()
        old = values[i]
        values[i] = str(old) if edit == "type" else draw(_CELLS)
        changed = pd.Series(values, dtype=object)
        if not isinstance(column.dtype, pd.CategoricalDtype) and column.dtype != object:
            try:
                changed = changed.astype(column.dtype)
            except (TypeError, ValueError, OverflowError):
                pass
    pieces = [out.iloc[:, k].reset_index(drop=True) for k in range(out.shape[1])]
    pieces[j] = changed.reset_index(drop=True)
    return pd.concat(pieces, axis=1).set_axis(list(out.columns), axis=1)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_one_digest_exactly_for_equal_labels_dtypes_and_cells(data):
    frame = data.draw(_frames())
    other = data.draw(_edited(frame))
    assert (frame_digest(frame) == frame_digest(other)) == _same(frame, other)


def test_untraced_objects_and_containers_are_named_by_sha256():
    """Untraced data given to a fit: objects (a list of dicts) by their cells, sparse
    matrices by joblib's content hash, all in SHA-256 (the record's field says so;
    joblib's SHA-1 was kept there before)."""
    import scipy.sparse as sp

    from sktraceprop._lineage._anonymous import anonymous_source

    ints = anonymous_source([{"a": 1}, {"a": 2}])
    texts = anonymous_source([{"a": 1}, {"a": "2"}])
    assert ints.sha256 != texts.sha256
    assert ints.digest_scheme == SCHEME
    one, other = sp.csr_matrix(np.eye(2)), sp.csr_matrix(np.eye(2)[::-1])
    for source in (ints, texts, anonymous_source(one), anonymous_source([[1, 2], [3]])):
        assert len(source.sha256) == 64 and int(source.sha256, 16) >= 0
    assert anonymous_source(one).sha256 != anonymous_source(other).sha256
