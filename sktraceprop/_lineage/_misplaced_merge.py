"""The merged rows a row of a merge holds, named through their parents' values.

In a many-to-many merge every value repeats, once per row of its join group, so no
value of the merge names one of its rows, and the row whose values a moved row holds is
rarely one of the merge's witness rows (one in two of them at 1,000 rows). Its parents
are named: a value that one witness row of a parent alone holds names that parent row,
on the side of the merge its column came from. The merged rows joining the parent rows
named on each side (any row, on a side no value names) are the rows the moved row may
hold, and their records are their parents' witness values, side by side. A value
counts as held only on a side whose parent its values name: the other side of a merge
with a small lookup table holds every combination of two 0/1 columns beside each
lookup row, matched by chance by any row of them.

A row holding values of merged rows that ``X`` also holds, each under its own id and
with those values, is a row made equal to them (two columns copied onto the other side,
values capped): a row moved leaves, along its chain of moves, a row of them without its
values, or out of ``X``. Only such a row is excused.
"""

from collections import Counter

import numpy as np

from ..exceptions import LineageError
from ._ids import LINE_BITS, pack
from ._source import REGISTRY
from ._witness import WITNESSES, _take_columns, cell_keys


def merge_sides(origins, left_codes, right_codes):
    """What a merge's witness rows keep to name its rows by their parents' values
    (``sides=`` of :meth:`._witness._Witnesses.add`): each output column -> its
    ``(side, input column)`` pairs (side 0 left, 1 right), and each side's source codes.

    ``origins`` maps each output column to ``[("left" or "right", input column), ...]``.
    """
    columns = {
        name: tuple((0 if side == "left" else 1, str(col)) for side, col in refs)
        for name, refs in origins.items()
    }
    return columns, (tuple(left_codes), tuple(right_codes))


class _Parent:
    """One parent source's witness values in one column: each row's keys (over its
    loads) and the row each value names (held by one witness row alone)."""

    def __init__(self, code, column):
        try:
            source = REGISTRY.by_code(code)
        except LineageError:  # unknown or ambiguous here: its values name no row
            source = None
        self.keys, holders = {}, {}
        for w in WITNESSES.loads(code, source.sha256) if source is not None else []:
            if column in w.columns:
                for row_id, key in zip(w.ids.tolist(), cell_keys(w.columns[column])):
                    self.keys.setdefault(row_id, set()).add(key)
                    if key is not None:
                        holders.setdefault(key, set()).add(row_id)
        self.names = {key: next(iter(r)) for key, r in holders.items() if len(r) == 1}


class MergeRows:
    """Names the rows of one merge that rows of ``X`` hold, in the columns ``cols``.

    Parameters
    ----------
    source : Source
        The merge (``kind == "merge"``, with its parents in this process).
    load : _Load
        Its witness rows, with ``sides`` (see :func:`merge_sides`).
    cols : list of (str, str)
        ``(column of X, loaded column)`` compared.
    """

    def __init__(self, source, load, cols):
        self.code = source.code
        self.parents = source.parents
        columns, self.side_codes = load.sides
        # per compared column: its (side, parent column) pairs (two for a join key)
        self.refs = [columns.get(loaded, ()) for _, loaded in cols]
        self._values = {}  # (code, parent column) -> _Parent
        self._by_parent = None
        # made once: parents -> rows, row -> record, (row, columns) -> held in X
        self._rows, self._records, self.held = {}, {}, {}
        self._first = int(pack(self.code, [1])[0])  # the row id of the merge's row 0

    def _parent(self, code, column):
        if (code, column) not in self._values:
            self._values[code, column] = _Parent(code, column)
        return self._values[code, column]

    def named(self, row):
        """Per side, the parent rows named by the most values of ``row``."""
        votes = [Counter(), Counter()]
        for key, refs in zip(row, self.refs):
            for side, column in refs if key is not None else ():
                for code in self.side_codes[side]:
                    named = self._parent(code, column).names.get(key)
                    if named is not None:
                        votes[side][named] += 1
        out = []
        for vote in votes:
            most = max(vote.values(), default=0)
            out.append({p for p, n in vote.items() if n == most} if most else None)
        return out

    def _rows_with(self, parent_ids):
        """``(merged row, position among its parents, its number of parents)`` of every
        merged row with one of ``parent_ids`` as a parent."""
        parent_ids = tuple(sorted(parent_ids))
        if parent_ids not in self._rows:
            self._rows[parent_ids] = self._find_rows(parent_ids)
        return self._rows[parent_ids]

    def _find_rows(self, parent_ids):
        if self._by_parent is None:
            order = np.argsort(self.parents.ids, kind="stable")
            self._by_parent = order, self.parents.ids[order]
        order, sorted_ids = self._by_parent
        wanted = np.asarray(parent_ids, dtype=np.int64)
        lo, hi = np.searchsorted(sorted_ids, wanted), np.searchsorted(sorted_ids, wanted, "right")
        at = order[np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)])]
        indptr = self.parents.indptr
        rows = np.searchsorted(indptr, at, side="right") - 1
        return rows, at - indptr[rows], indptr[rows + 1] - indptr[rows]

    def candidates(self, row):
        """Merged rows (0-based) that may hold ``row``'s values: those joining, on each
        side, a parent row its values name (any, on a side they name none)."""
        named = self.named(row)
        found = None
        for side, parents in enumerate(named):
            if parents is None:
                continue
            rows, at, count = self._rows_with(parents)
            # a row with one parent (one side matched): either side
            here = set(rows[(at == side) | (count == 1)].tolist())
            found = here if found is None else found & here
        return sorted(found or ())

    def record(self, merged):
        """Each compared column's keys of merged row ``merged`` (0-based), as its parents
        were loaded (a set per column; empty where unknown), for each way its parents
        may sit on the sides (two for a row with one parent)."""
        if merged not in self._records:
            self._records[merged] = self._record(merged)
        return self._records[merged]

    def _layouts(self, merged):
        """Merged row ``merged``'s parent ids per side (left, right; ``None`` for no
        row), for each way they may sit (two for a row with one parent)."""
        lo, hi = self.parents.indptr[merged], self.parents.indptr[merged + 1]
        ids = self.parents.ids[lo:hi].tolist()
        return [ids] if len(ids) == 2 else [[ids[0], None], [None, ids[0]]] if ids else []

    def _record(self, merged):
        out = []
        for layout in self._layouts(merged):
            keys = []
            for refs in self.refs:
                cell = set()
                for side, column in refs:
                    parent = layout[side]
                    if parent is None:
                        cell.add(None)  # no row on this side: loaded missing
                        continue
                    code = parent >> LINE_BITS
                    cell |= self._parent(code, column).keys.get(parent, set())
                keys.append(cell)
            out.append(keys)
        return out

    def shared(self, row, merged, named=None):
        """Positions of the columns where ``row`` holds merged row ``merged``'s values,
        for the layout of its parents it shares most with.

        With ``named`` (:meth:`named`, of ``row``): only the columns of a side whose
        parent row of ``merged`` its values name. On a side they name no row, the
        merged rows joining the parent named on the other side (a lookup table's row,
        copied to many) hold every combination of that side's low-entropy values
        (two 0/1 columns): ``row`` holding one of them is chance, not a row moved.
        """
        best = []
        for layout, keys in zip(self._layouts(merged), self.record(merged)):
            anchored = [
                named is None
                or any(
                    layout[side] is not None
                    and named[side] is not None
                    and layout[side] in named[side]
                    for side, _ in refs
                )
                for refs in self.refs
            ]
            equal = [
                j for j, (key, cell) in enumerate(zip(row, keys)) if key in cell and anchored[j]
            ]
            if len(equal) > len(best):
                best = equal
        return best

    def row_id(self, merged):
        """The row id of merged row ``merged`` (0-based)."""
        return self._first + merged


class RowsOfX:
    """The rows of ``X`` by row id, found by one sort made when first asked, and their
    keys in some columns (those columns copied once)."""

    def __init__(self, X, ids):
        self.X, self.ids = X, ids
        self._sorted, self._columns = None, {}

    def keys(self, row_id, columns):
        """Keys (:func:`._witness.cell_keys`) in ``columns`` of each row of ``X`` with
        the id ``row_id``."""
        if self._sorted is None:
            order = np.argsort(self.ids, kind="stable")
            self._sorted = order, self.ids[order]
        order, sorted_ids = self._sorted
        lo, hi = np.searchsorted(sorted_ids, [row_id, row_id + 1])
        if lo == hi:
            return []
        if columns not in self._columns:
            names = [str(c) for c in self.X.columns]
            self._columns[columns] = self.X.iloc[:, [names.index(c) for c in columns]]
        taken = _take_columns(self._columns[columns], order[lo:hi])
        return list(zip(*(cell_keys(c) for c in taken)))


def held_merged_row(cols, row, own, agree, merge, rows_of_x, min_columns, excusable=True):
    """The merged row that ``row`` (keys of a row of ``X`` with id ``own``, in ``cols``)
    holds more values of than of its own record (``agree`` values), or ``None``.
    ``rows_of_x``: :class:`RowsOfX` of ``X``.

    Returns ``(row id, positions of the columns shared)``. ``None`` also where every
    merged row it may hold is in ``X`` under its own id with those values: a row made
    equal to them (see the module's docstring), unless not ``excusable`` (its own id is
    in ``X`` with its own record too: an id twice, once wrong).
    """
    named = merge.named(row)
    scored = [(merge.shared(row, r, named), r) for r in merge.candidates(row)]
    most = max((len(s) for s, _ in scored), default=0)
    if most < min_columns or most <= agree:
        return None
    best = [(s, r) for s, r in scored if len(s) == most]
    if any(merge.row_id(r) == own for _, r in best):
        return None
    for shared, r in best:
        if not excusable or not _holds_own(cols, merge, r, shared, rows_of_x):
            return merge.row_id(r), shared
    return None


def _holds_own(cols, merge, merged, shared, rows_of_x):
    """Whether a row of ``X`` with merged row ``merged``'s id holds its values in the
    columns ``shared`` (asked once: rows made equal to one row name it each time)."""
    if (merged, tuple(shared)) not in merge.held:
        found = rows_of_x.keys(merge.row_id(merged), tuple(cols[j][0] for j in shared))
        merge.held[merged, tuple(shared)] = any(
            all(key in record[j] for key, j in zip(keys, shared))
            for keys in found
            for record in merge.record(merged)
        )
    return merge.held[merged, tuple(shared)]
