"""read_csv where pandas reads no column and no index: a blank header line (read with
``skip_blank_lines=False``) under ``index_col=False``, or ``usecols=[]``. pandas 2.2 and
3.1, both engines, then return a frame of no row whatever records the file holds (one
built from no columns), each chunk too; the read was refused ("could not match the 0
rows"). Now it returns pandas' frame: there is no row, so no line to name.

Truth: pandas' own frames (each chunk's shape) and the raw bytes' record count (the
file's records are there; pandas drops them).
"""

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY


def _chunks(result):
    return [result] if isinstance(result, pd.DataFrame) else list(result)


@pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")
@settings(max_examples=60, deadline=None)
@given(
    bom=st.booleans(),
    width=st.integers(1, 3),
    rows=st.integers(0, 4),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    engine=st.sampled_from(["c", "python"]),
    how=st.sampled_from(["blank header", "usecols=[]"]),
    chunksize=st.sampled_from([None, 1, 2, 5]),
)
@example(bom=False, width=2, rows=2, ending="\n", engine="c", how="blank header", chunksize=None)
@example(bom=False, width=2, rows=2, ending="\n", engine="c", how="blank header", chunksize=1)
@example(bom=False, width=2, rows=2, ending="\n", engine="c", how="usecols=[]", chunksize=None)
def test_a_read_of_no_column_and_no_index_is_pandas_empty_frame(
    tmp_path_factory, bom, width, rows, ending, engine, how, chunksize
):
    lines = ([""] if how == "blank header" else []) + [
        ",".join(["T1Z", *(f"c{j}" for j in range(1, width))])
    ]
    lines += [
        ",".join([f"T{r}Z", *(str(10 * r + j) for j in range(1, width))]) for r in range(rows)
    ]
    text = ("\ufeff" if bom else "") + ending.join(lines) + ending
    path = tmp_path_factory.mktemp("rowless") / "f.csv"
    path.write_bytes(text.encode())
    if how == "blank header":
        options = {"engine": engine, "skip_blank_lines": False, "index_col": False}
    else:
        options = {"engine": engine, "usecols": []}
    if chunksize:
        options["chunksize"] = chunksize
    try:
        expected = _chunks(pd.read_csv(path, **options))
    except (ValueError, pd.errors.ParserError):
        return  # (pandas cannot read it: nothing to model)
    if any(chunk.shape != (0, 0) for chunk in expected):
        # (pandas' python engine reads a lone byte order mark as a header of one field)
        assert bom and engine == "python" and how == "blank header"
        return
    # the raw bytes hold records pandas dropped (a record per line written after the
    # header): the read's frame is empty however many there are
    assert text.count("T") == rows + 1
    REGISTRY.clear()
    got = _chunks(stp.read_csv(path, **options))
    assert len(got) == len(expected)
    for frame, chunk in zip(got, expected):
        assert frame.shape == (0, 0)
        assert list(frame.index.names) == ["stp_row_id"]
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), chunk, check_index_type=False)
        assert stp.row_lineage(frame)["line"].tolist() == []
