"""read_csv(engine="python", chunksize=...) where a chunk holds no row (its one line a
comment the python engine reads as no row) and the others hold the file's index (the
implicit index: records wider than ``names``): pandas numbers the empty chunk from 0
(``RangeIndex(0, 0)``), the traced chunk had its row ids alone, and the chunks no longer
joined as pandas' do (``pd.concat`` lost the ``stp_row_id`` level). Now every chunk has
the levels of the others.

Truth: pandas' own chunks, and the raw bytes (every line starts with a token naming it).
"""

import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from tests._lineage._csv_hunt import token_lines

_OPTIONS = {"engine": "python", "names": ["key"], "comment": "#"}


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize(
    "text",
    [
        "T1Z,a\r\nT2Z\r\nT3Z\r\n  T4Z\rT5Z\n#T6Z 2.5\nT7Z\r\n  T8Z\rT9Z\n",
        "T1Z,a\nT2Z,b\n#T3Z\nT4Z,d\n  T5Z,e\n",
    ],
)
def test_chunks_of_no_row_keep_the_index_levels_of_the_others(tmp_path, text, size):
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    expected = list(pd.read_csv(path, chunksize=size, **_OPTIONS))
    REGISTRY.clear()
    chunks = list(stp.read_csv(path, chunksize=size, **_OPTIONS))
    assert [len(c) for c in chunks] == [len(c) for c in expected]
    assert all(c.index.names == [None, "stp_row_id"] for c in chunks)
    joined = pd.concat(chunks)
    pd.testing.assert_frame_equal(
        joined.reset_index(level="stp_row_id", drop=True),
        pd.concat(expected),
        check_index_type=False,
    )
    where, _ = token_lines(text)
    keys = [str(k).strip() for k in joined.index.get_level_values(0)]
    assert stp.row_lineage(joined)["line"].tolist() == [where[k] for k in keys]
