"""read_csv with the C engine of a line led by blanks after a line ended by a lone
``\\r`` (not the first data record's): pandas before 3.0 backtracks past the ``\\r`` and
reads earlier records again, so no line can be named for its rows; the refusal names the
line and the reads that are exact (engine='python', pandas 3). Those reads name the
lines of the raw bytes.
"""

import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop.exceptions import LineageError
from tests._lineage._csv_hunt import read_all, token_lines

_PANDAS_2 = int(pd.__version__.split(".")[0]) < 3
# (line 5 is led by a blank after line 4's lone \r; line 4 is not the first data row)
_DATA = b"T1Z,v\nT2Z,1\n#c\rT3Z,2\r T4Z,3\nT5Z,4\n"


def _lines(path, **options):
    REGISTRY.clear()
    frame = read_all(stp.read_csv(path, **options), options, ())
    lines = stp.row_lineage(frame)["line"].tolist()
    where, _ = token_lines(_DATA.decode())
    keys = frame["T1Z"].str.strip().str.lstrip("#")
    assert lines == [where.get(k, 3) for k in keys]  # (line 3: "#c", no token)
    return lines


@pytest.mark.skipif(not _PANDAS_2, reason="pandas 3's C tokenizer reads the line as written")
def test_pandas_2_rereads_and_the_refusal_says_what_reads_it(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(_DATA)
    # (pandas 2.2 backtracks past the \r and reads line 4 again until its reads of the
    # file end: once in chunks of 2; read whole, 262,144 times or "Buffer overflow")
    keys = pd.concat(pd.read_csv(path, chunksize=2))["T1Z"].str.strip().tolist()
    assert keys == ["T2Z", "#c", "T3Z", "T3Z", "T4Z", "T5Z"]
    with pytest.raises(LineageError, match=r"line 5 starts with a blank after a line") as info:
        pd.concat(stp.read_csv(path, chunksize=2))
    assert "engine='python'" in str(info.value) and "pandas 3" in str(info.value)


@pytest.mark.parametrize("chunksize", [None, 2])
def test_the_python_engine_reads_the_line_as_written(tmp_path, chunksize):
    path = tmp_path / "f.csv"
    path.write_bytes(_DATA)
    options = {"engine": "python", "chunksize": chunksize}
    keys = read_all(pd.read_csv(path, **options), options, ())["T1Z"].str.strip().tolist()
    assert keys == ["T2Z", "#c", "T3Z", "T4Z", "T5Z"]
    assert _lines(path, **options) == [2, 3, 4, 5, 6]
    if not _PANDAS_2:
        assert _lines(path, chunksize=chunksize) == [2, 3, 4, 5, 6]
