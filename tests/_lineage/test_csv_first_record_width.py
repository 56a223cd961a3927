"""The content check parses sampled records led by the file's first data record.

pandas takes the width of the rows and an implicit index from the first record it reads
after the header: with ``header=None``, ``names`` shorter than the fields, or rows of fewer
fields than the first, a sample led by another record read otherwise ("Expected 2 fields
in line 2, saw 3") and well-defined files were refused. Truth: the raw bytes (each line
starts with a token naming it) and pandas' own frame.
"""

import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from tests._lineage._csv_hunt import _keys, token_lines

_RAGGED = "T1Z,1,2\nT2Z,3\nT3Z,5,6\nT4Z,7,8\n"
_EVEN = "T1Z,a,b\nT2Z,c,d\nT3Z,e,f\nT4Z,g,h\n"


@pytest.mark.parametrize(
    "text, options",
    [
        (_RAGGED, {"names": ["k"], "header": None, "skipfooter": 1}),
        (_RAGGED, {"names": ["k", "v"], "header": None, "skipfooter": 1}),
        (_RAGGED, {"names": ["k"], "header": None, "skipfooter": 2}),
        (_RAGGED, {"names": ["k"], "header": 0, "skipfooter": 1}),
        (_RAGGED, {"names": ["k"], "header": None}),
        (_RAGGED, {"header": None}),
        (_RAGGED, {"header": None, "engine": "python"}),
        (_RAGGED, {"header": None, "chunksize": 2}),
        (_EVEN, {"names": ["k"], "header": None, "skipfooter": 1}),
    ],
)
def test_rows_narrower_than_the_first_name_their_lines(tmp_path, text, options):
    path = tmp_path / "f.csv"
    path.write_text(text)
    expected = pd.read_csv(path, **{**options, "engine": options.get("engine", "python")})
    if "chunksize" in options:
        expected = pd.concat(list(expected))
    REGISTRY.clear()
    frame = stp.read_csv(path, **options)
    if "chunksize" in options:
        frame = pd.concat(list(frame))
    lines = stp.row_lineage(frame)["line"].tolist()
    plain = frame.reset_index(level="stp_row_id", drop=True)
    if plain.index.nlevels == 1 and plain.index.name is None:
        plain, expected = plain.reset_index(drop=True), expected.reset_index(drop=True)
    pd.testing.assert_frame_equal(plain, expected, check_index_type=False)
    where, _ = token_lines(text)
    assert lines == [where[k] for k in _keys(frame)]
