"""read_csv(sep=None): lines found with the delimiter pandas sniffs, checked on raw bytes."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageError

ADULT_TEST = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "adult.test.gz"


def _plain(df):
    return df.reset_index(drop=True)


def test_sep_none_on_adult_test_names_each_rows_line():
    # UCI Adult's test file: a junk first line, ", " between fields, a blank last line
    options = {"sep": None, "skiprows": 1, "header": None, "skipinitialspace": True}
    df = stp.read_csv(ADULT_TEST, **options)
    ref = pd.read_csv(ADULT_TEST, engine="python", **options)
    pd.testing.assert_frame_equal(_plain(df), ref)
    raw = gzip.decompress(ADULT_TEST.read_bytes()).decode().split("\n")
    lines = stp.row_lineage(df)["line"].to_numpy()
    assert lines.size == sum(1 for text in raw[1:] if text) == 16281
    fields = [raw[k - 1].split(", ") for k in lines]
    assert [int(f[0]) for f in fields] == df[0].tolist()
    assert [int(f[2]) for f in fields] == df[2].tolist()
    assert [f[14] for f in fields] == df[14].tolist()


def test_sep_none_keeps_the_byte_order_mark_pandas_keeps(tmp_path):
    # pandas sniffs the first line as it is: its UTF-8 BOM stays in the first name
    path = tmp_path / "bom.csv"
    path.write_bytes("k;v\n2;a\n3;b\n\n5;c\n".encode("utf-8-sig"))
    df = stp.read_csv(path, sep=None)
    ref = pd.read_csv(path, sep=None, engine="python")
    assert ref.columns[0] == "\ufeffk"
    pd.testing.assert_frame_equal(_plain(df), ref)
    assert stp.row_lineage(df)["line"].tolist() == ref["\ufeffk"].tolist()


def test_sep_none_refuses_a_sniffed_line_ending_inside_quotes(tmp_path):
    # pandas parses the sniffed line alone: the header's quoted newline ends the line
    # for it, and 'y";b' is a row, where the C tokenizer reads one header record
    path = tmp_path / "q.csv"
    path.write_text('"a;x\ny";b\n1;2\n3;4\n')
    assert len(pd.read_csv(path, sep=None, engine="python")) == 3
    with pytest.raises(LineageError, match="line 1, where sep=None sniffs"):
        stp.read_csv(path, sep=None)
    with pytest.raises(ValueError, match="nrows"):
        stp.read_csv(path, sep=None, nrows=1)


@st.composite
def sniffable(draw):
    """A file whose ``key`` column holds each row's physical line, and its options."""
    sep = draw(st.sampled_from([",", ";", "\t", ":"]))  # (Sniffer misses "|" in "key|name")
    junk = draw(st.integers(0, 2))
    lines = [f"junk{sep}line {k}" for k in range(junk)]
    lines.append(sep.join(["key", "name", "value"]))
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append("")
        line_no = sum(text.count("\n") + 1 for text in lines) + 1
        name = draw(st.sampled_from(["x", "y z", f"a{sep}b", "two\nlines", 'say ""hi""']))
        if sep in name or "\n" in name or '"' in name:
            name = f'"{name}"'
        value = draw(st.integers(-5, 5))
        lines.append(sep.join([str(line_no), name, str(value)]))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = "\n".join(lines).replace("\n", ending)  # quoted newlines too
    skiprows = draw(st.sampled_from(["int", "list", "callable"])) if junk else None
    options = {}
    if skiprows == "int":
        options["skiprows"] = junk
    elif skiprows == "list":
        options["skiprows"] = list(range(junk))
    elif skiprows == "callable":
        options["skiprows"] = lambda k, n=junk: k < n
    return text + ending, options, sep


@settings(max_examples=60, deadline=None)
@given(sniffable())
def test_sep_none_names_the_line_the_writer_wrote(tmp_path_factory, case):
    text, options, sep = case
    path = tmp_path_factory.mktemp("sniff") / "f.csv"
    path.write_bytes(text.encode())
    ref = pd.read_csv(path, sep=None, engine="python", **options)
    df = stp.read_csv(path, sep=None, **options)
    pd.testing.assert_frame_equal(_plain(df), ref)
    lines = stp.row_lineage(df)["line"].to_numpy()
    assert np.array_equal(lines, ref["key"].to_numpy())
    # and the raw bytes of each named line start with that key
    raw = text.replace("\r\n", "\n").split("\n")
    assert all(raw[k - 1].startswith(f"{k}{sep}") for k in lines)


@pytest.mark.parametrize(
    "data",
    [b"\rT2Z|c1|c2\r\n\"T3Z\"|-\r'T4Z'|a|\r 'T5Z'|'o|\"x", b"\rk|c1\ra|1\rb|2\r"],
)
def test_a_sniffed_line_end_delimiter_is_refused(tmp_path, data):
    # csv.Sniffer finds "\r" in a blank first line ended by a lone \r; pandas 2.2 read
    # the first file with each row named one line before its own
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    options = {"sep": None, "skip_blank_lines": False, "quoting": 3}
    pd.read_csv(path, **options)  # (pandas reads it)
    with pytest.raises(LineageError, match=r"sniffed the delimiter '\\r', a line end, in line 1"):
        stp.read_csv(path, **options)
