"""Row parents and leaves through merges, against a walk of one row at a time."""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sktraceprop._lineage._ids import codes_of, distinct_codes, few_distinct, lines_of, pack
from sktraceprop._lineage._merged_parents import expand
from sktraceprop._lineage._source import Parents

csr = st.lists(st.lists(st.integers(0, 2**40), max_size=3), max_size=12)


@settings(max_examples=80, deadline=None)
@given(csr, st.data())
def test_parents_of_lists_each_rows_parents_in_order(rows_parents, data):
    indptr = np.concatenate(([0], np.cumsum([len(p) for p in rows_parents]))).astype(np.int64)
    ids = np.array([i for p in rows_parents for i in p], np.int64)
    parents = Parents(indptr=indptr, ids=ids)
    n = len(rows_parents)
    rows = data.draw(st.lists(st.integers(0, n - 1), max_size=20)) if n else []
    which, got = parents.of(np.array(rows, np.int64))
    truth = [(i, p) for i, r in enumerate(rows) for p in rows_parents[r]]
    assert list(zip(which.tolist(), got.tolist())) == truth


@pytest.mark.parametrize("row", [-1, 3, 2**40])
def test_parents_of_a_row_that_is_not_there_raises(row):
    parents = Parents(indptr=np.array([0, 1, 3, 3]), ids=np.array([5, 6, 7]))
    with pytest.raises(IndexError):
        parents.of(np.array([0, row]))


@pytest.mark.parametrize(
    "indptr",
    [[0, 4, 3, 3], [0, 2, 1, 3], [-1, 1, 2, 3]],  # past the ids, decreasing, negative
)
def test_parents_of_offsets_outside_the_ids_raise_rather_than_read_past_them(indptr):
    parents = Parents(indptr=np.array(indptr), ids=np.array([5, 6, 7]))
    with pytest.raises(IndexError):
        parents.of(np.array([0, 1, 2]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 2**27 - 1), min_size=1, max_size=6), st.data())
def test_distinct_codes_are_the_sorted_set_of_codes(codes, data):
    picks = data.draw(st.lists(st.sampled_from(codes), max_size=60))
    lines = data.draw(
        st.lists(st.integers(1, 2**36 - 1), min_size=len(picks), max_size=len(picks))
    )
    ids = np.array([pack(c, [line])[0] for c, line in zip(picks, lines)], np.int64)
    truth = sorted(set(picks))
    assert distinct_codes(ids).tolist() == truth
    assert few_distinct(codes_of(ids)).tolist() == truth
    assert distinct_codes(ids).dtype == np.int64


def _walk(row_id, table):
    """Leaves behind one id, one row at a time: ``[(level, leaf id, via)]``."""
    out, level = [], [(row_id, None)]
    for depth in range(70):
        nxt = []
        for rid, via in level:
            source = table[int(codes_of([rid])[0])]
            if source.kind != "merge":
                out.append((depth, rid, via))
                continue
            line = int(lines_of([rid])[0])
            lo, hi = source.parents.indptr[line - 1], source.parents.indptr[line]
            nxt += [(int(p), source.source_id) for p in source.parents.ids[lo:hi]]
        if not nxt:
            return out
        level = nxt
    raise AssertionError("too deep")


@st.composite
def merge_graphs(draw):
    """Files, and merges of files and earlier merges (each row 0 to 2 parents)."""
    table = {}
    n_files = draw(st.integers(1, 3))
    for code in range(1, n_files + 1):
        table[code] = SimpleNamespace(kind="file", n_rows=draw(st.integers(1, 6)))
    for code in range(n_files + 1, n_files + 1 + draw(st.integers(1, 4))):
        below = list(table)
        n_rows = draw(st.integers(1, 6))
        rows = []
        for _ in range(n_rows):
            sides = draw(st.lists(st.sampled_from(below), max_size=2))
            rows.append([int(pack(c, [draw(st.integers(1, table[c].n_rows))])[0]) for c in sides])
        indptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
        parents = Parents(indptr=indptr, ids=np.array([i for r in rows for i in r], np.int64))
        table[code] = SimpleNamespace(
            kind="merge",
            n_rows=n_rows,
            parents=parents,
            source_id=f"m{code}",
            require_parents=lambda p=parents: p,
        )
    for code, source in table.items():
        source.source_id = getattr(source, "source_id", f"f{code}")
    codes = list(table)
    picks = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=15))
    ids = [int(pack(c, [draw(st.integers(1, table[c].n_rows))])[0]) for c in picks]
    return table, np.array(ids, np.int64)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(merge_graphs(), st.booleans())
def test_expand_gives_every_leaf_of_every_row(graph, with_via):
    """Each position's leaves (and the merge each came through), as a walk of that one
    row gives them; a row's own leaves before those of its merged parents."""
    table, ids = graph
    pos, leaves, via = expand(ids, table.__getitem__, with_via=with_via)
    assert pos.dtype == np.int64 and leaves.dtype == np.int64
    assert len(pos) == len(leaves) and (via is None) == (not with_via)
    for k, rid in enumerate(ids.tolist()):
        mine = np.flatnonzero(pos == k)
        truth = _walk(rid, table)
        got = [(int(i), None if via is None else via[m]) for m, i in zip(mine, leaves[mine])]
        walked = [(t[1], t[2] if with_via else None) for t in truth]
        assert sorted(got, key=str) == sorted(walked, key=str)  # (None and names as text)


def test_expand_lists_a_merged_rows_parents_left_then_right():
    table = {
        1: SimpleNamespace(kind="file", source_id="a"),
        2: SimpleNamespace(kind="file", source_id="b"),
    }
    parents = Parents(
        indptr=np.array([0, 2, 3]), ids=np.concatenate([pack(2, [4]), pack(1, [1, 2])])
    )
    table[3] = SimpleNamespace(
        kind="merge", source_id="m", parents=parents, require_parents=lambda: parents
    )
    ids = np.concatenate([pack(3, [2, 1]), pack(1, [3])])
    pos, leaves, via = expand(ids, table.__getitem__)
    assert pos.tolist() == [2, 0, 1, 1]
    assert leaves.tolist() == [pack(1, [3])[0], pack(1, [2])[0], pack(2, [4])[0], pack(1, [1])[0]]
    assert via.tolist() == [None, "m", "m", "m"]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 12),
    st.lists(st.tuples(st.integers(0, 11), st.sampled_from([3, 9, 2**26])), max_size=40),
)
def test_rows_by_source_marks_each_row_with_a_leaf_of_each_source(n_rows, leaves):
    from sktraceprop._lineage._parents_kernel import rows_by_source

    leaves = [(r % n_rows, c) for r, c in leaves]
    sources = np.array(sorted({c for _, c in leaves}), np.int64)
    pos = np.array([r for r, _ in leaves], np.int64)
    codes = np.array([c for _, c in leaves], np.int64)
    out = rows_by_source(pos, codes, sources, n_rows)
    assert out.shape == (sources.size, n_rows)
    for j, code in enumerate(sources.tolist()):
        assert out[j].tolist() == [(r, code) in leaves for r in range(n_rows)]


@pytest.mark.parametrize("pos, code", [(5, 3), (-1, 3), (0, 4)])
def test_rows_by_source_refuses_a_row_or_source_outside_its_arrays(pos, code):
    from sktraceprop._lineage._parents_kernel import rows_by_source

    with pytest.raises(IndexError):
        rows_by_source(np.array([0, pos]), np.array([3, code]), np.array([3]), 5)
