"""read_csv(skip_blank_lines=False) of a file whose first line is blank, or a lone UTF-8
byte order mark: pandas' python engine reads the lone mark as a header of one empty
field ("Unnamed: 0", pandas 2.2 and 3.1), a blank line as a header of none; the C engine
reads both as blank. The content check parsed the header record without the mark, and
refused the read; now the rows name their lines.

Truth: the raw bytes (every line starts with a token naming its line) and pandas' own
frame.
"""

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from tests._lineage._csv_hunt import read_all, token_lines

_BOM = "\ufeff"


def _keys(frame):
    """Each row's key: the first level of its index read from the file, else its first
    column."""
    if frame.index.nlevels > 1 or frame.index.name == "stp_row_id":
        levels = [n for n in frame.index.names if n != "stp_row_id"]
        if levels:
            return list(frame.index.get_level_values(0))
        return list(frame.iloc[:, 0])
    return list(frame.index)


@settings(max_examples=60, deadline=None)
@given(
    bom=st.booleans(),
    width=st.integers(1, 3),
    rows=st.integers(1, 4),
    ending=st.sampled_from(["\n", "\r\n"]),
    engine=st.sampled_from(["c", "python"]),
    chunksize=st.sampled_from([None, 1, 2, 3]),
)
@example(bom=True, width=2, rows=2, ending="\n", engine="python", chunksize=None)
@example(bom=True, width=2, rows=2, ending="\n", engine="python", chunksize=1)
def test_a_blank_first_line_or_a_lone_bom_line(
    tmp_path_factory, bom, width, rows, ending, engine, chunksize
):
    lines = ["", ",".join(["T2Z", *(f"c{j}" for j in range(1, width))])]
    lines += [
        ",".join([f"T{r + 3}Z", *(str(10 * r + j) for j in range(1, width))]) for r in range(rows)
    ]
    text = (_BOM if bom else "") + ending.join(lines) + ending
    path = tmp_path_factory.mktemp("bom") / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": engine, "skip_blank_lines": False}
    if chunksize:
        options["chunksize"] = chunksize
    try:
        expected = read_all(pd.read_csv(path, **options), options, ())
    except (ValueError, pd.errors.ParserError):
        return  # (pandas cannot read it: nothing to model)
    REGISTRY.clear()
    frame = read_all(stp.read_csv(path, **options), options, ())
    pd.testing.assert_frame_equal(
        frame.reset_index(level="stp_row_id", drop=True)
        if frame.index.nlevels > 1
        else frame.reset_index(drop=True),
        expected if frame.index.nlevels > 1 else expected.reset_index(drop=True),
        check_index_type=False,
    )
    where, _ = token_lines(text)
    got = stp.row_lineage(frame)["line"].tolist()
    assert got == [where[str(k)] for k in _keys(expected if frame.index.nlevels > 1 else frame)]


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_lone_bom_line_is_a_header_of_one_empty_field_to_the_python_engine(tmp_path, ending):
    path = tmp_path / "f.csv"
    path.write_bytes(f"{_BOM}{ending}T2Z,c1{ending}T3Z,1{ending}".encode())
    expected = pd.read_csv(path, engine="python", skip_blank_lines=False)
    assert list(expected.columns) == ["Unnamed: 0"]
    frame = stp.read_csv(path, engine="python", skip_blank_lines=False)
    pd.testing.assert_frame_equal(frame.reset_index(level="stp_row_id", drop=True), expected)
    assert stp.row_lineage(frame)["line"].tolist() == [2, 3]
