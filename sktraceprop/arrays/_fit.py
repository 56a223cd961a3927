"""What a traced array given to a traced fit contributes to the run: row ids and ops.

A row made of exactly one source row keeps that row's id (the array's own id column,
shared). Any other row (two parents from ``a + b``, rows pooled in by a mean over rows)
gets the id of a *merge* source whose row-level parents are those source rows, and each
pool becomes an *aggregate* source (one group: every row it mixed in), the same records
``sktraceprop.merge`` and ``sktraceprop.aggregate`` make for DataFrames. So ``trace()``
names every file line behind a training row, and ``Lineage.depends_on`` sees that
removing one row touches every row that was centred with a mean over it.
"""

import hashlib
import json

import numpy as np

from .._lineage._ids import codes_of, pack
from .._lineage._run import Op
from .._lineage._source import REGISTRY, Parents, Source
from ..exceptions import LineageLostError
from . import _pools
from . import _rowmap as rmap
from ._graph import FRAMEWORK, INPUTS, LEFT_OUT, OP, PARAMS, UNRECORDED, params_dict
from ._provenance_sources import codes_in_graph, unmodelled_ops
from ._provenance_state import state_of
from ._through import went_through


def _names(codes):
    return sorted({REGISTRY.by_code(int(c)).source_id for c in codes})


def _pool_source(pool, memo):
    ids = rmap.expand(pool, memo)
    parents = Parents(indptr=np.array([0, ids.size], np.int64), ids=ids)
    digest = hashlib.sha256(ids.tobytes() + pool.via.encode()).hexdigest()
    parent_codes = tuple(int(c) for c in np.unique(codes_of(ids)))
    return REGISTRY.register(
        Source(
            source_id=f"pool:{pool.via}:{digest[:12]}",
            code=None,
            uri="array-pool:" + "+".join(_names(parent_codes)),
            sha256=digest,
            n_rows=1,
            kind="aggregate",
            parents=parents,
            parent_codes=parent_codes,
            columns_from={},
        )
    )


def fit_row_ids(x):
    """One row id per row of ``x`` for a traced fit (see the module docstring)."""
    rm, _, shape, framework = state_of(x)
    if rm.dropped is not None:
        raise LineageLostError(
            f"the traced {framework} array given to fit has no row ids: {rm.dropped}"
        )
    n = shape[0] if shape else 1
    if rm.n is None:
        rm = rmap.spread(rm, n)
    elif rm.n != n:
        raise LineageLostError(
            f"the traced {framework} array given to fit has a row map of {rm.n} rows for "
            f"{n} rows (a bug in sktraceprop; please report the operations)"
        )
    if len(rm.ids) == 1 and not rm.pools and bool(rm.ids[0].all()):
        # one source row per row: the array's own ids, shared (copied only if strided)
        return np.ascontiguousarray(rm.ids[0])
    columns = [np.asarray(s, dtype=np.int64) for s in rm.ids]
    memo = {}
    for pool, mask in rm.pools:
        agg = _pool_source(pool, memo)
        column = np.full(n, pack(agg.code, [1])[0], dtype=np.int64)
        if mask is not None:
            column = np.where(_pools.full(mask, n), column, 0)
        columns.append(column)
    if not columns:
        columns = [np.zeros(n, np.int64)]
    parents = Parents.from_columns(*columns)
    digest = parents.digest().hexdigest()
    parent_codes = tuple(int(c) for c in parents.codes() if c)
    source = REGISTRY.register(
        Source(
            source_id=f"array:{digest[:12]}",
            code=None,
            uri="array-rows:" + "+".join(_names(parent_codes)),
            sha256=digest,
            n_rows=n,
            kind="merge",
            parents=parents,
            parent_codes=parent_codes,
            columns_from={},
        )
    )
    return pack(source.code, np.arange(1, n + 1))


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _step_codes(steps, came):
    """Codes of the sources behind every step (by ``id`` of the node), through the inputs
    the rows of the array came from (``came``: ids of those inputs, by step)."""
    behind = {}
    for step in steps:
        if step[OP] == "source":
            behind[id(step)] = set(step[PARAMS]["codes"])
        else:
            inputs = [p for p in step[INPUTS] if p is not None and id(p) in came[id(step)]]
            behind[id(step)] = set().union(*(behind[id(p)] for p in inputs))
    return behind


def fit_ops(x):
    """``(ops, notes)``: the array operations behind ``x`` as run :class:`Op` records."""
    rm, node, _, _ = state_of(x)
    # the steps that rows of x went through (provenance(x).ancestors()), not every step
    # of the graph: a step whose rows were all indexed away fitted nothing
    listed = went_through(node, rm) if node is not None else []
    steps = [step for step, _, _, _ in listed]
    came = {id(step): inputs for step, _, _, inputs in listed}
    codes = _step_codes(steps, came)
    prints, ops, notes = {}, [], []
    for k, step in enumerate(steps, start=1):
        op, framework = step[OP], step[FRAMEWORK]
        params = _json_safe(params_dict(step))
        inputs = [prints[id(p)] for p in step[INPUTS] if p is not None and id(p) in came[id(step)]]
        payload = json.dumps(
            {"op": op, "framework": framework, "params": params, "inputs": inputs},
            sort_keys=True,
        )
        if op == "source":
            keys = [REGISTRY.by_code(c).key for c in step[PARAMS]["codes"]]
            payload += json.dumps(keys)
        prints[id(step)] = hashlib.sha256(payload.encode()).hexdigest()
        if op == "source":
            continue
        ops.append(
            Op(
                name=f"array/{k}:{op}",
                cls=f"{framework}.{op}",
                params=params,
                fingerprint=prints[id(step)],
                sources=sorted({REGISTRY.by_code(c).source_id for c in codes[id(step)]}),
                source_keys=sorted({REGISTRY.by_code(c).key for c in codes[id(step)]}),
            )
        )
    if any(s[OP] == UNRECORDED for s in steps):
        notes.append(f"array ops: {LEFT_OUT['batch']}")
    maybe = sorted({step[OP] for step, sure, _, _ in listed if not sure and step[OP] != "source"})
    if maybe:
        notes.append(
            "array ops the training rows may have gone through (how their rows relate to "
            f"their inputs' was not recorded): {', '.join(maybe)}"
        )
    unmodelled = unmodelled_ops(steps)
    if unmodelled:
        notes.append(
            "array ops not modelled row by row (every output row recorded as depending on "
            f"every input row): {', '.join(unmodelled)}"
        )
    if node is None:
        notes.append("array ops: none recorded for the array given to fit")
    if rm.dropped is None and rm.pools:
        notes.append(
            "rows of the array given to fit depend on other rows through "
            + ", ".join(sorted({p.via for p, _ in rm.pools}))
            + " (recorded as aggregate sources)"
        )
    return ops, notes


def sources_of(x):
    """Light records of every source behind ``x`` (they travel with a pickle)."""
    rm, node, _, _ = state_of(x)
    return [s.light() for s in codes_in_graph(rm, node).values()]
