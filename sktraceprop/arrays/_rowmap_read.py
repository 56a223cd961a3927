"""Reading row maps back: the source row ids behind a map, a row, or a pooled input
(a part of :mod:`._rowmap`, read through it)."""

import numpy as np

from ._pools import has


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
