"""Fast paths of a merge's bookkeeping against the slow computations they replace.

- ``index_ids`` of a MultiIndex whose row-id level is in row order (what ``read_csv``
  builds for a file's ``index_col``) hands back the level itself instead of taking its
  values by the codes: the same ids as ``get_level_values`` for every index.
- ``joined`` given the codes the merge already found gives the same read-paths mark as
  finding them again from the frames' indexes.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._ids import ROW_INDEX_NAME, distinct_codes
from sktraceprop._lineage._read_paths import READ_PATHS_ATTR, joined
from sktraceprop._lineage._rows import _in_order, index_ids, row_ids


def _slow_ids(index):
    """The ids as before the fast path: the level's values taken by its codes."""
    if isinstance(index, pd.MultiIndex):
        if ROW_INDEX_NAME not in index.names:
            return None
        return index.get_level_values(ROW_INDEX_NAME).to_numpy()
    return index.to_numpy() if index.name == ROW_INDEX_NAME else None


@st.composite
def multi_indexes(draw):
    n = draw(st.integers(0, 30))
    ids = np.array(draw(st.lists(st.integers(1, 40), min_size=n, max_size=n)), dtype=np.int64)
    how = draw(st.sampled_from(["arrays", "in order", "shuffled codes", "extra level values"]))
    other = pd.Index(np.arange(n) * 3, name="idx")
    if how == "arrays" or n == 0:
        index = pd.MultiIndex.from_arrays([other, pd.Index(ids, name=ROW_INDEX_NAME)])
    else:
        level = pd.Index(np.unique(ids) if how == "extra level values" else ids)
        if how == "in order":
            codes = np.arange(n)
        elif how == "shuffled codes":
            codes = np.array(draw(st.permutations(range(n))))
        else:  # a level with more or fewer values than rows, codes into it
            codes = np.array(
                draw(st.lists(st.integers(0, len(level) - 1), min_size=n, max_size=n))
            )
        index = pd.MultiIndex(
            levels=[other, level],
            codes=[np.arange(n), codes],
            names=["idx", ROW_INDEX_NAME],
            verify_integrity=False,
        )
    if draw(st.booleans()):  # the row-id level first
        index = index.swaplevel(0, 1)
    return index


@settings(deadline=None, max_examples=150)
@given(multi_indexes())
def test_index_ids_fast_path_equals_level_values(index):
    got, want = index_ids(index), _slow_ids(index)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_index_ids_fast_path_taken_and_not():
    ids = np.array([5, 3, 9], dtype=np.int64)
    index = pd.MultiIndex(
        levels=[pd.Index([0, 1, 2]), pd.Index(ids)],
        codes=[[0, 1, 2], [0, 1, 2]],
        names=["idx", ROW_INDEX_NAME],
    )
    assert index_ids(index).tolist() == [5, 3, 9]
    # codes out of order: the level's order is not the rows'
    shuffled = index.set_codes([2, 0, 1], level=1, verify_integrity=False)
    assert index_ids(shuffled).tolist() == [9, 5, 3]
    # a level with one value more than rows: never read as the rows' values
    longer = pd.MultiIndex(
        levels=[pd.Index([0, 1]), pd.Index([5, 3, 9])],
        codes=[[0, 1], [0, 1]],
        names=["idx", ROW_INDEX_NAME],
    )
    assert index_ids(longer).tolist() == [5, 3]


@pytest.mark.parametrize(
    ("codes", "n", "expected"),
    [
        ([0, 1, 2], 3, True),
        ([0, 2, 1, 3][:3], 3, False),
        ([0, 1, 1, 2], 3, False),
        ([0, 1], 3, False),
        ([], 0, False),
        ([-1, 0], 2, False),
        ([0, -1, 1, 2], 3, False),
        ([0, 0, 2], 3, False),
    ],
)
def test_in_order(codes, n, expected):
    assert _in_order(np.array(codes, dtype=np.int8), n) is expected


def test_index_col_read_keeps_ids(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(",pid,v\n7,1,a\n3,2,b\n9,3,c\n")
    frame = stp.read_csv(path, index_col=0)
    np.testing.assert_array_equal(index_ids(frame.index), _slow_ids(frame.index))
    assert [int(i) & ((1 << 36) - 1) for i in row_ids(frame)] == [2, 3, 4]


@settings(deadline=None, max_examples=25)
@given(
    n_left=st.integers(1, 6),
    n_right=st.integers(1, 6),
    keep_left_mark=st.booleans(),
    keep_right_mark=st.booleans(),
    seed=st.integers(0, 1000),
)
@example(n_left=1, n_right=1, keep_left_mark=False, keep_right_mark=True, seed=0)
def test_joined_with_codes_equals_without(
    tmp_path_factory, n_left, n_right, keep_left_mark, keep_right_mark, seed
):
    folder = tmp_path_factory.mktemp("joined")
    rng = np.random.default_rng(seed)
    left_path, right_path = folder / f"l{seed}.csv", folder / f"r{seed}.csv"
    pd.DataFrame({"k": rng.integers(0, 3, n_left), "a": rng.random(n_left)}).to_csv(
        left_path, index=False
    )
    pd.DataFrame({"k": rng.integers(0, 3, n_right), "b": rng.random(n_right)}).to_csv(
        right_path, index=False
    )
    # (source ids of this example's own: other examples' files may hold the same bytes)
    name = folder.name
    left = stp.read_csv(left_path, source_id=f"l_{name}")
    right = stp.read_csv(right_path, source_id=f"r_{name}")
    # a merge of merges: the right side's rows built from other sources
    again = stp.read_csv(left_path, source_id=f"l_{name}")
    right = stp.merge(right, again, on="k", how="left", suffixes=("", "_z"))
    for frame, keep in ((left, keep_left_mark), (right, keep_right_mark)):
        if not keep:
            frame.attrs.pop(READ_PATHS_ATTR, None)
    codes = [tuple(int(c) for c in distinct_codes(row_ids(f))) for f in (left, right)]
    assert joined(left, right, codes=codes) == joined(left, right)
