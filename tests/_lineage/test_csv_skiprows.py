import bz2
import gzip
import io
import lzma
import tracemalloc
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._csv_skiprows import SkipRows

HUGE = 10**12  # a mask of this many lines is a terabyte


def _numbered(path, n):
    """A file whose physical line k (1-based) holds key k: the line is in the row."""
    path.write_text("key,v\n" + "".join(f"{k},{k * 0.5}\n" for k in range(2, n + 2)))
    return path


def _peak(read):
    tracemalloc.start()
    try:
        out = read()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("skiprows", [{3, HUGE}, [3, 2**40], np.array([HUGE, 3])])
def test_read_csv_skiprows_with_a_huge_line_allocates_no_mask_of_its_size(tmp_path, skiprows):
    # A line number far past the file's end skips nothing; the scan's mask once had
    # that many entries (a terabyte: MemoryError), now it stops at the lines scanned.
    path = _numbered(tmp_path / "n.csv", 50)
    stp.read_csv(path, skiprows=[3])  # (the scan kernels compiled: not measured)
    df, peak = _peak(lambda: stp.read_csv(path, skiprows=skiprows))
    pd.testing.assert_frame_equal(df.reset_index(drop=True), pd.read_csv(path, skiprows=[3]))
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df["key"])
    assert 4 not in df["key"].tolist() and len(df) == 49  # (line 3 counts from 0)
    assert peak < 50e6


def test_read_csv_chunks_and_bad_lines_with_a_huge_skiprows_value(tmp_path):
    path = _numbered(tmp_path / "n.csv", 40)
    chunks = list(stp.read_csv(path, skiprows={5, HUGE}, chunksize=7))
    df = pd.concat(chunks)
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df["key"])
    assert len(df) == 39
    # on_bad_lines="skip": pandas' bad lines are skipped as skiprows would be, the int
    # as a function of the line (the set of range(skiprows) it once built, no more)
    text = path.read_text().splitlines()
    text[9] += ",1,2"  # line 10: too many fields
    path.write_text("\n".join(text) + "\n")
    for skiprows in ({5, HUGE}, 3):
        df = stp.read_csv(path, skiprows=skiprows, on_bad_lines="skip", header=None)
        df = df[pd.to_numeric(df[0], errors="coerce").notna()]
        keys = df[0].astype(np.int64)
        np.testing.assert_array_equal(stp.row_lineage(df)["line"], keys)
        assert 10 not in keys.tolist()


COMPRESSIONS = {
    "": lambda data: data,
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zip": lambda data: _zipped(data),
}


def _zipped(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("n.csv", data)
    return buffer.getvalue()


def _read(read, path, **kwargs):
    """``read``'s result (chunks read whole), or the type and message of its error."""
    try:
        out = read(path, **kwargs)
        return pd.concat(list(out)) if "chunksize" in kwargs else out
    except (ValueError, pd.errors.ParserError) as exc:
        return type(exc), str(exc)


def _both(path, **kwargs):
    """``(pandas' result, ours)``: a frame, or the type and message of the error (ours
    read under a source_id of the file's folder: hypothesis writes equal files)."""
    return [
        _read(pd.read_csv, path, **kwargs),
        _read(stp.read_csv, path, source_id=path.parent.name, **kwargs),
    ]


def _assert_as_pandas(path, raw_lines, **kwargs):
    theirs, ours = _both(path, **kwargs)
    if isinstance(theirs, tuple):
        assert ours == theirs, kwargs
        return
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), theirs)
    if len(ours):  # each row's line is the raw line holding its key
        lines = stp.row_lineage(ours)["line"].to_numpy()
        keys = ours.iloc[:, 0].astype(str).tolist()
        assert [raw_lines[k - 1].split(",")[0] for k in lines] == keys


@settings(deadline=None, max_examples=40)
@given(
    n=st.integers(1, 6),
    suffix=st.sampled_from(sorted(COMPRESSIONS)),
    past=st.integers(-8, 40),
    names=st.booleans(),
    crlf=st.booleans(),
)
@example(n=3, suffix=".gz", past=30, names=False, crlf=False)
def test_read_csv_int_skiprows_past_the_file_is_what_pandas_reads(
    tmp_path_factory, n, suffix, past, names, crlf
):
    # Truth: pandas given the same skiprows (small enough here for its set of line
    # numbers). From the file's size + 2 on, ours gives pandas a bound on the lines.
    text = "key,v\n" + "".join(f"{k},{k * 0.5}\n" for k in range(2, n + 2))
    data = text.replace("\n", "\r\n" if crlf else "\n").encode()
    path = tmp_path_factory.mktemp("skip") / f"n.csv{suffix}"
    path.write_bytes(COMPRESSIONS[suffix](data))
    skiprows = max(path.stat().st_size + 1 + past, 0)
    kwargs = {"names": ["key", "v"]} if names else {}
    _assert_as_pandas(path, text.splitlines(), skiprows=skiprows, **kwargs)


@pytest.mark.parametrize("suffix", sorted(COMPRESSIONS))
def test_read_csv_a_huge_int_skiprows_skips_every_line_without_a_set_of_its_size(tmp_path, suffix):
    # pandas makes skiprows=n the set of range(n) before reading: 10**12 ran out of
    # memory, compressed or not (10**9: minutes, tens of gigabytes). Every line is
    # skipped: pandas' answer for a value just past the file's lines, which it can build.
    raw = _numbered(tmp_path / "raw.csv", 5).read_bytes()
    path = tmp_path / f"n.csv{suffix}"
    path.write_bytes(COMPRESSIONS[suffix](raw))
    past = raw.count(b"\n") + 2
    for kwargs in ({}, {"names": ["key", "v"]}, {"header": None}, {"chunksize": 2}):
        truth = _read(pd.read_csv, path, skiprows=past, **kwargs)
        # (pandas itself is not given 10**12: it would run out of memory)
        got, peak = _peak(lambda kw=kwargs: _read(stp.read_csv, path, skiprows=HUGE, **kw))
        assert peak < 50e6
        if isinstance(truth, tuple):
            assert got == truth
        else:
            pd.testing.assert_frame_equal(got.reset_index(drop=True), truth)
    # below the bound, the value is pandas' own (lines counted from the top)
    _assert_as_pandas(path, raw.decode().splitlines(), skiprows=3, header=None)


def _given_to_pandas(monkeypatch):
    """The ``skiprows`` values pandas' read_csv is given (from here on)."""
    given, real = [], pd.read_csv

    def spy(*args, **kwargs):
        given.append(kwargs.get("skiprows"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spy)
    return given, real


@pytest.mark.parametrize("kwargs", [{}, {"names": ["key", "v"]}, {"header": None}])
@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_read_csv_bounds_an_int_skiprows_below_the_file_size_past_its_lines(
    tmp_path, monkeypatch, kwargs, end
):
    # 41 long lines, 120 kB: skiprows=90_000 is below the file's size, past its lines.
    # pandas made it a set of 90_000 line numbers (of 10**9 for a 1 GB file: 60 GB);
    # the bound is the lines of the text, the same lines (every one) skipped.
    text = "key,v\n" + "".join(f"{k},{'x' * 3000}\n" for k in range(2, 42))
    path = tmp_path / "long.csv"
    path.write_bytes(text.replace("\n", end).encode())
    skiprows = 90_000
    assert path.stat().st_size > skiprows > 41 * len(end)
    given, real = _given_to_pandas(monkeypatch)
    got = _read(stp.read_csv, path, skiprows=skiprows, **kwargs)
    truth = _read(real, path, skiprows=skiprows, **kwargs)  # pandas' own output
    if isinstance(truth, tuple):
        assert got == truth
    else:
        pd.testing.assert_frame_equal(got.reset_index(drop=True), truth)
    raw_lines = path.read_bytes().count(end.encode()) + 1
    given = [value for value in given if value is not None]
    assert given and all(value <= raw_lines * len(end) for value in given)


def test_read_csv_gives_pandas_an_int_skiprows_within_the_lines_as_it_is(tmp_path, monkeypatch):
    # a value the file's lines reach is pandas' own (its scan stops there, 1 MB in)
    text = "key,v\n" + "".join(f"{k},{k}\n" for k in range(2, 300_002))
    path = tmp_path / "many.csv"
    path.write_text(text)
    given, real = _given_to_pandas(monkeypatch)
    got = stp.read_csv(path, skiprows=100_000, header=None)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), real(path, skiprows=100_000, header=None)
    )
    assert 100_000 in given and set(given) <= {100_000, None}
    np.testing.assert_array_equal(stp.row_lineage(got)["line"], got[0])


def test_read_csv_bounds_skiprows_by_the_lines_of_the_decoded_text(tmp_path):
    # cp037 (EBCDIC) ends a line with byte 0x25, not 0x0a: its lines are counted in
    # the text pandas decodes. A file whose bytes do not decode is bounded by its bytes.
    text = "key,v\n" + "".join(f"{k},{k}\n" for k in range(2, 40))
    path = tmp_path / "e.csv.gz"
    path.write_bytes(gzip.compress(text.encode("cp037")))
    size = path.stat().st_size
    for skiprows in (30, size + 2):  # (size + 2: bounded by the text's 40 lines)
        _assert_as_pandas(path, text.splitlines(), skiprows=skiprows, encoding="cp037")
    kwargs = {"encoding": "cp037", "names": ["key", "v"]}
    truth = _read(pd.read_csv, path, skiprows=50, **kwargs)
    pd.testing.assert_frame_equal(
        _read(stp.read_csv, path, skiprows=HUGE, **kwargs).reset_index(drop=True), truth
    )
    bad = tmp_path / "b.csv.gz"
    bad.write_bytes(gzip.compress(b"key,v\n2,\xff\n3,3\n"))
    assert _read(stp.read_csv, bad, skiprows=HUGE) == _read(pd.read_csv, bad, skiprows=4)


def _truth(skiprows, n):
    if callable(skiprows):
        return np.array([skiprows(k) for k in range(n)], bool)
    if isinstance(skiprows, int):
        return np.arange(n) < skiprows
    return np.isin(np.arange(n), list(skiprows))


@settings(deadline=None, max_examples=60)
@given(
    kind=st.sampled_from(["int", "rows", "callable"]),
    values=st.lists(st.integers(-3, 200), max_size=12),
    huge=st.booleans(),
    bounds=st.lists(st.integers(0, 300), min_size=1, max_size=8),
)
@example(kind="rows", values=[0, 5], huge=True, bounds=[3, 1, 250])
def test_skip_rows_mask_agrees_with_skiprows_on_every_line_asked(kind, values, huge, bounds):
    # Truth: skiprows asked line by line. The mask, grown to the bounds in any order,
    # must agree on every line below the largest bound asked, and stay small.
    skiprows = {
        "int": (values[0] if values else 0) + (HUGE if huge else 0),
        "rows": set(values) | ({HUGE} if huge else set()),
        "callable": lambda k, s=frozenset(values): k in s,
    }[kind]
    mask, asked = SkipRows(skiprows), 0
    for bound in bounds:
        got = mask.upto(bound)
        asked = max(asked, bound)
        assert got.size <= 2 * max(bounds) + 1
        truth = _truth(skiprows, asked)
        padded = np.zeros(asked, bool)
        padded[: min(got.size, asked)] = got[:asked]
        np.testing.assert_array_equal(padded, truth)
