"""read_csv(chunksize=...) of a file whose line after the header pandas' python engine
takes for index names (a line of ``k`` fields before records of the header's count plus
``k``; a blank one, ``k = 0``, with ``skip_blank_lines=False``), after a byte order mark,
blank or comment lines: it was refused ("read as one frame, not in chunks"); now each
chunk's rows name their lines, as the whole-file read's do, with either engine (the C
engine fails on such a file, as pandas' does).

Truth: the raw bytes (every line that starts a row starts with a token naming its line)
and pandas' own chunks.
"""

import re

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop.exceptions import LineageError
from tests._lineage._csv_hunt import read_all, token_lines


def _file(bom, blanks, comments, n, k, rows, gaps, ending):
    """The text: a preamble of ``blanks`` blank and ``comments`` comment lines, a header
    of ``n`` fields, a names line of ``k`` fields (None: none; 0: blank), ``rows`` records
    of ``n + k`` fields (``n`` without a names line), a blank or comment line after the
    records numbered in ``gaps``."""
    lines = [""] * blanks + ["#c"] * comments

    def token():
        return f"T{len(lines) + 1}Z"

    lines.append(",".join([token(), *(f"c{j}" for j in range(1, n))]))
    if k is not None:
        lines.append(",".join([token(), *(f"x{j}" for j in range(1, k))]) if k else "")
    width = n + (k or 0)
    for r in range(rows):
        lines.append(",".join([token(), *(str(10 * r + j) for j in range(1, width))]))
        if r in gaps:
            lines.append(gaps[r])
    return ("\ufeff" if bom else "") + ending.join(lines) + ending


def _truth(text, frame, got):
    """Whether every row's line holds it: a row keyed by a token starts on that token's
    line; a row of no key (a blank or comment line read as a row) on such a line."""
    where, _ = token_lines(text)
    physical = re.split(r"\r\n|\r|\n", text.lstrip("\ufeff"))
    levels = [n for n in frame.index.names if n != "stp_row_id"]
    if frame.index.nlevels > 1 or (levels and levels[0] is not None):
        keys = list(frame.index.get_level_values(0))
    else:
        keys = list(frame.iloc[:, 0])
    for key, line in zip(keys, got, strict=True):
        if isinstance(key, str):
            assert where[key] == line, (key, line)
        else:
            assert physical[line - 1] in ("", "#g"), (key, line)


def _plain(frame):
    """A frame without its row ids, numbered from 0 where no index was read."""
    if "stp_row_id" in frame.index.names:
        frame = frame.reset_index(level="stp_row_id", drop=True)
    if frame.index.nlevels == 1 and frame.index.name is None:
        frame = frame.reset_index(drop=True)
    return frame


def _read(path, options):
    REGISTRY.clear()  # (the same bytes read before are said to be a copy)
    return read_all(stp.read_csv(path, **options), options, ())


@settings(max_examples=80, deadline=None)
@given(
    bom=st.booleans(),
    blanks=st.integers(0, 2),
    comments=st.integers(0, 1),
    n=st.integers(1, 3),
    k=st.sampled_from([None, 0, 1, 2]),
    rows=st.integers(1, 7),
    gaps=st.dictionaries(st.integers(0, 6), st.sampled_from(["", "#g"]), max_size=2),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    engine=st.sampled_from(["c", "python"]),
    chunksize=st.integers(1, 4),
    index_col=st.sampled_from([None, 0]),
    skip_blank=st.booleans(),
)
@example(
    bom=True, blanks=0, comments=0, n=2, k=1, rows=3, gaps={}, ending="\n", engine="python",
    chunksize=2, index_col=0, skip_blank=True,
)  # fmt: skip
@example(
    bom=False, blanks=2, comments=0, n=1, k=2, rows=5, gaps={3: ""}, ending="\r",
    engine="python", chunksize=3, index_col=None, skip_blank=True,
)  # fmt: skip
@example(
    bom=False, blanks=0, comments=0, n=2, k=0, rows=5, gaps={}, ending="\r\n",
    engine="python", chunksize=2, index_col=None, skip_blank=False,
)  # fmt: skip
def test_chunks_after_an_index_names_line_name_their_lines(
    tmp_path_factory, bom, blanks, comments, n, k, rows, gaps, ending, engine, chunksize,
    index_col, skip_blank,
):  # fmt: skip
    text = _file(bom, blanks, comments, n, k, rows, gaps, ending)
    path = tmp_path_factory.mktemp("names") / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": engine, "chunksize": chunksize, "skip_blank_lines": skip_blank}
    if comments or "#g" in gaps.values():
        options["comment"] = "#"
    if index_col is not None:
        options["index_col"] = index_col
    whole = {key: v for key, v in options.items() if key != "chunksize"}
    try:
        expected = read_all(pd.read_csv(path, **options), options, ())
    except Exception:  # noqa: BLE001 (pandas cannot read it so: stp must not either)
        with pytest.raises(Exception):  # noqa: B017
            _read(path, options)
        return
    try:
        frame = _read(path, options)
    except LineageError:
        # (refused in chunks only where the whole file is refused too, or pandas reads
        # it otherwise whole)
        try:
            _read(path, whole)
        except (LineageError, ValueError):
            return
        assert not _plain(pd.read_csv(path, **whole)).equals(_plain(expected))
        return
    pd.testing.assert_frame_equal(_plain(frame), _plain(expected), check_index_type=False)
    _truth(text, frame, stp.row_lineage(frame)["line"].tolist())
    if engine == "python" and k and not comments and "#g" not in gaps.values():
        assert frame.index.nlevels == k + 1  # (the names line read as index names)


@pytest.mark.parametrize("engine", ["c", "python"])
@pytest.mark.parametrize("chunksize", [1, 2, 3])
@pytest.mark.parametrize("lead", ["\ufeff", "\n\n", "\r\n \r\n"])
def test_a_names_line_after_a_bom_or_blank_lines_is_read_in_chunks(
    tmp_path, engine, chunksize, lead
):
    below = lead.count("\n")  # (lines before the header)
    text = lead + "\n".join(
        [f"T{below + 1}Z,c1", f"T{below + 2}Z", *(f"T{below + r}Z,{r},0" for r in (3, 4, 5))]
    )
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": engine, "chunksize": chunksize, "index_col": 0}
    if engine == "c":
        # (the C engine takes no line for index names: it fails on the wider records,
        # or, in pandas 2.2 with chunksize=1, drops their last field, which the content
        # check's parse of several records together refuses)
        with pytest.raises((pd.errors.ParserError, LineageError)):
            list(stp.read_csv(path, **options))
        return
    chunks = list(stp.read_csv(path, **options))
    assert [len(c) for c in chunks] == [len(c) for c in pd.read_csv(path, **options)]
    frame = pd.concat(chunks)
    assert list(frame.index.names) == [f"T{below + 2}Z", "stp_row_id"]
    assert stp.row_lineage(frame)["line"].tolist() == [below + 3, below + 4, below + 5]
    assert frame.index.get_level_values(0).tolist() == [f"T{below + r}Z" for r in (3, 4, 5)]


@pytest.mark.parametrize("sizes", [(2, 1, 3), (1, 1, 1, 1), (3, 2, 2)])
@pytest.mark.parametrize("chunksize", [None, 4])
def test_get_chunk_of_other_sizes_after_a_names_line(tmp_path, sizes, chunksize):
    # (a size other than chunksize costs a rescan, whose records must be counted from
    # the record after the names line, as the first scan's are)
    # (more records than the scan samples: a chunk's bounds are not all kept)
    text = "T1Z,c1\nT2Z\n" + "".join(f"T{r}Z,{r},{r % 3}\n" for r in range(3, 603))
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "iterator": True}
    if chunksize:
        options["chunksize"] = chunksize
    with pd.read_csv(path, **options) as reader:
        expected = [reader.get_chunk(size) for size in sizes]
    with stp.read_csv(path, **options) as reader:
        chunks = [reader.get_chunk(size) for size in sizes]
        rest = list(reader)
    assert reader.n_rescans >= 1
    for got, want in zip(chunks, expected, strict=True):
        pd.testing.assert_frame_equal(_plain(got), want)
    frame = pd.concat(chunks + rest)
    assert len(frame) == 600
    _truth(text, frame, stp.row_lineage(frame)["line"].tolist())
