"""The content check's rows: taken from columns held in several Arrow chunks."""

import io
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop._lineage._csv_verify import _rows_at, check_content
from sktraceprop.exceptions import LineageError

pa = pytest.importorskip("pyarrow")

_DTYPES = ["string[pyarrow]", pd.ArrowDtype(pa.int64()), pd.ArrowDtype(pa.float64())]


def _chunked_frame(pieces, with_index):
    """A frame whose Arrow columns hold one chunk per piece (as pandas' parallel reader
    leaves them), beside a NumPy column."""
    parts = []
    start = 0
    for n in pieces:
        k = np.arange(start, start + n)
        parts.append(
            pd.DataFrame(
                {
                    "text": pd.array([None if v % 5 == 0 else f"t{v}" for v in k], _DTYPES[0]),
                    "num": k * 1.5,
                    "count": pd.array([None if v % 7 == 3 else v for v in k], _DTYPES[1]),
                    "real": pd.array([None if v % 4 == 1 else v / 3 for v in k], _DTYPES[2]),
                },
                index=(k * 10) if with_index else None,
            )
        )
        start += n
    return pd.concat(parts, ignore_index=not with_index)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(1, 30), min_size=1, max_size=6),
    st.data(),
    st.booleans(),
)
@example(pieces=[3, 4], data=None, with_index=False)
def test_rows_at_equals_iloc_on_chunked_columns(pieces, data, with_index):
    frame = _chunked_frame(pieces, with_index)
    n = len(frame)
    if data is None:
        positions = np.array([n - 1, 0, 3, 2], dtype=np.int64)
    else:
        positions = np.array(
            data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=20)), np.int64
        )
    if len(pieces) > 1:  # the path under test: columns of several chunks
        assert frame["text"].array.__arrow_array__().num_chunks == len(pieces)
    got = _rows_at(frame, positions)
    pd.testing.assert_frame_equal(got, frame.iloc[positions])
    assert list(got.columns) == list(frame.columns)


def test_content_check_on_chunked_columns_still_finds_a_wrong_record():
    # Rows parsed in two parts and joined (two Arrow chunks per text column): a record
    # found for the wrong row is refused, the right records pass.
    text = "a,b\n1,x\n2,y\n3,z\n4,w\n"
    options = {"dtype": {"b": "string[pyarrow]"}}
    parts = [pd.read_csv(io.StringIO("a,b\n1,x\n2,y\n"), **options)]
    parts.append(pd.read_csv(io.StringIO("a,b\n3,z\n4,w\n"), **options))
    frame = pd.concat(parts, ignore_index=True)
    assert frame["b"].array.__arrow_array__().num_chunks == 2
    pd.testing.assert_frame_equal(frame, pd.read_csv(io.StringIO(text), **options))
    right = SimpleNamespace(samples={0: b"a,b", 1: b"1,x", 2: b"2,y", 3: b"3,z", 4: b"4,w"})
    check_content(frame, right, options, "f.csv")
    swapped = SimpleNamespace(samples={0: b"a,b", 1: b"1,x", 2: b"2,y", 3: b"3,w", 4: b"4,w"})
    with pytest.raises(LineageError, match="does not equal the record found"):
        check_content(frame, swapped, options, "f.csv")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=6), st.data())
def test_witness_values_take_equals_pyarrow_take(pieces, data):
    # The witness rows' values come through the same chunk-by-chunk take as the content
    # check: equal to pyarrow's own take (which joins the chunks), nulls included.
    from sktraceprop._lineage._witness_values import _arrow_take

    frame = _chunked_frame(pieces, False)
    n = len(frame)
    positions = np.array(
        data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=20)), np.int64
    )
    for name in ("text", "count", "real"):
        chunked = frame[name].array.__arrow_array__()
        values, missing = _arrow_take(chunked, positions)
        truth = chunked.take(pa.array(positions))
        assert missing.tolist() == truth.is_null().to_pylist()
        expected = truth.to_pylist()
        assert [None if m else v for v, m in zip(values.tolist(), missing)] == expected
