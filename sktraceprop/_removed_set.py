"""The rows of one removal, kept compactly: what the refit check asks of them.

A removal of a million rows kept one Python string per row (``"people line 5"``, with
its dict entry and int key: about 100 MB held for the process's life). Here the rows
are one sorted int64 array (8 bytes a row), the names of their sources one entry per
source, and a merged row named by the file row it was built from one pair of int64s
(the only rows whose name is not their own source and line). A row's words are made
when a warning names it (five at most), never kept.
"""

import numpy as np

from ._lineage._ids import codes_of, distinct_codes, lines_of
from ._state_format import check_record, record_of

__all__ = ["ERASURE_WHAT", "RemovedRows", "removed_how"]

#: How :attr:`RemovedRows.what` of an erasure request's rows begins (those of an
#: unlearner's removal begin otherwise): warnings say them "erased from the store".
ERASURE_WHAT = "erasure event "


def removed_how(removals):
    """How rows were removed, in words: from a model (an unlearner's removal), from the
    store (an erasure request, :mod:`._removed_in_store`), or both (``removals``: the
    :class:`RemovedRows` that found them)."""
    erased = {removed.what.startswith(ERASURE_WHAT) for removed in removals}
    if erased == {True}:
        return "erased from the store"
    return "removed from a model" + (" or erased from the store" if True in erased else "")


_NONE = np.zeros(0, np.int64)
_NONE.flags.writeable = False


def _loaded(record, ids, what, sources, alias, by):
    """A :class:`RemovedRows` read back from its pickle, once its record is read."""
    check_record(RemovedRows, record)
    out = RemovedRows.of_sorted(ids, what, sources)
    out._alias, out._by = np.asarray(alias, np.int64), np.asarray(by, np.int64)
    return out


def _sorted(ids):
    out = np.unique(np.asarray(ids, dtype=np.int64))
    out.flags.writeable = False
    return out


def _index(sorted_ids, row_id):
    """The position of ``row_id`` in ``sorted_ids``, or -1."""
    k = int(np.searchsorted(sorted_ids, row_id))
    return k if k < sorted_ids.size and int(sorted_ids[k]) == row_id else -1


class RemovedRows:
    """The rows one removal removed, how a warning names them, and what removed them.

    Parameters
    ----------
    ids : array-like of int64
        The removed row ids (packed: source code and line).
    what : str
        What removed them, as a warning says it.
    sources : dict
        ``{code: source_id}`` of the codes whose rows are named by their own source
        and line; a row of another code (an inner merge's row) has no words.
    aliases : tuple of array-like, default=None
        ``(row ids, named by)``: rows named by another row's source and line (a merged
        training row by the file row it was built from).
    """

    __slots__ = ("_alias", "_by", "_sources", "ids", "what")
    # (its pickle passes _loaded its record: see sktraceprop._state_format)
    _state_format = 1
    _state_upgrades = {}

    def __init__(self, ids, what, sources, aliases=None):
        self.ids = _sorted(ids)
        self.what = what
        self._sources = {int(c): str(s) for c, s in sources.items()}
        if aliases is None:
            self._alias = self._by = _NONE
            return
        keys, by = np.asarray(aliases[0], np.int64), np.asarray(aliases[1], np.int64)
        # the last pair of a key wins, as a dict built from the pairs would keep it
        last = keys.size - 1 - np.unique(keys[::-1], return_index=True)[1]
        self._alias, self._by = keys[last], by[last]

    @classmethod
    def of_sorted(cls, ids, what, sources):
        """The rows ``ids``, already sorted and each once (a read-only copy is not made
        again: the refit check makes one per removal event of a store), with no
        aliases."""
        out = cls.__new__(cls)
        out.ids = np.asarray(ids, dtype=np.int64)
        out.ids.flags.writeable = False
        out.what = what
        out._sources = {int(c): str(s) for c, s in sources.items()}
        out._alias = out._by = _NONE
        return out

    @classmethod
    def named_here(cls, ids, what, source):
        """The rows ``ids``, each named by its own source (``source``: code -> record)."""
        codes = distinct_codes(np.asarray(ids, dtype=np.int64)).tolist()
        return cls(ids, what, {c: source(c).source_id for c in codes})

    def __reduce__(self):
        kept = (self.ids, self.what, self._sources, self._alias, self._by)
        return (_loaded, (record_of(RemovedRows), *kept))

    def __setstate__(self, state):
        # only a pickle from before its state format calls this (copyreg's form: its
        # slots, ``(None, {name: value})``); the record it lacks is said, the rows kept
        check_record(RemovedRows, None)
        for name, value in state[1].items():
            setattr(self, name, value)
        self.ids.flags.writeable = False

    def __contains__(self, row_id):
        return _index(self.ids, int(row_id)) >= 0

    def isin(self, rows):
        """Which of ``rows`` were removed (a boolean array)."""
        rows = np.asarray(rows, dtype=np.int64)
        k = np.minimum(np.searchsorted(self.ids, rows), max(self.ids.size - 1, 0))
        return self.ids[k] == rows if self.ids.size else np.zeros(rows.shape, bool)

    def get(self, row_id, default=None):
        """``"<source_id> line n"`` of a removed row, or ``default`` where it has none."""
        row_id = int(row_id)
        if row_id not in self:
            return default
        k = _index(self._alias, row_id)
        named = int(self._by[k]) if k >= 0 else row_id
        one = np.asarray([named], np.int64)
        source_id = self._sources.get(int(codes_of(one)[0]))
        if source_id is None:
            return default
        return f"{source_id} line {int(lines_of(one)[0])}"

    def nbytes(self):
        """Bytes of the arrays kept (the per-source names aside)."""
        return self.ids.nbytes + self._alias.nbytes + self._by.nbytes
