"""Which source rows each row of an array comes from (:class:`RowMap`), and how maps combine.

A map is framework-independent: it describes the first axis of an array whatever holds
the data (NumPy, torch, JAX). Row ids are the library's packed int64 ids; the arrays that
hold them are shared, never copied, through row-preserving operations.

Two kinds of dependence are kept apart:

- *direct* parents: output row ``i`` is made of source row ``ids[s][i]`` for each slot
  ``s`` (``0`` = no parent in that slot). ``a + b`` of two traced arrays has two slots.
- *pooled* parents: output row ``i`` also depends on every row of a :class:`Pool`, an
  input whose rows were mixed (a mean over rows, a matmul along the row axis). A pool
  applies to every row, or to the rows of a mask after a concatenation or indexing.

A *collapsed* map (``n is None``) describes an array whose first axis is not a row axis
(the result of a reduction over rows, one row taken out by an integer index): every
element derives from the same parents.

A map made from other maps keeps its *origin*: which rows of which maps each of its rows
was made from (a slice or an index, concatenation offsets, "every row", "the same rows").
It references the parent maps (never copied) and, for an integer index or a mask, holds
a copy of it (the caller may change its array later): 8 bytes per selected row, 1 byte
per row of a mask. :func:`sktraceprop.provenance` follows origins to tell which
operations the rows of an array went through (see :mod:`._through`); the graph keeps the
map of every step's result, so these stay alive as long as an array computed from them
(measured in ``doc/arrays.rst``, "Cost").
"""

import numpy as np

from ._pools import Pool, add_pools, either, has

_NO_IDS = ()


class RowMap:
    """Parents of every row of an array.

    Parameters
    ----------
    ids : tuple of ndarray of int64
        Direct parent slots, each of length ``n`` (length 1 when collapsed).
    pools : tuple of (Pool, ndarray of bool or None)
        Pooled parents and the rows they apply to (``None``: every row). A mask may be
        shorter than ``n``: the rows past its end are False (see :func:`._pools.full`), so that
        rows appended by a concatenation leave the masks before them shared.
    n : int or None
        Number of rows; None for a collapsed map.
    dropped : str, default=None
        Why the parents are unknown; the map then holds nothing else.
    origin : tuple, default=None
        Which rows of which maps this map's rows were made from (see :data:`ORIGINS`);
        None: not known (a source's map, or a map built outside this module). Not
        pickled: after a round trip the operations behind a row are told as "may have".
    """

    __slots__ = ("ids", "pools", "n", "dropped", "origin")

    def __init__(self, ids=_NO_IDS, pools=(), n=None, dropped=None, origin=None):
        self.ids = ids
        self.pools = pools
        self.n = n
        self.dropped = dropped
        self.origin = origin

    def __reduce__(self):
        return RowMap, (self.ids, self.pools, self.n, self.dropped)

    @property
    def rowed(self):
        return self.n is not None

    def __repr__(self):
        if self.dropped is not None:
            return f"<RowMap dropped: {self.dropped}>"
        shape = "collapsed" if self.n is None else f"{self.n} rows"
        return f"<RowMap {shape}, {len(self.ids)} slot(s), {len(self.pools)} pool(s)>"


#: Depends on no source row (untraced data, constants, ``zeros_like``).
EMPTY = RowMap()

_IDS = RowMap.ids  # the slots' own descriptors, under Deferred's properties
_POOLS = RowMap.pools
#: Unmade maps a Deferred map may stand on, one on another (see Deferred.__init__).
_DEEPEST = 16


class Deferred(RowMap):
    """A rowed map whose ``ids`` and ``pools`` are made the first time either is read.

    A concatenation or a fancy index makes one new int64 per row (and one bool per row of
    each pooled input); most intermediate maps are never read (the array is indexed, or
    multiplied by weights, and let go), so they are made only when asked for: by
    provenance, a traced fit, or an operation that needs the ids. Everything ``make``
    reads is immutable (parent maps, an index copied here), so the ids made later are
    the ids that would have been made now.

    Parameters
    ----------
    make : callable
        Returns ``(ids, pools)``.
    n : int
        Number of rows.
    origin : tuple
        As :class:`RowMap`'s.
    parents : sequence of RowMap
        The maps ``make`` reads.
    """

    __slots__ = ("_make", "_depth")

    def __init__(self, make, n, origin, parents):
        # Making a map makes its unmade parents first, recursively: a chain of them
        # (``acc = np.concatenate([acc, batch])`` in a loop) is made now and then, so that
        # no making recurses deeper than _DEEPEST maps.
        depth = 0
        for p in parents:
            if type(p) is Deferred and p._make is not None and p._depth > depth:
                depth = p._depth
        if depth >= _DEEPEST:
            for p in parents:
                if type(p) is Deferred and p._make is not None:
                    p._fill()
            depth = 0
        self._make = make
        self._depth = depth + 1
        self.n = n
        self.dropped = None
        self.origin = origin

    def _fill(self):
        # read once: another thread may make the map meanwhile (then both make the same
        # ids; ``_make`` is let go only after they are set)
        make = self._make
        if make is None:
            return
        ids, pools = make()
        _IDS.__set__(self, ids)
        _POOLS.__set__(self, pools)
        self._make = None

    @property
    def ids(self):
        if self._make is not None:
            self._fill()
        return _IDS.__get__(self)

    @property
    def pools(self):
        if self._make is not None:
            self._fill()
        return _POOLS.__get__(self)

    @property
    def made(self):
        """Whether ``ids`` and ``pools`` have been made."""
        return self._make is None


#: Origins of a map (first item: the kind; ``parent`` is a RowMap):
#:
#: - ``("take", parent, key)``: row ``i`` is row ``arange(parent.n)[key][i]``;
#: - ``("gather", parent, rows)``: row ``i`` is row ``rows[i]`` (``-1``: none);
#: - ``("concat", ((part, start, stop), ...))``: rows ``start:stop`` are ``part``'s;
#: - ``("row", parent, k)``: a collapsed map made of row ``k`` of ``parent``;
#: - ``("all", parent)``: every row depends on every row of ``parent``;
#: - ``("union", parent, ...)``: row ``i`` is row ``i`` of each parent with as many rows
#:   (every row of a collapsed one);
#: - ``("repeat", parent, repeats)``, ``("group", parent, size)``: ``np.repeat`` of the
#:   rows, consecutive groups of ``size`` rows;
#: - ``("overwrite", old, full, touched, value)``: row ``i`` is ``old``'s unless
#:   ``full[i]``, and also ``value``'s if ``touched[i]``;
#: - ``NOTHING``: made of no row.
ORIGINS = ("take", "gather", "concat", "row", "all", "union", "repeat", "group", "overwrite")
NOTHING = ("nothing",)


def dropped(reason):
    return RowMap(dropped=reason)


def of_ids(ids):
    """Map of a source: row ``i`` is the row ``ids[i]``."""
    return RowMap((ids,), (), len(ids))


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


# Selecting, stacking and reshaping rows (:mod:`._rowmap_rows`) and reading maps back
# (:mod:`._rowmap_read`) are in modules of their own, named here for every caller
# (``rmap.take``...); they read this module's names, defined above.
from ._rowmap_read import codes, direct, expand, pools_of, unique_ids  # noqa: E402, F401
from ._rowmap_rows import (  # noqa: E402, F401
    concat,
    count,
    from_positions,
    group_rows,
    overwrite,
    repeat_rows,
    reshape,
    take,
)
