"""Per source, the data's rows of it, in the data's order and their ids', and their
positions among a load's witness rows: found once per fit for the checks of
:mod:`._over_rows`."""

import numpy as np

from ._witness import is_witness, positions_in


class _RowsOf:
    """Per source code, the data's rows of it (their positions and ids), their ids'
    order and their positions among each load's witness rows: found once per fit and
    shared by the columns compared."""

    def __init__(self, ids):
        self.ids = ids
        self._kept = {}
        self.cache = {}  # (the lines each load keeps, and the rows' positions among them)

    def of(self, code):
        """``(positions in the data, ids)`` of the rows of source ``code``."""
        if code not in self._kept:
            from ._ids import codes_of

            mine = np.flatnonzero(codes_of(self.ids) == code)
            self._kept[code] = (mine, self.ids[mine])
        return self._kept[code]

    def order(self, code):
        """The order of the ids of ``code``'s rows (None where they are in order)."""
        key = ("order", code)
        if key not in self._kept:
            ids = self.of(code)[1]
            in_order = bool((ids[1:] >= ids[:-1]).all())  # (the file's order already)
            self._kept[key] = None if in_order else np.argsort(ids)  # (ids are unique)
        return self._kept[key]

    def now_at(self, code, values):
        """A function of row ids (any shape) giving ``(values now, held)``: ``values``
        (the column now on ``code``'s rows) at each id the data holds, NaN and False
        where it does not."""
        key = ("sorted", code)
        if key not in self._kept:
            order = self.order(code)
            ids = self.of(code)[1]
            self._kept[key] = ids if order is None else ids[order]
        sorted_ids, order = self._kept[key], self.order(code)

        def at(ids):
            where = positions_in(sorted_ids, ids)
            held = where >= 0
            if order is not None:
                where = np.where(held, order[np.maximum(where, 0)], -1)
            return np.where(held, values[np.maximum(where, 0)], np.nan), held

        return at

    def witnesses(self, code, load):
        """Per order to try (the data's, then its ids' where not the same): ``(order
        or None, positions of ``load``'s witness rows among ``code``'s rows in that
        order, but the first, their positions among the load's)``."""
        key = ("at", code, id(load))
        if key not in self._kept:
            ids = self.of(code)[1]
            if load.chosen is None and load.stride > 1:  # (the hash first: a multiply)
                at = np.full(ids.size, -1, dtype=np.intp)
                maybe = np.flatnonzero(is_witness(ids, load.stride))
                at[maybe] = load.positions(ids[maybe])
            else:
                at = load.positions(ids)
            out = []
            for order in (None, self.order(code)):
                if order is None and out:
                    break
                ordered = at if order is None else at[order]
                rows = np.flatnonzero(ordered[1:] > -1) + 1
                out.append((order, rows, ordered[rows]))
            self._kept[key] = out
        return self._kept[key]
