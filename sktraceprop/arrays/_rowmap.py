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

from ._pools import Pool, add_pools, either, has, live_pools, stacked_pools
from ._pools import full as full_mask

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


def take(rm, key):
    """Rows ``key`` (slice, integer array, boolean mask) of a rowed map.

    For a 1-D index array (copied: the caller's array may change later) or a slice of a
    map not made yet, the rows are gathered when first read (:class:`Deferred`).
    """
    if rm.n is None or rm.dropped is not None:
        return rm
    if type(key) is np.ndarray:
        # the origin keeps the index: a copy, the caller's array may change later
        where = key.copy()
        if where.ndim == 1 and where.dtype.kind in "biu":
            n = int(np.count_nonzero(where)) if where.dtype.kind == "b" else where.size
            return Deferred(lambda: _taken(rm, where), n, ("take", rm, where), (rm,))
    else:
        where = key
        if type(key) is slice and type(rm) is Deferred and not rm.made:
            n = len(range(rm.n)[key])
            return Deferred(lambda: _taken(rm, key), n, ("take", rm, key), (rm,))
    ids, pools = _taken(rm, where)
    n = len(ids[0]) if ids else count(rm.n, key)
    return RowMap(ids, pools, n, None, ("take", rm, where))


def _taken(rm, key):
    """``(ids, pools)`` of rows ``key`` of ``rm``.

    A pooled input that applies to none of the rows taken is left out: it is behind no
    row of the result (see :func:`live_pools`).
    """
    ids = tuple([s[key] for s in rm.ids])
    return ids, (live_pools(rm.pools, key, rm.n) if rm.pools else ())


def count(n, key):
    """Number of rows that ``key`` selects out of ``n``."""
    if isinstance(key, slice):
        return len(range(n)[key])
    key = np.asarray(key)
    return int(np.count_nonzero(key)) if key.dtype == bool else int(key.size)


def concat(parts):
    """Map of blocks ``(map, n_rows)`` stacked along the row axis (None: untraced block).

    The stacked ids are made when first read (:class:`Deferred`): the blocks' maps are
    kept (the origin names them anyway), not a new int64 per row.
    """
    blocks, sizes = [], []
    total = 0
    for rm, n in parts:
        if rm is None:
            rm = EMPTY
        if rm.dropped is not None:
            return rm
        if rm.n != n:
            rm = spread(rm, n)
        blocks.append(rm)
        sizes.append(n)
        total += n
    if len(blocks) == 1:
        return blocks[0]
    at, start = [], 0
    for b, size in zip(blocks, sizes):
        at.append((b, start, start + size))
        start += size
    origin = ("concat", tuple(at))
    return Deferred(lambda: _stacked(blocks, sizes, total), total, origin, blocks)


def _stacked(blocks, sizes, total):
    """``(ids, pools)`` of ``blocks`` of ``sizes`` rows stacked (``total`` rows)."""
    k = max(len(b.ids) for b in blocks)
    if all(len(b.ids) == k for b in blocks):
        ids = tuple([np.concatenate([b.ids[j] for b in blocks]) for j in range(k)])
    else:
        # a block with fewer slots has no parent (0) in the others
        ids = tuple(
            [
                np.concatenate(
                    [
                        b.ids[j] if j < len(b.ids) else np.zeros(size, np.int64)
                        for b, size in zip(blocks, sizes)
                    ]
                )
                for j in range(k)
            ]
        )
    return ids, stacked_pools(blocks, sizes)


def repeat_rows(rm, repeats):
    """Each row repeated ``repeats`` times (an int or one count per row)."""
    if rm.n is None or rm.dropped is not None:
        return rm
    ids = tuple(np.repeat(s, repeats) for s in rm.ids)
    pools = tuple(
        (p, None if m is None else np.repeat(full_mask(m, rm.n), repeats)) for p, m in rm.pools
    )
    n = int(np.sum(np.broadcast_to(repeats, (rm.n,)))) if rm.n else 0
    where = repeats.copy() if isinstance(repeats, np.ndarray) else repeats
    return RowMap(ids, pools, n, None, ("repeat", rm, where))


def group_rows(rm, size):
    """Consecutive groups of ``size`` rows become one row (a C-order reshape)."""
    if rm.n is None or rm.dropped is not None:
        return rm
    n = rm.n // size
    ids = tuple(s.reshape(n, size)[:, j] for s in rm.ids for j in range(size))
    pools = tuple(
        (p, None if m is None else full_mask(m, rm.n)[: n * size].reshape(n, size).any(axis=1))
        for p, m in rm.pools
    )
    return merge([RowMap(ids, pools, n, None, ("group", rm, size))], n)


def reshape(rm, old_shape, new_shape, via="reshape"):
    """Map after a C-order reshape from ``old_shape`` to ``new_shape``."""
    if rm.n is None or rm.dropped is not None:
        return rm
    if not new_shape:
        return single(rm) if rm.n == 1 else collapse(rm, via)
    if not old_shape:
        return spread(rm, new_shape[0])
    n_old, n_new = old_shape[0], new_shape[0]
    per_old = _prod(old_shape[1:])
    per_new = _prod(new_shape[1:])
    if per_old == per_new:
        return rm
    if n_old == 0 or n_new == 0:
        return RowMap(tuple(s[:0] for s in rm.ids), (), 0, None, NOTHING) if n_new == 0 else rm
    if per_old % per_new == 0:
        return repeat_rows(rm, per_old // per_new)
    if per_new % per_old == 0:
        return group_rows(rm, per_new // per_old)
    # Output row j holds elements [j * per_new, (j + 1) * per_new): input rows first..last.
    j = np.arange(n_new, dtype=np.int64)
    first = j * per_new // per_old
    last = ((j + 1) * per_new - 1) // per_old
    width = int((last - first).max()) + 1
    pos = first[:, None] + np.arange(width)[None, :]
    pos = np.where(pos <= last[:, None], pos, -1)
    return from_positions(rm, pos)


def _prod(shape):
    out = 1
    for s in shape:
        out *= int(s)
    return out


def from_positions(rm, pos):
    """Map of an output whose row ``j`` holds the input rows ``pos[j]`` (``-1``: none).

    ``pos`` has one leading axis per output row and any trailing shape; a 0-d ``pos``
    describes a collapsed output made of one row.
    """
    if rm.dropped is not None:
        return rm
    if rm.n is None:
        return rm
    pos = np.asarray(pos, dtype=np.int64)
    if pos.ndim == 0:
        return single(take(rm, pos.reshape(1))) if pos >= 0 else EMPTY
    m = pos.shape[0]
    if m == 0:
        return take(rm, np.zeros(0, np.int64))  # no rows (``x[[]]``)
    flat = pos.reshape(m, -1)
    if flat.shape[1] == 0:
        return RowMap(tuple(np.zeros(m, np.int64) for _ in rm.ids), (), m, None, NOTHING)
    flat = np.sort(flat, axis=1)
    keep = np.ones(flat.shape, bool)
    keep[:, 1:] = flat[:, 1:] != flat[:, :-1]
    keep &= flat >= 0
    width = int(keep.sum(axis=1).max()) if m else 0
    if width <= 1:
        row = np.where(keep.any(axis=1), flat.max(axis=1), -1)
        return _gather(rm, row)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :width]
    cols = np.take_along_axis(np.where(keep, flat, -1), order, axis=1)
    return merge([_gather(rm, cols[:, k]) for k in range(width)], m)


def _gather(rm, rows):
    """Rows ``rows`` of ``rm`` (``-1``: no parent)."""
    present = rows >= 0
    safe = np.where(present, rows, 0)
    if present.all():
        return take(rm, safe)
    if not present.any():  # (``rm`` may have no rows to index)
        none = np.zeros(len(rows), bool)
        ids = tuple(np.zeros(len(rows), np.int64) for _ in rm.ids)
        return RowMap(ids, tuple((p, none) for p, _ in rm.pools), len(rows), None, NOTHING)
    ids = tuple(np.where(present, s[safe], 0) for s in rm.ids)
    pools = tuple(
        (p, present if m is None else (full_mask(m, rm.n)[safe] & present)) for p, m in rm.pools
    )
    return RowMap(ids, pools, len(rows), None, ("gather", rm, rows))


def overwrite(rm, full, touched, value):
    """Map after an in-place write.

    Parameters
    ----------
    rm : RowMap
        Rowed map before the write.
    full, touched : ndarray of bool of shape (n,)
        Rows overwritten entirely, and rows written at all.
    value : RowMap
        Rowed map (``n`` rows) of what was written, meaningful on ``touched`` rows only.
    """
    if rm.dropped is not None:
        return rm
    if value.dropped is not None:
        return value
    n = rm.n
    kept = rm
    origin = ("overwrite", rm, full, touched, value)
    if full.any():
        keep = ~full
        ids = tuple(np.where(keep, s, 0) for s in rm.ids)
        pools = tuple((p, keep if m is None else (full_mask(m, n) & keep)) for p, m in rm.pools)
        kept = RowMap(ids, pools, n, None, origin)
    if value is EMPTY or (not value.ids and not value.pools):
        return kept
    ids = tuple(np.where(touched, s, 0) for s in value.ids)
    pools = tuple(
        (p, touched if m is None else (full_mask(m, n) & touched)) for p, m in value.pools
    )
    out = merge([kept, RowMap(ids, pools, n)], n)
    out.origin = origin
    return out


def codes(rm, seen=None):
    """Packed ids and pooled ids behind ``rm``, as one array (for source listing)."""
    if seen is None:
        seen = set()
    if id(rm) in seen or rm.dropped is not None:
        return np.zeros(0, np.int64)
    seen.add(id(rm))
    parts = [unique_ids(s) for s in rm.ids]
    parts += [codes(p.rowmap, seen) for p, _ in rm.pools]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def unique_ids(ids):
    """Sorted distinct ids: ``np.unique``, by sorting (NumPy 2.4's ``unique`` hashes
    packed ids slowly: 1.1 s for a million, against 0.1 s to sort them)."""
    out = np.sort(ids)
    if out.size > 1:
        keep = np.empty(out.size, bool)
        keep[0] = True
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        out = out[keep]
    return out


def direct(rm, rows):
    """``(which, ids)``: the direct parents of each requested row (0 slots left out)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not rm.ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    at = rows if rm.n is not None else np.zeros_like(rows)
    block = np.stack([s[at] for s in rm.ids], axis=1)
    which = np.repeat(np.arange(rows.size), block.shape[1])
    flat = block.reshape(-1)
    keep = flat != 0
    which, flat = which[keep], flat[keep]
    # one parent named twice by two slots is listed once
    pairs = np.unique(np.stack([which, flat], axis=1), axis=0) if flat.size else None
    if pairs is None:
        return which, flat
    return pairs[:, 0], pairs[:, 1]


def pools_of(rm, row):
    """Pools that apply to row ``row`` (every pool of a collapsed map)."""
    return [p for p, m in rm.pools if rm.n is None or has(m, row, rm.n)]


def expand(pool, memo=None):
    """Every source row id behind a pool, sorted and unique."""
    if memo is None:
        memo = {}
    key = id(pool.rowmap)
    if key in memo:
        return memo[key]
    memo[key] = np.zeros(0, np.int64)  # a cycle cannot occur; guards recursion anyway
    rm = pool.rowmap
    if rm.dropped is not None:
        raise LookupError(rm.dropped)
    parts = [s[s != 0] for s in rm.ids]
    # a pool whose mask names none of the rows (those rows were indexed away before
    # this input was pooled) is behind none of them
    parts += [expand(p, memo) for p, m in rm.pools if m is None or rm.n is None or m.any()]
    out = unique_ids(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
    memo[key] = out
    return out
