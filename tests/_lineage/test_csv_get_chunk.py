"""``read_csv(chunksize=...).get_chunk(size)``: chunks of any size, each row naming its
line, checked against the file's raw bytes and against pandas' own reader.

Before, ``get_chunk`` took no size (``TypeError``), where pandas' ``TextFileReader``
reads ``size`` rows.
"""

import csv
import gzip
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from tests._lineage.test_csv_properties import _physical_lines, documents

_SIZES = st.lists(st.one_of(st.none(), st.integers(1, 7)), min_size=1, max_size=12)


def _quoted_file(path, n):
    """A file whose records span lines (a quoted line break every third row), with a
    blank line and a comment-free header; returns each key's line."""
    text, lines, line = "key,v\n", {}, 2
    for k in range(n):
        if k == 4:
            text += "\n"
            line += 1
        note = '"two\nlines"' if k % 3 == 0 else "one"
        text += f"k{k},{note}\n"
        lines[f"k{k}"] = line
        line += 2 if k % 3 == 0 else 1
    path.write_text(text)
    return lines


def _asked(reader, sizes):
    """The chunks of ``reader`` for ``sizes`` (None: ``next``), until it stops."""
    out = []
    for size in sizes:
        try:
            out.append(next(reader) if size is None else reader.get_chunk(size))
        except StopIteration:
            break
    return out


def _check_lines(chunks, truth, raw_lines):
    for chunk in chunks:
        assert chunk.index.names == ["stp_row_id"]  # (pandas' own row numbers dropped)
        for key, line in zip(chunk["key"], stp.row_lineage(chunk)["line"], strict=True):
            assert line == truth[key]
            assert raw_lines[line - 1].startswith(f"{key},")


def test_get_chunk_reads_size_rows_with_their_lines(tmp_path):
    path = tmp_path / "q.csv"
    truth = _quoted_file(path, 40)
    raw = _physical_lines(path.read_bytes().decode())
    sizes = [5, None, 3, 3, 3, 1, None, 25, 4]
    reader = stp.read_csv(path, chunksize=10)
    ours = _asked(reader, sizes)
    theirs = _asked(pd.read_csv(path, chunksize=10), sizes)
    assert [len(c) for c in ours] == [len(c) for c in theirs] == [5, 10, 3, 3, 3, 1, 10, 5]
    for got, want in zip(ours, theirs):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    _check_lines(ours, truth, raw)
    assert stp.row_lineage(pd.concat(ours))["line"].is_monotonic_increasing
    with pytest.raises(StopIteration):
        reader.get_chunk(4)


def test_a_size_asked_again_scans_twice_at_most(tmp_path):
    # (enough rows that the scan keeps a thinned sample of records, not every one)
    path = tmp_path / "q.csv"
    truth = _quoted_file(path, 3000)
    raw = _physical_lines(path.read_bytes().decode())
    reader = stp.read_csv(path, chunksize=100)
    chunks = _asked(reader, [7] * 500)
    assert [len(c) for c in chunks] == [7] * 428 + [4]
    _check_lines(chunks, truth, raw)
    # (the first: the chunk, and chunksize's after it; the second, the size asked again)
    assert reader.n_rescans == 2
    # one odd size first, then chunksize's: one more pass, which keeps their bounds
    reader = stp.read_csv(path, chunksize=100)
    chunks = _asked(reader, [5] + [None] * 40)
    assert [len(c) for c in chunks] == [5] + [100] * 29 + [95]
    _check_lines(chunks, truth, raw)
    assert reader.n_rescans == 1
    reader = stp.read_csv(path, chunksize=100)
    chunks = _asked(reader, [100, None] * 20)
    assert [len(c) for c in chunks] == [100] * 30 and reader.n_rescans == 0


def test_get_chunk_with_nrows_and_compression(tmp_path):
    path = tmp_path / "q.csv"
    truth = _quoted_file(path, 30)
    raw = _physical_lines(path.read_bytes().decode())
    packed = tmp_path / "q.csv.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    for source in (path, packed):
        sizes = [4, 9, None, 9]
        ours = _asked(stp.read_csv(source, chunksize=6, nrows=20), sizes)
        theirs = _asked(pd.read_csv(source, chunksize=6, nrows=20), sizes)
        assert [len(c) for c in ours] == [len(c) for c in theirs] == [4, 9, 6, 1]
        _check_lines(ours, truth, raw)


def test_a_size_pandas_refuses_is_refused_before_reading(tmp_path):
    path = tmp_path / "q.csv"
    _quoted_file(path, 10)
    reader = stp.read_csv(path, chunksize=4)
    # (0: pandas' C reader ends the read, or crashes, on get_chunk(0))
    for size in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="size must be an integer >= 1"):
            reader.get_chunk(size)
    assert len(reader.get_chunk(2.0)) == 2  # (pandas takes an integral float too)
    assert [len(c) for c in reader] == [4, 4]


def test_a_file_changed_between_chunks_is_refused(tmp_path):
    path = tmp_path / "q.csv"
    _quoted_file(path, 20)
    reader = stp.read_csv(path, chunksize=10)
    reader.get_chunk(3)
    path.write_text(path.read_text().replace("k5,", "k5x,"))
    with pytest.raises(LineageError, match="changed"):
        reader.get_chunk(3)


@pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents(), st.integers(1, 5), _SIZES)
@example(
    doc=(b"id,a\nr0,1\nr1,2\nr2,3\nr3,4\n", {}, {"r0": 2, "r1": 3, "r2": 4, "r3": 5}, False),
    size=3,
    sizes=[1, None, 2],
)
def test_chunks_of_random_sizes_name_the_line_the_writer_wrote(tmp_path_factory, doc, size, sizes):
    data, options, truth, gz = doc
    options.pop("skipfooter", None)  # (pandas does not iterate with it)
    path = tmp_path_factory.mktemp("csv") / ("doc.csv.gz" if gz else "doc.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    options = {"dtype": {"id": str}, "chunksize": size, **options}
    errors = (pd.errors.ParserError, ValueError, UnicodeError, csv.Error)
    try:
        expected = _asked(pd.read_csv(io.BytesIO(data), **options), sizes)
    except errors:
        return  # (refused alike: test_csv_chunks)
    _check_chunks(path, data, options, sizes, expected, truth)


def _check_chunks(path, data, options, sizes, expected, truth):
    """``stp.read_csv``'s chunks of ``path`` (``data``, read with ``options``, then
    ``sizes`` asked) against pandas' ``expected``: each chunk's frame, and each row's line
    the one the writer wrote its id on (``truth``), in increasing order over the file."""
    try:
        chunks = _asked(stp.read_csv(path, source_id=path.parent.name, **options), sizes)
    except LineageError:
        assert "engine" in options or not truth, "read_csv refused a well-formed file"
        return
    assert [len(c) for c in chunks] == [len(c) for c in expected]
    lines = _physical_lines(data.decode(options.get("encoding", "utf-8")))
    keyed = "index_col" in options
    for got, want in zip(chunks, expected):
        plain = got.reset_index(level="stp_row_id", drop=True) if keyed else got
        pd.testing.assert_frame_equal(
            plain if keyed else plain.reset_index(drop=True),
            want if keyed else want.reset_index(drop=True),
        )
        ids = got.index.get_level_values("id") if keyed else got["id"]
        for rid, reported in zip(ids, stp.row_lineage(got)["line"]):
            assert reported == truth[rid], (rid, reported, truth[rid])
            assert rid in lines[reported - 1]
    if chunks:
        every = np.concatenate([stp.row_lineage(c)["line"].to_numpy() for c in chunks])
        assert np.all(np.diff(every) > 0)
