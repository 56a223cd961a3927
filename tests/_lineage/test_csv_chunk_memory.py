import gzip
import tracemalloc

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._csv_spans import RecordBytes


def _write(path, n, width=60):
    # physical line k holds key k; a quoted field with a line break every 7th row
    rows = []
    line = 2
    for _ in range(n):
        note = "x" * width if line % 7 else '"two\nlines"'
        rows.append(f"{line},{note}\n")
        line += 1 + (line % 7 == 0)
    text = "key,note\n" + "".join(rows)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return text


def _held_after_scan(path, size):
    """Memory Python holds once the reader is made (the whole file scanned) and its
    first chunk read."""
    tracemalloc.start()
    try:
        reader = stp.read_csv(path, chunksize=size)
        next(reader)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    reader.close()
    return held


def test_chunksize_one_keeps_no_bytes_of_every_record(tmp_path):
    # Each chunk's first and last records were kept as bytes from the first pass: with
    # chunksize=1 every record's (about 200 bytes a record here, dict and object
    # included). Their spans are kept now (24 bytes a record; the lines, 8).
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    _write(small, 2_000, width=200)
    _write(large, 42_000, width=200)
    for path in (small, large):  # (every scan kernel compiled, modules imported)
        _held_after_scan(path, 1)
    grown = _held_after_scan(large, 1) - _held_after_scan(small, 1)
    assert grown / 40_000 < 80, grown / 40_000  # bytes held per record more


@pytest.mark.parametrize("suffix", [".csv", ".gz"])
@pytest.mark.parametrize("size", [1, 3, 100])
def test_small_chunks_name_the_lines_of_the_raw_bytes(tmp_path, suffix, size):
    path = tmp_path / f"f{suffix}"
    text = _write(path, 400)
    raw = text.split("\n")
    chunks = list(stp.read_csv(path, chunksize=size))
    assert all(len(c) == size for c in chunks[:-1])
    whole = pd.concat(chunks)
    lines = stp.row_lineage(whole)["line"].to_numpy()
    # the raw bytes: each line named starts with its key and the row's note
    assert [int(raw[k - 1].split(",")[0]) for k in lines] == whole["key"].tolist()
    notes = [raw[k - 1].split(",", 1)[1] for k in lines]
    assert [n if n[0] != '"' else "two" for n in notes] == [
        n if "\n" not in n else "two" for n in whole["note"]
    ]


def test_a_chunk_whose_records_changed_after_the_scan_is_refused(tmp_path, monkeypatch):
    # The bytes read again are compared with pandas' rows as the kept bytes were: a
    # record that is not the row (the span made wrong on purpose) refuses the chunk.
    from sktraceprop._lineage import _csv_chunks

    real = _csv_chunks.RecordBytes.read

    def off_by_one(self, start, end):
        return real(self, start + 1, end + 1)

    path = tmp_path / "s.csv"
    _write(path, 2_000)  # (a record in 16 sampled: the others' bytes are read again)
    monkeypatch.setattr(_csv_chunks.RecordBytes, "read", off_by_one)
    reader = stp.read_csv(path, chunksize=1)
    with pytest.raises(stp.exceptions.LineageError, match="do not parse|does not equal"):
        for _ in range(20):
            next(reader)


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.binary(min_size=0, max_size=3000),
    spans=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 40)), max_size=20),
    block=st.sampled_from([1, 7, 64, 4096]),
)
@example(text=b"\xef\xbb\xbfab\ncd\n", spans=[(0, 3), (3, 2), (9, 0)], block=1)
def test_record_bytes_read_forward_equal_the_text(tmp_path_factory, text, spans, block):
    # Truth: the file's bytes sliced. Spans asked in order, any block size.
    from sktraceprop._lineage import _csv_stream

    path = tmp_path_factory.mktemp("rb") / "t.csv"
    path.write_bytes(text)
    wanted = sorted((s, s + n) for s, n in spans)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv_stream, "CHUNK", block)
        reader = RecordBytes(path, {})
        try:
            for start, end in wanted:
                if end > len(text):
                    with pytest.raises(LookupError):
                        reader.read(start, end)
                    break
                assert reader.read(start, end) == text[start:end]
                # (what is held stays a block and the record)
                assert len(reader._held) <= block + (end - start) + 3
        finally:
            reader.close()
