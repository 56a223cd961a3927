"""The objects of one load that record no state format, said when the load ends.

An object that records no format and has no object being loaded around it that it
can see (:mod:`._state_format`) cannot know whether it is loaded alone or inside
something that will be set after it: a pickle of protocol 0 or 1 allocates objects
with ``object.__new__``, which calls no ``__new__`` of ours, and the sources of a
traced array or of a frame's mark of its read paths are the arguments of a function
called once they are loaded. Such an object waits here instead of warning, and:

- an object of ours set after it (protocol 0 and 1) takes those it finds in its state
  that were loaded after it (one search of the unpickler's memo, for an object that
  holds waiting ones; not inside other objects of ours, which took theirs), and says
  them with its own warning;
- a function given such objects as its arguments takes them (:func:`claim`);
- those still waiting when the load ends are said then, one warning per object, as at
  once (:func:`defer`).

The end of a load is seen when the unpickler drops its memo: the state an object is
given is in it, and an object (:class:`_Ended`) put in that state is freed with it,
before ``pickle.load`` returns. Loads are told apart (:func:`_key`), so a load whose
memo an exception keeps alive holds no later load's warnings. Each standalone object
costs a look at its own state, so a load of *n* of them is linear in *n* (a search of
the unpickler's memo for each was quadratic: at protocol 0, 1,000 sources took 24 s and
2,000 60 s; now 20,000 take under 2 s: ``benchmarks/bench_earlier_pickle_load.py``).
Where a warning may be raised as an error (a filter says so), it is said at once, where
the error can stop the load. A caller of ``__setstate__`` that keeps the state it gave
(no unpickler does) hears of such an object when it lets the state go.
"""

import gc
import pickle
import sys
import threading
import warnings
import weakref

from .exceptions import EarlierPickleWarning

#: The key of the waiting objects' end-of-load marker in a state (never read).
MARK = "_sktraceprop_load_end"

_THREAD = threading.local()


class _Ended:
    """Freed with the memo of the load whose state holds it."""

    __slots__ = ("__weakref__",)


class _Load:
    """The objects of one load waiting to be said: ``id -> (weakref, holder, found,
    order set)``, and the marker whose end says them."""

    def __init__(self, key):
        self.key = key
        self.waiting = {}
        self.count = 0
        self.mark = None

    def ended(self, _ref=None):
        loads = getattr(_THREAD, "loads", {})
        if loads.get(self.key) is self:
            del loads[self.key]
        from ._state_format import _unnumbered_message

        waiting, self.waiting = list(self.waiting.values()), {}
        # (one message per distinct group: 20,000 sources said alike are worded once)
        messages = {}
        for _, holder, found, _ in waiting:
            key = (holder, *found)
            message = messages.get(key)
            if message is None:
                message = messages[key] = _unnumbered_message(found, holder)
            # (called as the unpickler frees its memo: stacklevel 2 is pickle.load's caller)
            warnings.warn(message, EarlierPickleWarning, stacklevel=2)


def _key(depth=1):
    """What tells this load from another of the thread (one whose memo an exception or
    a caller keeps alive must not hold a later load's warnings): the unpickler, where
    it is Python's (``pickle._Unpickler``, joblib's), else the frame that called the
    C unpickler and the call it is making. The walk starts ``depth`` frames above this
    one: the caller knows those between to be sktraceprop's (each frame looked at
    costs a frame object, once per object loaded)."""
    frame = sys._getframe(depth)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("sktraceprop."):
        frame = frame.f_back
    if frame is None:
        return None
    if frame.f_code.co_name.startswith("load"):
        unpickler = frame.f_locals.get("self")
        if isinstance(unpickler, pickle._Unpickler):
            return ("unpickler", id(unpickler))
    return ("frame", id(frame), frame.f_lasti)


def _load(key=None):
    loads = getattr(_THREAD, "loads", None)
    if not loads:
        return None
    load = loads.get(_key(2) if key is None else key)
    if load is not None and load.mark is not None and load.mark() is not None:
        return load
    return None


def end():
    """Say at once what waits for this load (one that failed: its memo may be kept
    alive by the exception)."""
    load = _load()
    if load is not None:
        load.ended()


def _errors():
    """Whether an :class:`EarlierPickleWarning` may be raised as an error: a filter for
    it says ``"error"`` before one that applies to every such warning says otherwise."""
    for action, message, category, module, lineno in warnings.filters:
        if not issubclass(EarlierPickleWarning, category):
            continue
        if action == "error":
            return True
        if message is None and module is None and not lineno:
            return False
    return False


def defer(obj, state, holder, found):
    """Keep ``found`` (see :func:`._state_format._unnumbered_message`; ``holder``
    the class name of ``obj`` where it records a format) to be said with an object set
    later around ``obj`` or when the load ends; False where it cannot wait (a state
    that is not a dict, or a warning that may be raised as an error)."""
    if not isinstance(state, dict) or _errors():
        return False
    # (called by _state_format._checked, called by check_state: three of ours)
    key = _key(4)
    load = _load(key)
    if load is None:
        # the first waiting object's state: freed with the memo, when the load ends (or,
        # where no memo kept it, once it is set: then said at once, never lost)
        load = _Load(key)
        if not hasattr(_THREAD, "loads"):
            _THREAD.loads = {}
        _THREAD.loads[key] = load
        ended = state[MARK] = _Ended()
        load.mark = weakref.ref(ended, load.ended)
    # (a dict keeps the order they were set in: the order said)
    load.waiting[id(obj)] = (weakref.ref(obj), holder, found, load.count)
    load.count += 1
    return True


def _entries(group):
    """``group``'s objects as an object loaded around it lists them: those inside it
    first, then its own (as it was set after them)."""
    _, holder, found, _ = group
    return list(found) if holder is not None else [*found[1:], found[0]]


def _take(load, ids):
    """The entries of the waiting objects ``ids`` (in the order they were set),
    no longer waiting."""
    taken = sorted((load.waiting.pop(k) for k in ids), key=lambda entry: entry[3])
    return [e for entry in taken for e in _entries(entry)]


def claim(objects):
    """The entries of those of ``objects`` that wait (the arguments of a function of
    ours that holds them: a traced array's sources), no longer waiting."""
    load = _load()
    if load is None or not load.waiting:
        return []
    return _take(load, {id(o) for o in objects if _waits(load, o)})


def _waits(load, obj):
    entry = load.waiting.get(id(obj))
    return entry is not None and entry[0]() is obj


def inside(obj, state):
    """The entries of the waiting objects loaded inside ``obj`` (an object of ours
    allocated by ``object.__new__``: pickle protocols 0 and 1), found in ``state``, no
    longer waiting; an object of ours is not looked inside (it took its own)."""
    from ._state_format import _FormatBase

    load = _load()
    if load is None or not load.waiting:
        return []
    found, seen, todo = set(), set(), [state]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if _waits(load, item):
            found.add(id(item))
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            todo.extend(item)
        elif not isinstance(item, _FormatBase | type) and isinstance(
            getattr(item, "__dict__", None), dict
        ):
            todo.extend(vars(item).values())
    after = _loaded_after(obj) if found else None
    return _take(load, found if after is None else found & after)


def _loaded_after(obj):
    """The ids of the objects the unpickler loading ``obj`` allocated after it (those
    loaded inside it; one that ``obj`` only refers to, loaded before it, was not), found
    in its memo: one search of the heap per object of ours that holds waiting objects.
    None where no unpickler holds ``obj`` (its ``__setstate__`` called directly)."""
    for holder in gc.get_referrers(obj):
        # the C unpickler (its memo copied out), or the Python one's memo dict: memo
        # index -> object, in the order the objects were allocated
        if isinstance(holder, pickle.Unpickler):
            memo = holder.memo.copy()
        elif isinstance(holder, dict) and holder and all(type(k) is int for k in holder):
            memo = holder
        else:
            continue
        ordered = [o for _, o in sorted(memo.items(), key=lambda item: item[0])]
        at = next((k for k, o in enumerate(ordered) if o is obj), None)
        if at is not None:
            return {id(o) for o in ordered[at + 1 :]}
    return None
