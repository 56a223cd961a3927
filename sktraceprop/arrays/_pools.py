"""Pooled inputs of a row map (:class:`Pool`) and the rows each applies to.

A map keeps ``(pool, mask)`` pairs: ``mask`` is None when the input was pooled into
every row, else a bool array of the rows it applies to. A mask may be *shorter* than
the map's rows: the rows past its end are False. A concatenation then keeps the masks
(and the pairs) of its first block as they are, however many rows follow, and one made
of consecutive pieces of one mask (``vstack([x[:4], x[4:] - x[4:].mean(0)])``) is a
view of it: a loop that keeps every row and keeps pooling it makes no new mask per
pooled input at such steps (``doc/arrays.rst``, "Cost"). Masks are never written once
made, so they are shared between maps.
"""

import numpy as np


class Pool:
    """Every row of an input, mixed into some output rows by the operation ``via``.

    Parameters
    ----------
    rowmap : RowMap
        Map of the input whose rows were mixed (shared, not copied).
    via : str
        Name of the operation (``"mean"``, ``"matmul"``...); names join with ``", "``
        when two operations pooled the same input.
    """

    __slots__ = ("rowmap", "via")

    def __init__(self, rowmap, via):
        self.rowmap = rowmap
        self.via = via

    def __reduce__(self):
        return Pool, (self.rowmap, self.via)


def full(mask, n):
    """``mask`` (a pool's mask, possibly shorter than ``n``) as ``n`` booleans."""
    if len(mask) == n:
        return mask
    out = np.zeros(n, bool)
    out[: len(mask)] = mask
    return out


def has(mask, k, n):
    """Whether the pool of ``mask`` (None: every row) applies to row ``k`` of ``n``."""
    if mask is None:
        return True
    if k < 0:
        k += n
    return k < len(mask) and bool(mask[k])


def either(a, b):
    """Rows of either mask (of one map; either may be the shorter)."""
    if len(a) < len(b):
        a, b = b, a
    out = a.copy()
    out[: len(b)] |= b
    return out


def add_pools(pools, more, index):
    """Add the ``(pool, mask)`` pairs ``more`` to the list ``pools``, one entry per pooled
    input (the masks of an input pooled twice join; so do the names of the operations).

    ``index`` maps ``id(pool.rowmap)`` to the position of that input in ``pools`` (kept up
    to date here): a map of a long loop holds many pooled inputs, and looking each one up
    by a scan of the others made every union quadratic in their number.
    """
    for pool, mask in more:
        k = index.get(id(pool.rowmap))
        if k is None:
            index[id(pool.rowmap)] = len(pools)
            pools.append((pool, mask))
            continue
        known, known_mask = pools[k]
        if known.via != pool.via and pool.via not in known.via.split(", "):
            known = Pool(known.rowmap, f"{known.via}, {pool.via}")
        if known_mask is None or mask is None:
            known_mask = None
        elif known_mask is not mask:
            known_mask = either(known_mask, mask)
        pools[k] = (known, known_mask)


def _rows_of(m, key, n):
    """Rows ``key`` (of ``n``) of a pool's mask ``m``, which may be shorter than ``n``;
    the result may be shorter than the rows taken (the rest are False)."""
    if len(m) == n:
        return m.take(key) if type(key) is np.ndarray and key.dtype.kind in "iu" else m[key]
    if type(key) is slice:
        start, stop, step = key.indices(n)
        if step == 1:
            # a prefix of the rows taken: those past the mask's end are False
            return m[start : max(start, min(stop, len(m)))]
    elif type(key) is np.ndarray and key.dtype.kind == "b" and key.ndim == 1:
        # rows are taken in order: those of the mask's rows come first
        return m[key[: len(m)]]
    return full(m, n)[key]


def live_pools(pools, key, n):
    """The ``(pool, mask)`` pairs of ``pools`` for rows ``key`` (of ``n``), leaving out
    every pool that applies to none of those rows.

    A pool that applies to no row is behind none (``rows``, ``pools``, ``sources`` and
    the pooled ids all skip it), but kept, it would be carried into every map made from
    this one: a loop that keeps the last rows of an array it keeps pooling
    (``acc = acc[-8:] - acc.mean(axis=0)``) would carry every input it ever pooled, and
    each step would cost more than the one before. Pools that share one mask (those
    pooled into the same rows) share its rows taken, tested once.
    """
    out, made = [], {}
    for p, m in pools:
        if m is None:
            out.append((p, None))
            continue
        found = made.get(id(m))
        if found is None:
            taken = _rows_of(m, key, n)
            found = made[id(m)] = (taken, bool(taken.any()))
        if found[1]:
            out.append((p, found[0]))
    return tuple(out)


def _address(m):
    return m.__array_interface__["data"][0]


def _rejoined(spans):
    """The mask of ``spans`` (``(start, stop, mask)``, in order) when their masks are
    consecutive pieces of one array, each where its rows are (``vstack([x[:4], x[4:]])``
    of an array with pools): a view of that array, not a new mask; else None."""
    first = spans[0][2]
    if first is None or spans[0][0] != 0:
        return None
    owner = first if first.base is None else first.base
    if type(owner) is not np.ndarray or owner.dtype != bool or owner.strides != (1,):
        return None
    at = _address(owner)
    start = _address(first) - at
    end = 0
    for j, (begin, stop, m) in enumerate(spans):
        if m is None or (m.base is not owner and m is not owner) or m.strides != (1,):
            return None
        if begin != end or _address(m) - at != start + begin:
            return None
        end = begin + len(m)
        # (only the last piece may end before its block: the rows past it are False)
        if end != stop and j != len(spans) - 1:
            return None
    return owner[start : start + end]


def stacked_pools(blocks, sizes):
    """The ``(pool, mask)`` pairs of the maps ``blocks`` (of ``sizes`` rows) stacked."""
    if not any(b.pools for b in blocks):
        return ()
    # pools by input (a map holds each pooled input once), in order of first appearance:
    # [pair of the first block that has it, via, [(start, stop, mask or None), ...]]
    found = {}
    start = 0
    for b, size in zip(blocks, sizes):
        stop = start + size
        for pair in b.pools:
            p, m = pair
            entry = found.get(id(p.rowmap))
            if entry is None:
                found[id(p.rowmap)] = [pair, p.via, [(start, stop, m)]]
                continue
            via = entry[1]
            if p.via != via and p.via not in via.split(", "):
                entry[1] = f"{via}, {p.via}"
            entry[2].append((start, stop, m))
        start = stop
    pools, made = [], {}
    for pair, via, spans in found.values():
        pool = pair[0] if via == pair[0].via else Pool(pair[0].rowmap, via)
        if len(spans) == len(blocks) and all(m is None for _, _, m in spans):
            pools.append((pool, None))
            continue
        begin, _, m = spans[0]
        if len(spans) == 1 and begin == 0 and m is not None:
            # pooled into rows of the first block only: the rows after are False past
            # the mask's end, so the mask (and the pair, if unchanged) is shared
            pools.append(pair if pool is pair[0] else (pool, m))
            continue
        # inputs pooled into the same rows of every block share one mask (made once)
        key = tuple([(begin, id(m)) for begin, _, m in spans])
        mask = made.get(key)
        if mask is None:
            mask = made[key] = _rejoined(spans)
        if mask is None:
            # one mask up to the last row that may be True, written block by block
            last = spans[-1]
            mask = np.zeros(last[1] if last[2] is None else last[0] + len(last[2]), bool)
            for begin, end, m in spans:
                if m is None:
                    mask[begin:end] = True
                else:
                    mask[begin : begin + len(m)] = m
            made[key] = mask
        pools.append((pool, mask))
    return tuple(pools)
