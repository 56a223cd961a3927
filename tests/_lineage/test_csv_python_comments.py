"""read_csv(engine="python", comment="#", skip_blank_lines=False): a blank line is a row
of missing values wherever it is, as without ``comment``; a line starting with the
comment character after the header is refused (pandas' python engine drops it among its
first lines and reads it as a row of missing values after them, where the C tokenizer
skips it), as is a row the comment character cuts to nothing (``"#q",1``).

Truth: pandas' own frame and the raw bytes: each data line carries a marker of its own,
so a row names its line by its values, and a row of missing values must be a blank line.
Before, every blank line was refused with ``comment`` set ("blank once unquoted and cut
at the comment character"), though pandas reads it as the C tokenizer does.
"""

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._capture import resolve_row_ids
from sktraceprop._lineage._ids import lines_of
from sktraceprop.exceptions import LineageError
from tests._lineage.test_csv_python_blank_lines import _as_pandas, _check_lines

_OPTIONS = {"engine": "python", "comment": "#", "skip_blank_lines": False}

_KINDS = ["blank", "row", "trailing", "quoted", "comment", "cut"]


def _write(path, items, newline, last_newline, lead):
    """The file, its physical lines and the line of every marker."""
    lines = ["# written by a test", "c0,c1"] if lead else ["c0,c1"]
    marker_line = {}
    for kind, k in items:
        if kind == "blank":
            lines.append("")
        elif kind == "comment":
            lines.append(f"# note {k}, with a field")
        elif kind == "cut":
            lines.append(f'"#q{k}",{k}')  # (a row to the C tokenizer, nothing to python)
        else:
            # (a quoted value holds a line end: its record spans two physical lines)
            marker_line[f"m{k}"] = sum(1 + line.count("\n") for line in lines) + 1
            value = f'"{k},\n{k}"' if kind == "quoted" else str(k)
            lines.append(f"m{k},{value}" + (" # says why" if kind == "trailing" else ""))
    text = newline.join(lines) + (newline if last_newline else "")
    path.write_bytes(text.encode())
    return text.splitlines(), marker_line


@settings(max_examples=60, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(_KINDS), min_size=1, max_size=8),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    last_newline=st.booleans(),
    lead=st.booleans(),
)
# (a comment line read as a row, and a last blank item that is no line: 3 rows for the 3
# items that are no comment, found by hypothesis)
@example(kinds=["row", "blank", "comment", "blank"], newline="\n", last_newline=False, lead=False)
def test_comments_and_blank_lines_name_their_lines(
    tmp_path_factory, kinds, newline, last_newline, lead
):
    path = tmp_path_factory.mktemp("comments") / "a.csv"
    items = [(kind, k) for k, kind in enumerate(kinds)]
    physical, marker_line = _write(path, items, newline, last_newline, lead)
    expected = pd.read_csv(path, **_OPTIONS)
    # what cannot be modelled: a comment line pandas reads as a row (more rows than
    # lines that are not comments), a row cut to nothing after the header; a blank line
    # the first after it (comment lines aside) with a line after that (pandas may take
    # it for no index names) is read or refused (_csv_python_blank), never a wrong line
    after = [line for line in physical[2 if lead else 1 :] if not line.startswith("#")]
    # (rows that are no comment: the markers and the blank lines there are, a last
    # blank item with no last line end being none)
    not_comments = len(marker_line) + physical[2 if lead else 1 :].count("")
    unmodelled = "cut" in kinds or len(expected) > not_comments
    blank_first = len(after) > 1 and after[0] == ""
    try:
        frame = stp.read_csv(path, **_OPTIONS, source_id=path.parent.name)
    except LineageError as exc:
        assert unmodelled or blank_first, str(exc)
        said = str(exc)
        assert (
            "starts with the comment character" in said
            or "cut at the comment" in said
            or ("after the header, is blank" in said)
            # (with \r line ends the blank line dropped is not matched, with comment= or
            # without: refused, loud)
            or ("could not match" in said and blank_first and newline == "\r")
        )
        return
    assert not unmodelled, "accepted a file whose lines pandas reads otherwise"
    view = _as_pandas(frame)
    pd.testing.assert_frame_equal(view, expected)
    lines = lines_of(resolve_row_ids(frame)).tolist()
    assert len(lines) == len(expected)
    _check_lines(lines, view, physical, marker_line)


@pytest.mark.parametrize(
    "data, lines",
    [
        (b"k,v\na,1\n\nb,2 # why\n\n", [2, 3, 4, 5]),
        (b"# about\nk,v\r\na,1\r\n\r\n\r\nb,2\r\n", [3, 4, 5, 6]),
        (b"k,v\ra,1\r\rb,2", [2, 3, 4]),
    ],
)
def test_blank_lines_with_a_comment_character_are_rows(tmp_path, data, lines):
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    frame = stp.read_csv(path, **_OPTIONS)
    pd.testing.assert_frame_equal(_as_pandas(frame), pd.read_csv(path, **_OPTIONS))
    assert lines_of(resolve_row_ids(frame)).tolist() == lines
    raw = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    assert [raw[n - 1] == b"" for n in lines] == frame.iloc[:, 0].isna().tolist()


@pytest.mark.parametrize(
    "data, line",
    [
        (b"k,v\na,1\nb,2\nc,3\n# later\nd,4\n", 5),  # pandas: a row of missing values
        (b"k,v\na,1\nb,2\n# third\nc,3\n", 4),  # after the two records for index names
    ],
)
def test_a_comment_line_after_the_header_is_refused(tmp_path, data, line):
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    pd.read_csv(path, **_OPTIONS)  # (pandas reads it)
    with pytest.raises(LineageError, match=f"line {line} starts with the comment character"):
        stp.read_csv(path, **_OPTIONS)
