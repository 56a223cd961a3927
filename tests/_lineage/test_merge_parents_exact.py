"""A merge's row parents are exact integers, and a side with no row has no parent.

``sktraceprop.merge`` finds each merged row's parent rows from positions pandas carries
through the join; a side with gaps (left, right and outer joins) made those positions
float64 with NaN for "no row". Positions are far below 2**53, so that was exact, but the
parents were one cast away from rounding: the positions now stay nullable integers with
``<NA>`` for "no row" and are refused as floats. Row ids themselves pass 2**53 (source
codes up to 2**27 sit above bit 36). The truth is the raw files: each side's key column
(the first field of its record, read with ``csv``) moves with that side's row, so a
merged row's parent on a side is the line holding the key it holds there, and a row
missing that key has no parent on that side.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._derive import _positions
from tests._lineage._raw_files import keys_by_line


def _write(path, tag, groups):
    """One record per group in ``groups`` (repeats allowed), key ``<tag><i>``."""
    lines = [f"{tag}key,k,{tag}v"]
    lines += [f"{tag}{i},{g},{i}.5" for i, g in enumerate(groups)]
    path.write_text("\n".join(lines) + "\n")
    return stp.read_csv(path, source_id=path.stem)


def _check(tmp_path, left_groups, right_groups, how):
    paths = tmp_path / "lside.csv", tmp_path / "rside.csv"
    left, right = _write(paths[0], "l", left_groups), _write(paths[1], "r", right_groups)
    for frame in (left, right):  # (ids past float64's integers: codes >= 2**17, nearly all)
        assume(int(stp.row_ids(frame).min()) > 2**53)
    line_of = {(source, key): line for (source, line), key in keys_by_line(*paths).items()}
    m = stp.merge(left, right, on="k", how=how)
    lineage = stp.row_lineage(m)
    got = {i: set() for i in range(len(m))}
    for row, source, line in lineage[["row", "source_id", "line"]].itertuples(index=False):
        got[row].add((source, int(line)))
    for i in range(len(m)):
        want = {
            (source, line_of[source, m[column].iloc[i]])
            for source, column in (("lside", "lkey"), ("rside", "rkey"))
            if not pd.isna(m[column].iloc[i])
        }
        assert got[i] == want, (i, m.iloc[i].to_dict())
    return m


@pytest.mark.parametrize("how", ["left", "right", "outer", "inner"])
def test_parents_of_merged_rows_name_the_lines_of_their_keys(tmp_path, how):
    m = _check(tmp_path, [0, 1, 1, 2, 5], [1, 2, 2, 3, 4], how)
    gaps = m[["lkey", "rkey"]].isna().any(axis=1).sum()
    assert gaps == {"left": 2, "right": 2, "outer": 4, "inner": 0}[how]


def test_float_positions_are_refused():
    with pytest.raises(TypeError, match="integers"):
        _positions(pd.Series([0.0, np.nan, 2.0]))
    assert _positions(pd.Series(pd.array([0, None, 2], dtype="Int64"))).tolist() == [0, -1, 2]


@settings(deadline=None, max_examples=25)
@given(
    left=st.lists(st.integers(0, 6), min_size=1, max_size=12),
    right=st.lists(st.integers(0, 6), min_size=1, max_size=12),
    how=st.sampled_from(["left", "right", "outer", "inner"]),
)
def test_any_merge_names_exactly_its_rows_parents(tmp_path_factory, left, right, how):
    _check(tmp_path_factory.mktemp("parents"), left, right, how)
