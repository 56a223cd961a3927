"""read_csv's lines in other encodings and compressions, against the decoded bytes.

Each row's line, taken from the file's decompressed, decoded text (universal
newlines), split at the delimiter, must give the row's values; the frame must be
pandas' (chunks concatenated). Encodings whose bytes hold ``\\n`` and ``\\r`` inside
characters (UTF-16, UTF-32: "上" is ``0a 4e``), whose line end is another byte (EBCDIC)
or whose bytes 0x80-0x9f are characters (cp1252), compressions of several members.
"""

import bz2
import gzip
import io
import lzma
import re
import zipfile

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._ids import lines_of

_ENCODINGS = (
    "utf-8",
    "utf-8-sig",
    "latin-1",
    "cp1252",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "cp037",
    "shift_jis",
    "big5",
)
_CHARS = "ab é€“”…上ਊഊĊ許"  # (許 is b3 5c in big5: a backslash byte)


def _zip(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner.csv", data)
    return buffer.getvalue()


def _members(compress, data):
    """``data`` compressed as two members (streams) where the format allows it."""
    cut = len(data) // 2
    return compress(data[:cut]) + compress(data[cut:])


_COMPRESSIONS = {
    "": lambda data: data,
    ".gz": lambda data: _members(gzip.compress, data),
    ".bz2": lambda data: _members(bz2.compress, data),
    ".xz": lambda data: _members(lzma.compress, data),
    ".zip": _zip,
}


@settings(deadline=None, max_examples=40)
@given(
    encoding=st.sampled_from(_ENCODINGS),
    suffix=st.sampled_from(sorted(_COMPRESSIONS)),
    cells=st.lists(
        st.tuples(st.text(_CHARS, min_size=1, max_size=3), st.booleans()), min_size=1, max_size=9
    ),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    sep=st.sampled_from([",", ";", "|", "\t"]),
    chunksize=st.sampled_from([None, 1, 2, 4]),
    usecols=st.booleans(),
)
@example(
    encoding="utf-16-le",
    suffix=".gz",
    cells=[("上", False), ("ਊ", True), ("b", False)],
    end="\r",
    sep=",",
    chunksize=2,
    usecols=False,
)
@example(
    encoding="cp037",
    suffix=".zip",
    cells=[("a", True), ("é", False)],
    end="\r\n",
    sep="|",
    chunksize=None,
    usecols=True,
)
def test_each_row_is_its_decoded_line(
    tmp_path_factory, encoding, suffix, cells, end, sep, chunksize, usecols
):
    # a blank line after some rows (read_csv skips it; the lines after it count it)
    body = "".join(
        f"k{c}{sep}{i}{end}" + (end if blank else "") for i, (c, blank) in enumerate(cells)
    )
    text = f"key{sep}n{end}" + body
    text = "".join(c if c.encode(encoding, "ignore") else "a" for c in text)
    path = tmp_path_factory.mktemp("enc") / f"data.csv{suffix}"
    path.write_bytes(_COMPRESSIONS[suffix](text.encode(encoding)))
    kwargs = {"encoding": encoding, "sep": sep, "dtype": str, "keep_default_na": False}
    if usecols:
        kwargs["usecols"] = ["n", "key"]
    if chunksize is not None:
        kwargs["chunksize"] = chunksize
    got = stp.read_csv(path, source_id=path.parent.name, **kwargs)
    want = pd.read_csv(path, **kwargs)
    if chunksize is not None:
        got, want = pd.concat(list(got)), pd.concat(list(want))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    lines = re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))
    found = lines_of(got.index.to_numpy())
    assert len(found) == len(cells) and np.all(np.diff(found) > 0)
    for row, line in zip(got.to_dict("records"), found, strict=True):
        key, n = lines[line - 1].split(sep)
        assert (row["key"], row["n"]) == (key, n)
