"""A user function's fingerprint bytes, kept while nothing they were made from changed.

A logged predict fingerprints the model on every call, and a user function in it (a
``FunctionTransformer`` of a lambda) is hashed by its code, defaults, closure contents and
the globals it names (``_fingerprint_code.feed_function``). Its bytes are kept here only
when every one of those inputs is a value that cannot change in place: an ``int``,
``float``, ``complex``, ``str``, ``bytes``, ``bool`` or ``None``, a tuple of such values,
or a module (hashed by its name, which is checked too). The bytes are made from the very
objects the entry holds (read once, never read again), so an entry says exactly what
its objects hash to; it is used only while the function still holds the same objects:
the same code object and defaults tuple, no keyword defaults, each closure cell holding
the same object, and each global it names bound to the same object (or still unbound).
Any rebinding (``SCALE = 3.0``, a ``nonlocal`` assignment, ``f.__defaults__ = ...``,
``f.__code__ = ...``) is a miss, and the bytes are made again. A function that reads
anything else (a list, an array, an estimator, another function, a class) is never kept:
its bytes are made on every call, as before; so is, from scheme 6, a function that reads
an attribute of a module of user code or of an index package it holds as a global
(``mymod.helper(X)``: ``_fingerprint_attrs``), whose bytes depend on what that module
holds now. Entries die with their function (weak
keys), and hold strong references to the small values they were made from, so an id is
never reused while an entry names it.
"""

import threading
import types
import weakref

#: Values that cannot change in place (exact types: a subclass may hold state).
_ATOMS = frozenset({int, float, complex, str, bytes, bool, type(None)})
#: Stands for an empty closure cell, and for a global name not bound.
_EMPTY = object()
_ABSENT = object()
_ENTRIES = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _frozen(value, depth=0):
    cls = type(value)
    if cls in _ATOMS:
        return True
    return cls is tuple and depth < 4 and all(_frozen(v, depth + 1) for v in value)


def _content(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell (a name assigned after the closure)
        return _EMPTY


def inputs(fn, code, names):
    """What ``fn``'s bytes are made from, read once: ``(code, defaults, kwdefaults,
    cells, globals)``, ``code`` as the caller read it (the names are its), ``cells`` the
    closure's contents (``_EMPTY`` for an empty cell),
    ``globals`` ``(name, value)`` for each of ``names`` (``_ABSENT`` where unbound)."""
    scope = fn.__globals__
    return (
        code,
        fn.__defaults__,
        fn.__kwdefaults__,
        tuple(_content(cell) for cell in fn.__closure__ or ()),
        tuple((name, scope.get(name, _ABSENT)) for name in names),
    )


def keepable(made):
    """Whether every input in ``made`` (:func:`inputs`) is a value that cannot change
    in place, so that bytes made from them may be kept."""
    code, defaults, kwdefaults, cells, named = made
    if kwdefaults is not None or not (defaults is None or _frozen(defaults)):
        return False
    if not all(value is _EMPTY or _frozen(value) for value in cells):
        return False
    return all(
        value is _ABSENT or _frozen(value) or type(value) is types.ModuleType for _, value in named
    )


def cached(fn, scheme):
    """The bytes kept for ``fn`` in ``scheme``, or None when none are kept or anything
    they were made from is no longer what ``fn`` holds."""
    entry = _ENTRIES.get(fn)
    if entry is None or entry[0] != scheme:
        return None
    _, made, modules, data = entry
    code, defaults, _, cells, named = made
    if fn.__code__ is not code or fn.__defaults__ is not defaults or fn.__kwdefaults__:
        return None
    closure = fn.__closure__ or ()
    if len(closure) != len(cells):
        return None
    for cell, value in zip(closure, cells):
        if _content(cell) is not value:
            return None
    scope = fn.__globals__
    for name, value in named:
        if scope.get(name, _ABSENT) is not value:
            return None
    for module, name in modules:
        if getattr(module, "__name__", None) != name:
            return None
    return data


def keep(fn, scheme, made, data):
    """Keep ``data``, the bytes made from ``made`` (:func:`inputs`), for ``fn`` when
    every input is a value that cannot change in place."""
    if not keepable(made):
        return
    modules = tuple(
        (value, value.__name__) for _, value in made[4] if type(value) is types.ModuleType
    )
    try:
        with _LOCK:
            _ENTRIES[fn] = (scheme, made, modules, data)
    except TypeError:  # a function that takes no weak reference: not kept
        return


def clear():
    """Forget every entry (tests: the bytes made afresh)."""
    with _LOCK:
        _ENTRIES.clear()
