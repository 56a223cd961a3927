"""The sources a set of row ids names (merge and aggregate parents included), and the
ops fitted outside any pipeline on them."""

from ._ids import distinct_codes
from ._source import REGISTRY


def upstream_ops(codes):
    """Ops applied outside the estimator (by :class:`TracedEstimator`) to these sources
    (matched by identity: an op fitted on one ``data.csv`` is not another folder's)."""
    return REGISTRY.ops_on({REGISTRY.by_code(c).key for c in codes})


def source_table(ids):
    """Every source the ids name, merge parents included, by code."""
    return source_closure(distinct_codes(ids))


def source_closure(codes):
    """The sources of ``codes`` and, transitively, their merge/aggregate parents, by code."""
    table, todo = {}, list(codes)
    while todo:
        code = int(todo.pop())
        if code in table:
            continue
        source = REGISTRY.by_code(code)
        table[code] = source
        todo.extend(int(c) for c in source.parent_codes)
    return dict(sorted(table.items()))
