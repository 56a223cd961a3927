"""Row map combinators against what each row means: the direct parents and pooled inputs
of every output row, computed row by row from the inputs (concatenation takes row ``i``
of its block, indexing takes row ``key[j]``, ``with_parents`` adds pools to every row)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop.arrays import _rowmap as rmap
from sktraceprop.arrays._pools import Pool, full

#: Pooled inputs shared between generated maps (so pools meet in concatenation).
_INPUTS = [rmap.of_ids(np.arange(1, 4, dtype=np.int64) + 10 * k) for k in range(3)]
_VIAS = ["mean", "std", "matmul"]


def _label(pool):
    """Which input a pool pools: its place in ``_INPUTS``, else the map's identity."""
    for k, known in enumerate(_INPUTS):
        if pool.rowmap is known:
            return k
    return id(pool.rowmap)


def _meaning(rm):
    """Per row: (sorted nonzero direct ids, sorted pooled inputs)."""
    rows = []
    for i in range(rm.n):
        direct = sorted({int(s[i]) for s in rm.ids if s[i] != 0})
        pooled = sorted(_label(p) for p, m in rm.pools if m is None or full(m, rm.n)[i])
        rows.append((direct, pooled))
    return rows


def _vias(rm):
    return {_label(p): set(p.via.split(", ")) for p, _ in rm.pools}


@st.composite
def rowmaps(draw, n=None):
    n = draw(st.integers(1, 6)) if n is None else n
    slots = draw(st.integers(0, 3))
    ids = tuple(
        np.asarray(draw(st.lists(st.integers(0, 50), min_size=n, max_size=n)), np.int64)
        for _ in range(slots)
    )
    pools = []
    for k in draw(st.lists(st.integers(0, 2), max_size=3, unique=True)):
        via = draw(st.sampled_from(_VIAS))
        masked = draw(st.booleans())
        # a mask may end before the last row (the rows past it are False)
        size = draw(st.integers(0, n))
        mask = (
            np.asarray(draw(st.lists(st.booleans(), min_size=size, max_size=size)), bool)
            if masked
            else None
        )
        pools.append((Pool(_INPUTS[k], via), mask))
    return rmap.RowMap(ids, tuple(pools), n)


@settings(max_examples=200, deadline=None)
@given(st.lists(rowmaps(), min_size=2, max_size=4))
def test_concat_rows_are_their_blocks_rows(blocks):
    out = rmap.concat([(b, b.n) for b in blocks])
    assert out.n == sum(b.n for b in blocks)
    assert all(len(s) == out.n for s in out.ids)
    expected = [row for b in blocks for row in _meaning(b)]
    assert _meaning(out) == expected
    vias = {}
    for b in blocks:
        for k, names in _vias(b).items():
            vias.setdefault(k, set()).update(names)
    assert _vias(out) == vias
    assert len({id(p.rowmap) for p, _ in out.pools}) == len(out.pools)


@settings(max_examples=200, deadline=None)
@given(rowmaps(), st.data())
def test_take_rows_are_the_keyed_rows(rm, data):
    n = rm.n
    kind = data.draw(st.sampled_from(["int", "int32", "negative", "bool", "slice"]))
    if kind == "bool":
        key = np.asarray(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        picked = list(np.flatnonzero(key))
    elif kind == "slice":
        key = slice(data.draw(st.integers(0, n)), None, data.draw(st.integers(1, 3)))
        picked = list(range(n))[key]
    else:
        picked = data.draw(st.lists(st.integers(0, n - 1), max_size=8))
        key = np.asarray(picked, np.int32 if kind == "int32" else np.int64)
        if kind == "negative":
            key = key - n
    out = rmap.take(rm, key)
    rows = _meaning(rm)
    assert out.n == len(picked)
    assert _meaning(out) == [rows[i] for i in picked]
    # the pools that apply to a row taken, in order, with their masks' rows taken; a
    # pool that applies to none of them is behind no row of the result: left out
    kept = iter(out.pools)
    for p, m in rm.pools:
        if m is not None and not full(m, rm.n)[key].any():
            continue
        q, k = next(kept)
        assert q is p
        assert (k is None) == (m is None)
        if m is not None:
            assert k.dtype == bool
            assert len(k) <= out.n
            np.testing.assert_array_equal(full(k, out.n), full(m, rm.n)[key])
    assert next(kept, None) is None


@settings(max_examples=200, deadline=None)
@given(rowmaps(), rowmaps(n=1), st.data())
def test_with_parents_adds_the_pools_to_every_row(rm, other, data):
    collapsed = rmap.RowMap((), tuple((p, None) for p, _ in other.pools), None)
    if data.draw(st.booleans()):
        collapsed = rmap.collapse(other, "mean")
    out = rmap.with_parents(rm, collapsed)
    assert out.n == rm.n
    pooled = {_label(p) for p, _ in collapsed.pools}
    for (direct, pools), (got_direct, got_pools) in zip(_meaning(rm), _meaning(out)):
        assert got_direct == direct
        assert set(got_pools) == set(pools) | pooled
    if not (rm.pools and collapsed.pools):
        return
    # pools on both sides: the same map as the general union
    general = rmap.merge([rm, rmap.RowMap((), collapsed.pools, rm.n)], rm.n)
    assert len(out.ids) == len(general.ids)
    assert all(a is b or np.array_equal(a, b) for a, b in zip(out.ids, general.ids))
    assert [(p.rowmap, p.via) for p, _ in out.pools] == [
        (p.rowmap, p.via) for p, _ in general.pools
    ]
    for (_, m), (_, g) in zip(out.pools, general.pools):
        assert (m is None) == (g is None)
        if m is not None:
            np.testing.assert_array_equal(full(m, rm.n), full(g, rm.n))


def _key(data, n):
    """A row key of every kind NumPy takes, and the rows it picks."""
    kind = data.draw(st.sampled_from(["int", "negative", "bool", "slice", "uint"]))
    if kind == "bool":
        key = np.asarray(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
        return key, list(np.flatnonzero(key))
    if kind == "slice":
        key = slice(data.draw(st.integers(0, n)), None, data.draw(st.integers(1, 3)))
        return key, list(range(n))[key]
    picked = data.draw(st.lists(st.integers(0, n - 1), max_size=8)) if n else []
    key = np.asarray(picked, np.uint32 if kind == "uint" else np.int64)
    return (key - n if kind == "negative" else key), picked


@settings(max_examples=200, deadline=None)
@given(st.lists(rowmaps(), min_size=1, max_size=3), st.data())
def test_deferred_concat_and_take_rows_match_carried_rows(start, data):
    # concatenations and fancy indexes make their ids when first read: chains of them
    # (concat of concats, an index of a concat, a slice of an index of a concat), read
    # in any order, read early or not at all, give every row its carried parents, also
    # when the caller's key arrays change after indexing
    maps = [(rm, _meaning(rm)) for rm in start]
    keys = []
    for _ in range(data.draw(st.integers(1, 6))):
        if data.draw(st.booleans()):
            picked = data.draw(st.lists(st.sampled_from(range(len(maps))), min_size=2, max_size=3))
            out = rmap.concat([(maps[k][0], maps[k][0].n) for k in picked])
            truth = [row for k in picked for row in maps[k][1]]
        else:
            rm, rows = maps[data.draw(st.integers(0, len(maps) - 1))]
            key, picked = _key(data, rm.n)
            out = rmap.take(rm, key)
            truth = [rows[i] for i in picked]
            keys.append(key)
        assert out.n == len(truth)
        maps.append((out, truth))
        if data.draw(st.booleans()):
            _ = out.ids  # read now: later maps are built on a map already made
    for key in keys:
        if isinstance(key, np.ndarray) and key.size:
            key[...] = key[::-1]  # the caller reuses its index array
    order = data.draw(st.permutations(range(len(maps))))
    for k in order:
        rm, truth = maps[k]
        assert _meaning(rm) == truth
        assert all(len(s) == rm.n for s in rm.ids)


def test_concat_and_index_maps_are_made_only_when_read():
    a = rmap.of_ids(np.arange(1, 5, dtype=np.int64))
    b = rmap.RowMap((np.arange(11, 14, dtype=np.int64),), ((Pool(_INPUTS[0], "mean"), None),), 3)
    both = rmap.concat([(a, 4), (b, 3)])
    key = np.array([6, 0, 4])
    picked = rmap.take(both, key)
    head = rmap.take(picked, slice(0, 2))
    assert not (both.made or picked.made or head.made)
    assert head.n == 2 and picked.n == 3 and both.n == 7
    key[:] = 0
    assert _meaning(head) == [([13], [0]), ([1], [])]
    assert both.made and picked.made
    assert head.origin[1] is picked and picked.origin[1] is both
    np.testing.assert_array_equal(picked.origin[2], [6, 0, 4])
    # a slice of a map already made is taken at once, as before
    assert type(rmap.take(both, slice(1, 3))) is rmap.RowMap


def test_take_leaves_out_pools_behind_no_row_taken():
    # a loop that keeps the last rows of an array it keeps pooling
    # (``acc = acc[-4:] - acc.mean(axis=0)``, then a concatenation) would otherwise carry
    # every input it ever pooled into every later map
    old, new = _INPUTS[0], _INPUTS[1]
    early = np.array([True, True, False, False])
    rm = rmap.RowMap(
        (np.arange(1, 5, dtype=np.int64),),
        ((Pool(old, "mean"), early), (Pool(new, "std"), ~early)),
        4,
    )
    tail = rmap.take(rm, slice(2, None))
    assert [(_label(p), m.tolist()) for p, m in tail.pools] == [(1, [True, True])]
    picked = rmap.take(rm, np.array([3, 0]))
    assert [(_label(p), m.tolist()) for p, m in picked.pools] == [
        (0, [False, True]),
        (1, [True, False]),
    ]
    assert rmap.take(rm, np.zeros(4, bool)).pools == ()


class _CountedPool(Pool):
    """A Pool that counts how often its input map is read."""

    __slots__ = ()
    reads = [0]

    @property
    def rowmap(self):
        _CountedPool.reads[0] += 1
        return Pool.rowmap.__get__(self)

    @rowmap.setter
    def rowmap(self, value):
        Pool.rowmap.__set__(self, value)


def test_union_of_many_pooled_inputs_reads_each_input_a_few_times():
    # a map of a long loop holds every input pooled into its rows so far; the union of
    # two maps used to look each input up by a scan of the others (quadratic in their
    # number, the recording of a 3000-step loop took tens of seconds): now by identity
    n, many = 3, 2000
    inputs = [rmap.of_ids(np.array([k + 1], np.int64)) for k in range(many + 1)]
    pools = tuple((_CountedPool(rm, "mean"), None) for rm in inputs[:many])
    rm = rmap.RowMap((np.arange(1, n + 1, dtype=np.int64),), pools, n)
    other = rmap.RowMap((), ((_CountedPool(inputs[many], "sum"), None),), None)
    for union in (
        lambda: rmap.with_parents(rm, other),
        lambda: rmap.merge([rm, rmap.RowMap((), other.pools, n)], n),
    ):
        _CountedPool.reads[0] = 0
        out = union()
        assert [p.rowmap for p, _ in out.pools] == inputs
        assert _CountedPool.reads[0] <= 3 * (many + 1) + len(out.pools)


def test_concat_gives_inputs_pooled_into_the_same_rows_one_mask():
    inputs = [rmap.of_ids(np.array([k + 1], np.int64)) for k in range(50)]
    shared = np.array([True, False, True])
    pooled = rmap.RowMap(
        (np.arange(1, 4, dtype=np.int64),),
        tuple((Pool(rm, "mean"), shared) for rm in inputs),
        3,
    )
    plain = rmap.of_ids(np.arange(7, 9, dtype=np.int64))
    out = rmap.concat([(pooled, 3), (plain, 2)])
    # pooled into rows of the first block only: the rows appended are False past the
    # masks' end, so the pairs (and their one mask) are shared, not copied
    assert len(out.pools) == 50
    assert all(a is b for a, b in zip(out.pools, pooled.pools))
    assert full(out.pools[0][1], 5).tolist() == [True, False, True, False, False]
    # pooled into rows of both blocks: one mask, up to the last row it applies to
    both = rmap.concat([(pooled, 3), (plain, 2), (pooled, 3)])
    masks = {id(m) for _, m in both.pools}
    assert len(both.pools) == 50 and len(masks) == 1
    assert both.pools[0][1].tolist() == [True, False, True, False, False, True, False, True]


def test_concat_of_pieces_of_one_mask_gives_a_view_of_it():
    # ``vstack([x[:2], x[2:] - x[2:].mean(axis=0)])`` of an array with pools: the pieces'
    # masks are views of x's masks where their rows are, so the result views them too
    # (a loop that keeps every row would otherwise copy every mask at every such step)
    mask = np.array([True, False, True, True, False])
    rm = rmap.RowMap((np.arange(1, 6, dtype=np.int64),), ((Pool(_INPUTS[0], "mean"), mask),), 5)
    head, tail = rmap.take(rm, slice(0, 2)), rmap.take(rm, slice(2, None))
    out = rmap.concat([(head, 2), (tail, 3)])
    got = out.pools[0][1]
    assert got.base is mask and np.shares_memory(got, mask)
    assert full(got, 5).tolist() == mask.tolist()
    # pieces out of place, or of another array, are copied into a new mask
    swapped = rmap.concat([(tail, 3), (head, 2)])
    got = swapped.pools[0][1]
    assert not np.shares_memory(got, mask)
    assert full(got, 5).tolist() == [True, True, False, True, False]
    copy = rmap.RowMap(rm.ids, ((Pool(_INPUTS[0], "mean"), mask.copy()),), 5)
    other = rmap.concat([(head, 2), (rmap.take(copy, slice(2, None)), 3)])
    assert not np.shares_memory(other.pools[0][1], mask)
    assert full(other.pools[0][1], 5).tolist() == mask.tolist()


@settings(max_examples=150, deadline=None)
@given(rowmaps(), st.data())
def test_with_parents_of_one_pool_each_is_the_pools_union(rm, data):
    """The one-pool-each branch of with_parents (``(x - x.mean(0)) / x.std(0)``) gives
    what add_pools gives: the same inputs, names joined once, masks joined."""
    from sktraceprop.arrays._pools import add_pools

    k = data.draw(st.integers(0, 2))
    via = data.draw(st.sampled_from([*_VIAS, "mean, std"]))
    size = data.draw(st.integers(0, rm.n))
    mask = data.draw(
        st.one_of(
            st.none(),
            st.lists(st.booleans(), min_size=size, max_size=size).map(
                lambda v: np.asarray(v, bool)
            ),
        )
    )
    if len(rm.pools) != 1 or len(rm.ids) > 1:  # (more slots: merge's branch)
        pools = rm.pools[:1] or ((Pool(_INPUTS[k], "mean"), None),)
        rm = rmap.RowMap(rm.ids[:1], pools, rm.n)
    if data.draw(st.booleans()):
        mask = rm.pools[0][1]  # the very mask of the other side
    other = rmap.RowMap((), ((Pool(_INPUTS[k], via), mask),), None)
    out = rmap.with_parents(rm, other)
    joined, index = [], {}
    add_pools(joined, rm.pools, index)
    add_pools(joined, other.pools, index)
    assert [(p.rowmap, p.via) for p, _ in out.pools] == [(p.rowmap, p.via) for p, _ in joined]
    for (_, m), (_, g) in zip(out.pools, joined):
        assert (m is None) == (g is None)
        if m is not None:
            np.testing.assert_array_equal(full(m, rm.n), full(g, rm.n))
    assert out.ids is rm.ids and out.n == rm.n
    for (direct, pools), (got_direct, got_pools) in zip(_meaning(rm), _meaning(out)):
        assert got_direct == direct and set(pools) <= set(got_pools)
