"""The witness rows of one load indexed by their values (:mod:`._misplaced`): each
row's values, and per column the row of each value no other witness row has, which is
what names a row, and how likely a row is to share a record's values by chance
(:mod:`._misplaced_chance`). Built once per load while the loads kept stay the same, and
dropped when witness rows are forgotten."""

from collections import Counter

import numpy as np

from ._misplaced_chance import by_chance as _expected
from ._misplaced_chance import domain
from ._witness import WITNESSES, cell_keys


class _Index:
    """The witness rows of one load keyed by their values in ``cols``: each row's
    values, and per column the row of each value no other witness row has."""

    def __init__(self, w, cols):
        self.ids = w.ids
        self.keys = list(zip(*(cell_keys(w.columns[n]) for n in cols)))
        self.unique, self.counts, self._domains = [], [], {}
        for j in range(len(cols)):
            counts = Counter(key[j] for key in self.keys if key[j] is not None)
            self.counts.append(counts)
            self.unique.append(
                {key[j]: k for k, key in enumerate(self.keys) if counts[key[j]] == 1}
            )

    def by_chance(self, row, row_id):
        """How many witness rows would share ``row``'s values with the record of
        ``row_id`` by chance (:func:`._misplaced_chance.by_chance`), from what each
        column where they are equal draws from."""
        shared = []
        for j, (v, r) in enumerate(zip(row, self.keys_of(row_id))):
            if v is None or v != r:
                continue
            if j not in self._domains:  # (only where a match is weighed: few columns)
                self._domains[j] = domain(self.counts[j])
            shared.append((self.counts[j], self._domains[j], v))
        return _expected(len(self.keys), shared)

    def naming(self, row, row_id):
        """How many of ``row``'s values name the witness row ``row_id`` (no other witness
        row has them)."""
        at = int(np.flatnonzero(self.ids == row_id)[0])
        return sum(v is not None and u.get(v) == at for u, v in zip(self.unique, row))

    def keys_of(self, row_id):
        return self.keys[int(np.flatnonzero(self.ids == row_id)[0])]

    def closest(self, row):
        """``(id, columns equal)`` of the witness row sharing the most values with
        ``row``, among those one of its values alone names; ``(None, 0)`` for none.

        A value no other witness row has is what names a row: a recoding of
        low-cardinality values (flipped bits) maps rows onto each other's combinations
        of values, rarely onto such a value (in a file of a few rows, by chance: see
        :meth:`by_chance`).
        """
        named = {u[v] for u, v in zip(self.unique, row) if v is not None and v in u}
        best, most = None, 0
        for k in sorted(named):
            equal = sum(a == b for a, b in zip(row, self.keys[k]))
            if equal > most:
                best, most = int(self.ids[k]), equal
        return best, most


class _ForgetIndexes:
    """Empties :data:`_INDEXES` when witness rows are forgotten or cleared: the indexes
    hold their values, which must not outlive them."""

    def forget(self, ids):
        _INDEXES.clear()

    def clear(self):
        _INDEXES.clear()


#: ``(id(load), loaded columns)`` -> ``(version, load, index)``: a load's
#: :class:`_Index`, built once while the loads kept stay the same (each fit searches
#: every load kept: built anew, about 1.5 ms per load of 256 to 512 witness rows).
_INDEXES = {}
WITNESSES.follow(_ForgetIndexes())


def _index_of(load, cols):
    version = WITNESSES.version
    key = (id(load), cols)
    kept = _INDEXES.get(key)
    if kept is not None and kept[0] == version and kept[1] is load:
        return kept[2]
    index = _Index(load, list(cols))
    if len(_INDEXES) > 4096:  # (bounded: loads come and go in a long session)
        _INDEXES.clear()
    _INDEXES[key] = (version, load, index)
    return index


def _names_own(k, row, own, indexes):
    """Whether ``row`` holds a value of ``own``'s record that no other witness row of
    load ``k`` has (a value that names the record, as a key does)."""
    index = indexes[k]
    record = index.keys_of(own)
    return any(
        v is not None and v == r and index.unique[j].get(v) is not None
        for j, (v, r) in enumerate(zip(row, record))
    )
