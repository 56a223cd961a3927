"""User functions and classes fingerprinted by their code (fingerprint schemes 3 to 6).

Scheme 2 named every function and class by module and qualified name only, so
``FunctionTransformer(func=lambda X: X * 2)`` and ``(func=lambda X: X * 3)``, a
function edited between two runs, closures over other values and user estimator
classes whose ``transform`` was edited all had one fingerprint. Scheme 3 hashes the
code of *user code*: functions and classes defined in ``__main__`` (a script, a
notebook) or in a module that is not installed.

A pure-Python function is hashed by its name, its code object (bytecode, constants
with nested code objects, names, argument counts and flags: not its file name nor its
line numbers, so moving unrelated lines does not change it, while editing its body,
even its docstring, does), its defaults, the contents of its closure cells, and the
globals it names: plain values, arrays, containers, estimators and frames by content,
functions and classes again by this rule, modules by name, other objects by their
class only; not the globals it assigns (``global calls; calls += 1``: state that changes
with use). A bound method is its function and the object it is bound to. A user class
is hashed by the functions of its body (methods, static and class methods, properties,
nested classes), through its user base classes. A global a function changes in place (a
cache dict) changes the fingerprint as it changes.

Scheme 4 closed two gaps of scheme 3, which stays here to compare records made with it
(``scheme=3``):

- a user class's other attributes (``LIMIT = 3`` read as ``self.LIMIT``, a constant of
  a user base class, a ``cached_property``, a ``partialmethod``), which scheme 3 hashed
  by name only, are hashed by value as a global is (:func:`feed_named`: plain values,
  arrays, estimators, frames, compiled regular expressions, functions and classes by
  content, other objects by their class only, and a value whose walk fails by its
  class, said with its own tag, never a failed fingerprint). So an edited constant, or
  ``Clip.LIMIT = 5`` set at run time, changes the fingerprint. An attribute the class's
  own functions assign (``type(self).calls += 1``) is state, named only;
- a package installed into ``site-packages`` from a folder, a local or remote archive
  or a version-control checkout (``pip install .``, ``pip install ./dist/x.whl``,
  ``pip install git+...``: its ``direct_url.json``, PEP 610), or copied there by hand
  (no installed distribution lists the file), is user code, hashed by its code; scheme
  3 named it by module and qualified name, so an edited copy was not seen. An editable
  install (``pip install -e .``) was and is user code: its modules are read from the
  project's folder, outside ``site-packages``.

Scheme 5 closes three gaps of scheme 4 (kept as ``scheme=4``):

- **what of a class is code.** A class attribute is code, hashed by value, unless it
  is state the class keeps with use (``_fingerprint_state``): one its functions assign,
  or (new) a ``dict``, ``list``, ``set``, ``bytearray`` or ``deque`` its functions
  change in place (``_cache = {}`` filled by ``self._cache[key] = value``), named by
  key and container type. Scheme 4 hashed such a cache's contents, so a model read as
  changed since fit after its first ``predict`` (the unlearner refused it, the report
  flagged it). Immutable constants (numbers, strings, tuples, frozensets, patterns) and
  containers the class's code does not change stay hashed by value: editing them, or a
  method's body, changes the fingerprint;
- **the standard library by place, not name.** A module of a standard library name
  (``statistics``, ``tokenize``) is the standard library only when read from its folder
  (``_install_origin``); scheme 4 named a user's ``statistics.py`` beside the script;
- **packages from a package index.** Their functions and classes (and the bases of a
  class from one) are named with their distribution's name and version and the SHA-256
  of their module's file (:func:`feed_installed`); scheme 4 named them by module and
  qualified name, so an index package edited in place under ``site-packages`` or
  upgraded was not seen. A file of a package whose version a run records (scikit-learn,
  NumPy, SciPy, pandas, joblib) edited in place, no longer the SHA-256 its RECORD lists,
  is written with its SHA-256 too; as installed, nothing is added.

Scheme 6 (the current one) closes a gap of scheme 5 (kept as ``scheme=5``): a global
that is a module of user code or of an index package was named only, so a helper
called through it (``mymod.helper(X)``, ``_utils.helper()`` after ``from . import
_utils``) edited, reloaded or replaced at run time was not seen. The attributes the code
reads of it are now followed and hashed (``_fingerprint_attrs``), through
``getattr(mymod, "name")``, closure cells, a local alias and an argument's default too, a
module it uses as a value whole (but for the state its functions keep), and a module of
user code it imports when it runs, or gets from ``import_module``/``__import__`` with a
constant name, by its file (``_fingerprint_imports``); a global container the function
changes in place (a memo) is state, by its type (``_fingerprint_state.globals_changed``);
a function that does none of these keeps its scheme-5 bytes. The words each scheme's notes use are
``_fingerprint_scopes``'.

*Installed code* is named by module and qualified name only: functions and classes of
Python's standard library and of sktraceprop, scikit-learn, NumPy, SciPy, pandas and
joblib (whose versions a run records), and C functions of builtin modules, whose code
cannot be read. An edited file of the standard library, or of a recorded package whose
RECORD lists no hash (an editable or source install), is not seen. Where a module came
from is ``_install_origin``'s to say.
"""

import dis
import functools
import re
import threading
import types
import weakref

from . import _fingerprint_attrs as _attrs
from . import _fingerprint_cache as _cache
from . import _fingerprint_imports as _imports
from ._fingerprint_state import CONTAINERS, class_state, container_tag, globals_changed
from ._install_origin import installed_identity, origin, recorded_integrity

#: Attributes of a class body that are not its code or values (``__firstlineno__``,
#: Python 3.13: a line number), or are caches Python adds to it later
#: (``__slotnames__`` by the first pickling, ``_abc_impl`` by ABCs).
_CLASS_SKIP = frozenset(
    {
        "__module__",
        "__qualname__",
        "__dict__",
        "__weakref__",
        "__doc__",
        "__firstlineno__",
        "__static_attributes__",
        "__slotnames__",
        "__abstractmethods__",
        "_abc_impl",
    }
)
#: What a user function's global or a class attribute may be hashed by content as.
_PLAIN = (str, bytes, int, float, complex, bool, type(None), list, tuple, dict, set, frozenset)


def is_user(obj, scheme):
    """Whether ``obj`` (a function or class) is user code, hashed by its code, in
    fingerprint ``scheme`` (3, 4 or 5; :func:`_install_origin.origin`)."""
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and origin(module, scheme) == "user"


def feed_installed(h, obj, scheme):
    """From scheme 5, what names the code of a function or class ``obj`` of a package
    installed from a package index (its distribution and the SHA-256 of its module's
    file, :func:`_install_origin.installed_identity`), or of a package whose version a
    run records edited in place since it was installed (its file's SHA-256,
    :func:`_install_origin.recorded_integrity`), after tags no earlier scheme wrote;
    nothing for any other (user code, the standard library, a recorded package as
    installed, C functions of builtin modules)."""
    if scheme < 5:
        return
    module = getattr(obj, "__module__", None)
    if isinstance(module, str):
        _feed_module(h, module, origin(module, scheme))


def _feed_module(h, module, kind):
    if kind == "index":
        h.update(b"I" + installed_identity(module))
    elif kind == "recorded":
        edited = recorded_integrity(module)
        if edited:
            h.update(b"G" + edited)


def _code_parts(code):
    """Everything of a code object that says what it computes, in a fixed order: not
    ``co_filename``, ``co_firstlineno`` or the line table."""
    return (
        code.co_name,
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_flags,
        code.co_code,
        code.co_names,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
        tuple(_code_parts(c) if isinstance(c, types.CodeType) else c for c in code.co_consts),
    )


#: Instructions by which a function assigns a global: state it keeps (a counter), not
#: what it reads.
_STORES = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL"})


@functools.lru_cache(maxsize=4096)
def _code_summary(code):
    """``(encoded parts, global names read, their attribute chains)`` of a code object,
    encoded once (a logged predict fingerprints the model on every call). Equal code
    objects are equal in every part hashed, so the cache cannot confuse two. Names the
    code assigns as globals (``global calls; calls += 1``) are left out: their values
    change with use."""
    from ._fingerprint_walk import _encoded, _Path

    names, stored, stack = set(), set(), [code]
    while stack:
        inner = stack.pop()
        names.update(inner.co_names)
        stored.update(i.argval for i in dis.get_instructions(inner) if i.opname in _STORES)
        stack.extend(c for c in inner.co_consts if isinstance(c, types.CodeType))
    read = names - stored
    chains = {k: v for k, v in _attrs.attribute_chains(code).items() if k in read}
    # scheme 6: what it reads of modules in its closure cells, and the modules it
    # imports when it runs (other than the standard library's and recorded packages')
    reached = (_attrs.cell_chains(code), _imports.user_imports(_imports.imports_of(code)))
    # and what it reads of an argument whose default may be a module (def f(X, h=mod))
    # scheme 6: the containers it changes in place (a memo dict), state: by their type
    changed = globals_changed(code) & read
    parts = _encoded(_code_parts(code), 0, _Path())
    return parts, tuple(sorted(read)), chains, (*reached, _attrs.argument_chains(code)), changed


def feed_function(h, fn, depth, memo, feed):
    """A user function: its code, defaults, closure cells and the globals it names.

    Its bytes are kept (``_fingerprint_cache``) while it holds the same unchangeable
    values, and made afresh otherwise; away from the depth limit only, so that a value
    nested too deep is refused as before."""
    from ._fingerprint_walk import MAX_DEPTH, _Collect

    near_limit = depth + 16 > MAX_DEPTH
    if not near_limit:
        data = _cache.cached(fn, memo.scheme)
        if data is not None:
            h.update(data)
            return
    code = fn.__code__
    parts, names, chains, reached, changed = _code_summary(code)
    made = _cache.inputs(fn, code, names)
    cells, imports, arguments = reached
    reached = (code.co_freevars, cells, imports, fn.__globals__.get("__package__"))
    reached += (changed, arguments)
    if (
        near_limit
        or not _cache.keepable(made)
        or _attrs.follows_any(made[4], chains, memo.scheme)
        or (memo.scheme >= 6 and reached[2])
    ):
        # (fed as it is read: a global array is not copied into a buffer; a module's
        # attributes followed and the files of modules imported are read afresh)
        _feed_function(h, parts, made, chains, reached, depth, memo, feed)
        return
    out = _Collect()
    _feed_function(out, parts, made, chains, reached, depth, memo, feed)
    data = out.value()
    _cache.keep(fn, memo.scheme, made, data)
    h.update(data)


def _feed_function(h, parts, made, chains, reached, depth, memo, feed):
    """The bytes of a user function from what :func:`_fingerprint_cache.inputs` read
    (``reached``: its free variables, their attribute chains, the modules it imports,
    its module's package, the globals it changes in place and its arguments' attribute
    chains)."""
    _, defaults, kwdefaults, cells, named = made
    h.update(parts)
    feed(h, [defaults, kwdefaults], depth + 1, memo)
    h.update(b"c%d:" % len(cells))
    for value in cells:
        if value is _cache._EMPTY:
            h.update(b"e")
            continue
        h.update(b"v")
        feed(h, value, depth + 1, memo)
    named = [(name, value) for name, value in named if value is not _cache._ABSENT]
    h.update(b"g%d:" % len(named))
    changed = reached[4] if memo.scheme >= 6 else ()
    for name, value in named:
        feed(h, name, depth + 1, memo)
        if name in changed and isinstance(value, CONTAINERS):
            # scheme 6: a global container the function fills (a memo): by its type
            h.update(container_tag(value))
        else:
            feed_named(h, value, depth + 1, memo, feed)
    # scheme 6: the attributes it reads of a module of user code or an index package
    _attrs.feed_chains(h, named, chains, depth, memo, feed, feed_named)
    # and of a module in a closure cell, and the files of user modules it imports
    free, cell_chains, imports, package, _, arguments = reached
    in_cells = [(n, v) for n, v in zip(free, cells, strict=False) if v is not _cache._EMPTY]
    _attrs.feed_chains(h, in_cells, cell_chains, depth, memo, feed, feed_named, tag=b"&")
    _imports.feed_imports(h, imports, package, memo.scheme)
    if arguments and (defaults or kwdefaults):  # and of a module an argument's default
        in_defaults = _attrs.defaults_of(made[0], defaults, kwdefaults)
        _attrs.feed_chains(h, in_defaults, arguments, depth, memo, feed, feed_named, tag=b"=")


def feed_named(h, value, depth, memo, feed):
    """A value that user code names (a global, a class attribute): hashed by content
    where it is a plain value, an array, an estimator, a frame, a function or a class
    (and, in scheme 4, a compiled regular expression); a module by its name; any other
    object by its class only."""
    import numpy as np
    import pandas as pd
    from sklearn.base import BaseEstimator

    if memo.scheme >= 4 and isinstance(value, re.Pattern):
        h.update(b"~x")
        feed(h, (value.pattern, value.flags), depth, memo)
    elif callable(value) or isinstance(
        value,
        _PLAIN
        + (types.ModuleType, np.ndarray, np.generic, BaseEstimator, pd.DataFrame, pd.Series),
    ):
        feed(h, value, depth, memo)
    else:
        cls = type(value)
        h.update(b"?" + f"{cls.__module__}.{cls.__qualname__}".encode() + b"\0")


def feed_class_code(h, cls, depth, memo, feed):
    """The functions (methods, static and class methods, properties), nested classes and
    tuples of the bodies of ``cls``'s user classes; other class attributes by value
    (:func:`feed_named`) in scheme 4 and 5, by name only in scheme 3, except the state
    the class keeps with use (``_fingerprint_state``). From scheme 5, the classes of
    ``cls``'s bases installed from a package index by their distribution and file
    (:func:`feed_installed`). A class without other attributes or such bases is hashed
    as scheme 3 hashed it."""
    scheme = memo.scheme
    classes = [klass for klass in cls.__mro__ if is_user(klass, scheme)]
    assigned, changed = class_state(classes, scheme) if scheme >= 4 else ((), ())
    for klass in classes:
        body = klass.__dict__
        keys = sorted(k for k in body if k not in _CLASS_SKIP)
        h.update(b"B%d:" % len(keys))
        for key in keys:
            feed(h, key, depth + 1, memo)
            value = body[key]
            if isinstance(value, staticmethod | classmethod):
                value = value.__func__
            elif isinstance(value, property):
                value = (value.fget, value.fset, value.fdel)
            if isinstance(value, types.FunctionType | type | tuple):
                feed(h, value, depth + 1, memo)
            elif scheme < 4 or key in assigned or _derived(key, value):
                h.update(b"-")
            elif key in changed and isinstance(value, CONTAINERS):
                # scheme 5: a container the class's code fills (a cache): by its type
                h.update(b"h" + _class_name(value))
            else:
                _feed_attribute(h, value, depth + 1, memo, feed)
    feed_bases(h, cls, scheme)


def feed_bases(h, cls, scheme):
    """From scheme 5, each class of ``cls``'s bases installed from a package index, or
    of a recorded package edited in place (:func:`feed_installed`), in the order of its
    MRO."""
    if scheme < 5:
        return
    kept = _INDEX_BASES.get(cls)
    if kept is not None and kept[0] == scheme:
        parts = kept[1]
    else:
        parts = []
        for klass in cls.__mro__:
            module = getattr(klass, "__module__", None)
            kind = origin(module, scheme) if isinstance(module, str) else None
            if kind == "index":  # its file's identity, looked up each time
                parts.append(module)
            elif kind == "recorded":  # checked once a process: its bytes kept
                edited = recorded_integrity(module)
                if edited:
                    parts.append(b"G" + edited)
        parts = tuple(parts)
        try:
            with _INDEX_LOCK:
                _INDEX_BASES[cls] = (scheme, parts)
        except TypeError:  # a class that takes no weak reference: found again each time
            pass
    for part in parts:
        h.update(part if isinstance(part, bytes) else b"I" + installed_identity(part))


#: ``{class: (scheme, for its MRO's classes: the modules from an index, the bytes of
#: recorded modules edited in place)}``
#: (a module's origin is read once a process, so this changes with nothing).
_INDEX_BASES = weakref.WeakKeyDictionary()
_INDEX_LOCK = threading.Lock()


def _class_name(value):
    cls = type(value)
    text = f"{cls.__module__}.{cls.__qualname__}".encode()
    return b"%d:" % len(text) + text


def _derived(key, value):
    """What scikit-learn writes into a subclass from its own methods (the output keys
    ``TransformerMixin`` wraps, metadata routing's ``set_*_request`` methods): named, as
    in scheme 3, since the methods they come from are hashed."""
    cls = type(value)
    return key == "_sklearn_auto_wrap_output_keys" or (
        cls.__name__ == "RequestMethod" and cls.__module__.startswith("sklearn.")
    )


def _feed_attribute(h, value, depth, memo, feed):
    """A class attribute that is not a function, a class or a tuple (scheme 4): by value
    as a global is; one whose walk fails (nested too deep, an object whose state cannot
    be read) by its class, with a tag of its own, rather than no fingerprint."""
    if isinstance(value, functools.cached_property):
        value = value.func
    elif isinstance(value, functools.partialmethod):
        value = (value.func, value.args, value.keywords)
    _attrs.feed_or_class(h, value, depth, memo, feed, feed_named, b"a", b"a!")
