"""read_csv(engine="python", comment=...) of a file whose line after the header holds
index names (``k`` fields, the rows the header's count plus ``k``) and whose first data
row is followed by comment lines: pandas' python engine reads the names line and the
first data row as its first lines, and with ``skip_blank_lines=True`` drops the comment
lines after them as the C tokenizer skips them (pandas 2.2 and 3.1). Such a file was
refused ("could not match": the first data record's text, running to the next record,
held the comment lines); now the rows name their lines. With ``skip_blank_lines=False``
the python engine reads such a comment line as a row of missing values: refused, naming
the line.

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
from tests._lineage._csv_hunt import read_all, token_lines, wrong_lines


def _read(path, options):
    REGISTRY.clear()
    return read_all(stp.read_csv(path, **options), options, ())


def _file(n, k, body, ending):
    """The text: a header of ``n`` fields, a names line of ``k``, a first data row, then
    ``body`` (``"row"``, ``"comment"``, ``"blank"``, ``"spaces"`` lines)."""
    lines = [",".join(["T1Z", *(f"c{j}" for j in range(1, n))])]
    lines.append(",".join(["T2Z", *(f"x{j}" for j in range(1, k))]))
    for kind in ["row", *body]:
        at = len(lines) + 1
        if kind == "row":
            lines.append(",".join([f"T{at}Z", *(str(10 * at + j) for j in range(1, n + k))]))
        elif kind == "comment":
            lines.append(f"#T{at}Z c,d")
        else:
            lines.append("" if kind == "blank" else "  ")
    return ending.join(lines) + ending


def test_a_comment_line_after_the_first_data_row(tmp_path):
    text = _file(2, 1, ["comment", "row", "row"], "\n")
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "comment": "#"}
    expected = pd.read_csv(path, **options)
    assert list(expected.index) == ["T3Z", "T5Z", "T6Z"]
    frame = _read(path, options)
    pd.testing.assert_frame_equal(frame.reset_index(level="stp_row_id", drop=True), expected)
    assert stp.row_lineage(frame)["line"].tolist() == [3, 5, 6]


def test_with_skip_blank_lines_false_the_comment_line_is_refused(tmp_path):
    text = _file(2, 1, ["comment", "row"], "\n")
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "comment": "#", "skip_blank_lines": False}
    expected = pd.read_csv(path, **options)
    # (the comment line is a row of missing values to the python engine)
    assert len(expected) == 3 and expected.iloc[1].isna().all()
    with pytest.raises(LineageError, match="line 4 starts with the comment character"):
        _read(path, options)


def test_a_comment_line_read_with_the_next_line_is_refused(tmp_path):
    # (its quoted field runs to line 5: the python engine reads both as one row, cut to
    # nothing, and drops line 5's row with it)
    text = 'T1Z,c1\nT2Z\nT3Z,1,2\n#T4Z,"c\nT5Z,3,4"\nT6Z,5,6\n'
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "comment": "#"}
    expected = pd.read_csv(path, **options)
    assert list(expected.index) == ["T3Z", "T6Z"]
    with pytest.raises(LineageError):
        _read(path, options)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 3),
    k=st.integers(1, 2),
    body=st.lists(st.sampled_from(["row", "row", "comment", "blank", "spaces"]), max_size=6),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    chunksize=st.sampled_from([None, 1, 2]),
    footer=st.integers(0, 1),
    index_col=st.sampled_from([None, 0]),
)
@example(n=2, k=1, body=["comment", "row"], ending="\n", chunksize=None, footer=0, index_col=None)
@example(
    n=1, k=2, body=["comment", "comment", "row"], ending="\r", chunksize=1, footer=0, index_col=0
)
@example(
    n=2,
    k=1,
    body=["spaces", "comment", "row"],
    ending="\r\n",
    chunksize=None,
    footer=1,
    index_col=None,
)
def test_comment_lines_after_a_names_line(
    tmp_path_factory, n, k, body, ending, chunksize, footer, index_col
):
    text = _file(n, k, body, ending)
    path = tmp_path_factory.mktemp("names") / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "comment": "#"}
    if footer and body[-1:] == ["row"]:
        # (after a last comment or blank line pandas counts it as footer: refused apart)
        options["skipfooter"] = footer
    elif chunksize:
        options["chunksize"] = chunksize
    if index_col is not None:
        options["index_col"] = index_col
    expected = read_all(pd.read_csv(path, **options), options, ())
    assert expected is not None and expected.index.nlevels == k
    frame = _read(path, options)
    pd.testing.assert_frame_equal(
        frame.reset_index(level="stp_row_id", drop=True), expected, check_index_type=False
    )
    lines = stp.row_lineage(frame)["line"].tolist()
    where, _ = token_lines(text)
    assert lines == [where[key] for key in expected.index.get_level_values(0)]
    assert not wrong_lines(frame, lines, text)
