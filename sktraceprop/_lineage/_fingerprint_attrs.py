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
- attribute chains from a local variable assigned a global once (``h = mymod;
  h.helper(X)``: :func:`_aliased`), as from the global, where this first counted the
  global as used as a value (hashed whole);
- attribute chains from an argument whose default is such a module (``def f(X,
  h=mymod)``: :func:`argument_chains`, tag ``=``), and from one bound to the argument by
  a partial or a ``FunctionTransformer``'s ``kw_args`` (``_fingerprint_bound``);
- a module of user code the function imports when it runs: ``_fingerprint_imports``.

A module hashed whole leaves out the state its own functions keep with use
(``_fingerprint_state.module_state``): names they assign as globals (a counter) are
named, containers they change in place (a memo dict) named by type; everything else it
holds is hashed, so an attribute changed by other code is seen (a false alarm at worst).

Not seen (the documented limits): a module held in a container or passed to a
``**kwargs`` (named only), one reached through ``importlib.import_module`` with a name
computed at call time, and attributes of modules of the standard library and of the
packages whose versions a run records, named by module as in scheme 5.
"""

import functools
import types

from ._install_origin import origin

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


#: Instructions that read a local variable (3.12 adds ``_CHECK``, 3.14 ``_BORROW``).
_LOCAL_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_BORROW"})
#: Instructions that assign a local variable.
_LOCAL_STORES = frozenset({"STORE_FAST"})
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
        ins, aliases = _aliased(list(dis.get_instructions(inner)), inner)
        for name, chains in chains_of(ins).items():
            found.setdefault(name, set()).update(chains)
        for alias, chains in _local_reads(ins, inner, aliases).items():
            found.setdefault(aliases[alias], set()).update(chains)
        stack.extend(c for c in inner.co_consts if isinstance(c, types.CodeType))
    return {name: tuple(sorted(chains)) for name, chains in found.items()}


class _Cut:
    """Stands for a global read into a local alias: ends any chain, starts none."""

    __slots__ = ()
    opname = "ALIASED"
    argval = None


def _aliased(ins, code):
    """``(instructions, {local: global})``: a global read straight into a local variable
    (``h = helpers``) that is assigned nowhere else in ``code``, is no argument and no
    closure cell, is an alias, read through as the global (the global's read cut from
    ``instructions``, so it is not taken for the module used as a value)."""
    stores = {}
    for at in ins:
        if at.opname in _LOCAL_STORES or at.opname == "DELETE_FAST":
            stores[at.argval] = stores.get(at.argval, 0) + 1
    arguments = set(code.co_varnames[: _argument_count(code)])
    cells = set(code.co_cellvars)
    out, aliases = list(ins), {}
    for k in range(len(ins) - 1):
        at, after = ins[k], ins[k + 1]
        if (
            at.opname in _STARTS
            and isinstance(at.argval, str)
            and after.opname in _LOCAL_STORES
            and stores.get(after.argval) == 1
            and after.argval not in arguments | cells
        ):
            aliases[after.argval] = at.argval
            out[k] = _Cut()
    return out, aliases


def _argument_count(code):
    return (
        code.co_argcount
        + code.co_kwonlyargcount
        + bool(code.co_flags & 0x04)  # *args
        + bool(code.co_flags & 0x08)  # **kwargs
    )


def _local_reads(ins, code, names):
    """``{local in names: set of attribute chains}`` that ``ins`` (of ``code``, not the
    code nested in it) reads of local variables ``names``. A name also read otherwise (a
    closure cell of nested code, two locals loaded in one instruction, a comprehension's
    saved local) gives the empty chain too: its module hashed whole."""
    found = {
        name: chains for name, chains in chains_of(ins, _LOCAL_LOADS).items() if name in names
    }
    for name in names:
        if name in code.co_cellvars:
            found.setdefault(name, set()).add(())
    for at in ins:
        odd = at.opname.startswith("LOAD_FAST") and at.opname not in _LOCAL_LOADS
        values = at.argval if isinstance(at.argval, tuple) else (at.argval,)
        for name in values:
            if isinstance(name, str) and name in names and (odd or isinstance(at.argval, tuple)):
                found.setdefault(name, set()).add(())
    return found


@functools.lru_cache(maxsize=4096)
def argument_chains(code):
    """``{argument: sorted tuple of attribute chains}`` that ``code`` reads of its
    arguments (``h.helper(X)`` in ``def f(X, h=helpers)``): where an argument's default
    is a module followed, those chains are followed from it (:func:`feed_chains`)."""
    import dis

    names = set(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    ins = list(dis.get_instructions(code))
    return {n: tuple(sorted(c)) for n, c in _local_reads(ins, code, names).items()}


def defaults_of(code, defaults, kwdefaults):
    """``(argument, default)`` pairs of a function of ``code`` with these defaults."""
    pairs = []
    if defaults:
        positional = code.co_varnames[: code.co_argcount]
        pairs += zip(positional[len(positional) - len(defaults) :], defaults, strict=False)
    if kwdefaults:
        pairs += sorted((k, v) for k, v in kwdefaults.items() if isinstance(k, str))
    return pairs


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
    from ._fingerprint_state import CONTAINERS, container_tag, module_state

    assigned, changed = module_state(module)
    h.update(b"*%d:" % len(items))
    for key, value in items:
        feed(h, key, depth, memo)
        if key in assigned:  # state its functions keep with use (a counter): named
            h.update(b"-")
        elif key in changed and isinstance(value, CONTAINERS):  # a memo: by its type
            h.update(container_tag(value))
        else:
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
