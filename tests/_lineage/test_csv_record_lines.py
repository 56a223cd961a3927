"""Every row read_csv returns starts on its own physical line, or the read is refused.

A row id is (source, physical line where the row starts). With a ``lineterminator`` that
is not a line end (``"~"``, the ASCII record separator ``"\\x1e"`` some exports use),
pandas finds several records on one physical line: every row got the id of line 1, so
removing one row removed all, and influence or values summed over rows that are not
one (a newline after each terminator made each row's id name the line before its own).
The truth is each record's first field, written as the physical line it starts on.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._csv_lines import one_row_per_line
from sktraceprop.exceptions import LineageError


def _write(path, n, terminator):
    """A header and ``n`` records ended by ``terminator``; each record's key is
    ``L<physical line where it starts>``."""
    text, line = "", 1
    end = terminator
    text += "key,a" + end
    line += end.count("\n") + end.count("\r") - end.count("\r\n")
    truth = {}
    for k in range(n):
        key = f"L{line}"
        truth[key] = line
        text += f"{key},{k}" + end
        line += end.count("\n") + end.count("\r") - end.count("\r\n")
    path.write_bytes(text.encode())
    return truth


@pytest.mark.parametrize("terminator", ["~", "\x1e", "|"])
@pytest.mark.parametrize("chunksize", [None, 2])
def test_a_terminator_that_ends_no_line_is_refused(tmp_path, terminator, chunksize):
    path = tmp_path / "data.csv"
    _write(path, 5, terminator)
    with pytest.raises(ValueError, match=r"lineterminator=.* ends records where no line ends"):
        stp.read_csv(path, lineterminator=terminator, chunksize=chunksize)


def test_rows_starting_on_one_line_are_refused():
    assert one_row_per_line(np.array([2, 3, 5]), "f").tolist() == [2, 3, 5]
    with pytest.raises(LineageError, match=r"f: rows 11 and 12 both start on line 3"):
        one_row_per_line(np.array([2, 3, 3]), "f", offset=10)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(1, 12), terminator=st.sampled_from([None, "\n", "\r"]))
def test_ids_are_distinct_and_name_the_start_line(tmp_path, n, terminator):
    path = tmp_path / "data.csv"
    truth = _write(path, n, terminator or "\n")
    df = stp.read_csv(path, lineterminator=terminator)
    ids = stp.row_ids(df)
    assert np.unique(ids).size == ids.size
    keys = df["key"].astype(str).tolist()
    assert [truth[k] for k in keys] == stp.row_lineage(df)["line"].tolist()
