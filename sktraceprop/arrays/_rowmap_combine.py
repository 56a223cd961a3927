"""Combining row maps: the map of one row, of a reduction over rows, of a broadcast, and
the union of the maps an elementwise operation reads (a part of :mod:`._rowmap`, read
through it: ``rmap.merge``)."""

import numpy as np

from ._pools import Pool, add_pools, either, has
from ._rowmap import _NO_IDS, EMPTY, RowMap


def single(rm):
    """The map of what one row holds once its row axis is gone (``x[3]``): that row's
    own parents, direct as they were."""
    if rm.n is None or rm.dropped is not None:
        return rm
    pools = tuple((p, None) for p, m in rm.pools if has(m, 0, rm.n))
    return RowMap(tuple(s[:1] for s in rm.ids), pools, None, None, ("row", rm, 0))


def row(rm, k):
    """The map of what row ``k`` of a rowed map holds once its row axis is gone (``x[k]``,
    one element ``x[k, j]``): ``single(take(rm, slice(k, k + 1)))`` in one step."""
    ids = rm.ids
    # one slot and no pools is the common case (a source's rows): no comprehensions
    ids = (ids[0][k : k + 1],) if len(ids) == 1 else tuple([s[k : k + 1] for s in ids])
    pools = rm.pools
    if pools:
        pools = tuple([(p, None) for p, m in pools if has(m, k, rm.n)])
    return RowMap(ids, pools, None, None, ("row", rm, k))


def collapse(rm, via):
    """The map of an array whose every element depends on every row of ``rm`` (pooled
    in through ``via``: a reduction over rows, a matmul along them)."""
    if rm.n is None or rm.dropped is not None:
        return rm
    if not rm.ids:
        if not rm.pools:
            return EMPTY
        if all(m is None for _, m in rm.pools):
            return RowMap(_NO_IDS, rm.pools, None, None, ("all", rm))
    return RowMap(_NO_IDS, ((Pool(rm, via), None),), None, None, ("all", rm))


def pooled_in(rm, via):
    """:func:`collapse`, for an input whose relation to the output rows is not modelled
    (a NumPy function without a rule, an argument a rule does not reason about): a
    row-less input (``y[3]``, one element) is pooled too, where ``collapse`` keeps its
    parents direct (right for arithmetic, which spreads the element over every row, but
    ``np.insert(x, 0, y[3], axis=0)`` would then name ``y``'s row as a row that every
    row of ``x`` is made of)."""
    if rm.n is not None or rm.dropped is not None or not rm.ids:
        return collapse(rm, via)
    return RowMap(_NO_IDS, ((Pool(rm, via), None),), None, None, ("all", rm))


def spread(rm, n):
    """A collapsed map (or a one-row map) given to each of ``n`` rows."""
    if rm.dropped is not None:
        return rm
    if rm.n is not None:
        if rm.n == n:
            return rm
        rm = single(rm) if rm.n == 1 else collapse(rm, "broadcast")
    ids = tuple(np.broadcast_to(s[:1], (n,)) for s in rm.ids)
    return RowMap(ids, rm.pools, n, None, ("all", rm))


def written_map(rm, shape):
    """The map of an array about to be written in place at some of the positions of its
    first axis (``shape``: the array's): a collapsed map (an array whose first axis was
    not known to be a row axis, ``x.T.copy().T``) is spread over that axis first, so that
    the write gives its value to the positions it reaches, not to every one."""
    if rm.n is None and rm.dropped is None and shape:
        return spread(rm, shape[0])
    return rm


def _same(a, b):
    if a is b:
        return True
    if a.shape != b.shape:
        return False
    if a.strides == (0,) or b.strides == (0,):
        # a slot that gives every row one parent (an element's row, spread): the same as
        # another such slot by its one id; never compared element by element with a slot
        # of each row's own (a repeated parent is harmless: rows are listed once)
        return a.strides == b.strides and (not a.size or a[0] == b[0])
    return np.array_equal(a, b)


def merge(maps, n):
    """Union of the parents of maps that all describe the same ``n`` rows."""
    ids, pools, index = [], [], {}
    # a collapsed map's slots hold one id each: compared by value, not array by array
    seen = set() if n is None else None
    for rm in maps:
        if rm.dropped is not None:
            return rm
        for s in rm.ids:
            if seen is not None and s.shape == (1,):
                code = int(s[0])
                if code not in seen:
                    seen.add(code)
                    ids.append(s)
                continue
            for t in ids:
                if _same(s, t):
                    break
            else:
                ids.append(s)
        if rm.pools:
            add_pools(pools, rm.pools, index)
    if n is None and len(ids) > _MOST_SLOTS:
        out = _fold(ids, pools)
        out.origin = ("union", *maps)
        return out
    return RowMap(tuple(ids), tuple(pools), n, None, ("union", *maps))


#: Direct parents a collapsed map keeps before they are pooled (see _fold).
_MOST_SLOTS = 8


#: How the pool made by _fold is named in ``provenance(x).rows(i)["through"]``.
ELEMENTS = "arithmetic on elements"


def _fold(ids, pools):
    """A collapsed map of ``ids`` (one-element slots, one per direct parent) and
    ``pools``, with the direct parents pooled as the rows of one input.

    A Python loop over the elements of a traced array (``sum(v)``) gives its result one
    more direct parent per element; kept as slots, each step would compare every slot
    with every other. Pooled, they stay every parent of the result, named as mixed in by
    arithmetic on elements; a pool made here earlier is taken in (not nested), so a long
    loop keeps one such pool.
    """
    parts = [np.concatenate(ids)]
    kept = []
    for pool, mask in pools:
        if pool.via == ELEMENTS and not pool.rowmap.pools and len(pool.rowmap.ids) == 1:
            parts.append(pool.rowmap.ids[0])
        else:
            kept.append((pool, mask))
    rows = np.concatenate(parts)  # repeats are harmless (expand makes them unique)
    kept.append((Pool(RowMap((rows,), (), len(rows)), ELEMENTS), None))
    return RowMap(_NO_IDS, tuple(kept), None)


def elementwise(parts, out_shape, via):
    """Map of an elementwise (broadcasting) result from ``(map, input_shape)`` pairs.

    An input whose first axis is the output's first axis (same number of dimensions)
    gives each output row its own row (or its single row, when it has one row and the
    output more); any other input's rows meet every output row and are pooled.
    """
    if not out_shape:
        maps = [rm for rm, _ in parts]
        if len(maps) == 1 or all(m is maps[0] for m in maps):
            return maps[0]
        return merge([collapse(m, via) for m in maps], None)
    n = out_shape[0]
    ndim = len(out_shape)
    aligned, rowed = [], False
    for rm, shape in parts:
        if rm.dropped is not None:
            return rm
        if rm.n is not None and len(shape) == ndim:
            aligned.append(rm if shape[0] == n else spread(rm, n))
            rowed = True
        else:
            aligned.append(collapse(rm, via))
    if not rowed:
        return merge(aligned, None) if len(aligned) > 1 else aligned[0]
    if len(aligned) == 1:
        return aligned[0]
    first = aligned[0]
    if all(m is first for m in aligned):
        return first
    return merge([m if m.n is not None else spread(m, n) for m in aligned], n)


def with_parents(rm, other):
    """A rowed map plus, on every row, the parents of a collapsed map ``other``."""
    if other.dropped is not None:
        return other
    if other.ids:
        return merge([rm, spread(other, rm.n)], rm.n)
    if not other.pools:
        return rm
    if not rm.pools:
        return RowMap(rm.ids, other.pools, rm.n, None, ("union", rm, other))
    if len(rm.ids) > 1:
        out = merge([rm, RowMap(_NO_IDS, other.pools, rm.n)], rm.n)
        out.origin = ("union", rm, other)
        return out
    pools = rm.pools
    more = other.pools
    if len(pools) == 1 and len(more) == 1:
        # one pooled input on each side (``(x - x.mean(0)) / x.std(0)``): what add_pools
        # gives, without its lists and index
        (pool, mask), (extra, extra_mask) = pools[0], more[0]
        if pool.rowmap is not extra.rowmap:
            return RowMap(rm.ids, (pools[0], more[0]), rm.n, None, ("union", rm, other))
        if pool.via != extra.via and extra.via not in pool.via.split(", "):
            pool = Pool(pool.rowmap, f"{pool.via}, {extra.via}")
        if mask is None or extra_mask is None:
            mask = None
        elif mask is not extra_mask:
            mask = either(mask, extra_mask)
        return RowMap(rm.ids, ((pool, mask),), rm.n, None, ("union", rm, other))
    # what merge gives (one slot has nothing to deduplicate), without its loops
    joined, index = [], {}
    add_pools(joined, pools, index)
    add_pools(joined, more, index)
    return RowMap(rm.ids, tuple(joined), rm.n, None, ("union", rm, other))


def pair(ra, sa, rb, sb, out_shape, via):
    """:func:`elementwise` for two maps, with the common cases answered first."""
    if out_shape and ra.dropped is None and rb.dropped is None:
        n, ndim = out_shape[0], len(out_shape)
        if ra.n is not None and len(sa) == ndim and sa[0] == n:
            if ra is rb:
                return ra
            if rb.n is None:
                return with_parents(ra, rb)
        elif ra.n is None and rb.n is not None and len(sb) == ndim and sb[0] == n:
            return with_parents(rb, ra)
    return elementwise([(ra, sa), (rb, sb)], out_shape, via)
