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


# Combining maps (:mod:`._rowmap_combine`), selecting, stacking and reshaping rows
# (:mod:`._rowmap_rows`) and reading maps back (:mod:`._rowmap_read`) are in modules of
# their own, named here for every caller (``rmap.merge``, ``rmap.take``...); they read
# this module's names, defined above.
from ._rowmap_combine import (  # noqa: E402, F401
    ELEMENTS,
    collapse,
    elementwise,
    merge,
    pair,
    pooled_in,
    row,
    single,
    spread,
    with_parents,
    written_map,
)
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
