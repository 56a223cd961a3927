"""read_csv on small drawn files, read with drawn options in combination: every row names
the line its raw bytes put it on, or the read raises (see :mod:`tests._lineage._csv_hunt`:
the files, the options and the raw-bytes truth).

The default example count keeps this under CI's time; the one-off run of many thousand
files it was written for is reported in the commit that added it.
"""

import pytest
from hypothesis import HealthCheck, example, given, settings

import sktraceprop as stp
from tests._lineage._csv_hunt import hunt_files, hunt_one, token_lines, wrong_lines


def _KEY_OR_ONE(c):  # noqa: N802 (the hunt's drawn usecols callable, header T2Z)
    return c == "T2Z" or str(c).endswith("1")


def _EVERY_SECOND(k):  # noqa: N802 (the hunt's drawn skiprows callable, m=2, r=0)
    return k > 0 and k % 2 == 0


@pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hunt_files())
# found by the hunt (pandas 2.2): sep=None sniffed "\r" in the blank first line, and every
# row was named one line before its own
@example(
    (
        "f.csv",
        b"\rT2Z|c1|c2\r\n\"T3Z\"|-\r'T4Z'|a|\r 'T5Z'|'o|\"x",
        {"sep": None, "index_col": "T2Z", "comment": "#", "quoting": 3, "skip_blank_lines": False},
        "|",
    )
)
# (session 67) pandas' python engine takes line 2 for the names of an index column; the
# content check's sample led by a record narrower than the first; pandas 2.2's C
# tokenizer after the first data record's lone \r (all once refused, now read)
@example(("f.csv", b"T1Z,c1\nT2Z\nT3Z,1,2\nT4Z,3,4\n", {"engine": "python"}, ","))
@example(
    ("f.csv", b"T1Z,c1\r\nT2Z,x\r\nT3Z,1,2,a\r\nT4Z,3,4,b", {"sep": None, "skipfooter": 1}, ",")
)
@example(
    (
        "f.csv",
        b"T1Z,1,2\nT2Z,3\nT3Z,5,6\nT4Z,7,8\n",
        {"names": ["key"], "header": None, "skipfooter": 1},
        ",",
    )
)
@example(("f.csv", b"T1Z,v\nT2Z,1\r T3Z,2\nT4Z,3\n", {}, ","))
# (session 67) a harness false alarm: usecols (a callable) kept column "1" of a header
# moved down by skiprows and blank lines, not the key: right lines [6, 7] were flagged
@example(
    (
        "f.csv",
        b'\rT2Z|c1|c2|c3\r\r|"x|"a,b"|\t\r T5Z|\'o|\x1e|1\nT6Z|\\"|a|\xc2\xa0\nT7Z|"a,b"|1|'
        b'\x0c\n T8Z|\\"|\xe2\x80\xa8|\'s\'\r  T9Z|\x0b|1|1\r\n|\xe2\x80\xa8|1|""\r '
        b'T11Z|\'o|"a,b"|1\r \r',
        {
            "engine": "c",
            "sep": "|",
            "usecols": _KEY_OR_ONE,
            "skiprows": 2,
            "nrows": 2,
            "encoding": "latin-1",
        },
        "|",
    )
)
# (session 68) pandas' python engine gives a chunk of no row (a comment line) a
# RangeIndex where the others hold the implicit index: the traced chunk had row ids
# alone and the chunks no longer joined (the stp_row_id level lost)
@example(
    (
        "f.csv",
        b'T1Z,meta\r\nT2Z\r\nT3Z\r\n  T4Z\rT5Z\n#T6Z 2.52.5\nT7Z\r\n"T8Z"\n  T9Z\rT10Z\r',
        {"engine": "python", "names": ["key"], "comment": "#", "chunksize": 1},
        ",",
    )
)
# (session 68) the python engine reads line 7, which skiprows names, right after the
# blank line 6 it drops among its first lines: the blind read named lines 4, 7 as 3, 4
@example(
    (
        "f.csv",
        b"\nT2Z|c1\r|\xc2\xa0\n  T4Z|a b\n|\xc2\xa0\r\n\r\n|NA\rT8Z|a b\r\n",
        {
            "engine": "python",
            "sep": "|",
            "header": 0,
            "index_col": False,
            "usecols": ["T2Z", "c1"],
            "skiprows": _EVERY_SECOND,
            "comment": "#",
            "thousands": ".",
            "decimal": ",",
        },
        "|",
    )
)
# (session 68) a lone byte order mark on the first line, read by the python engine as a
# header of one empty field: refused by the content check, now read
@example(
    (
        "f.csv",
        b"\xef\xbb\xbf\nT2Z,c1\nT3Z,1\n",
        {"engine": "python", "skip_blank_lines": False},
        ",",
    )
)
def test_read_csv_rows_name_their_raw_lines_or_the_read_raises(tmp_path_factory, doc):
    name, data, options, sep = doc
    outcome = hunt_one(tmp_path_factory.mktemp("hunt"), name, data, options, sep)
    assert not outcome.startswith("BUG"), (outcome, name, data, options)


def test_token_lines_count_every_line_end():
    where, starting = token_lines('T1Z,a\r\nT2Z,"x\r  T3Z\n\n#T5Z\r"T6Z"')
    assert where == {"T1Z": 1, "T2Z": 2, "T3Z": 3, "T5Z": 5, "T6Z": 6}
    assert starting == {1, 2, 3, 5, 6}


def test_the_truth_finds_a_row_on_a_neighbouring_line(tmp_path):
    # the checker itself: a row said to be one line on is caught, by its key or as a row
    # of missing values on a line that starts with a key
    text = "T1Z,c1\nT2Z,1\n\nT4Z,2\n"
    path = tmp_path / "f.csv"
    path.write_text(text)
    frame = stp.read_csv(path, skip_blank_lines=False)
    lines = stp.row_lineage(frame)["line"].to_numpy()
    assert lines.tolist() == [2, 3, 4]
    assert wrong_lines(frame, lines, text) == []
    for moved in ([3, 3, 4], [2, 4, 4], [2, 3, 5]):
        assert wrong_lines(frame, moved, text)
