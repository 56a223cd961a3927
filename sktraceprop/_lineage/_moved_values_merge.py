"""Values of a merge's column moved from one of its rows to another, named through
the merge's parents (:mod:`._moved_values` for a merge).

A value moved names the row it came from when one witness row alone holds it. In a
many-to-many merge no value does: each repeats once per row of its join group (a right
record's ``b`` is in every merged row joining it). Yet it names one row of the parent
it was merged from, on the side its column came from (:mod:`._misplaced_merge`). A row
whose value in such a column names a parent row that is none of its own parents holds a
value of another merged row, whose line its lineage does not name: after the index of a
merge was permuted, a row kept its left record's values and took another right
record's only value in ``X`` (``b_r``), and the fit named its own right line without a
warning (one column changed, a note). A value naming one of the row's own parents, on
either side (``a_r`` overwritten with ``a``), comes from a line its lineage names.
"""

import numpy as np

from ._ids import pack
from ._misplaced_merge import _Parent


class MergeValues:
    """Names the merged row whose value a row of merge ``source`` holds in one column.

    Parameters
    ----------
    source : Source
        The merge (``kind == "merge"``, its parents in this process).
    loads : list of _Load
        Its witness loads (one with ``sides`` tells each column's side).
    """

    def __init__(self, source, loads):
        self.sides = next((w.sides for w in loads if w.sides is not None), None)
        self.parents = source.parents
        self._first = int(pack(source.code, [1])[0])  # (the row id of merged row 0)
        self._values, self._by_pair = {}, None

    @classmethod
    def of(cls, source, loads):
        """A :class:`MergeValues`, or ``None`` where ``source`` is no merge made here."""
        if source.kind != "merge" or getattr(source, "parents", None) is None:
            return None
        out = cls(source, loads)
        return out if out.sides is not None else None

    def _named(self, side, column, key):
        """The parent row ids that value ``key`` of parent column ``column`` names."""
        out = set()
        for code in self.sides[1][side]:
            if (code, column) not in self._values:
                self._values[code, column] = _Parent(code, column)
            named = self._values[code, column].names.get(key)
            if named is not None:
                out.add(named)
        return out

    def _parents_of(self, row_id):
        merged = row_id - self._first
        if not 0 <= merged < self.parents.indptr.size - 1:
            return None
        lo, hi = self.parents.indptr[merged], self.parents.indptr[merged + 1]
        return self.parents.ids[lo:hi].tolist()

    def holder(self, column, row_id, key):
        """``(row id, strict)``: the merged row whose value ``key`` in ``column`` row
        ``row_id`` holds, where its value names a parent row other than the row's own on
        the column's side (``strict`` where it is none of the row's parents), or
        ``None``. A join key (of both sides) names no side, and is no evidence."""
        refs = self.sides[0].get(column, ())
        own = self._parents_of(row_id)
        if len(refs) != 1 or not own:
            return None
        side, parent_column = refs[0]
        named = self._named(side, parent_column, key)
        if len(named) != 1 or named <= {own[side]} or (len(own) == 1 and named & set(own)):
            return None
        (parent,) = named
        # the merged row joining it with the row's other parent, where there is one
        want = list(own)
        if len(own) == 2:
            want[side] = parent
        return self._row_with(parent, want), parent not in own

    def _row_with(self, parent, want):
        """The row id of a merged row with parent ``parent``: the one whose parents are
        ``want`` (left, right) where there is one, else the first."""
        if self._by_pair is None:
            order = np.argsort(self.parents.ids, kind="stable")
            self._by_pair = order, self.parents.ids[order]
        order, sorted_ids = self._by_pair
        lo, hi = np.searchsorted(sorted_ids, [parent, parent + 1])
        if lo == hi:
            return None
        rows = np.searchsorted(self.parents.indptr, order[lo:hi], side="right") - 1
        for merged in rows.tolist():
            lo, hi = self.parents.indptr[merged], self.parents.indptr[merged + 1]
            if self.parents.ids[lo:hi].tolist() == want:
                return self._first + merged
        return self._first + int(rows[0])


def merged_holders(merge, name, keys, differ_ids, mine, evidence):
    """``[(k, row id, holder)]`` for each ``k`` of ``mine`` (positions into ``keys`` and
    ``differ_ids``) whose value in ``name`` names another merged row (see
    :meth:`MergeValues.holder`); ``evidence(key)`` says a key may name a row. A value
    of the row's other parent may be copied within the row (``a_r = a``, its line
    named): such rows count only beside one whose value names none of its parents."""
    out, strict = [], False
    for k in mine:
        if not evidence(keys[k]):
            continue
        found = merge.holder(name, int(differ_ids[k]), keys[k])
        if found is not None and found[0] is not None:
            out.append((int(k), int(differ_ids[k]), found[0]))
            strict |= found[1]
    return out if strict else []
