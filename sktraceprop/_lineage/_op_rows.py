"""Which training rows went through an op fitted on some sources only.

An op fitted outside the estimator (a :class:`~sktraceprop.TracedEstimator` fitted on
one file's frame before a concat, an array operation) records the sources whose rows it
was fitted on: their source ids (``Op.sources``) and their identities (``Op.source_keys``:
``source_id`` and SHA-256 of each). A source id is a name: two folders' ``data.csv`` read
as ``data``, or two contents of one edited file, carry the same one. The keys tell them
apart, so a row counts toward an op only when a source on its way (its own, a merge it
was built through, the source of a leaf row behind it) is one the op was fitted on.

Runs recorded before the keys were kept name their ops' sources by id only: those ops
are matched by name (:func:`name_only`), which lists an op for the rows of every source
carrying the name, including rows it may not have transformed.
"""

import numpy as np

from ..exceptions import LineageError
from ._ids import codes_of, lines_of
from ._row_sets import contains

#: Merges of merges are followed at most this deep (as :func:`._merged_parents.expand`).
_MAX_DEPTH = 64


def leaf_paths(ids, source_of):
    """Every source on the way from each row to each leaf row behind it.

    Parameters
    ----------
    ids : array-like of int64
        Row ids (a run's training rows, say).
    source_of : callable
        Code -> :class:`~sktraceprop._lineage._source.Source`.

    Returns
    -------
    pos : ndarray of int64 of shape (n_leaves,)
        Position in ``ids`` of each leaf row (a merged row has one per parent row).
    leaf_ids : ndarray of int64 of shape (n_leaves,)
        The leaf row ids (aggregate rows are leaves, as in :func:`._merged_parents.expand`).
    entry, code : ndarray of int64
        Pairs: leaf ``entry`` (an index into ``pos``) has the source ``code`` on its way
        (the row's own source, each merge it came through, the leaf's source).
    way : ndarray of int64
        The row id there, with each pair (the row's own, a merged row's, the leaf's).
    """
    ids = np.asarray(ids, dtype=np.int64)
    # the current rows: their position in ids, and the node of their way so far
    pos, node = np.arange(ids.size), np.arange(ids.size)
    up, node_code, node_ids = [np.full(ids.size, -1)], [codes_of(ids)], [ids]
    n_nodes = ids.size
    done_pos, done_ids, done_node = [], [], []
    for _ in range(_MAX_DEPTH):
        codes = node_code[-1]
        merges = [c for c in np.unique(codes).tolist() if source_of(c).kind == "merge"]
        merged = np.isin(codes, merges)
        done_pos.append(pos[~merged])
        done_ids.append(ids[~merged])
        done_node.append(node[~merged])
        if not merges:
            break
        next_pos, next_ids, next_up = [], [], []
        for c in merges:
            at = np.flatnonzero(codes == c)
            which, parent_ids = source_of(c).require_parents().of(lines_of(ids[at]) - 1)
            next_pos.append(pos[at[which]])
            next_ids.append(parent_ids)
            next_up.append(node[at[which]])
        pos, ids = np.concatenate(next_pos), np.concatenate(next_ids)
        up.append(np.concatenate(next_up))
        node_code.append(codes_of(ids))
        node_ids.append(ids)
        node = np.arange(n_nodes, n_nodes + ids.size)
        n_nodes += ids.size
    else:
        raise LineageError(f"merges nested deeper than {_MAX_DEPTH} levels")
    parent, node_codes = np.concatenate(up), np.concatenate(node_code)
    way_ids = np.concatenate(node_ids)
    leaf_pos, leaf_ids = np.concatenate(done_pos), np.concatenate(done_ids)
    at = np.concatenate(done_node)
    entries, found, found_ids = [], [], []
    leaf = np.arange(at.size)
    while at.size:  # up the way from each leaf to its row: one level a step
        entries.append(leaf)
        found.append(node_codes[at])
        found_ids.append(way_ids[at])
        keep = parent[at] >= 0
        leaf, at = leaf[keep], parent[at][keep]
    entry = np.concatenate(entries) if entries else np.empty(0, np.int64)
    code = np.concatenate(found) if found else np.empty(0, np.int64)
    way = np.concatenate(found_ids) if found_ids else np.empty(0, np.int64)
    return leaf_pos, leaf_ids, entry, code, way


def op_codes(op, sources):
    """Codes of ``sources`` (code -> Source) whose rows went through ``op``, or None
    when every row did (``op.sources`` None). Matched by identity (``source_id`` and
    SHA-256) where the op records it, else by source id (:func:`name_only`)."""
    if op.sources is None:
        return None
    if op.source_keys is not None:
        keys = {tuple(k) for k in op.source_keys}
        return {int(c) for c, s in sources.items() if s.key in keys}
    names = set(op.sources)
    return {int(c) for c, s in sources.items() if s.source_id in names}


def name_only(op, sources):
    """Source ids ``op`` names that several sources of ``sources`` (code -> Source)
    carry, where it records no keys: which of those sources its rows came from is not
    known (empty when the op records keys, or its names are unambiguous)."""
    if op.sources is None or op.source_keys is not None:
        return []
    contents = {}
    for source in sources.values():
        contents.setdefault(source.source_id, set()).add(source.key)
    return sorted(i for i in op.sources if len(contents.get(i, ())) > 1)


def _pairs_through(op, sources, code, way):
    """Bool mask over :func:`leaf_paths`' pairs: the row there went through ``op`` (its
    source is one of the op's and, where the op records its rows, it is one of them)."""
    hit = np.isin(code, sorted(op_codes(op, sources)))
    if op.rows is not None:
        hit[hit] = contains(op.rows, way[hit])
    return hit


def positions_through(op, sources, paths, n):
    """Bool mask of shape ``(n,)``: the rows (positions) that went through ``op``, from
    :func:`leaf_paths`' output ``paths`` for rows ``0 .. n-1``."""
    if op.sources is None:
        return np.ones(n, dtype=bool)
    pos, _, entry, code, way = paths
    out = np.zeros(n, dtype=bool)
    out[pos[entry[_pairs_through(op, sources, code, way)]]] = True
    return out


def entries_through(op, sources, paths):
    """Bool mask over the leaf entries of :func:`leaf_paths`' output ``paths``: those
    whose way meets a row that went through ``op``."""
    pos, _, entry, code, way = paths
    if op.sources is None:
        return np.ones(pos.size, dtype=bool)
    out = np.zeros(pos.size, dtype=bool)
    out[entry[_pairs_through(op, sources, code, way)]] = True
    return out


def training_rows(run):
    """How many training rows of ``run`` went through each of its ops: a list, one entry
    per op, None for an op of every row; an entry is ``-1`` where it cannot be counted
    in this process (a merge's parent rows travelled without the record)."""
    if not any(op.sources is not None for op in run.ops):
        return [None] * len(run.ops)
    try:
        paths = leaf_paths(run.row_ids, run.source)
    except LineageError:
        paths = None
    return [
        None
        if op.sources is None
        else -1
        if paths is None
        else int(positions_through(op, run.sources, paths, run.n_samples).sum())
        for op in run.ops
    ]


def source_training_rows(run):
    """Per source of ``run`` (code): how many of its training rows went through each op.

    A training row is from a source when the source is on its way (its own, a merge it
    was built through, the source of a leaf row behind it). Returns code -> a list, one
    entry per op of ``run.ops``, of the source's training rows that went through the op
    (every one of them for an op of every row); None where it cannot be counted in this
    process (a merge's parent rows travelled without the record).
    """
    try:
        pos, _, entry, code, way = leaf_paths(run.row_ids, run.source)
    except LineageError:
        return None
    row = pos[entry]  # the training row (position) of each pair
    hits = [
        None if op.sources is None else _pairs_through(op, run.sources, code, way)
        for op in run.ops
    ]
    out = {}
    for c in run.sources:
        mine = code == int(c)
        out[int(c)] = [
            int(np.unique(row[mine if hit is None else mine & hit]).size) for hit in hits
        ]
    return out
