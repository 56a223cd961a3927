"""Which sources are behind a traced array: from its row map, or from every step of its
operation graph where the row ids were dropped (and whether that graph is complete).

Used by :class:`~._provenance.Provenance` and by traced fits (:mod:`._fit`).
"""

import numpy as np

from .._lineage._ids import codes_of
from .._lineage._record import source_closure
from ..exceptions import LineageError
from . import _rowmap as rmap
from ._graph import INPUTS, OP, PARAMS, ancestors, params_dict
from ._through import codes_at

__all__ = [
    "GRAPH_BASIS",
    "INCOMPLETE",
    "codes_in_graph",
    "graph_incomplete",
    "unmodelled_ops",
]


def _source_codes(ids):
    return {int(c) for c in np.unique(codes_of(ids))} - {0}


def _codes_behind(rm, node):
    """``(codes, basis)``: the sources behind the array's rows, as its row map says; the
    sources of every step of the graph where the row ids were dropped."""
    if rm.dropped is None:
        every = np.ones(1 if rm.n is None else rm.n, bool)
        codes = codes_at(rm, every)
        if node is not None and node[OP] == "source":
            codes |= set(node[PARAMS]["codes"])  # the array is that source, rows or none
        return source_closure(codes), "row ids"
    found = set()
    for step in ancestors(node):
        if step[OP] == "source":
            found |= set(step[PARAMS]["codes"])
    if graph_incomplete(node):
        named = sorted(s.source_id for s in source_closure(found).values())
        raise LineageError(
            f"sources unknown: the row ids were dropped ({rm.dropped}), and {INCOMPLETE}, "
            f"so the graph need not reach every source (it names {named or 'none'})"
        )
    return source_closure(found), GRAPH_BASIS


#: Why the operation graph of an array may leave sources out (see graph_incomplete).
INCOMPLETE = (
    "an input of the array or of an operation behind it was made where no operation was "
    "recorded (granularity 'none', or an ndarray method that sktraceprop does not model)"
)


def graph_incomplete(node):
    """Whether the operation graph of an array misses the steps behind one of its inputs.

    A traced input made where nothing was recorded has no node: the step that used it
    names its other inputs only (a ``None`` among its inputs), and an array made so has
    no node at all.
    """
    if node is None:
        return True
    return any(any(p is None for p in step[INPUTS]) for step in ancestors(node))


def codes_in_graph(rm, node):
    """Every source named by the row map or by a step of the graph (what a pickle of the
    array must carry, whichever rows are behind it)."""
    found = set()
    if rm.dropped is None:
        found |= _source_codes(rmap.codes(rm))
    for step in ancestors(node):
        if step[OP] == "source":
            found |= set(step[PARAMS]["codes"])
    return source_closure(found)


#: How :meth:`~._provenance.Provenance.sources` names sources found from the operation graph.
GRAPH_BASIS = "operation graph (row ids dropped)"


def _step_sources(steps):
    """Source ids behind the rows of every listed step that the array's rows came
    through (by ``id`` of the node): from the step's row maps where they are known,
    else those of its inputs."""
    behind, memo = {}, {}
    for step, _, masks, _ in steps:
        names = set()
        if step[OP] == "source":
            names = set(step[PARAMS]["source_ids"])
        known = [codes_at(rm, m, memo) for rm, m in masks.values()]
        if masks and all(c is not None for c in known):
            codes = set().union(*known)
            names = {s.source_id for s in source_closure(codes).values()}
        elif step[OP] != "source":
            names = set().union(*(behind.get(id(p), set()) for p in step[INPUTS]))
        behind[id(step)] = names
    return behind


def unmodelled_ops(steps):
    """Names of the operations recorded as not modelled row by row."""
    return sorted({s[OP] for s in steps if params_dict(s).get("modelled") is False})
