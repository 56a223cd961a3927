"""The loads searched for the records of moved witness rows (:mod:`._misplaced`): every
load this process keeps, other sources' too, and for each what is built when first
needed (its index by value, a merge's rows); the loads a candidate row may name are found
by set operations over the values, not a lookup per row and load."""

from collections import Counter

from ..exceptions import LineageError
from ._misplaced_columns import MIN_COLUMNS
from ._misplaced_index import _index_of
from ._misplaced_merge import MergeRows
from ._source import REGISTRY
from ._witness import WITNESSES, cell_keys


class _Searched:
    """The loads searched for the records of moved rows, and what is built for each
    when first needed: ``indexes`` (its witness rows by value,
    :class:`._misplaced_index._Index`), ``merges`` (a merge's rows, :func:`_merge_rows`)
    and the candidates' rows as keys of its compared columns."""

    def __init__(self, loads, sources, columns):
        self.loads, self.sources, self.columns = loads, sources, columns
        self.indexes, self.merges = {}, {}
        self._keys, self._values, self._named = {}, {}, {}

    def _column_keys(self, name, mine):
        """The candidates' keys in column ``name`` (the same for every load)."""
        if (name, id(mine)) not in self._keys:
            self._keys[name, id(mine)] = cell_keys(mine[name])
        return self._keys[name, id(mine)]

    def build(self, k):
        """Build load ``k``'s index and merge rows, once."""
        if k not in self.indexes:
            cols = self.columns[k]
            self.indexes[k] = _index_of(self.loads[k], tuple(m for _, m in cols))
            self.merges[k] = _merge_rows(self.sources[k], self.loads[k], cols)

    def row(self, k, mine, c):
        """Row ``c`` of the candidates' columns ``mine`` as keys of load ``k``'s compared
        columns."""
        self.build(k)
        return tuple(self._column_keys(n, mine)[c] for n, _ in self.columns[k])

    def _by_value(self, name, mine):
        """Key -> the candidates holding it in column ``name``."""
        if (name, id(mine)) not in self._values:
            by_value = {}
            for c, v in enumerate(self._column_keys(name, mine)):
                by_value.setdefault(v, []).append(c)
            self._values[name, id(mine)] = by_value
        return self._values[name, id(mine)]

    def others(self, mine, c, first):
        """The loads from ``first`` on (other sources') to search for candidate ``c``'s
        record: a merge's, and those where it holds ``MIN_COLUMNS`` values or more that
        name witness rows (no other witness row has them), the only ones whose record
        :meth:`._misplaced_index._Index.naming` can find. Found for every candidate at once, by set
        operations over the values (every load kept is searched)."""
        if id(mine) not in self._named:
            named = {}
            for k in range(first, len(self.loads)):
                if len(self.columns[k]) < MIN_COLUMNS:
                    continue
                self.build(k)
                if self.merges[k] is not None:
                    continue
                counts = Counter()
                for j, (name, _) in enumerate(self.columns[k]):
                    by_value = self._by_value(name, mine)
                    for v in self.indexes[k].unique[j].keys() & by_value.keys():
                        counts.update(by_value[v])
                for c_named, n in counts.items():
                    if n >= MIN_COLUMNS:
                        named.setdefault(c_named, []).append(k)
            merges = [k for k in range(first, len(self.loads)) if self.merges.get(k) is not None]
            self._named[id(mine)] = (named, merges)
        named, merges = self._named[id(mine)]
        return sorted(merges + named.get(c, []))


def _other_loads(codes):
    """``[(source, load)]``: the loads kept in this process (:data:`._witness.WITNESSES`)
    of the sources not in ``codes`` whose source is registered with the content
    loaded."""
    mine = {int(c) for c in codes}
    _, every = WITNESSES.every_load()
    out = []
    for code in sorted({int(c) for c, _ in every} - mine):
        try:
            source = REGISTRY.by_code(code)
        except LineageError:  # (a code no source here has: nothing to name it by)
            continue
        out += [(source, load) for load in WITNESSES.loads(code, source.sha256)]
    return out


def _merge_rows(source, load, cols):
    """:class:`._misplaced_merge.MergeRows` of a load of a merge made in this process,
    else ``None``."""
    if source.kind != "merge" or load.sides is None or source.parents is None:
        return None
    return MergeRows(source, load, cols)
