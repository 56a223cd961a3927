"""Which recorded operations the rows of an array went through.

Every recorded operation (a graph node) keeps the row map of its result, and every map
made from others keeps its origin (:data:`._rowmap.ORIGINS`): which rows of which maps
each of its rows was made from. Starting from the rows of the array, this module walks
the graph from the array back to its sources; at each operation it follows the origins of
the result's map down to the maps of the operation's inputs, and so learns which rows of
each input the rows asked about were made from (pooled inputs: all their rows). An
operation is *gone through* when at least one row of its result is behind the array's.

Where a relation was not recorded (granularity ``"batch"``, an array restored from a pickle,
two inputs with the same map whose rows cannot be told apart, an input the result's map
does not describe: a traced index or condition that chose the rows), every row of the
inputs is taken as needed, and what is reached only that way is *may have*, never left
out.
"""

import numpy as np

from .._lineage._ids import codes_of
from ._graph import INPUTS, OP, UNRECORDED, node_rows
from ._pools import full

#: Maps visited by one walk from an operation's result to its inputs before the walk
#: gives up (the relation is then unknown: every input row may be behind the result).
_MOST_VISITS = 10_000


def _size(rm):
    return 1 if rm.n is None else rm.n


def _full(rm, value):
    return np.full(_size(rm), bool(value))


class _State:
    """What is needed of one operation's results: ``sure`` and ``maybe`` masks per map."""

    __slots__ = ("node", "maps", "sure", "maybe", "inputs")

    def __init__(self, node):
        self.node = node
        self.maps = {}  # id(rm) -> [rm, sure mask, maybe mask]
        self.sure = False  # some row certainly went through it
        self.maybe = False
        self.inputs = set()  # ids of the input nodes some of those rows came from

    def add(self, rm, sure, maybe):
        entry = self.maps.get(id(rm))
        if entry is None:
            self.maps[id(rm)] = [rm, sure.copy(), maybe | sure]
        else:
            entry[1] |= sure
            entry[2] |= maybe | sure
        self.sure = self.sure or bool(sure.any())
        self.maybe = self.maybe or self.sure or bool(maybe.any())

    def add_all(self, sure):
        """Every row of every result (the relation to it is unknown)."""
        maps = node_rows(self.node)
        for rm in maps:
            self.add(rm, _full(rm, sure), _full(rm, True))
        if not maps:
            self.sure = self.sure or sure
            self.maybe = True


def _parents(rm, c):
    """``[(parent, mask, exact)]``: the rows of the maps ``rm`` was made from that its
    rows ``c`` (a bool mask) were made from; None when its origin is not known."""
    origin = rm.origin
    if origin is None:
        if rm.dropped is None and not rm.ids and not rm.pools:
            return []  # made of no row
        return None
    kind = origin[0]
    if kind == "nothing":
        return []
    if kind == "take":
        parent, key = origin[1], origin[2]
        mask = np.zeros(_size(parent), bool)
        mask[np.arange(parent.n)[key][c]] = True
        return [(parent, mask, True)]
    if kind == "gather":
        parent, rows = origin[1], origin[2]
        picked = rows[c]
        mask = np.zeros(_size(parent), bool)
        mask[picked[picked >= 0]] = True
        return [(parent, mask, True)]
    if kind == "concat":
        out = []
        for part, start, stop in origin[1]:
            sub = c[start:stop]
            if part.n == stop - start:
                out.append((part, sub, True))
            else:
                out.append((part, _full(part, sub.any()), False))
        return out
    if kind == "row":
        parent, k = origin[1], origin[2]
        mask = np.zeros(_size(parent), bool)
        if c.any():
            mask[k if parent.n is not None else 0] = True
        return [(parent, mask, True)]
    if kind == "all":
        return [(origin[1], _full(origin[1], c.any()), True)]
    if kind == "union":
        out = []
        for parent in origin[1:]:
            if parent.n is None:
                out.append((parent, np.array([c.any()]), True))
            elif rm.n == parent.n:
                out.append((parent, c, True))
            else:
                out.append((parent, _full(parent, c.any()), False))
        return out
    if kind == "repeat":
        parent = origin[1]
        mask = np.zeros(_size(parent), bool)
        mask[np.repeat(np.arange(parent.n), origin[2])[c]] = True
        return [(parent, mask, True)]
    if kind == "group":
        parent = origin[1]
        mask = np.zeros(_size(parent), bool)
        grouped = np.repeat(c, origin[2])
        mask[: grouped.size] = grouped
        return [(parent, mask, True)]
    if kind == "overwrite":
        old, full, touched, value = origin[1:]
        out = [(old, c & ~full, True)]
        if value.n is None:
            out.append((value, np.array([(c & touched).any()]), True))
        else:
            out.append((value, c & touched, True))
        return out
    return None


def _walk(start, sure, maybe, targets):
    """Follow the origins of ``start`` (rows ``sure``/``maybe``) down to the maps in
    ``targets`` (ids); ``(arrivals, unknown)``: per target id the ``(sure, maybe)`` masks
    that reached it, in the order reached, and whether some branch had no known origin."""
    arrivals, unknown = {}, False
    stack = [(start, sure, maybe)]
    visits = 0
    while stack:
        rm, s, m = stack.pop()
        if id(rm) in targets:
            # (no rows too: the count of ways in tells two inputs with one map apart)
            arrivals.setdefault(id(rm), []).append((s, m))
            continue
        visits += 1
        parents = None if visits > _MOST_VISITS else _parents(rm, m)
        if parents is None:
            unknown = unknown or bool(m.any())
            continue
        sure_parents = _parents(rm, s) if s.any() else None
        pending = []
        for k, (parent, pm, exact) in enumerate(parents):
            ps = sure_parents[k][1] if (sure_parents and exact) else np.zeros_like(pm)
            pending.append((parent, ps, pm))
        stack.extend(reversed(pending))  # first parent first: arrivals in input order
    return arrivals, unknown


def went_through(node, rm):
    """``[(node, sure, masks, inputs)]`` for every operation (and source) behind ``node``
    that some row of the array (row map ``rm``, the array's) went through, inputs before
    their users; ``sure`` False means "may have"; ``masks`` maps ``id(result map)`` to
    ``(map, maybe mask)``; ``inputs``: the ids of the input nodes those rows came from."""
    from ._graph import ancestors

    steps = ancestors(node)
    states = {id(s): _State(s) for s in steps}
    first = states[id(node)]
    if any(r is rm for r in node_rows(node)):
        first.add(rm, _full(rm, True), _full(rm, True))
    else:
        first.add_all(True)
    first.sure = True  # the array's own operation
    for step in reversed(steps):
        state = states[id(step)]
        inputs = [p for p in step[INPUTS] if p is not None]
        if not inputs or not state.maybe:
            continue
        maps = node_rows(step)
        if step[OP] == UNRECORDED or not maps:
            for p in inputs:
                states[id(p)].add_all(False)
                state.inputs.add(id(p))
            continue
        targets = {}
        for j, p in enumerate(inputs):
            for r in node_rows(p):
                targets.setdefault(id(r), []).append(j)
        unknown = any(not node_rows(p) for p in inputs)
        reached = {}
        for rm_out, sure, maybe in state.maps.values():
            arrivals, lost = _walk(rm_out, sure, maybe, targets)
            unknown = unknown or lost
            for key, masks in arrivals.items():
                reached.setdefault(key, []).extend(masks)
        for key, masks in reached.items():
            sharers = targets[key]
            target = next(r for r in node_rows(inputs[sharers[0]]) if id(r) == key)
            distinct = {id(states[id(inputs[j])]) for j in sharers}
            if len(distinct) == 1 or len(masks) == 1:
                # one input, or one way in shared by all (the same rows of each)
                given = [(j, s, m) for j in dict.fromkeys(sharers) for s, m in masks]
            elif len(masks) == len(sharers):
                # the same map reached once per input, in order (concatenation)
                given = [(j, s, m) for j, (s, m) in zip(sharers, masks)]
            else:
                every = np.logical_or.reduce([m for _, m in masks])
                given = [(j, np.zeros_like(every), every) for j in sharers]
            for j, s, m in given:
                if m.any():
                    states[id(inputs[j])].add(target, s, m)
                    state.inputs.add(id(inputs[j]))
        for p in inputs:
            if unknown or not any(id(r) in reached for r in node_rows(p)):
                # a way in the result's map does not describe (an index or a condition
                # that chose the rows, a shape): any of its rows may be behind them
                states[id(p)].add_all(False)
                state.inputs.add(id(p))
    out = []
    for step in steps:
        state = states[id(step)]
        if state.maybe:
            masks = {k: (v[0], v[2]) for k, v in state.maps.items()}
            out.append((step, state.sure, masks, state.inputs))
    return out


def codes_at(rm, mask, memo=None):
    """Codes of the sources behind rows ``mask`` of ``rm`` (direct and pooled); None
    where its row ids were dropped. ``memo`` keeps what pooled inputs hold, by map."""
    if rm.dropped is not None:
        return None
    if memo is None:
        memo = {}
    rows = np.flatnonzero(mask) if rm.n is not None else None
    found = set()
    for s in rm.ids:
        # (the codes first: NumPy's unique hashes a million packed ids in about a second)
        found.update(np.unique(codes_of(s if rows is None else s[rows])).tolist())
    if rm.pools:
        _pools_codes(rm, rows, memo, found)
    found.discard(0)
    return found


#: Masks of a group of pools tested one by one; more are tested in one NumPy call.
_FEW_MASKS = 16


def _pools_codes(rm, rows, memo, found):
    """Add to ``found`` the codes behind the pools of ``rm`` that apply to some row of
    ``rows`` (indices; a slice for every row; None: a collapsed map, where every pool
    applies).

    A map holds every input pooled into its rows so far (each ``x - x.mean(axis=0)`` of
    a loop adds one), so the maps of a long graph hold many pools, which hold few
    distinct sets of codes (a few sources): the pools are grouped by their codes, and a
    group's masks are tested only when its codes are not all found yet, at most once.
    """
    pools = rm.pools
    maps = [p.rowmap for p, _ in pools]
    sets = list(map(memo.get, map(id, maps)))
    if None in sets:
        sets = [_pooled_codes(m, memo) if s is None else s for m, s in zip(maps, sets)]
    for codes in dict.fromkeys(sets):
        if codes <= found:
            continue
        if rows is None:
            found |= codes
            continue
        masks = [m for (_, m), s in zip(pools, sets) if s == codes]
        # (a mask may end before the last row: the rows past it are False)
        masks = [m if m is None else full(m, rm.n) for m in masks]
        if any(m is None for m in masks):
            found |= codes
        elif len(masks) > _FEW_MASKS:
            if np.array(masks)[:, rows].any():
                found |= codes
        elif any(m[rows].any() for m in masks):
            found |= codes


def _pooled_codes(rm, memo):
    """Codes of the sources behind every row of ``rm`` (a pooled input), a frozenset."""
    key = id(rm)
    found = memo.get(key)
    if found is not None:
        return found
    if rm.dropped is not None:
        raise LookupError(rm.dropped)
    memo[key] = frozenset()  # a cycle cannot occur; guards recursion anyway
    found = set()
    for s in rm.ids:
        found.update(np.unique(codes_of(s)).tolist())
    if rm.pools:
        _pools_codes(rm, None if rm.n is None else slice(None), memo, found)
    found = frozenset(found)
    memo[key] = found
    return found
