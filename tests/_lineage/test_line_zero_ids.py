"""A row id whose line field is 0 names no line: refused, like one past the last line.

Lines and row positions count from 1; a source's code alone (``code << 36``) or ids
shifted by arithmetic gave line 0, which a fit recorded as the file's line 0.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

import sktraceprop as stp
from sktraceprop._lineage._capture import validate_ids
from sktraceprop._lineage._ids import LINE_BITS, codes_of, lines_of
from sktraceprop._lineage._source import REGISTRY
from sktraceprop.exceptions import LineageError


def _load(folder):
    """A file of 3 rows (lines 2..4) and a frame of 3 rows (positions 1..3)."""
    path = folder / "d.csv"
    path.write_text("a,b\n1,2\n3,4\n5,7\n")
    other = stp.from_pandas(pd.DataFrame({"u": [1.0, 2.0, 3.0]}), "other")
    return stp.read_csv(path), other


def test_a_fit_given_line_zero_ids_is_refused(tmp_path):
    df, _ = _load(tmp_path)
    ids = df.index.to_numpy()
    bare = codes_of(ids) << np.int64(LINE_BITS)  # the code alone: line 0
    model = stp.make_traced_pipeline(LinearRegression())
    with pytest.raises(LineageError, match="line 0 of source"):
        model.fit(df[["a"]].to_numpy(), df["b"].to_numpy(), sample_id=bare)


@settings(deadline=None, max_examples=40)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=1, max_size=8))
@example([(True, 0)])
@example([(False, 1), (True, 0)])
def test_ids_are_refused_exactly_when_a_line_is_outside_the_source(tmp_path_factory, picks):
    """Checked against the lines each source has (3 rows each: lines 2..4 of the file,
    positions 1..3 of the array; 0 is outside both)."""
    folder = tmp_path_factory.getbasetemp() / "line-zero"  # (one path: one file read again)
    folder.mkdir(exist_ok=True)
    df, other = _load(folder)
    sources = [
        (codes_of(df.index.to_numpy()[:1])[0], 4),
        (codes_of(other.index.to_numpy()[:1])[0], 3),
    ]
    ids = np.array(
        [(sources[s][0] << LINE_BITS) | line for s, line in ((int(f), k) for f, k in picks)],
        np.int64,
    )
    outside = any(line < 1 or line > sources[int(f)][1] for f, line in picks)
    if outside:
        with pytest.raises(LineageError, match="the ids were modified"):
            validate_ids(ids, REGISTRY)
    else:
        assert np.array_equal(lines_of(validate_ids(ids, REGISTRY)), [k for _, k in picks])
