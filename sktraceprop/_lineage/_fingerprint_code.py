"""User functions and classes fingerprinted by their code (fingerprint schemes 3 and 4).

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

Scheme 4 (the current one) closes two gaps of scheme 3, which stays here to compare
records made with it (``scheme=3``):

- a user class's other attributes (``LIMIT = 3`` read as ``self.LIMIT``, a constant of
  a user base class, a ``cached_property``, a ``partialmethod``), which scheme 3 hashed
  by name only, are hashed by value as a global is (:func:`feed_named`: plain values,
  arrays, estimators, frames, compiled regular expressions, functions and classes by
  content, other objects by their class only, and a value whose walk fails by its
  class, said with its own tag, never a failed fingerprint). So an edited constant, or
  ``Clip.LIMIT = 5`` set at run time, changes the fingerprint; so does a class-level
  counter or cache as it changes with use (a false alarm, never a silent match);
- a package installed into ``site-packages`` from a folder, a local or remote archive
  or a version-control checkout (``pip install .``, ``pip install ./dist/x.whl``,
  ``pip install git+...``: its ``direct_url.json``, PEP 610), or copied there by hand
  (no installed distribution lists the file), is user code, hashed by its code; scheme
  3 named it by module and qualified name, so an edited copy was not seen. An editable
  install (``pip install -e .``) was and is user code: its modules are read from the
  project's folder, outside ``site-packages``.

*Installed code* is named by module and qualified name only: functions and classes of
Python's standard library, of sktraceprop, scikit-learn, NumPy, SciPy, pandas and joblib
(whose versions a run records), of packages installed into ``site-packages`` or
``dist-packages`` from a package index (or by a legacy installer that records no
origin: an ``.egg-info``), and C functions (builtins, ufuncs) of any module, whose code
cannot be read. An edited copy of such a package (a file changed in place under
``site-packages``) is not seen.
"""

import dis
import functools
import json
import os
import re
import sys
import types

from . import _fingerprint_cache as _cache

#: Packages whose versions a run records (``library_versions``): named, not hashed.
_RECORDED = frozenset({"sktraceprop", "sklearn", "numpy", "scipy", "pandas", "joblib"})
_INSTALLED_DIRS = ("site-packages", "dist-packages")
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
#: The scope of what scheme 3 hashed by code, said where the scheme is described (a
#: report of a scheme-3 run holds these words).
SCOPE_3 = (
    "functions and classes of user code (__main__, a notebook, a module not installed) "
    "are hashed by their code, defaults, closure contents and the plain values and user "
    "functions they read as globals (not by file name or line numbers; not globals they "
    "assign, nor class attributes other than functions); those of installed "
    "packages (Python's standard library, sktraceprop, scikit-learn, NumPy, SciPy, "
    "pandas, joblib, anything under site-packages) and C functions are named by module "
    "and qualified name only, so an edited installed package is not told apart"
)
#: The scope of what scheme 4 (the current scheme) hashes by code.
SCOPE = (
    "functions and classes of user code (__main__, a notebook, a module not installed, "
    "an editable install, a package installed from a folder, an archive or a "
    "version-control checkout rather than a package index, or copied into "
    "site-packages by hand) are hashed by their code, defaults, closure contents, the "
    "values they read as globals and the attributes of user classes (through their user "
    "base classes): plain values, arrays, estimators, frames, regular expressions and "
    "user functions and classes by content, other objects by their class only; not by "
    "file name or line numbers, nor the globals they assign; a class attribute or "
    "global changed by use (a counter, a cache) changes the fingerprint as it changes. "
    "Functions and classes of Python's standard library, sktraceprop, scikit-learn, "
    "NumPy, SciPy, pandas, joblib, packages installed from a package index, and C "
    "functions are named by module and qualified name only, so an installed package "
    "edited in place is not told apart"
)


@functools.lru_cache(maxsize=4096)
def _module_is_user(name, scheme):
    if name == "__main__":
        return True
    top = name.partition(".")[0]
    if top in _RECORDED or top in sys.stdlib_module_names or top == "builtins":
        return False
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if path is None:
        # a module made at run time (exec, a notebook's cells, one not imported) holds
        # user code; one compiled into the interpreter does not
        return name not in sys.builtin_module_names
    parts = str(path).replace("\\", "/").split("/")
    at = [i for i, part in enumerate(parts) if part in _INSTALLED_DIRS]
    if not at:
        return True
    if scheme < 4:
        return False
    # scheme 4: installed from a folder, an archive or a checkout, or by hand
    site = "/".join(parts[: at[-1] + 1])
    return _installed_by_user(site, "/".join(parts[at[-1] + 1 :]), name.partition(".")[0])


def _normal(name):
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.lru_cache(maxsize=64)
def _records(site):
    """``{file path in site: its .dist-info folder}`` for every wheel-style distribution
    in ``site`` (read once a process, and only where a module's own name does not lead
    to its distribution), and the files ``.egg-info`` folders list as top-level names."""
    owners, legacy = {}, set()
    for entry in _entries(site):
        folder = os.path.join(site, entry)
        if entry.endswith(".dist-info"):
            for rel in _record_files(folder):
                owners.setdefault(rel, folder)
        elif entry.endswith(".egg-info"):
            legacy.update(_top_level(folder))
    return owners, legacy


@functools.lru_cache(maxsize=256)
def _record_files(folder):
    """The files a .dist-info's RECORD lists (read once a process: torch's lists tens of
    thousands)."""
    try:
        with open(os.path.join(folder, "RECORD"), encoding="utf-8") as f:
            return frozenset(line.split(",", 1)[0] for line in f if line.strip())
    except OSError:
        return frozenset()


@functools.lru_cache(maxsize=64)
def _entries(site):
    try:
        return tuple(os.listdir(site))
    except OSError:
        return ()


def _top_level(folder):
    try:
        with open(os.path.join(folder, "top_level.txt"), encoding="utf-8") as f:
            return {line.strip() for line in f if line.strip()}
    except OSError:
        return set()


@functools.lru_cache(maxsize=4096)
def _installed_by_user(site, rel, top):
    """Whether the file ``rel`` of ``site`` (a site-packages folder) is the user's: of
    a distribution installed from a direct URL (``direct_url.json``: a folder, an
    archive, a checkout, not a package index), or of none (copied in by hand). A file an
    ``.egg-info`` names as its top level (a legacy install, no origin recorded) is not."""
    owner = None
    for entry in _entries(site):  # the distribution named as the module, most often
        if entry.endswith(".dist-info") and _normal(entry.split("-", 1)[0]) == _normal(top):
            folder = os.path.join(site, entry)
            if rel in _record_files(folder):
                owner = folder
                break
    if owner is None:
        owners, legacy = _records(site)
        owner = owners.get(rel)
        if owner is None:
            return top not in legacy
    try:
        with open(os.path.join(owner, "direct_url.json"), encoding="utf-8") as f:
            json.load(f)
    except FileNotFoundError:
        return False  # from a package index
    except (OSError, ValueError):
        return True  # a direct_url.json that cannot be read: hashed, the sound side
    return True


def is_user(obj, scheme):
    """Whether ``obj`` (a function or class) is user code, hashed by its code, in
    fingerprint ``scheme`` (3 or 4)."""
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and _module_is_user(module, scheme)


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
#: Instructions by which a method assigns an attribute (``type(self).calls += 1``).
_ATTR_STORES = frozenset({"STORE_ATTR", "DELETE_ATTR"})


@functools.lru_cache(maxsize=4096)
def _attributes_assigned(code):
    """The attribute names ``code`` (and the code nested in it) assigns or deletes."""
    names, stack = set(), [code]
    while stack:
        inner = stack.pop()
        names.update(i.argval for i in dis.get_instructions(inner) if i.opname in _ATTR_STORES)
        stack.extend(c for c in inner.co_consts if isinstance(c, types.CodeType))
    return frozenset(names)


def _class_state(classes):
    """The attribute names the functions of the bodies of ``classes`` assign: a class
    attribute of one of these names is state the class keeps with use (``calls = 0``
    and ``type(self).calls += 1``), named but not hashed, as a global a function
    assigns is not."""
    names = set()
    for klass in classes:
        for value in klass.__dict__.values():
            for fn in _functions_of(value):
                # and what a decorator wraps (TransformerMixin wraps transform)
                # (functions only: another object's __getattr__ is not called)
                for _ in range(8):
                    if not isinstance(fn, types.FunctionType):
                        break
                    names |= _attributes_assigned(fn.__code__)
                    fn = getattr(fn, "__wrapped__", None)
    return names


def _functions_of(value):
    if isinstance(value, staticmethod | classmethod):
        return (value.__func__,)
    if isinstance(value, property):
        return (value.fget, value.fset, value.fdel)
    if isinstance(value, functools.cached_property | functools.partialmethod):
        return (value.func,)
    return (value,)


@functools.lru_cache(maxsize=4096)
def _code_summary(code):
    """``(encoded parts, global names read)`` of a code object, encoded once (a logged
    predict fingerprints the model on every call). Equal code objects are equal in every
    part hashed, so the cache cannot confuse two. Names the code assigns as globals
    (``global calls; calls += 1``) are left out: their values change with use."""
    from ._fingerprint import _encoded, _Path

    names, stored, stack = set(), set(), [code]
    while stack:
        inner = stack.pop()
        names.update(inner.co_names)
        stored.update(i.argval for i in dis.get_instructions(inner) if i.opname in _STORES)
        stack.extend(c for c in inner.co_consts if isinstance(c, types.CodeType))
    return _encoded(_code_parts(code), 0, _Path()), tuple(sorted(names - stored))


def feed_function(h, fn, depth, memo, feed):
    """A user function: its code, defaults, closure cells and the globals it names.

    Its bytes are kept (``_fingerprint_cache``) while it holds the same unchangeable
    values, and made afresh otherwise; away from the depth limit only, so that a value
    nested too deep is refused as before."""
    from ._fingerprint import MAX_DEPTH, _Collect

    near_limit = depth + 16 > MAX_DEPTH
    if not near_limit:
        data = _cache.cached(fn, memo.scheme)
        if data is not None:
            h.update(data)
            return
    code = fn.__code__
    parts, names = _code_summary(code)
    made = _cache.inputs(fn, code, names)
    if near_limit or not _cache.keepable(made):
        # (fed as it is read: a global array is not copied into a buffer)
        _feed_function(h, parts, made, depth, memo, feed)
        return
    out = _Collect()
    _feed_function(out, parts, made, depth, memo, feed)
    data = out.value()
    _cache.keep(fn, memo.scheme, made, data)
    h.update(data)


def _feed_function(h, parts, made, depth, memo, feed):
    """The bytes of a user function from what :func:`_fingerprint_cache.inputs` read."""
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
    for name, value in named:
        feed(h, name, depth + 1, memo)
        feed_named(h, value, depth + 1, memo, feed)


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
    (:func:`feed_named`) in scheme 4, by name only in scheme 3. A class without other
    attributes is hashed as scheme 3 hashed it."""
    scheme = memo.scheme
    classes = [klass for klass in cls.__mro__ if is_user(klass, scheme)]
    state = _class_state(classes) if scheme >= 4 else ()
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
            elif scheme < 4 or key in state or _derived(key, value):
                h.update(b"-")
            else:
                _feed_attribute(h, value, depth + 1, memo, feed)


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
    from ._fingerprint import _Collect

    if isinstance(value, functools.cached_property):
        value = value.func
    elif isinstance(value, functools.partialmethod):
        value = (value.func, value.args, value.keywords)
    out = _Collect()
    try:
        feed_named(out, value, depth, memo, feed)
    except Exception:
        cls = type(value)
        h.update(b"a!" + f"{cls.__module__}.{cls.__qualname__}".encode() + b"\0")
        return
    h.update(b"a")
    h.update(out.value())
