"""User functions and classes fingerprinted by their code (fingerprint scheme 3).

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
nested classes), through its user base classes; its other attributes by name only (a
class-level counter changes with use; a class-level constant edited is not seen). A
global a function changes in place (a cache dict) changes the fingerprint as it
changes.

*Installed code* is named by module and qualified name only, as before: functions and
classes of Python's standard library, of sktraceprop, scikit-learn, NumPy, SciPy,
pandas and joblib (whose versions a run records), of any module under a
``site-packages`` or ``dist-packages`` folder, and C functions (builtins, ufuncs) of
any module, whose code cannot be read.
"""

import dis
import functools
import sys
import types

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
#: The scope of what scheme 3 hashes by code, said where the scheme is described.
SCOPE = (
    "functions and classes of user code (__main__, a notebook, a module not installed) "
    "are hashed by their code, defaults, closure contents and the plain values and user "
    "functions they read as globals (not by file name or line numbers; not globals they "
    "assign, nor class attributes other than functions); those of installed "
    "packages (Python's standard library, sktraceprop, scikit-learn, NumPy, SciPy, "
    "pandas, joblib, anything under site-packages) and C functions are named by module "
    "and qualified name only, so an edited installed package is not told apart"
)


@functools.lru_cache(maxsize=4096)
def _module_is_user(name):
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
    return not any(part in _INSTALLED_DIRS for part in parts)


def is_user(obj):
    """Whether ``obj`` (a function or class) is user code, hashed by its code."""
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and _module_is_user(module)


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
    """A user function: its code, defaults, closure cells and the globals it names."""
    parts, names = _code_summary(fn.__code__)
    h.update(parts)
    feed(h, [fn.__defaults__, fn.__kwdefaults__], depth + 1, memo)
    cells = fn.__closure__ or ()
    h.update(b"c%d:" % len(cells))
    for cell in cells:
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell (a name assigned after the closure)
            h.update(b"e")
            continue
        h.update(b"v")
        feed(h, value, depth + 1, memo)
    scope = fn.__globals__
    named = [name for name in names if name in scope]
    h.update(b"g%d:" % len(named))
    for name in named:
        feed(h, name, depth + 1, memo)
        feed_named(h, scope[name], depth + 1, memo, feed)


def feed_named(h, value, depth, memo, feed):
    """A value that user code names (a global, a class attribute): hashed by content
    where it is a plain value, an array, an estimator, a frame, a function or a class;
    a module by its name; any other object by its class only."""
    import numpy as np
    import pandas as pd
    from sklearn.base import BaseEstimator

    if callable(value) or isinstance(
        value,
        _PLAIN
        + (types.ModuleType, np.ndarray, np.generic, BaseEstimator, pd.DataFrame, pd.Series),
    ):
        feed(h, value, depth, memo)
    else:
        cls = type(value)
        h.update(b"?" + f"{cls.__module__}.{cls.__qualname__}".encode() + b"\0")


def feed_class_code(h, cls, depth, memo, feed):
    """The functions (methods, static and class methods, properties) and nested classes
    of the bodies of ``cls``'s user classes; other class attributes by name only (a
    class-level counter or cache changes with use)."""
    for klass in cls.__mro__:
        if not is_user(klass):
            continue
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
            else:
                h.update(b"-")
