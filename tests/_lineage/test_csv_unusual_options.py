"""read_csv's lines with legal but unusual options, against where the test wrote each row.

``encoding_errors`` ("replace", "ignore"), ``thousands``, ``skip_blank_lines=False``
(a blank line is a row of missing values, a line of spaces a row too), UTF-16 and
latin-1, ``quoting=csv.QUOTE_NONE`` with an ``escapechar`` (an escaped line end continues
the record), lines of megabytes. The truth is the physical line each record was written
at, counted while the bytes were built; the frame must be pandas' own.
"""

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._capture import resolve_row_ids
from sktraceprop._lineage._ids import lines_of
from sktraceprop.exceptions import LineageError

_ENCODED = {"utf-8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}


def _lines_and_frame(path, **kwargs):
    frame = stp.read_csv(path, **kwargs)
    ours = pd.DataFrame(frame).reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, pd.read_csv(path, **kwargs))
    return lines_of(resolve_row_ids(frame)).tolist(), frame


_ITEM = st.one_of(
    st.integers(0, 10**9).map(lambda v: ("row", v)),
    st.just(("blank", None)),
    st.just(("spaces", None)),
)


@settings(max_examples=40, deadline=None)
@given(
    items=st.lists(_ITEM, min_size=1, max_size=12).filter(
        lambda items: any(kind == "row" for kind, _ in items)
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(sorted(_ENCODED)),
    keep_blank=st.booleans(),
    bad=st.booleans(),
)
def test_blank_lines_thousands_and_encoding_errors(
    tmp_path_factory, items, newline, encoding, keep_blank, bad
):
    # Each row: its key (with a byte that is no UTF-8 where bad: replaced or dropped),
    # its value with thousands separators inside quotes. Blank lines and lines of spaces
    # are rows of their own with skip_blank_lines=False.
    errors = "replace" if bad else "strict"
    if bad and encoding == "utf-8":
        errors = "replace" if len(items) % 2 else "ignore"
    data, expected, line = ("key,value" + newline).encode(_ENCODED[encoding]), [], 1
    for k, (kind, value) in enumerate(items):
        line += 1
        if kind == "row":
            key = f"k{k}é"
            raw = f'{key},"{value:,}"{newline}'.encode(encoding)
            if bad and encoding == "utf-8":  # (a lone continuation byte in the key)
                raw = raw.replace(b"\xc3\xa9", b"\xa9", 1)
                key = f"k{k}" + ("\ufffd" if errors == "replace" else "")
            expected.append((key, float(value), line))
        elif keep_blank:
            text = "" if kind == "blank" else "   "
            raw = f"{text}{newline}".encode(encoding)
            expected.append((text or None, None, line))
        else:
            raw = ("" if kind == "blank" else "   ") + newline
            raw = raw.encode(encoding)
        if encoding == "utf-16":  # (one byte-order mark, at the start)
            raw = raw.removeprefix(b"\xff\xfe").removeprefix(b"\xfe\xff")
        data += raw
    path = tmp_path_factory.mktemp("unusual") / "a.csv"
    path.write_bytes(data)
    kwargs = {"thousands": ",", "skip_blank_lines": not keep_blank, "encoding_errors": errors}
    if encoding != "utf-8":
        kwargs["encoding"] = encoding
    lines, frame = _lines_and_frame(path, **kwargs)
    assert lines == [line for *_, line in expected]
    got_keys = [None if pd.isna(k) else k for k in frame["key"]]
    assert got_keys == [key for key, *_ in expected]
    got_values = [None if pd.isna(v) else float(v) for v in frame["value"]]
    assert got_values == [value for _, value, _ in expected]


@pytest.mark.parametrize("engine", ["c", "python"])
def test_quote_none_with_an_escapechar(tmp_path, engine):
    # An escaped delimiter is text, an escaped line end continues the record onto the
    # next physical line, a quote is a character: rows at lines 2, 3, 4 and 6.
    data = b'k,v\na,1\nb\\,x,2\nc\\\nd,3\n"e,4\n'
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    kwargs = {"quoting": csv.QUOTE_NONE, "escapechar": "\\", "engine": engine}
    lines, frame = _lines_and_frame(path, **kwargs)
    assert list(frame["k"]) == ["a", "b,x", "c\nd", '"e']
    assert lines == [2, 3, 4, 6]


def test_lines_of_megabytes(tmp_path):
    long = "x" * (3 << 20)
    path = tmp_path / "a.csv"
    path.write_text(f'k,v\na,{long}\nb,"{long}\n{long}"\nc,1\n')
    lines, frame = _lines_and_frame(path)
    assert list(frame["k"]) == ["a", "b", "c"] and lines == [2, 3, 5]


@pytest.mark.parametrize(
    "data, kwargs, said",
    [
        # records end at "~" within one physical line: rows would share its line
        (b"k,v~a,1~b,2~", {"lineterminator": "~"}, "several rows would start on one"),
        # (pandas' python engine's blank lines: test_csv_python_blank_lines)
    ],
)
def test_options_whose_lines_cannot_be_told_are_refused(tmp_path, data, kwargs, said):
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    with pytest.raises((LineageError, ValueError), match=said):
        stp.read_csv(path, **kwargs)
    assert np.isscalar(len(pd.read_csv(path, **kwargs)))  # (pandas reads it)
