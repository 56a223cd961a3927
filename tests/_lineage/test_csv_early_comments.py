"""read_csv with ``comment``: a comment line among the first lines after the header is
read with its rows' lines, in both engines, with and without ``skip_blank_lines``.

pandas' python engine with ``skip_blank_lines=False`` drops a line starting with the
comment character among the first lines it reads (the header and two records for index
names), as the C tokenizer always does, and reads one after them as a row of missing
values. lineage63 refused every such line after the header, though ``a,b\\n#note\\n1,2``
reads as the C tokenizer reads it; now the early ones are read and the later ones refused,
naming the line and the workaround.

Truth: pandas' own frame and the raw bytes. Each data line carries a marker of its own,
found in the file's lines by a brute-force search here, so a row names its line by its
value; a row without a marker (a comment line read as a row) is one read_csv must refuse.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._capture import resolve_row_ids
from sktraceprop._lineage._ids import lines_of
from sktraceprop.exceptions import LineageError

_KINDS = ["row", "trailing", "comment", "na"]


def _write(path, kinds, newline, last_newline, lead, header):
    lines = ["# written by a test,with a field"] if lead else []
    lines += ["c0,c1"] if header else []
    for k, kind in enumerate(kinds):
        if kind == "comment":
            lines.append(f"#note {k},with a field")
        elif kind == "na":
            lines.append(f"#N/A,{k}")  # (a comment line to C, a row to python)
        else:
            lines.append(f"m{k},{k}" + (" # says why" if kind == "trailing" else ""))
    path.write_bytes((newline.join(lines) + (newline if last_newline else "")).encode())


def _marker_lines(raw):
    """Brute force: the 1-based line of every marker, from the raw bytes."""
    text = raw.replace(b"\r\n", b"\n").decode()
    return {
        line.split(",")[0]: n for n, line in enumerate(text.split("\n"), 1) if line.startswith("m")
    }


@settings(max_examples=120, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(_KINDS), min_size=1, max_size=7),
    engine=st.sampled_from(["c", "python"]),
    skip_blank_lines=st.booleans(),
    header=st.booleans(),
    index_col=st.sampled_from([None, False]),
    newline=st.sampled_from(["\n", "\r\n"]),
    last_newline=st.booleans(),
    lead=st.booleans(),
    sniff=st.booleans(),
)
# (the case lineage63 refused, a comment line between the first two rows, one after them)
@example(["comment", "row"], "python", False, True, None, "\n", True, False, False)
@example(
    ["row", "comment", "trailing", "row"], "python", False, False, None, "\r\n", True, True, True
)
@example(["row", "row", "comment", "row"], "python", False, True, False, "\n", False, False, False)
def test_comment_lines_name_their_lines_or_are_refused(
    tmp_path_factory,
    kinds,
    engine,
    skip_blank_lines,
    header,
    index_col,
    newline,
    last_newline,
    lead,
    sniff,
):
    assume("row" in kinds or "trailing" in kinds)
    path = tmp_path_factory.mktemp("comments") / "a.csv"
    _write(path, kinds, newline, last_newline, lead, header)
    options = {
        "engine": engine,
        "comment": "#",
        "skip_blank_lines": skip_blank_lines,
        "header": "infer" if header else None,
        "index_col": index_col,
        # (sep=None: pandas sniffs the delimiter in the first line, python engine only)
        **({"sep": None} if sniff and engine == "python" else {}),
    }
    try:
        expected = pd.read_csv(path, **options)
    except Exception as exc:  # (sniffing fails on one-field lines): read_csv raises too
        with pytest.raises(type(exc)):
            stp.read_csv(path, source_id=path.parent.name, **options)
        return
    first = expected.iloc[:, 0].tolist()
    markers = _marker_lines(path.read_bytes())
    readable = all(isinstance(v, str) and v in markers for v in first)
    try:
        frame = stp.read_csv(path, source_id=path.parent.name, **options)
    except LineageError as exc:
        assert not readable, str(exc)
        return
    assert readable, "accepted a file of which pandas read a comment line as a row"
    pd.testing.assert_frame_equal(pd.DataFrame(frame).reset_index(drop=True), expected)
    lines = lines_of(resolve_row_ids(frame)).tolist()
    assert lines == [markers[v] for v in first]


@pytest.mark.parametrize(
    "data, lines",
    [
        (b"a,b\n#note\n1,2\n", [3]),  # the case lineage63 refused
        (b"a,b\n1,2\n#note\n3,4\n", [2, 4]),
        (b"a,b\n#n\n#n\n#n\n1,2\n3,4\n", [5, 6]),
        (b"#x\na,b\n#n\n1,2\n", [4]),
    ],
)
def test_an_early_comment_line_is_read_by_the_python_engine(tmp_path, data, lines):
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    options = {"engine": "python", "comment": "#", "skip_blank_lines": False}
    frame = stp.read_csv(path, **options)
    pd.testing.assert_frame_equal(
        pd.DataFrame(frame).reset_index(drop=True), pd.read_csv(path, **options)
    )
    assert lines_of(resolve_row_ids(frame)).tolist() == lines
    raw = data.split(b"\n")
    assert [raw[n - 1].split(b",")[0] for n in lines] == [
        str(v).encode() for v in np.asarray(frame.iloc[:, 0])
    ]


@pytest.mark.parametrize(
    "data, line, options",
    [
        # pandas reads the comment line as a row of missing values
        (b"a,b\n1,2\n3,4\n#note\n5,6\n", 4, {}),
        # a missing-value marker is kept whole: a row to python, a comment to C
        (b"a,b\n#N/A,1\n1,2\n", 2, {}),
        # skiprows moves what the first lines are: not modelled
        (b"a,b\nx,y\n#note\n1,2\n", 3, {"skiprows": [1]}),
    ],
)
def test_a_later_comment_line_is_refused_naming_it(tmp_path, data, line, options):
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    options = {"engine": "python", "comment": "#", "skip_blank_lines": False, **options}
    pd.read_csv(path, **options)  # (pandas reads it)
    with pytest.raises(LineageError, match=f"line {line} starts with the comment") as info:
        stp.read_csv(path, **options)
    assert "skip_blank_lines=True" in str(info.value)


@pytest.mark.parametrize("engine_options", [{}, {"skip_blank_lines": False}])
def test_sep_none_sniffs_past_a_comment_line(tmp_path, engine_options):
    # pandas sniffs the first line that is not a comment line; read_csv sniffed the
    # comment line cut to nothing and raised "Could not determine delimiter"
    path = tmp_path / "a.csv"
    path.write_bytes(b"# about the file\n#more\nk;v\nx;1\ny;2\n")
    options = {"sep": None, "comment": "#", **engine_options}
    frame = stp.read_csv(path, **options)
    expected = pd.read_csv(path, engine="python", **options)
    assert list(expected.columns) == ["k", "v"]
    pd.testing.assert_frame_equal(pd.DataFrame(frame).reset_index(drop=True), expected)
    assert lines_of(resolve_row_ids(frame)).tolist() == [4, 5]
