"""read_csv(engine="python") of a file whose first line, after a UTF-8 byte order mark,
is one the C tokenizer skips (empty, blanks, or a comment line): pandas' python engine
reads the mark as the first character of that line's first field (removed after,
``_check_for_bom``), so to it the line is never blank: a header of one field, or a data
row with ``header=None`` (pandas 2.2 and 3.1). With ``skip_blank_lines=True`` (and, for
a comment line, also False) such files were refused ("could not match"); now the rows
name their lines.

Truth: the raw bytes (every line holding a row starts with a token naming its line) and
pandas' own frame.
"""

import re

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop.exceptions import LineageError
from tests._lineage._csv_hunt import _keys, read_all, token_lines, wrong_lines

_BOM = "\ufeff"
_TOKEN = re.compile(r"T\d+Z")


def _read(path, options):
    REGISTRY.clear()
    return read_all(stp.read_csv(path, **options), options, ())


def _check(text, path, options):
    """Read ``path`` (holding ``text``) with pandas and sktraceprop: the same frame, and
    each row named by the line its key's token is on."""
    expected = read_all(pd.read_csv(path, **options), options, ())
    frame = _read(path, options)
    plain = frame.reset_index(level="stp_row_id", drop=True)
    if plain.index.nlevels == 1 and plain.index.name is None and frame.index.nlevels == 1:
        plain, expected = plain.reset_index(drop=True), expected.reset_index(drop=True)
    pd.testing.assert_frame_equal(plain, expected, check_index_type=False)
    lines = stp.row_lineage(frame)["line"].tolist()
    where, _ = token_lines(text)
    tokens = [_TOKEN.search(str(key)) for key in _keys(frame)]
    # (a row of no token, a blank or comment line read as a row: by wrong_lines)
    truth = [where[m.group()] if m else line for m, line in zip(tokens, lines)]
    assert lines == truth
    assert lines == sorted(set(lines))
    assert not wrong_lines(frame, lines, text)
    return expected, lines


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize(
    "first, options",
    [
        ("", {}),
        ("  ", {}),
        ("\t", {}),
        ("#c", {"comment": "#"}),
        ("#c", {"comment": "#", "skip_blank_lines": False}),
        ("#c,1", {"comment": "#"}),
    ],
)
def test_the_marked_first_line_is_the_header(tmp_path, first, options, ending):
    text = _BOM + ending.join([first, "T2Z,c1", "T3Z,1", "T4Z,2"]) + ending
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", **options}
    expected, lines = _check(text, path, options)
    # (the first line is the header: the written one is a row, its key the index)
    assert list(expected.index) == ["T2Z", "T3Z", "T4Z"]
    assert lines == [2, 3, 4]


@pytest.mark.parametrize("skip_blank", [True, False])
def test_without_header_the_marked_line_is_a_row_unless_blank_once_unmarked(tmp_path, skip_blank):
    # (with header=None the python engine drops the line, blank once the mark is
    # removed, with skip_blank_lines=True after all; with False it is a row)
    text = _BOM + "\nT2Z\nT3Z\n"
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "header": None, "skip_blank_lines": skip_blank}
    expected = pd.read_csv(path, **options)
    keys = expected[0].tolist()
    assert keys == ["T2Z", "T3Z"] if skip_blank else keys[1:] == ["T2Z", "T3Z"]
    frame = _read(path, options)
    pd.testing.assert_frame_equal(
        frame.reset_index(drop=True), expected.reset_index(drop=True), check_index_type=False
    )
    lines = stp.row_lineage(frame)["line"].tolist()
    assert lines == ([2, 3] if skip_blank else [1, 2, 3])


@pytest.mark.parametrize("ending", ["\n", "\r"])
def test_without_header_a_marked_comment_line_is_a_row_of_missing_values(tmp_path, ending):
    # (found by the hunt: the mark is the first field's text before the comment, so the
    # python engine reads line 1 as a row; line 2, a comment line among its first lines,
    # it drops; the hunt's truth had taken line 1 for a line no row starts on)
    text = _BOM + ending.join(["#T1Z", "#T2Z", "T3Z"]) + ending
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "header": None, "names": ["key"]}
    options.update(comment="#", skip_blank_lines=False)
    expected = pd.read_csv(path, **options)
    assert expected["key"].isna().tolist() == [True, False] and expected["key"][1] == "T3Z"
    frame = _read(path, options)
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected)
    assert stp.row_lineage(frame)["line"].tolist() == [1, 3]


def test_a_quote_after_the_mark_opens_no_quoted_field(tmp_path):
    # (the python engine reads '\ufeff"T1Z' as one field of line 1; the C tokenizer, the
    # mark skipped, would read a quoted field to line 2)
    text = _BOM + '"T1Z,c1\nT2Z,1"\nT3Z,2\n'
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python"}
    try:
        expected = pd.read_csv(path, **options)
    except ValueError:
        with pytest.raises(ValueError):
            _read(path, options)
        return
    frame = _read(path, options)
    pd.testing.assert_frame_equal(frame.reset_index(level="stp_row_id", drop=True), expected)


_KINDS = ["blank", "spaces", "comment", "row", "row"]


@settings(max_examples=80, deadline=None)
@given(
    bom=st.booleans(),
    lead=st.sampled_from(["blank", "spaces", "comment", "none"]),
    width=st.integers(1, 3),
    body=st.lists(st.sampled_from(_KINDS), min_size=1, max_size=6),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    comment=st.sampled_from([None, "#"]),
    header=st.sampled_from([0, None]),
    chunksize=st.sampled_from([None, 1, 2]),
    skip_blank=st.booleans(),
)
@example(
    bom=True,
    lead="blank",
    width=2,
    body=["row", "row"],
    ending="\n",
    comment=None,
    header=0,
    chunksize=None,
    skip_blank=True,
)
@example(
    bom=True,
    lead="comment",
    width=2,
    body=["row", "comment", "row"],
    ending="\r\n",
    comment="#",
    header=0,
    chunksize=1,
    skip_blank=True,
)
@example(
    bom=True,
    lead="spaces",
    width=1,
    body=["row", "row", "row"],
    ending="\n",
    comment=None,
    header=None,
    chunksize=2,
    skip_blank=True,
)
def test_a_marked_first_line_among_blank_and_comment_lines(
    tmp_path_factory, bom, lead, width, body, ending, comment, header, chunksize, skip_blank
):
    lines = []
    if lead != "none":
        lines.append({"blank": "", "spaces": "  ", "comment": "#c"}[lead])
    for kind in ["row", *body]:
        n = len(lines) + 1
        if kind == "row":
            lines.append(",".join([f"T{n}Z", *(str(10 * n + j) for j in range(1, width))]))
        elif kind == "comment":
            lines.append(f"#T{n}Z c")
        else:
            lines.append("" if kind == "blank" else " ")
    text = (_BOM if bom else "") + ending.join(lines) + ending
    path = tmp_path_factory.mktemp("bom") / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "header": header, "skip_blank_lines": skip_blank}
    if comment:
        options["comment"] = comment
    if chunksize:
        options["chunksize"] = chunksize
    modelled = skip_blank
    try:
        expected = read_all(pd.read_csv(path, **options), options, ())
    except (ValueError, pd.errors.ParserError):
        with pytest.raises((ValueError, pd.errors.ParserError)):
            _read(path, options)
        return
    if expected is None or not len(expected):
        return
    try:
        _check(text, path, options)
    except LineageError:
        # (comment lines without comment= are rows; with skip_blank_lines=False a blank
        # or comment line is a row or not by what is around it: read exactly or refused)
        if modelled:
            raise
