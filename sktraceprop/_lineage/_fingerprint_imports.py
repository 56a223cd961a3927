"""Modules of user code a user function imports when it runs (fingerprint scheme 6).

A function that imports a module inside its body (``import mymod as m``, ``from . import
_utils``), or gets one by a constant name (``importlib.import_module("mymod")``,
``__import__("mymod")``, one argument: a constant string), runs that module's code,
which is not among its globals. Each such module of user code is named with its name
and the SHA-256 of its file (:func:`feed_imports`), found without importing it, so the
value is the same before and after the first call imports it; one not found is named
with a tag of its own. Modules of the standard library, builtin modules and packages
whose versions a run records are left out (named by the run's versions), and so is a
file under an installed package's folder.

A logged predict fingerprints the model on every call, so a file's SHA-256 is kept
(:func:`file_digest`) under its path and what ``os.stat`` says of it: modification and
status-change times in nanoseconds, size, inode and device. Any write to the file, or
any change of its times (``os.utime``, ``touch``), sets its status-change time to the
clock's time then, which no program can set back; so a digest is kept only once the
file's times are older than the read by :data:`_MARGIN_NS` (more than any file
system's time step), and an edit made after the read gives a new status-change time,
hence a miss and a fresh read. A file edited less than that before it is read is read
again on every call until it is older. What this cannot see is a system clock set back
by more than the margin between a read and an edit, or, on Windows, where
``st_ctime`` is the creation time, nothing: there the file is read on every call.

Not followed: ``import_module`` and ``__import__`` with a name computed at run time or
with other arguments (a package, a ``fromlist``), nor a module of an installed package
imported inside a function (named by its name only, as a global module of a package
whose version is recorded is).
"""

import hashlib
import os
import sys
import threading
import time
import types

from ._install_origin import _INSTALLED_DIRS, RECORDED, _parts

#: Instructions that may sit between others without meaning anything.
_TRANSPARENT = frozenset({"EXTENDED_ARG", "CACHE", "NOP"})
#: Instructions that load a constant (``LOAD_SMALL_INT``: an import's level, Python
#: 3.14).
_CONSTS = frozenset({"LOAD_CONST", "LOAD_SMALL_INT"})
#: Instructions that load a name (a global, a local, a closure cell).
_NAME_LOADS = frozenset(
    {"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_BORROW", "LOAD_DEREF"}
)
#: Instructions that read an attribute (3.11: ``LOAD_METHOD`` for a method call).
_ATTR_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
#: How long a file's times must lie before a read for its digest to be kept.
_MARGIN_NS = 2_000_000_000
#: ``{path: (stat key, SHA-256)}`` of the files read (user modules: a few).
_DIGESTS = {}
_LOCK = threading.Lock()


def imports_of(code):
    """``((level, module name, names imported from it), ...)`` for each ``import``
    statement in ``code`` and the code objects nested in it (an import run when the
    function runs, its module bound to a local variable), and each call of
    ``import_module`` or ``__import__`` with one constant string (level 0, no names)."""
    import dis

    found, stack = set(), [code]
    while stack:
        inner = stack.pop()
        ins = [i for i in dis.get_instructions(inner) if i.opname not in _TRANSPARENT]
        for k, at in enumerate(ins):
            constant = _constant_import(ins, k)
            if constant is not None:
                found.add((0, constant, ()))
            if at.opname != "IMPORT_NAME" or not isinstance(at.argval, str):
                continue
            level = ins[k - 2].argval if k >= 2 and ins[k - 2].opname in _CONSTS else None
            names = []
            for after in ins[k + 1 :]:
                if after.opname == "IMPORT_FROM" and isinstance(after.argval, str):
                    names.append(after.argval)
                elif after.opname not in {
                    "STORE_FAST",
                    "STORE_NAME",
                    "STORE_DEREF",
                    "STORE_GLOBAL",
                }:
                    break
            found.add((level if isinstance(level, int) else -1, at.argval, tuple(names)))
        stack.extend(c for c in inner.co_consts if isinstance(c, types.CodeType))
    return tuple(sorted(found))


def _constant_import(ins, k):
    """The module name where ``ins[k:]`` is ``__import__("name")``,
    ``import_module("name")`` or ``<importlib>.import_module("name")``; None otherwise.
    Which object the name is bound to is not checked: a function of another name
    ``import_module`` only adds a module's file to what is hashed."""
    at = ins[k]
    if at.opname not in _NAME_LOADS:
        return None
    j = k + 1
    if at.argval not in {"__import__", "import_module"}:
        if j >= len(ins) or ins[j].opname not in _ATTR_LOADS:
            return None
        if ins[j].argval != "import_module":
            return None
        j += 1
    if j + 1 >= len(ins) or ins[j].opname != "LOAD_CONST" or not isinstance(ins[j].argval, str):
        return None
    name = ins[j].argval
    j += 1
    if ins[j].opname == "PRECALL":
        j += 1
    if j >= len(ins) or ins[j].opname != "CALL" or ins[j].argval != 1:
        return None
    return name


def user_imports(imports):
    """Those of ``imports`` (:func:`imports_of`) that may be of user code: not of the
    standard library, a builtin module or a package whose version a run records."""

    def maybe_user(level, name):
        top = name.partition(".")[0]
        return level != 0 or not (
            top in RECORDED or top in sys.stdlib_module_names or name in sys.builtin_module_names
        )

    return tuple(i for i in imports if maybe_user(i[0], i[1]))


def feed_imports(h, imports, package, scheme):
    """From scheme 6, for the modules a function imports when it runs (:func:`imports_of`;
    ``package``: its module's ``__package__``, for relative imports): each of user code
    by its name and the SHA-256 of its file (the same whether or not it was imported
    yet), one not found by its name with a tag of its own; nothing where it imports
    none of user code (its scheme-6 bytes)."""
    if scheme < 6 or not imports:
        return
    parts = []
    for level, name, names in imports:
        full = _absolute(level, name, package)
        if full is None:
            parts.append(b"?" + _lp(name))
            continue
        for module in (full, *(f"{full}.{n}" for n in names)):
            part = _module_part(module, scheme, required=module == full)
            if part:
                parts.append(part)
    if parts:
        h.update(b"^%d:" % len(parts))
        for part in parts:
            h.update(part)


def _lp(text):
    data = text.encode("utf-8", "surrogatepass")
    return b"%d:" % len(data) + data


def _absolute(level, name, package):
    import importlib.util

    if level == 0:
        return name
    if level < 0 or not isinstance(package, str) or not package:
        return None
    try:
        return importlib.util.resolve_name("." * level + name, package)
    except (ImportError, ValueError):
        return None


def _module_part(name, scheme, required):
    """What names module ``name`` of a function's import: ``F`` with its SHA-256 for a
    file of user code, ``?`` where it is not found (only where ``required``: a name
    imported from a module may be an attribute, not a module), None otherwise."""
    top = name.partition(".")[0]
    if top in RECORDED or top in sys.stdlib_module_names or name in sys.builtin_module_names:
        return None
    path = _module_file(name)
    if path is None:
        return b"?" + _lp(name) if required else None
    if any(p in _INSTALLED_DIRS for p in _parts(path)):
        return None  # installed (by its path alone: the same before and after import)
    try:
        digest = file_digest(path)
    except OSError:
        return b"?" + _lp(name)
    return b"F" + _lp(name) + digest


def _stat_key(st):
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_dev)


def file_digest(path):
    """The SHA-256 of the file at ``path``: kept from an earlier read while ``os.stat``
    says the same of it (times in nanoseconds, size, inode, device) and its times lay
    more than :data:`_MARGIN_NS` before that read (see the module's notes for why an
    edit cannot then go unseen); read afresh otherwise, and always on Windows."""
    if os.name != "nt":
        kept = _DIGESTS.get(path)
        if kept is not None and kept[0] == _stat_key(os.stat(path)):
            return kept[1]
    started = time.time_ns()
    with open(path, "rb") as f:
        key = _stat_key(os.fstat(f.fileno()))
        digest = hashlib.sha256(f.read()).digest()
        after = _stat_key(os.fstat(f.fileno()))
    settled = max(key[0], key[1]) < started - _MARGIN_NS
    if os.name != "nt" and key == after and settled:
        with _LOCK:
            _DIGESTS[path] = (key, digest)
    return digest


def clear():
    """Forget every digest kept (tests: files read afresh)."""
    with _LOCK:
        _DIGESTS.clear()


def _module_file(name):
    """The file of module ``name``: its ``__file__`` where imported, else where Python's
    path finders would find it, without importing anything (None where a parent package
    is not imported, or it is not found)."""
    import importlib.machinery

    module = sys.modules.get(name)
    if module is not None:
        path = getattr(module, "__file__", None)
        return path if isinstance(path, str) else None
    parent, _, last = name.rpartition(".")
    if parent:
        search = getattr(sys.modules.get(parent), "__path__", None)
        if search is None:
            return None
    else:
        search = None
    try:
        spec = importlib.machinery.PathFinder.find_spec(last, search)
    except Exception:  # an odd entry on sys.path or a finder that raises
        return None
    path = getattr(spec, "origin", None) if spec is not None else None
    return path if isinstance(path, str) and spec.has_location else None
