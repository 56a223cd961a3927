"""The rows behind merged rows: their leaves, level by level, and the sources they were
built from."""

import numpy as np

from ..exceptions import LineageError
from ._ids import codes_of, distinct_codes, lines_of

#: Merges of merges are expanded at most this deep.
_MAX_DEPTH = 64


def expand(ids, sources, with_via=True):
    """``(position, leaf_id, via)`` for every leaf row behind each id.

    Merged rows are replaced by their parent rows (``via`` names the merge); aggregate
    rows are leaves here: expanding a group into all its rows would multiply a frame by
    the group sizes (see :func:`depends_on` for what an aggregate was computed from).
    ``with_via=False`` gives ``via`` as None (an object array per row is the slow part).
    Leaves come level by level (a row's own leaves before those of its merged parents);
    within a level, by merge in order of first appearance, each row's parents in their
    recorded order.
    """
    pos = None  # positions of the current rows in the given ids; None while 0 .. n-1
    via = np.full(ids.size, None, dtype=object) if with_via else None
    out = []
    for _ in range(_MAX_DEPTH):
        present = distinct_codes(ids)
        merges = [c for c in present.tolist() if sources(c).kind == "merge"]
        if not merges:
            out.append((pos, ids, via))
            break
        codes = None if present.size == 1 else codes_of(ids)
        if len(merges) > 1:  # in order of first appearance, as the rows list them
            merges.sort(key=lambda c: int(np.argmax(codes == c)))
        nxt_pos, nxt_ids, nxt_via = [], [], []
        for code in merges:
            src = sources(code)
            at = None if codes is None else np.flatnonzero(codes == code)
            which, parent_ids = src.require_parents().of(
                lines_of(ids if at is None else ids[at]) - 1
            )
            where = which if at is None else at[which]
            nxt_pos.append(where if pos is None else pos[where])
            nxt_ids.append(parent_ids)
            if with_via:
                nxt_via.append(np.full(parent_ids.size, src.source_id, dtype=object))
        if len(merges) < present.size:
            leaf = np.flatnonzero(~np.isin(codes, merges))
            out.append(
                (leaf if pos is None else pos[leaf], ids[leaf], None if via is None else via[leaf])
            )
        pos, ids = _joined(nxt_pos), _joined(nxt_ids)
        via = _joined(nxt_via) if with_via else None
    else:
        raise LineageError(f"merges nested deeper than {_MAX_DEPTH} levels")
    if out[0][0] is None:  # no row was merged
        out[0] = (np.arange(ids.size), *out[0][1:])
    pos, leaf_ids = _joined([p for p, _, _ in out]), _joined([i for _, i, _ in out])
    return pos, leaf_ids, _joined([v for _, _, v in out]) if with_via else None


def _joined(parts):
    """The arrays one after the other (the one array itself, not a copy, when alone)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def levels(ids, sources):
    """``(positions in ids, row ids)`` of ``ids`` and then, level by level, of the rows
    their merged rows were merged from (merged rows and leaves alike)."""
    pos = np.arange(ids.size)
    for _ in range(_MAX_DEPTH + 1):
        if not ids.size:
            return
        yield pos, ids
        codes = codes_of(ids)
        merges = [c for c in np.unique(codes).tolist() if sources(c).kind == "merge"]
        nxt_pos, nxt_ids = [pos[:0]], [ids[:0]]
        for code in merges:
            at = np.flatnonzero(codes == code)
            which, parents = sources(code).require_parents().of(lines_of(ids[at]) - 1)
            nxt_pos.append(pos[at[which]])
            nxt_ids.append(parents)
        pos, ids = np.concatenate(nxt_pos), np.concatenate(nxt_ids)
    raise LineageError(f"merges nested deeper than {_MAX_DEPTH} levels")


def rows_behind(ids, sources):
    """``(row_ids, rows)``: every row the merged rows among ``ids`` were built from, at
    every level of the merges (the merged rows of an inner merge and the leaves alike),
    and the position in ``ids`` of the row each is behind (empty when no row is merged).
    """
    found = [(np.empty(0, np.intp), np.empty(0, np.int64))]
    for depth, (pos, level) in enumerate(levels(np.asarray(ids, dtype=np.int64), sources)):
        if depth:
            found.append((pos, level))
    return (
        np.concatenate([level for _, level in found]).astype(np.int64, copy=False),
        np.concatenate([pos for pos, _ in found]).astype(np.intp, copy=False),
    )


def ancestor_codes(sources, codes):
    """``codes`` and the codes of every source their rows were built from (merges'
    and aggregates' parents, at every depth), among the keys of ``sources`` (a dict
    code -> Source)."""
    seen, todo = set(), [int(c) for c in codes]
    while todo:
        c = todo.pop()
        if c in seen or c not in sources:
            continue
        seen.add(c)
        todo.extend(int(p) for p in sources[c].parent_codes)
    return seen
