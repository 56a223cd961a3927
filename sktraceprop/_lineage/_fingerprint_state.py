"""The attributes of a user class that are state it keeps with use, not its code.

A user class's attributes other than functions are hashed by value from fingerprint
scheme 4 (``_fingerprint_code.feed_class_code``): an edited constant (``LIMIT = 3``), or
one set at run time, changes the fingerprint. State the class keeps with use must not:
a fingerprint that changes after a ``predict`` makes a model fitted and left alone read
as changed since fit (the unlearner refuses it, the report flags it). The rule:

- scheme 4 and 5: an attribute the functions of the class bodies assign or delete
  (``type(self).calls += 1``, ``Model.seen = ...``: ``STORE_ATTR``/``DELETE_ATTR`` in
  their code, nested code, and what their decorators wrap) is state, named by key only;
- scheme 5 adds: an attribute holding a mutable container (``dict``, ``list``, ``set``,
  ``bytearray``, ``collections.deque``, or a subclass of one: ``OrderedDict``,
  ``defaultdict``, ``Counter``) that those functions change in place is state, named by
  key and container type only (``_cache = {}`` filled by ``self._cache[key] = value``,
  ``del self._cache[key]``, ``self._seen[key] += 1``, ``self._memo[a][b] = v``, or a
  changing method: ``self.hits.append(x)``, ``type(self)._cache.setdefault(k, v)``,
  ``self._memo[a].append(x)``; found in their bytecode). Scheme 4 hashed its
  contents, so a class cache made a model read as changed after its first ``predict``.

Scheme 6 applies the same rule to modules: a global ``dict``, ``list``, ``set``,
``bytearray`` or ``deque`` a user function changes in place (``_memo[key] = value`` in
its code: :func:`globals_changed`) is state, named by its type among the function's
globals, and a module hashed whole leaves out, by :func:`module_state`, the names the
functions defined in it assign as globals (a counter) and the containers they change in
place. A memo filled as a model predicts, whose contents scheme 6 first hashed (a model
read as changed after its first ``predict``), no longer changes the fingerprint; its
initial contents edited are not seen, and a container only read by the function but
filled by another function of its module is hashed by value (a false alarm).

Everything else a class holds is its code, hashed by value: numbers, strings, bytes,
tuples, frozensets, compiled patterns, and a mutable value the class's functions do not
change (``WEIGHTS = [0.2, 0.8]`` edited, or changed in place from outside, is seen).
What the rule cannot tell from the code: a container changed through an alias
(``cache = self._cache; cache[k] = v``) or by code outside the class's bodies (a module
function filling ``Model._cache``) is hashed by value, so the fingerprint changes as it
fills (a false alarm, never a silent match); a container the class's functions change
is named, so an edit of its initial contents (``_cache = {"a": 1}`` to ``{"a": 2}``) is
not seen; the change is found by the attribute's name, so a method changing another
object's attribute of that name (``other.table.append(x)``) makes the class's
``table`` state too. ``functools.lru_cache`` on a method keeps its entries in the wrapper, not the
class: hashed by the function it wraps.
"""

import collections
import dis
import functools
import types

#: Instructions by which a method assigns an attribute (``type(self).calls += 1``).
_ATTR_STORES = frozenset({"STORE_ATTR", "DELETE_ATTR"})
#: Instructions that read an attribute (3.11: ``LOAD_METHOD`` for a method call).
_ATTR_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
#: Instructions that write into the container below their key.
_ITEM_STORES = frozenset({"STORE_SUBSCR", "DELETE_SUBSCR"})
#: Methods of dict, list, set, bytearray and deque that change the container.
_CHANGING = frozenset(
    {
        "append",
        "appendleft",
        "extend",
        "extendleft",
        "insert",
        "remove",
        "pop",
        "popleft",
        "popitem",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "sort",
        "reverse",
        "rotate",
        "move_to_end",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "subtract",
        "__setitem__",
        "__delitem__",
        "__iadd__",
        "__ior__",
    }
)
#: Where the stack walk after a container is read stops, unsure what it holds.
_STOP = frozenset({"SWAP", "ROT_TWO", "ROT_THREE", "ROT_FOUR", "ROT_N"})
#: The mutable containers whose changes by the class's own code are state (scheme 5).
CONTAINERS = (dict, list, set, bytearray, collections.deque)


def _codes(code):
    stack = [code]
    while stack:
        inner = stack.pop()
        yield inner
        stack.extend(c for c in inner.co_consts if isinstance(c, types.CodeType))


@functools.lru_cache(maxsize=4096)
def _attributes_assigned(code):
    """The attribute names ``code`` (and the code nested in it) assigns or deletes."""
    names = set()
    for inner in _codes(code):
        names.update(i.argval for i in dis.get_instructions(inner) if i.opname in _ATTR_STORES)
    return frozenset(names)


def _changes_item(instructions, start):
    """Whether the attribute read at ``instructions[start]``, or an item of it (read
    by subscripts: ``self._cache[a][b] = v``, ``self._cache[a].append(v)``), is changed
    in place: the container a later ``STORE_SUBSCR``/``DELETE_SUBSCR`` writes into (its
    key computed on top of it), one an augmented item assignment reads and writes
    (``COPY 2; COPY 2`` over it and its key), or one a changing method is read off. The
    stack above the value is followed by each instruction's net effect, and the walk
    stops where the value may have been consumed (the height falls back to it), at a
    jump or a swap: unsure means not found (hashed by value: at worst a false alarm)."""
    height = 0  # items above the attribute's value (or its item's)
    for at in range(start + 1, min(start + 64, len(instructions))):
        inst = instructions[at]
        if height == 0 and inst.opname in _ATTR_LOADS:
            return inst.argval in _CHANGING
        if inst.opname in _ITEM_STORES:
            return height == 1
        if height == 1 and inst.opname == "COPY" and inst.arg == 2:
            following = instructions[at + 1] if at + 1 < len(instructions) else None
            return following is not None and following.opname == "COPY" and following.arg == 2
        if height == 1 and inst.opname == "BINARY_SUBSCR":
            height = 0  # an item of it, in its place: followed as it is
            continue
        if inst.opname in _STOP or inst.opcode in dis.hasjrel or inst.opcode in dis.hasjabs:
            return False
        try:
            height += dis.stack_effect(inst.opcode, inst.arg, jump=False)
        except ValueError:
            return False
        if height < 1:
            return False
    return False


@functools.lru_cache(maxsize=4096)
def _containers_changed(code):
    """The attribute names whose values ``code`` (and the code nested in it) changes in
    place: an item assigned or deleted, or a changing method read off it."""
    return _changed_after(code, _ATTR_LOADS)


def _changed_after(code, loads):
    """The names read by an instruction of ``loads`` in ``code`` (and the code nested
    in it) whose values the instructions after the read change in place."""
    names = set()
    for inner in _codes(code):
        instructions = list(dis.get_instructions(inner))
        for at, inst in enumerate(instructions):
            if inst.opname not in loads or not isinstance(inst.argval, str):
                continue
            if _changes_item(instructions, at):
                names.add(inst.argval)
    return frozenset(names)


#: Instructions that read a global (the start of a module-level container's change).
_GLOBAL_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
#: Instructions by which a function assigns a global (``global calls; calls += 1``).
_GLOBAL_STORES = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL"})


@functools.lru_cache(maxsize=4096)
def globals_changed(code):
    """The global names whose values ``code`` (and the code nested in it) changes in
    place (scheme 6): ``_MEMO[key] = value``, ``_SEEN.append(x)``, ``_HITS[k] += 1``, by
    the rule :func:`_containers_changed` applies to a class's attributes."""
    return _changed_after(code, _GLOBAL_LOADS)


@functools.lru_cache(maxsize=4096)
def _globals_assigned(code):
    names = set()
    for inner in _codes(code):
        names.update(i.argval for i in dis.get_instructions(inner) if i.opname in _GLOBAL_STORES)
    return frozenset(names)


def module_state(module):
    """``(assigned, changed)`` (scheme 6): the names of ``module`` that the functions
    defined in it (their ``__globals__`` its namespace; through ``functools.lru_cache``
    wrappers) assign as globals (a counter), and those whose values they change in place
    (a memo dict): state the module keeps with use, not code it runs."""
    namespace = vars(module)
    assigned, changed = set(), set()
    for value in list(namespace.values()):
        for fn in _unwrapped(value, 5):
            if fn.__globals__ is not namespace:
                continue
            assigned |= _globals_assigned(fn.__code__)
            changed |= globals_changed(fn.__code__)
    return assigned, changed


def container_tag(value):
    """What names a container kept as state: ``h``, then its class's length-prefixed
    name (the bytes a class cache is named with)."""
    cls = type(value)
    text = f"{cls.__module__}.{cls.__qualname__}".encode()
    return b"h%d:" % len(text) + text


def functions_of(value):
    """The functions a class body's value runs (a static or class method's, a property's
    accessors, a cached property's or partial method's function)."""
    if isinstance(value, staticmethod | classmethod):
        return (value.__func__,)
    if isinstance(value, property):
        return (value.fget, value.fset, value.fdel)
    if isinstance(value, functools.cached_property | functools.partialmethod):
        return (value.func,)
    return (value,)


def _unwrapped(fn, scheme):
    """``fn`` and what its decorators wrap (TransformerMixin wraps transform), functions
    only (another object's ``__getattr__`` is not called); from scheme 5 through
    ``functools.lru_cache`` wrappers too."""
    for _ in range(8):
        if isinstance(fn, types.FunctionType):
            yield fn
        elif not (scheme >= 5 and isinstance(fn, functools._lru_cache_wrapper)):
            return
        fn = getattr(fn, "__wrapped__", None)


def class_state(classes, scheme):
    """``(assigned, changed)``: the attribute names the functions of the bodies of
    ``classes`` assign (scheme 4 and 5), and those whose values they change in place
    (scheme 5; empty before)."""
    assigned, changed = set(), set()
    for klass in classes:
        for value in klass.__dict__.values():
            for fn in functions_of(value):
                for inner in _unwrapped(fn, scheme):
                    assigned |= _attributes_assigned(inner.__code__)
                    if scheme >= 5:
                        changed |= _containers_changed(inner.__code__)
    return assigned, changed
