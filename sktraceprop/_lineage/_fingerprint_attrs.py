"""Helpers a user function reaches through a module attribute (fingerprint scheme 6).

Scheme 5 hashed a user function's globals, and a global that is a module by the module's
name only. So a helper called as ``mymod.helper(X)`` after ``import mymod`` (or
``_utils.helper()`` after ``from . import _utils``) was not part of the fingerprint:
the helper edited and reloaded, or replaced at run time (``mymod.helper = other``), left
the fingerprint as it was.

Scheme 6 reads, from the function's bytecode, each chain of attributes it loads from a
global name (``LOAD_GLOBAL``/``LOAD_NAME`` then ``LOAD_ATTR``/``LOAD_METHOD``, by the
instructions' names and ``argval``, which Python 3.11 to 3.14 share; ``EXTENDED_ARG``,
``CACHE`` and ``NOP`` between them do not end a chain). Where that global is a module of
user code or of a package installed from a package index (``_install_origin``), the
chain is followed while it names modules of such origin, and the value it reaches is
hashed as a global is (``_fingerprint_code.feed_named``): a user function by its code
(which follows its own module attributes in turn), a class by its code, a constant by
value, an index package's function by its distribution and file. Cycles (``a.f`` calls
``b.g`` calls ``a.f``) are cut as every cycle of the walk is, and the walk's depth limit
bounds the rest. A function that follows no such chain writes no new bytes: its
scheme-5 value is kept (``np.log(X)`` reads ``np``, of a package whose version the run
records: named by module as before).

Scheme 6 also follows, writing bytes only where the code does so (its value is
otherwise as above):

- ``getattr(mymod, "name")`` with a constant name and two arguments, read as
  ``mymod.name`` (:func:`chains_of`);
- a followed module the code uses as a value rather than reading an attribute of it
  (passed on, ``vars(mymod)``, ``getattr(mymod, name)`` with a name computed at run
  time): every attribute of it but its dunder names is hashed (:func:`feed_whole`), since
  any of them may be reached;
- attribute chains from a module in one of the function's closure cells
  (:func:`cell_chains`), as from a global;
- a module of user code the function imports when it runs (``import mymod as m`` or
  ``from . import _utils`` inside it): by its name and its file's SHA-256
  (:func:`feed_imports`), found without importing it, so the value is the same before
  and after the first call imports it; one not found is named with a tag of its own.

Not seen (the documented limits): a module held in a default or reached through
``importlib.import_module`` at call time (named only), a module of an installed package
imported inside a function, a helper of a module imported inside a function replaced at
run time rather than edited in its file, and attributes of modules of the standard
library and of the packages whose versions a run records, named by module as in scheme 5.
"""

import types

from ._install_origin import _INSTALLED_DIRS, RECORDED, _parts, origin

#: Instructions that start a chain (a global read by name).
_STARTS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
#: The instruction that reads a closure cell.
_CELL_STARTS = frozenset({"LOAD_DEREF"})
#: Instructions that extend one (an attribute or method read from the value on top).
_EXTENDS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
#: Instructions that may sit between them without ending it.
_TRANSPARENT = frozenset({"EXTENDED_ARG", "CACHE", "NOP"})
#: Origins whose modules' attributes are followed.
_FOLLOWED = frozenset({"user", "index"})
#: Stands for an attribute a module does not have (any more).
_MISSING = object()


#: Instructions that load a constant (``LOAD_SMALL_INT``: an import's level, Python
#: 3.14).
_CONSTS = frozenset({"LOAD_CONST", "LOAD_SMALL_INT"})
#: Instructions that call (``PRECALL`` precedes ``CALL`` in Python 3.11).
_CALLS = frozenset({"PRECALL", "CALL"})


def chains_of(instructions, starts=_STARTS):
    """``{name: set of attribute chains}`` read from ``instructions`` (each an object
    with ``opname`` and ``argval``, as ``dis.get_instructions`` gives), of the names
    loaded by an instruction of ``starts`` (globals; closure cells with ``LOAD_DEREF``).

    ``getattr(mod, "name")`` (a constant name, two arguments) is read as ``mod.name``.
    A name read other than as the start of a chain (passed on, ``getattr(mod, name)``
    with a name computed at run time) gives the empty chain ``()``: where it is a module
    followed, every attribute of it may be reached (:func:`feed_chains` hashes them all).
    """
    ins = [i for i in instructions if i.opname not in _TRANSPARENT]
    found, i, n = {}, 0, len(ins)
    while i < n:
        at = ins[i]
        constant = None
        if at.opname in _STARTS and at.argval == "getattr":
            constant = _constant_getattr(ins, i, starts)
        if constant is None and (at.opname not in starts or not isinstance(at.argval, str)):
            i += 1
            continue
        name, chain, j = constant if constant is not None else (at.argval, [], i + 1)
        while j < n and ins[j].opname in _EXTENDS and isinstance(ins[j].argval, str):
            chain.append(ins[j].argval)
            j += 1
        found.setdefault(name, set()).add(tuple(chain))
        i = j
    if starts is _STARTS:
        found.pop("getattr", None)
    return found


def _constant_getattr(ins, i, starts):
    """``(name, [attribute], index after the call)`` where ``ins[i:]`` is
    ``getattr(<name loaded by starts>, "<constant>")``; None otherwise."""
    if i + 3 >= len(ins):
        return None
    target, const = ins[i + 1], ins[i + 2]
    if target.opname not in starts or not isinstance(target.argval, str):
        return None
    if const.opname != "LOAD_CONST" or not isinstance(const.argval, str):
        return None
    j = i + 3
    if ins[j].opname == "PRECALL":
        j += 1
    if j >= len(ins) or ins[j].opname not in _CALLS or ins[j].argval != 2:
        return None
    return target.argval, [const.argval], j + 1


def cell_chains(code):
    """``{free variable: sorted tuple of attribute chains}`` that ``code`` and the code
    objects nested in it load from ``code``'s closure cells (``LOAD_DEREF``)."""
    import dis

    free, found, stack = set(code.co_freevars), {}, [code]
    while stack:
        inner = stack.pop()
        for name, chains in chains_of(dis.get_instructions(inner), _CELL_STARTS).items():
            if name in free:
                found.setdefault(name, set()).update(chains)
        stack.extend(c for c in inner.co_consts if isinstance(c, types.CodeType))
    return {name: tuple(sorted(chains)) for name, chains in found.items()}


def attribute_chains(code):
    """``{global name: sorted tuple of attribute chains}`` that ``code`` and the code
    objects nested in it load from globals (``mod.sub.helper`` gives
    ``{"mod": (("sub", "helper"),)}``)."""
    import dis

    found, stack = {}, [code]
    while stack:
        inner = stack.pop()
        for name, chains in chains_of(dis.get_instructions(inner)).items():
            found.setdefault(name, set()).update(chains)
        stack.extend(c for c in inner.co_consts if isinstance(c, types.CodeType))
    return {name: tuple(sorted(chains)) for name, chains in found.items()}


def followed(value, scheme):
    """Whether ``value`` (a global) is a module whose attributes scheme ``scheme`` (6 or
    later) follows: one of user code or of a package from a package index."""
    if scheme < 6 or not isinstance(value, types.ModuleType):
        return False
    name = getattr(value, "__name__", None)
    return isinstance(name, str) and origin(name, scheme) in _FOLLOWED


def reach(module, chain, scheme):
    """``(attributes taken, value)``: ``chain`` followed from ``module`` while each value
    is a module :func:`followed` follows; ``_MISSING`` where one lacks the attribute."""
    value, taken = module, 0
    for attr in chain:
        if not followed(value, scheme):
            break
        try:
            value = getattr(value, attr)
        except Exception:  # not there (any more), or a module __getattr__ that raises
            return taken + 1, _MISSING
        taken += 1
    return taken, value


def feed_chains(h, named, chains, depth, memo, feed, feed_named, tag=b"@"):
    """After a user function's globals: for each global module followed (``named``:
    ``(name, value)`` pairs; ``chains``: :func:`attribute_chains`), each chain, the
    number of attributes taken and the value reached; nothing where none is followed
    (a function's scheme-5 bytes)."""
    if not chains:
        return
    parts = [
        (name, chain)
        for name, value in named
        if followed(value, memo.scheme)
        for chain in chains.get(name, ())
    ]
    if not parts:
        return
    scope = dict(named)
    h.update(tag + b"%d:" % len(parts))
    for name, chain in parts:
        taken, value = reach(scope[name], chain, memo.scheme)
        feed(h, [name, list(chain[:taken])], depth + 1, memo)
        if value is _MISSING:
            h.update(b"-")
        elif followed(value, memo.scheme):
            # a module used as a value (passed on, getattr(mod, name)): all it holds
            feed_whole(h, value, depth + 1, memo, feed, feed_named)
        else:
            h.update(b"+")
            feed_named(h, value, depth + 1, memo, feed)


def feed_whole(h, module, depth, memo, feed, feed_named):
    """Every attribute of ``module`` but its dunder names, sorted by name, each hashed
    as a global is; one whose walk fails by its class, with a tag of its own, rather
    than no fingerprint. For a module code may read any attribute of."""
    feed(h, getattr(module, "__name__", ""), depth, memo)
    key = ("*", id(module))  # a module reached again within itself: cut as a cycle is
    seen = memo.get(key)
    if seen is not None:
        h.update(b"*C%d:" % (depth - seen))
        return
    memo[key] = depth
    try:
        _feed_items_of(h, module, depth, memo, feed, feed_named)
    finally:
        del memo[key]


def _feed_items_of(h, module, depth, memo, feed, feed_named):
    try:
        items = sorted(
            (k, v)
            for k, v in list(vars(module).items())
            if isinstance(k, str) and not (k.startswith("__") and k.endswith("__"))
        )
    except Exception:  # a module whose namespace cannot be read or sorted
        h.update(b"*!")
        return
    h.update(b"*%d:" % len(items))
    for key, value in items:
        feed(h, key, depth, memo)
        feed_or_class(h, value, depth, memo, feed, feed_named, b"+", b"!")


def feed_or_class(h, value, depth, memo, feed, feed_named, tag, failed):
    """``value`` hashed as a global is (``feed_named``), after ``tag``; where its walk
    fails (nested too deep, an object whose state cannot be read), its class after
    ``failed`` instead, rather than no fingerprint (nothing of the failed walk is kept)."""
    from ._fingerprint_walk import _Collect

    out = _Collect()
    try:
        feed_named(out, value, depth, memo, feed)
    except Exception:
        cls = type(value)
        h.update(failed + f"{cls.__module__}.{cls.__qualname__}".encode() + b"\0")
        return
    h.update(tag)
    h.update(out.value())


def follows_any(named, chains, scheme):
    """Whether a function with globals ``named`` and ``chains`` follows any module
    attribute (its bytes then depend on those attributes: never kept)."""
    return bool(chains) and any(
        name in chains and followed(value, scheme) for name, value in named
    )


def imports_of(code):
    """``((level, module name, names imported from it), ...)`` for each ``import``
    statement in ``code`` and the code objects nested in it (an import run when the
    function runs, its module bound to a local variable)."""
    import dis

    found, stack = set(), [code]
    while stack:
        inner = stack.pop()
        ins = [i for i in dis.get_instructions(inner) if i.opname not in _TRANSPARENT]
        for k, at in enumerate(ins):
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


def user_imports(imports):
    """Those of ``imports`` (:func:`imports_of`) that may be of user code: not of the
    standard library, a builtin module or a package whose version a run records."""
    import sys

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
    import hashlib
    import sys

    top = name.partition(".")[0]
    if top in RECORDED or top in sys.stdlib_module_names or name in sys.builtin_module_names:
        return None
    path = _module_file(name)
    if path is None:
        return b"?" + _lp(name) if required else None
    if any(p in _INSTALLED_DIRS for p in _parts(path)):
        return None  # installed (by its path alone: the same before and after import)
    try:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).digest()
    except OSError:
        return b"?" + _lp(name)
    return b"F" + _lp(name) + digest


def _module_file(name):
    """The file of module ``name``: its ``__file__`` where imported, else where Python's
    path finders would find it, without importing anything (None where a parent package
    is not imported, or it is not found)."""
    import importlib.machinery
    import sys

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
