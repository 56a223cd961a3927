"""read_csv(engine="python") on a line of ``k`` fields between a header of ``n`` fields
and records of ``n + k``: pandas' python engine takes it for the names of ``k`` index
columns (``PythonParser._get_index_name``, pandas 2.2 and 3.1) and reads it as no row,
the general case of the blank line after the header (``k = 0``). It was refused "could
not match"; now the rows name their lines, or the read is refused naming that line.

Truth: the raw bytes (every line starts with a token naming its line) and pandas' own
frame.
"""

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop.exceptions import LineageError
from tests._lineage._csv_hunt import token_lines


def _read(path, **options):
    REGISTRY.clear()
    frame = stp.read_csv(path, **options)
    return frame, stp.row_lineage(frame)["line"].tolist()


def _truth(text, frame):
    """The line of each row: its key's token, read from the raw text."""
    where, _ = token_lines(text)
    return [where[str(key).strip()] for key in frame.index.get_level_values(0)]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3),
    k=st.integers(1, 2),
    rows=st.integers(1, 5),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    footer=st.integers(0, 2),
    skip_blank=st.booleans(),
)
@example(n=2, k=1, rows=2, ending="\n", footer=0, skip_blank=True)
def test_the_index_names_row_is_no_row(tmp_path_factory, n, k, rows, ending, footer, skip_blank):
    lines = [",".join(["T1Z", *(f"c{j}" for j in range(1, n))])]
    lines.append(",".join(["T2Z", *(f"x{j}" for j in range(1, k))]))
    for r in range(rows):
        lines.append(",".join([f"T{r + 3}Z", *(str(10 * r + j) for j in range(1, n + k))]))
    text = ending.join(lines) + ending
    path = tmp_path_factory.mktemp("names") / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "skip_blank_lines": skip_blank}
    if footer:
        options["skipfooter"] = footer
    expected = pd.read_csv(path, **options)
    assert expected.index.nlevels == k and len(expected) == max(rows - footer, 0)
    frame, lines_read = _read(path, **options)
    pd.testing.assert_frame_equal(
        frame.reset_index(level="stp_row_id", drop=True), expected, check_index_type=False
    )
    assert lines_read == _truth(text, expected)
    assert all(line > 2 for line in lines_read)


@pytest.mark.parametrize(
    "options",
    [
        # (index_col, which pandas replaces by the names row's columns, is read:
        # tests/_lineage/test_csv_python_index_col_names.py; chunksize too:
        # tests/_lineage/test_csv_chunks_index_names.py)
        {"engine": "python", "names": ["a", "b"], "header": 0},
        {"engine": "python", "skiprows": [9]},
    ],
)
def test_the_index_names_row_under_options_not_modelled_is_named(tmp_path, options):
    path = tmp_path / "f.csv"
    path.write_bytes(b"T1Z,c1\nT2Z\nT3Z,1,2\nT4Z,3,4\n")
    with pytest.raises(LineageError, match=r"line 2, after the header, holds 1 field and"):
        stp.read_csv(path, **options)


def test_a_line_not_taken_for_names_stays_a_row(tmp_path):
    # k fields, but the next line holds not the header's count plus k: a row (padded)
    path = tmp_path / "f.csv"
    path.write_bytes(b"T1Z,c1,c2\nT2Z\nT3Z,1,2\n")
    frame, lines = _read(path, engine="python")
    assert lines == [2, 3]
    assert frame["T1Z"].tolist() == ["T2Z", "T3Z"]


def _tag(value):
    return f"<{value}>"


@pytest.mark.parametrize(
    "converters",
    [{0: _tag}, {1: _tag}, {2: _tag}, {"c1": _tag}, {0: _tag, 1: _tag, 2: _tag}],
)
def test_converters_by_position_count_the_index_names_columns(tmp_path, converters):
    # with a line of index names, pandas' python engine applies a converter given by
    # position p to field p of the record, index columns included ({2: f} is column c1;
    # read with an implicit index, {2: f} fails): the content check's parse of the
    # sample was without that line, and refused the read "do not parse"
    text = "T1Z,c1\nT2Z\nT3Z,1,2\nT4Z,3,4\n"
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    expected = pd.read_csv(path, engine="python", converters=converters)
    frame, lines = _read(path, engine="python", converters=converters)
    pd.testing.assert_frame_equal(frame.reset_index(level="stp_row_id", drop=True), expected)
    assert lines == [3, 4]
    assert lines == [token_lines(text)[0][str(k).strip("<>")] for k in expected.index]
