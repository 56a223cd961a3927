import gzip
import tracemalloc

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


def test_read_csv_refuses_an_int_skiprows_beyond_the_lines_a_file_can_have(tmp_path):
    # pandas makes skiprows=n the set of range(n) before reading: 10**9 ran for minutes
    # in tens of gigabytes; a file of b bytes has at most b + 1 lines to skip.
    path = _numbered(tmp_path / "n.csv", 5)
    size = path.stat().st_size
    with pytest.raises(ValueError, match=rf"skiprows={10**6} skips more lines than .*{size} b"):
        stp.read_csv(path, skiprows=10**6)
    with pytest.raises(ValueError, match="skips more lines than"):
        stp.read_csv(path, skiprows=size + 2, chunksize=2)
    # at the bound: pandas' own answer (every line skipped), not ours
    with pytest.raises(pd.errors.EmptyDataError):
        stp.read_csv(path, skiprows=size + 1)
    df = stp.read_csv(path, skiprows=2, header=None)
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df[0])
    # a compressed file's lines are not bounded by its size: left to pandas
    gz = tmp_path / "n.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    df = stp.read_csv(gz, skiprows=3, header=None)
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df[0])


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
