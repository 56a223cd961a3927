"""read_csv(engine="python", index_col=...) of a file whose line after the header pandas
takes for index names: ``k`` fields followed by lines of the header's count plus ``k``
(``k = 0``: a blank line, read with ``skip_blank_lines=False``), after a header that may
be blank or a lone byte order mark. pandas' python engine then replaces ``index_col``
by the ``k`` columns (none for the blank line: ``self.index_col =
list(range(len(line)))``, pandas 2.2 and 3.1), so its frame is the one read without
``index_col``; it was refused, and is now read.

Truth: pandas' own frame, and the raw bytes (every line a token naming its line), also
read blind (every value converted to one: the content check sees no key), by
:func:`tests._lineage._csv_hunt.hunt_one`.
"""

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from tests._lineage._csv_hunt import hunt_one


@st.composite
def _files(draw):
    lead = draw(st.sampled_from(["", "", "\ufeff", "blank", "\ufeffblank"]))
    width = draw(st.integers(1, 3))
    k = draw(st.integers(0, 2))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [""] if lead.endswith("blank") else []
    header = [] if lines else [f"T{len(lines) + 1}Z", *(f"c{j}" for j in range(1, width))]
    lines.append(",".join(header))
    if not header and lead.startswith("\ufeff"):
        header = [""]  # (a lone mark: the python engine's header of one empty field)
    lines.append(",".join([f"T{len(lines) + 1}Z", *(f"i{j}" for j in range(1, k))][:k]))
    for r in range(draw(st.integers(1, 4))):
        values = [str(10 * r + j) for j in range(1, len(header) + k)]
        lines.append(",".join([f"T{len(lines) + 1}Z", *values]))
    text = lead.replace("blank", "") + ending.join(lines) + ending
    index_col = draw(st.sampled_from([0, [0], [0, 1], 1, None]))
    options = {"engine": "python", "skip_blank_lines": False}
    if index_col is not None:
        options["index_col"] = index_col
    return "f.csv", text.encode(), options, ","


@pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")
@settings(max_examples=80, deadline=None)
@given(_files())
@example(
    (
        "f.csv",
        b"\xef\xbb\xbf\nT2Z\nT3Z,1\nT4Z,2\n",
        {"engine": "python", "skip_blank_lines": False, "index_col": 0},
        ",",
    )
)
@example(
    (
        "f.csv",
        b"\nT2Z,c1\nT3Z,1\nT4Z,2\n",
        {"engine": "python", "skip_blank_lines": False, "index_col": [0]},
        ",",
    )
)
@example(
    (
        "f.csv",
        b"T1Z,c1\n\nT3Z,1\nT4Z,2\n",
        {"engine": "python", "skip_blank_lines": False, "index_col": 0},
        ",",
    )
)
@example(
    (
        "f.csv",
        b"T1Z,c1\nT2Z\nT3Z,1,2\nT4Z,3,4\n",
        {"engine": "python", "skip_blank_lines": False, "index_col": 1},
        ",",
    )
)
def test_index_col_replaced_by_the_index_names_line(tmp_path_factory, doc):
    name, data, options, sep = doc
    outcome = hunt_one(tmp_path_factory.mktemp("names"), name, data, options, sep)
    assert outcome.startswith(("read", "both failed")), (outcome, data, options)


def test_the_frame_is_the_one_read_without_index_col(tmp_path):
    # pandas' own reading, the fact the model rests on (pandas 2.2 and 3.1)
    path = tmp_path / "f.csv"
    path.write_bytes(b"T1Z,c1\nT2Z\nT3Z,1,2\nT4Z,3,4\n")
    options = {"engine": "python"}
    plain = pd.read_csv(path, **options)
    assert list(plain.index) == ["T3Z", "T4Z"] and plain.index.name == "T2Z"
    for index_col in (0, [0], 1, [0, 1]):
        pd.testing.assert_frame_equal(pd.read_csv(path, index_col=index_col, **options), plain)
        REGISTRY.clear()
        frame = stp.read_csv(path, index_col=index_col, **options)
        pd.testing.assert_frame_equal(frame.reset_index(level="stp_row_id", drop=True), plain)
        assert stp.row_lineage(frame)["line"].tolist() == [3, 4]
