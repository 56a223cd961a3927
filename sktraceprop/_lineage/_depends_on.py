"""Which rows were built from removed rows, through merges and aggregates."""

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._ids import codes_of, distinct_codes, lines_of
from ._merged_parents import expand, levels


def _hits(ids, sources, removed, memo, inner=False):
    """``(hit, direct)`` for each id: is it, or (through merges and aggregates) was it
    built from, a removed row; and is it, or was it merged from, one (aggregates aside).
    ``inner``: some removed rows are merged rows, looked for among the merged rows too."""
    pos, leaf_ids, _ = expand(ids, sources, with_via=False)
    leaf_hit = removed(leaf_ids)
    hit = leaf_hit.copy()
    codes = codes_of(leaf_ids)
    for code in pd.unique(codes):
        src = sources(code)
        if src.kind != "aggregate":
            continue
        if code not in memo:
            parents = src.require_parents()
            member, _ = _hits(parents.ids, sources, removed, memo, inner)
            counts = np.diff(parents.indptr)
            group_hit = np.zeros(parents.n_rows, bool)
            nonempty = counts > 0
            sums = np.add.reduceat(member.astype(np.int64), parents.indptr[:-1][nonempty])
            group_hit[nonempty] = sums > 0
            memo[code] = group_hit
        m = codes == code
        hit[m] |= memo[code][lines_of(leaf_ids[m]) - 1]
    out = np.zeros(ids.size, bool)
    np.logical_or.at(out, pos, hit)
    direct = np.zeros(ids.size, bool)
    np.logical_or.at(direct, pos, leaf_hit)
    # a removed merged row (a training row removed whole) is no leaf: the rows that are
    # it, or were merged from it at any depth, are found among every row's ancestors
    if inner:
        within = removed_within(ids, sources, removed)
        out |= within
        direct |= within
    return out, direct


def _is_merge(sources, code):
    """Whether ``code`` names a merge (False for a code ``sources`` does not know)."""
    try:
        return sources(code).kind == "merge"
    except (KeyError, LineageError):
        return False


def removed_within(ids, sources, removed):
    """For each id: is it, or a merged row it was built from at any depth, one that
    ``removed`` (a mask over ids) says is removed? Leaves are asked too."""
    out = np.zeros(ids.size, bool)
    for pos, level in levels(ids, sources):
        out[pos[removed(level)]] = True
    return out


def depends_on(ids, sources, removed_ids=None, removed_codes=None):
    """Which rows were built from removed rows, through merges or aggregates.

    Parameters
    ----------
    ids : ndarray of int64
        Row ids to check (a run's training rows, say).
    sources : callable
        Maps a code to its :class:`Source`.
    removed_ids : array-like of int64, default=None
        Row ids being removed: leaf rows (file lines), or merged rows removed whole
        (a training row merged by :func:`sktraceprop.merge`), which hit the rows that
        are them or were merged from them.
    removed_codes : iterable of int, default=None
        Sources being removed whole.

    Returns
    -------
    row : ndarray of bool of shape (n,)
        True where the row is a removed row, has one among its merge parents, or joins
        an aggregate computed over one.
    via_aggregate : ndarray of bool of shape (n,)
        True where the row depends on a removed row only through an aggregate.
    """
    ids = np.asarray(ids, dtype=np.int64)
    removed_ids = np.unique(np.asarray([] if removed_ids is None else removed_ids, np.int64))
    removed_codes = np.asarray(sorted(set(removed_codes or ())), dtype=np.int64)

    def removed(leaf):
        return np.isin(leaf, removed_ids) | np.isin(codes_of(leaf), removed_codes)

    removed_codes_all = np.union1d(distinct_codes(removed_ids), removed_codes)
    inner = any(_is_merge(sources, c) for c in removed_codes_all.tolist())
    row, direct = _hits(ids, sources, removed, {}, inner)
    return row, row & ~direct
