"""The CLI's line reader opens a file whose name is not UTF-8 at its own bytes.

``_line_of`` without the bytes (the demo's call) decoded the URI's path with
``unquote``: ``caf%E9.csv`` became ``caf\\ufffd.csv``, another path, and the line was
not shown (FileNotFoundError) or, where that path existed, another file's line was.
"""

from pathlib import Path

import sktraceprop as stp
from sktraceprop._cli_lines import _line_of
from tests._file_names import latin1_named


def test_a_line_of_a_file_named_in_latin1_is_read_from_that_file(tmp_path):
    path = latin1_named(tmp_path, b"caf\xe9.csv", b"a,y\n1,0\n2,1\n")
    # the path unquote decoded the URI to, holding other lines: read from it, the
    # shown line was wrong, not missing
    (tmp_path / "caf\ufffd.csv").write_bytes(b"a,y\n7,7\n8,8\n")
    df = stp.read_csv(path)
    uri = stp.row_lineage(df)["uri"].iloc[1]
    assert "caf%E9.csv" in uri
    truth = Path(path).read_bytes().splitlines()[2].decode()
    assert _line_of(uri, 3) == truth == "2,1"
