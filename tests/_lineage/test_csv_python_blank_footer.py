"""read_csv(engine="python", skip_blank_lines=False, skipfooter=n) of a file whose line
after the header is blank: pandas' python engine takes it for the names of no index
columns and drops it (the line after it as wide as the header), then drops the last
``n`` lines, as without the blank line (pandas 2.2 and 3.1). It was refused; it is now
read. Where no data row is left pandas itself fails (``blank_names_error``).

Truth: pandas' own frame, and the raw bytes (every line a token naming its line), also
read blind (every value converted to one), by :func:`tests._lineage._csv_hunt.hunt_one`.
"""

import re

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from tests._lineage._csv_hunt import hunt_one


@st.composite
def _files(draw):
    width = draw(st.integers(1, 3))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [",".join(["T1Z", *(f"c{j}" for j in range(1, width))]), ""]
    for r in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["row", "row", "row", "blank", "comment"]))
        token = f"T{len(lines) + 1}Z"
        if kind == "row":
            lines.append(",".join([token, *(str(10 * r + j) for j in range(1, width))]))
        else:
            lines.append("" if kind == "blank" else "#" + token)
    text = ending.join(lines) + (ending if draw(st.booleans()) else "")
    options = {"engine": "python", "skip_blank_lines": False}
    options["skipfooter"] = draw(st.integers(1, 2))
    if draw(st.booleans()):
        options["comment"] = "#"
    if draw(st.booleans()):
        options["index_col"] = draw(st.sampled_from([0, False]))
    return "f.csv", text.encode(), options, ","


@pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")
@settings(max_examples=100, deadline=None)
@given(_files())
@example(
    (
        "f.csv",
        b"T1Z,c1\n\nT3Z,1\nT4Z,2\nT5Z,3\n",
        {"engine": "python", "skip_blank_lines": False, "skipfooter": 1},
        ",",
    )
)
@example(
    (
        "f.csv",
        b"T1Z,c1\r\rT3Z,1\rT4Z,2\rT5Z,3",
        {"engine": "python", "skip_blank_lines": False, "skipfooter": 2, "index_col": 0},
        ",",
    )
)
def test_a_blank_line_after_the_header_with_skipfooter(tmp_path_factory, doc):
    name, data, options, sep = doc
    outcome = hunt_one(tmp_path_factory.mktemp("footer"), name, data, options, sep)
    assert not outcome.startswith("BUG"), (outcome, data, options)
    after = re.split(r"\r\n|\r|\n", data.decode())[2:]
    if after and after[-1] == "":
        after.pop()  # (the last line end)
    if all(line.startswith("T") for line in after):
        # (rows only after the blank line: read, or pandas fails with no row left)
        assert outcome.startswith(("read", "both failed")), (outcome, data, options)


def test_the_blank_line_and_the_footer_are_both_dropped(tmp_path):
    # the file once refused (tests/_lineage/test_csv_python_blank_lines.py): pandas drops
    # line 2 (blank) and the last line
    path = tmp_path / "a.csv"
    path.write_bytes(b"k,v\n\na,1\nb,2\nc,3\nd,4\n")
    options = {"engine": "python", "skip_blank_lines": False, "skipfooter": 1}
    expected = pd.read_csv(path, **options)
    assert expected["k"].tolist() == ["a", "b", "c"]
    frame = stp.read_csv(path, **options)
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected)
    assert stp.row_lineage(frame)["line"].tolist() == [3, 4, 5]
