"""The operation graph of traced arrays, and how much of it is recorded (granularity)."""

import contextvars
from contextlib import contextmanager

import numpy as np

from . import _rowmap as rmap

GRANULARITIES = ("op", "batch", "none")

#: What each granularity leaves out, as said by provenance and in a run's notes.
LEFT_OUT = {
    "op": "",
    "batch": (
        "operations were not recorded one by one (granularity 'batch'): row ids were "
        "kept, the operations between recorded points are one unrecorded step"
    ),
    "none": ("nothing was recorded (granularity 'none'): neither row ids nor operations"),
}

_MODE = contextvars.ContextVar("sktraceprop_array_granularity", default="op")

#: Row map of arrays computed while nothing was recorded.
NOT_RECORDED = rmap.dropped(LEFT_OUT["none"])


def get_granularity():
    """How much array lineage is recorded now: ``"op"``, ``"batch"`` or ``"none"``."""
    return _MODE.get()


def _check(mode):
    if mode not in GRANULARITIES:
        raise ValueError(
            f"granularity must be one of {', '.join(map(repr, GRANULARITIES))}, got {mode!r}"
        )


def set_granularity(mode):
    """Set how much lineage traced arrays record; return the previous setting.

    Parameters
    ----------
    mode : {"op", "batch", "none"}
        ``"op"`` records row ids and every operation (name, inputs, parameters).
        ``"batch"`` records row ids only: the operations between recorded points (the
        sources, a fit) are kept as one unrecorded step, so ``provenance(x).ops()``
        lists them as such. ``"none"`` records nothing: arrays computed meanwhile say
        that their lineage was not recorded, and a traced fit given one raises.

    Returns
    -------
    previous : str
    """
    _check(mode)
    previous = _MODE.get()
    _MODE.set(mode)
    return previous


@contextmanager
def granularity(mode):
    """Context manager: record lineage at ``mode`` inside the ``with`` block.

    Examples
    --------
    >>> import numpy as np
    >>> import sktraceprop as stp
    >>> a = stp.array(np.ones((3, 2)), source_id="ones")
    >>> with stp.granularity("batch"):
    ...     b = a * 2 + 1
    >>> stp.provenance(b).ops()["op"].tolist()
    ['(not recorded)']
    """
    _check(mode)
    token = _MODE.set(mode)
    try:
        yield mode
    finally:
        _MODE.reset(token)


#: Fields of a node. A node is a plain tuple ``(op, inputs, params, framework, rows)``:
#: one is made per operation, and a tuple costs a fraction of an object. ``op`` is the
#: operation name (``"multiply"``, ``"getitem"``; ``"source"`` for a source,
#: ``"(not recorded)"`` for a batch-mode step), ``inputs`` the nodes of the traced inputs,
#: ``params`` a dict of parameters or a tuple of operands (``"<input>"`` for a traced one)
#: and never any data, ``framework`` ``"numpy"``, ``"torch"``, ``"jax"`` or ``"source"``.
#: ``rows`` is the row map of the result (shared with the array, not a copy), a list of
#: the maps of its results (filled as they are wrapped), or None where it is not known;
#: provenance follows it to tell which operations an array's rows went through.
OP, INPUTS, PARAMS, FRAMEWORK, ROWS = range(5)
UNRECORDED = "(not recorded)"


def node_rows(node):
    """The row maps of a node's results (empty where they were not recorded)."""
    if len(node) <= ROWS:
        return ()
    rows = node[ROWS]
    if rows is None:
        return ()
    return rows if type(rows) is list else (rows,)


def note_rows(node, rm):
    """Add ``rm`` to the row maps of a node made by :func:`record` (a no-op for a node
    that names its map already, or none)."""
    if node is not None and len(node) > ROWS:
        rows = node[ROWS]
        if type(rows) is list and not any(r is rm for r in rows):
            rows.append(rm)


def params_dict(node):
    """A node's parameters as a dict (operand tuples become ``{"args": [...]}``)."""
    params = node[PARAMS]
    if params is None:
        return {}
    if isinstance(params, tuple):
        return {"args": [describe(v) for v in params]}
    return {k: describe(v) for k, v in params.items()}


def record(op, inputs, params, framework, mode, rows=None):
    """The node of a result computed at granularity ``mode`` from ``inputs``.

    ``rows`` is the result's row map (or a list of them); when it is not given, the
    wrappers that give the result its map add it (:func:`note_rows`).
    """
    if mode == "op":
        return (op, inputs, params, framework, [] if rows is None else rows)
    # batch: the operations after the same recorded points (sources, recorded ops) share
    # one unrecorded node whose inputs are those points.
    if len(inputs) == 1:
        node = inputs[0]
        if node is not None and node[OP] == UNRECORDED:
            return node
    frontier = []
    for node in inputs:
        if node is None:
            # a traced input made where nothing was recorded: kept as a None input,
            # so that provenance sees that the graph misses its steps
            if not any(f is None for f in frontier):
                frontier.append(None)
            continue
        for point in node[INPUTS] if node[OP] == UNRECORDED else (node,):
            if not any(point is f for f in frontier):
                frontier.append(point)
    for node in inputs:
        if (
            node is not None
            and node[OP] == UNRECORDED
            and len(node[INPUTS]) == len(frontier)
            and all(any(p is f for f in frontier) for p in node[INPUTS])
        ):
            return node
    return (UNRECORDED, tuple(frontier), {"granularity": "batch"}, framework, None)


def ancestors(node):
    """Every node ``node`` depends on (itself included), inputs before their users."""
    order, seen, stack = [], set(), [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if current is None:
            continue
        if expanded:
            order.append(current)
            continue
        if id(current) in seen:
            continue
        seen.add(id(current))
        stack.append((current, True))
        for parent in reversed(current[INPUTS]):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


def without_rows(node):
    """The graph of ``node`` with no row maps: what a pickle of an array carries (the
    maps of intermediate results would travel for nothing, since their origins do not:
    after a round trip, provenance lists the operations behind a row as "may have")."""
    if node is None:
        return None
    made = {}
    for step in ancestors(node):
        inputs = tuple(None if p is None else made[id(p)] for p in step[INPUTS])
        made[id(step)] = (step[OP], inputs, step[PARAMS], step[FRAMEWORK], None)
    return made[id(node)]


_PLAIN = (int, float, bool, str, type(None))


def operand(x):
    """What a node keeps of an untraced operand: a scalar's value, an array's shape and
    dtype (never its data). Cheap: it runs once per operation."""
    if type(x) in _PLAIN or type(x) is slice or x is Ellipsis:
        return x
    if isinstance(x, type):
        return x.__name__  # a dtype given as a class (np.float32), whose shape is a descriptor
    shape = getattr(x, "shape", None)
    if shape is None:
        if type(x) in (list, tuple):
            return tuple(operand(v) for v in x) if len(x) <= 8 else ("<sequence>", len(x))
        return type(x).__name__
    if not shape and hasattr(x, "item"):
        try:
            return x.item()
        except (TypeError, ValueError, RuntimeError):
            return "<scalar>"
    return ("<array>", tuple(shape), getattr(x, "dtype", None))


def describe(x):
    """A JSON-friendly rendering of a recorded parameter (see :func:`operand`)."""
    t = type(x)
    if t in _PLAIN:
        return x
    if t is complex:
        return str(x)
    if t is slice:
        text = f"{'' if x.start is None else x.start}:{'' if x.stop is None else x.stop}"
        return text if x.step is None else f"{text}:{x.step}"
    if x is Ellipsis:
        return "..."
    if isinstance(x, np.dtype):
        return str(x)
    if t is tuple or t is list:
        return [describe(v) for v in x]
    if t is dict:
        return {str(k): describe(v) for k, v in x.items()}
    if getattr(x, "shape", None) is not None:
        return describe(operand(x))
    return str(x)
