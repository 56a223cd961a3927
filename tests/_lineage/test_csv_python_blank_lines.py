"""read_csv(engine="python", skip_blank_lines=False): a blank line is a row of missing
values, except the one right after the header that pandas' python engine drops when the
next line holds the header's field count (it takes it for no index names).

Truth: the raw bytes, each data line written with a marker value of its own, so a row
names its line by its values; a row of missing values must name a blank line between
its neighbours' lines. The frame must be pandas' own, in pandas 2.2 and 3.1.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._capture import resolve_row_ids
from sktraceprop._lineage._ids import lines_of
from sktraceprop.exceptions import LineageError

_OPTIONS = {"engine": "python", "skip_blank_lines": False}


def _write(path, n_cols, items, newline, last_newline):
    """The file, and the physical line of every marker (the first field of a row)."""
    header = ",".join(f"c{j}" for j in range(n_cols))
    lines, marker_line = [header], {}
    for kind, k in items:
        if kind == "blank":
            lines.append("")
        else:
            marker_line[f"m{k}"] = len(lines) + 1
            lines.append(",".join([f"m{k}", *(str(k * 10 + j) for j in range(1, n_cols))]))
    text = newline.join(lines) + (newline if last_newline else "")
    path.write_bytes(text.encode())
    return text.splitlines(), marker_line


def _check_lines(lines, frame, physical, marker_line):
    """Each row's line holds its record: a marker's line, or a blank line between the
    lines of the rows around it; lines strictly increase."""
    assert all(b > a for a, b in zip(lines, lines[1:]))
    first = frame.iloc[:, 0] if frame.shape[1] else pd.Series([np.nan] * len(frame))
    for line, value in zip(lines, first.tolist()):
        if isinstance(value, str):
            assert line == marker_line[value]
        else:
            assert physical[line - 1] == "" and line > 1


@settings(max_examples=30, deadline=None)
@given(
    n_cols=st.integers(1, 3),
    kinds=st.lists(st.sampled_from(["blank", "row"]), min_size=1, max_size=8),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    last_newline=st.booleans(),
    index_col=st.sampled_from([None, 0, False]),
)
@example(n_cols=2, kinds=["blank", "row"], newline="\r", last_newline=False, index_col=None)
@example(n_cols=2, kinds=["blank", "row", "row"], newline="\r", last_newline=True, index_col=None)
@example(n_cols=1, kinds=["blank", "row", "blank"], newline="\r", last_newline=True, index_col=0)
def test_blank_lines_name_their_lines(
    tmp_path_factory, n_cols, kinds, newline, last_newline, index_col
):
    path = tmp_path_factory.mktemp("blank") / "a.csv"
    items = [(kind, k) for k, kind in enumerate(kinds)]
    physical, marker_line = _write(path, n_cols, items, newline, last_newline)
    kwargs = dict(_OPTIONS, index_col=index_col, source_id=path.parent.name)
    expected = pd.read_csv(path, **_OPTIONS, index_col=index_col)
    try:
        frame = stp.read_csv(path, **kwargs)
    except LineageError as exc:
        # pandas drops the blank line and reads no index: refused, never a wrong line
        assert "after the header, is blank" in str(exc) and physical[1] == ""
        assert index_col == 0 and isinstance(expected.index, pd.RangeIndex)
        return
    view = _as_pandas(frame)
    pd.testing.assert_frame_equal(view, expected)
    lines = lines_of(resolve_row_ids(frame)).tolist()
    assert len(lines) == len(expected)
    if not isinstance(expected.index, pd.RangeIndex):  # (the markers in the index)
        view = view.reset_index()
    _check_lines(lines, view, physical, marker_line)
    # read in chunks: the same lines, where pandas drops the blank line too (it was
    # refused: tests/_lineage/test_csv_chunks_index_names.py)
    chunks = list(stp.read_csv(path, chunksize=3, **kwargs))
    assert [int(v) for c in chunks for v in lines_of(resolve_row_ids(c))] == lines


def _as_pandas(frame):
    """``frame`` with pandas' own index: the row ids' level dropped."""
    out = pd.DataFrame(frame)
    if out.index.nlevels == 1:
        return out.reset_index(drop=True)
    return out.set_axis(out.index.droplevel("stp_row_id"), axis=0)


@pytest.mark.parametrize(
    "data, lines",
    [
        (b"k,v\n\na,1\nb,2\n", [3, 4]),  # dropped: the next line has the header's 2 fields
        (b"k,v\n\na\nb,2\n", [2, 3, 4]),  # kept: the next line has 1 field
        (b"k,v\n\n\na,1\n", [2, 3, 4]),  # kept: the next line is blank (0 fields)
        (b"k,v\na,1\n\nb,2\n", [2, 3, 4]),  # elsewhere a blank line is a row
        (b"k,v\r\n\r\na,1\r\n", [3]),
        # old-Mac line ends: the same
        (b"k,v\r\ra,1\rb,2\r", [3, 4]),
        (b"k,v\r\ra,1", [3]),
        (b"k,v\r\ra\rb,2\r", [2, 3, 4]),
        (b"k,v\r\r\ra,1\r", [2, 3, 4]),
        (b"k,v\ra,1\r\rb,2\r", [2, 3, 4]),
        # characters str.splitlines ends lines at, which pandas does not (the fields were
        # counted on the pieces: refused, "could not match")
        (b"k,v\n\na\x0cb,1\nc,2\n", [3, 4]),
        ("k,v\n\na\u2028b,1\nc,2\n".encode(), [3, 4]),
        (b"k\x1ex,v\n\na,1\nc,2\n", [3, 4]),
        ("k,v\n\na\x85,1\n".encode(), [3]),
    ],
)
def test_blank_lines_after_the_header(tmp_path, data, lines):
    # Truth: pandas' own rows (read here) and the raw bytes. Before, every blank line
    # after the header and any blank line parsed first in the content check's sample
    # (a\n\nb: row 1) was refused; a dropped one ending in a lone \r was refused with
    # "could not match" (the rescan skipped it as skiprows does, which skips the next
    # line too there).
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    frame = stp.read_csv(path, **_OPTIONS)
    pd.testing.assert_frame_equal(_as_pandas(frame), pd.read_csv(path, **_OPTIONS))
    assert lines_of(resolve_row_ids(frame)).tolist() == lines
    raw = data.splitlines()
    assert [raw[n - 1] for n in lines] == [
        b"" if frame.iloc[k].isna().all() else raw[n - 1] for k, n in enumerate(lines)
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"names": ["x", "y"], "header": 0},
        {"usecols": ["k"]},
        {"skiprows": [3]},
        # (skipfooter, which drops the last lines as without the blank line, is read:
        # tests/_lineage/test_csv_python_blank_footer.py)
    ],
)
def test_a_blank_line_after_the_header_with_options_not_modelled_is_refused(tmp_path, kwargs):
    path = tmp_path / "a.csv"
    path.write_bytes(b"k,v\n\na,1\nb,2\nc,3\nd,4\n")
    pd.read_csv(path, **_OPTIONS, **kwargs)  # (pandas reads it)
    with pytest.raises(LineageError, match=f"pandas {pd.__version__} takes it for the names"):
        stp.read_csv(path, **_OPTIONS, **kwargs)


def test_a_blank_line_with_a_comment_character_is_refused(tmp_path):
    # (the python engine keeps a comment line as a row with skip_blank_lines=False after
    # the records it reads for index names, here the blank line and a,1: refused, by the
    # line check of _csv_python, which names the comment line)
    path = tmp_path / "a.csv"
    path.write_bytes(b"k,v\n\na,1\n#c\nb,2\n")
    pd.read_csv(path, **_OPTIONS, comment="#")
    with pytest.raises(LineageError, match="line 4 starts with the comment character"):
        stp.read_csv(path, **_OPTIONS, comment="#")


def test_a_comment_line_among_the_first_records_before_a_blank_line(tmp_path):
    # (dropped among the records read for index names, a,1 and the blank line, as the C
    # tokenizer drops it; the blank line is a row)
    path = tmp_path / "a.csv"
    path.write_bytes(b"k,v\na,1\n#c\n\nb,2\n")
    frame = stp.read_csv(path, **_OPTIONS, comment="#")
    pd.testing.assert_frame_equal(_as_pandas(frame), pd.read_csv(path, **_OPTIONS, comment="#"))
    assert lines_of(resolve_row_ids(frame)).tolist() == [2, 4, 5]


def test_skiprows_on_a_blank_line_after_a_lone_carriage_return(tmp_path):
    # Why the dropped blank line is removed from the scan, not skipped as skiprows: pandas'
    # C tokenizer skips the line after a skipped line that starts with a lone \r too (the
    # line finder follows it), its python engine does not.
    path = tmp_path / "a.csv"
    path.write_bytes(b"k,v\r\ra,1\rb,2")
    options = {"skip_blank_lines": False, "skiprows": [1]}
    expected = pd.read_csv(path, **options)
    assert expected["k"].tolist() == ["b"]
    frame = stp.read_csv(path, **options)
    pd.testing.assert_frame_equal(_as_pandas(frame), expected)
    assert lines_of(resolve_row_ids(frame)).tolist() == [4]
    assert pd.read_csv(path, **options, engine="python")["k"].tolist() == ["a", "b"]
