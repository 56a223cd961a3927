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

Not seen (the documented limits): a module reached other than by a chain of attribute
loads from a global (``getattr(mymod, name)``, a module in a local variable, a closure
cell or a default, ``importlib.import_module`` at call time), and attributes of modules
of the standard library and of the packages whose versions a run records, named by
module as in scheme 5.
"""

import types

from ._install_origin import origin

#: Instructions that start a chain (a global read by name).
_STARTS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
#: Instructions that extend one (an attribute or method read from the value on top).
_EXTENDS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
#: Instructions that may sit between them without ending it.
_TRANSPARENT = frozenset({"EXTENDED_ARG", "CACHE", "NOP"})
#: Origins whose modules' attributes are followed.
_FOLLOWED = frozenset({"user", "index"})
#: Stands for an attribute a module does not have (any more).
_MISSING = object()


def chains_of(instructions):
    """``{global name: set of attribute chains}`` read from ``instructions`` (each an
    object with ``opname`` and ``argval``, as ``dis.get_instructions`` gives)."""
    found, name, chain = {}, None, []

    def close():
        if name is not None and chain:
            found.setdefault(name, set()).add(tuple(chain))

    for ins in instructions:
        op = ins.opname
        if op in _TRANSPARENT:
            continue
        if op in _EXTENDS and name is not None and isinstance(ins.argval, str):
            chain.append(ins.argval)
            continue
        close()
        name, chain = None, []
        if op in _STARTS and isinstance(ins.argval, str):
            name = ins.argval
    close()
    return found


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


def feed_chains(h, named, chains, depth, memo, feed, feed_named):
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
    h.update(b"@%d:" % len(parts))
    for name, chain in parts:
        taken, value = reach(scope[name], chain, memo.scheme)
        feed(h, [name, list(chain[:taken])], depth + 1, memo)
        if value is _MISSING:
            h.update(b"-")
        else:
            h.update(b"+")
            feed_named(h, value, depth + 1, memo, feed)


def follows_any(named, chains, scheme):
    """Whether a function with globals ``named`` and ``chains`` follows any module
    attribute (its bytes then depend on those attributes: never kept)."""
    return bool(chains) and any(
        name in chains and followed(value, scheme) for name, value in named
    )
