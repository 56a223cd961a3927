"""read_csv(engine="python", skip_blank_lines=False, comment="#"): the blank line right
after the header, which pandas' python engine drops when the next line it reads (past
comment lines, cut at the comment character) holds the header's field count.

Truth: the raw bytes, each data line written with a marker value of its own, so a row
names its line by its values; a row of missing values must name a blank line. The frame
must be pandas' own, in pandas 2.2 and 3.1. Accepted or refused, never a wrong line.
"""

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._capture import resolve_row_ids
from sktraceprop._lineage._ids import lines_of
from sktraceprop.exceptions import LineageError

_OPTIONS = {"engine": "python", "skip_blank_lines": False, "comment": "#"}


def _line(kind, k, n_cols):
    values = [f"m{k}", *(str(k * 10 + j) for j in range(1, n_cols))]
    if kind == "blank":
        return ""
    if kind == "comment":
        return f"# note {k}"
    if kind == "short":
        return values[0]
    if kind == "trailing":
        return ",".join(values) + "#x"
    if kind == "quoted":
        return ",".join([f'"{values[0]}#q"', *values[1:]])
    return ",".join(values)


def _write(path, n_cols, kinds, newline):
    """The file, and the physical line of every marker (the first field of a row)."""
    lines = [",".join(f"c{j}" for j in range(n_cols))]
    marker_line = {}
    for k, kind in enumerate(kinds):
        if kind not in ("blank", "comment"):
            marker_line[f"m{k}"] = len(lines) + 1
        lines.append(_line(kind, k, n_cols))
    path.write_bytes((newline.join(lines) + newline).encode())
    return lines, marker_line


def _as_pandas(frame):
    out = pd.DataFrame(frame)
    if out.index.nlevels == 1:
        return out.reset_index(drop=True)
    return out.set_axis(out.index.droplevel("stp_row_id"), axis=0)


KINDS = ["blank", "comment", "row", "short", "trailing", "quoted"]


@settings(max_examples=60, deadline=None)
@given(
    n_cols=st.integers(1, 3),
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=7),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    index_col=st.sampled_from([None, 0]),
)
@example(n_cols=2, kinds=["blank", "comment", "row", "row"], newline="\n", index_col=None)
@example(n_cols=2, kinds=["blank", "comment", "short", "row"], newline="\n", index_col=None)
@example(n_cols=2, kinds=["blank", "quoted", "row"], newline="\n", index_col=None)
@example(n_cols=2, kinds=["blank", "row", "row"], newline="\r", index_col=None)
@example(n_cols=2, kinds=["blank", "comment", "trailing", "row"], newline="\r", index_col=None)
def test_a_blank_line_after_the_header_with_comments(
    tmp_path_factory, n_cols, kinds, newline, index_col
):
    path = tmp_path_factory.mktemp("blank") / "a.csv"
    physical, marker_line = _write(path, n_cols, kinds, newline)
    expected = pd.read_csv(path, **_OPTIONS, index_col=index_col)
    try:
        frame = stp.read_csv(path, **_OPTIONS, index_col=index_col, source_id=path.parent.name)
    except LineageError:
        return  # (refused: never a wrong line)
    view = _as_pandas(frame)
    pd.testing.assert_frame_equal(view, expected)
    lines = lines_of(resolve_row_ids(frame)).tolist()
    assert len(lines) == len(expected)
    assert all(b > a for a, b in zip(lines, lines[1:]))
    if not isinstance(view.index, pd.RangeIndex):
        # (the markers in the index; none where pandas dropped the blank line, for which
        # it replaces index_col by no index)
        view = view.reset_index()
    for line, value in zip(lines, view.iloc[:, 0].tolist()):
        if isinstance(value, str):
            assert line == marker_line[value.split("#")[0]]
        else:
            assert physical[line - 1] == ""


@pytest.mark.parametrize(
    "data, lines",
    [
        # dropped: past the comment line, the next line has the header's 2 fields
        (b"k,v\n\n#c\na,1\nb,2\n", [4, 5]),
        (b"k,v\n\n#c\n#d\na,1\nb,2\n", [5, 6]),
        (b"k,v\n\na,1#x\nb,2\n", [3, 4]),  # (cut at the comment character: 2 fields)
        # kept: the next line has 1 field (cut at the comment character, quoted or not)
        (b'k,v\n\n"a#",1\nb,2\n', [2, 3, 4]),
        (b"k,v#x\n\na\nb,2\n", [2, 3, 4]),
        (b"k,v\n\n#c\n", [2]),
        # old-Mac line ends: the same
        (b"k,v\r\r#c\ra,1\rb,2\r", [4, 5]),
        (b"k,v\r\ra,1#x\rb,2", [3, 4]),
        (b"k,v\r\r#c\ra\rb,2\r", [2, 4, 5]),
    ],
)
def test_blank_lines_after_the_header_with_comments(tmp_path, data, lines):
    # Before, every blank line after the header was refused with comment= given, and
    # with lone \r line ends a dropped one with "could not match".
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    frame = stp.read_csv(path, **_OPTIONS)
    pd.testing.assert_frame_equal(_as_pandas(frame), pd.read_csv(path, **_OPTIONS))
    assert lines_of(resolve_row_ids(frame)).tolist() == lines


@pytest.mark.parametrize(
    "data",
    [
        b"k,v\n#c\n\na,1\nb,2\n",  # (a comment line before the blank one)
        b"#c\nk,v\n\na,1\nb,2\n",
        b'k,v\n\n#c "q\na,1\nb,2\n',  # (a quote in a comment line between them)
    ],
)
def test_a_blank_line_after_the_header_not_modelled_with_comments_is_refused(tmp_path, data):
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    pd.read_csv(path, **_OPTIONS)  # (pandas reads it)
    with pytest.raises(LineageError, match="with comment=, on comment lines, quotes"):
        stp.read_csv(path, **_OPTIONS)


def _outcome(path, options):
    """The lines of the rows read, or the refusal (its message, the path left out)."""
    try:
        frame = stp.read_csv(path, **options, source_id=path.parent.name)
    except LineageError as exc:
        return str(exc).replace(str(path), "<path>")
    return lines_of(resolve_row_ids(frame)).tolist()


@settings(max_examples=40, deadline=None)
@given(
    n_cols=st.integers(1, 3),
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=6),
    comment=st.sampled_from([None, "#"]),
    index_col=st.sampled_from([None, 0]),
)
@example(n_cols=2, kinds=["blank", "row"], comment=None, index_col=None)
@example(n_cols=2, kinds=["blank", "comment", "row"], comment="#", index_col=None)
def test_old_mac_line_ends_are_read_as_unix_ones(
    tmp_path_factory, n_cols, kinds, comment, index_col
):
    # A file with lone \r line ends has the rows and lines of the same file with \n ones
    # (pandas reads them alike), or the same refusal. Before, where pandas dropped the
    # blank line after the header, the \r file was refused with "could not match".
    options = dict(_OPTIONS, comment=comment, index_col=index_col)
    outcomes = []
    for newline in ("\n", "\r"):
        path = tmp_path_factory.mktemp("mac") / "a.csv"
        _write(path, n_cols, ["blank", *kinds], newline)
        outcomes.append((pd.read_csv(path, **options), _outcome(path, options)))
    (unix, unix_lines), (mac, mac_lines) = outcomes
    pd.testing.assert_frame_equal(mac, unix)
    assert mac_lines == unix_lines
