"""read_csv(engine="python") with a list or callable ``skiprows``: among the first lines
pandas' python engine reads (``_next_line``: the header and two records more), it asks
``skiprows`` only before it reads, so a named line right after a blank or comment line it
drops is read as a row (pandas 2.2 and 3.1), where the C tokenizer skips it. The line
finder models the C tokenizer: with every value converted to one (the content check
then sees no difference) the rows were named the lines before their own, silently.
Now such a file is refused, naming the line.

Truth: the raw bytes (every line starts with a token naming its line) and pandas' own
frame.
"""

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop.exceptions import LineageError
from tests._lineage._csv_hunt import token_lines


def _same(_):
    return "v"


_BLIND = {"converters": {0: _same, 1: _same}}


def _every_second(k):
    return k > 0 and k % 2 == 0


@pytest.mark.parametrize(
    "data",
    [
        # found by the hunt (pandas 3.1): lines 4, 7, 8 were named 3, 4, 8
        b"\nT2Z|c1\r|\xc2\xa0\n  T4Z|a b\n|\xc2\xa0\r\n\r\n|NA\rT8Z|a b\r\n",
        b"\nT2Z|c1\n|x\n  T4Z|a\n|y\n\n|NA\nT8Z|b\n",
    ],
)
def test_a_skipped_line_after_a_dropped_one_is_refused(tmp_path, data):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    options = {"engine": "python", "sep": "|", "skiprows": _every_second}
    assert len(pd.read_csv(path, **options)) == 3  # (line 7 read: skiprows names it)
    for extra in ({}, _BLIND):
        REGISTRY.clear()
        with pytest.raises(LineageError, match="line 7 is named by skiprows"):
            stp.read_csv(path, **options, **extra)


@settings(max_examples=60, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(["data", "data", "blank", "comment"]), min_size=2, max_size=8),
    skip=st.sets(st.integers(1, 9), max_size=4),
    comment=st.booleans(),
)
@example(
    kinds=["blank", "data", "data", "data", "data", "blank", "data", "data"],
    skip={2, 4, 6},
    comment=False,
)
def test_rows_name_their_lines_or_the_read_is_refused(tmp_path_factory, kinds, skip, comment):
    lines = []
    for n, kind in enumerate(["data", *kinds], 1):
        lines.append({"data": f"T{n}Z|{n}", "blank": "", "comment": f"#T{n}Z"}[kind])
    text = "\n".join(lines) + "\n"
    path = tmp_path_factory.mktemp("skip") / "f.csv"
    path.write_bytes(text.encode())
    options = {"engine": "python", "sep": "|", "skiprows": sorted(skip), **_BLIND}
    if comment:
        options["comment"] = "#"
    try:
        expected = pd.read_csv(path, **{k: v for k, v in options.items() if k != "converters"})
    except (ValueError, pd.errors.ParserError):
        return
    REGISTRY.clear()
    try:
        frame = stp.read_csv(path, **options)
    except LineageError:
        return  # (refused: not wrong)
    where, _ = token_lines(text)
    truth = [
        where[str(k).strip().lstrip("#")] if isinstance(k, str) else None
        for k in expected.iloc[:, 0]
    ]
    if None in truth:
        return  # (a row without a key: its line is checked by the hunt)
    assert stp.row_lineage(frame)["line"].tolist() == truth
