"""Which objects are certainly alive, found without a full garbage collection.

A removal names the other objects in this process that hold removed rows
(:func:`~sktraceprop._holders.held_elsewhere`). An object let go but still in a
reference cycle is garbage, not a holder; telling the two apart takes a full collection,
whose cost grows with every object in the process (0.05 to 0.07 s a removal in a process
with scikit-learn and pandas loaded). An object reached by following references from a
live root is alive, and no collection would free it: the roots here are the frames of
the current thread's stack from the caller up (their local and global variables) and
``__main__``'s namespace. The search follows ``gc.get_referents`` (the references each
object reports to the collector) and runs no code of the objects it passes.
:func:`reached` looks for the candidates there, breadth first, within a budget of
objects; one it reaches is alive, one it does not reach is undecided (held from another
thread, deeper than the budget, through an object that does not report its references,
or garbage), and only then does the caller collect. Not reached never means not alive.
"""

import gc
import sys
import types

__all__ = ["reached"]

#: Objects visited at most by one search.
BUDGET = 20_000

#: A list, tuple, set or dict of more items is not looked into (its items would take
#: the budget); what it holds is left to the collection.
WIDE = 2_000

# Not looked into: what they refer to is code and other modules, where no holder
# lives that the roots do not reach more directly.
_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType)


def reached(targets, frame):
    """The ids of the objects of ``targets`` reached from live roots: the frames from
    ``frame`` up the current thread's stack (their locals and globals) and
    ``__main__``'s namespace. ``frame`` must be above the caller's own frame, whose
    variables (``targets`` among them) are no root.

    The caller holds ``targets`` for the search, so their ids name them.
    """
    wanted = {id(t) for t in targets}
    found = set()
    roots = []
    while frame is not None:
        roots += [frame.f_locals, frame.f_globals]
        frame = frame.f_back
    main = sys.modules.get("__main__")
    if main is not None:
        roots.append(vars(main))
    seen = set()
    level = []
    for root in roots:
        if id(root) not in seen:
            seen.add(id(root))
            level.append(root)
    visited, first = 0, True
    while level and visited < BUDGET and found != wanted:
        nxt = []
        for obj in level:
            visited += 1
            if visited > BUDGET:
                break
            if not first and (issubclass(type(obj), _OPAQUE) or _wide(obj)):
                continue
            for ref in gc.get_referents(obj):
                key = id(ref)
                if key in seen:
                    continue
                seen.add(key)
                if key in wanted:
                    found.add(key)
                nxt.append(ref)
        level, first = nxt, False
    return found


def _wide(obj):
    # the type and the built-in length, never a property or __len__ of the object's
    # own: the search runs no code of the objects it passes
    kind = type(obj)
    for base in (list, tuple, set, frozenset, dict):
        if issubclass(kind, base):
            return base.__len__(obj) > WIDE
    return False
