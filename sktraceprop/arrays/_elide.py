"""Reusing temporaries (``t * 2 + 1`` computes ``+ 1`` in place), as NumPy does for plain
arrays.

NumPy writes ``a * 2 + 1`` into one buffer: the temporary ``a * 2`` is known to be
referenced by nothing but the interpreter's stack, so ``+ 1`` reuses it. NumPy checks
this in C (the reference count, and a C backtrace proving the operator was called by
the interpreter itself) and only for plain ``ndarray``; a subclass loses it, and with it
a second large allocation per operator. Here the same proof is made from Python, and
only where it is certain:

- the operand is the result of *our* operator, made by a ``BINARY_OP`` instruction of
  the calling frame at offset ``k1``;
- the frame is now at a later ``BINARY_OP`` ``k2`` whose left operand, by the stack
  effects of the straight-line instructions between (loads, attribute reads, calls,
  arithmetic: those whose pops are known; nothing else, and no jump into any of them),
  is the value ``k1`` pushed: so it is that value, still on the stack, never stored, while
  the right operand was computed above it (``(x - x.mean()) / x.std()``; a call there
  may run operators of its own), and is then, as NumPy asks, a scalar or an array of
  the temporary's shape. A temporary right operand must have been made by the
  instruction just before;
- the operand is the very object our operator returned there (a weak reference, so an
  object that merely reuses a freed one's ``id`` is never taken for it);
- its reference count is that of a value held only by the stack and the call (measured
  once by a probe, for this interpreter), its buffer is its own and not shared;
- NumPy would give the result the operand's shape and dtype.

CPython 3.11 to 3.13 only (3.14 may borrow stack references, which makes the count
unreliable); elsewhere temporaries are simply not reused.
"""

import dis
import sys
from weakref import ref as _ref

import numpy as np

#: NumPy elides temporaries from this size on (``NPY_MIN_ELIDE_BYTES``).
MIN_BYTES = 256 * 1024

_LOADS = {"LOAD_CONST", "LOAD_FAST", "LOAD_NAME", "LOAD_GLOBAL", "LOAD_DEREF"}
_BINARY_OP = dis.opmap.get("BINARY_OP")
#: What our operator recently returned to the interpreter (see :func:`note`):
#: ``{id(result): (weak reference, id(frame), code, offset)}``, emptied when it holds
#: :data:`_CAPACITY` (several, because the right operand of ``t1 / f(x)`` may run
#: operators of its own before ``t1`` is consumed); an operand not noted here cannot
#: be a temporary to reuse.
RECENT = {}
_CAPACITY = 32
#: How many temporaries were reused (read by the tests).
REUSED = [0]
_layout = {}


class _Probe:
    """Mirrors the call layers of the traced operators, to measure a temporary's count:
    the forward operator is the dunder itself, the reflected one calls the shared body."""

    def __mul__(left, right):  # noqa: N805 (the shape of the traced operator)
        return _count(left)

    def __rmul__(self, other):
        return _reflected_body(other, self)


def _reflected_body(left, right):
    return _count(right)


def _count(obj):
    return sys.getrefcount(obj)


def _calibrate():
    if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info[:2] < (3, 14):
        return None
    if _BINARY_OP is None:
        return None
    forward = _Probe() * 1
    reflected = 1 * _Probe()
    return forward, reflected


_COUNTS = _calibrate()
ENABLED = _COUNTS is not None


def _instructions(code):
    """``{offset: (position, instruction)}`` and the instruction list of a code object."""
    found = _layout.get(code)
    if found is None:
        listing = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
        found = ({i.offset: k for k, i in enumerate(listing)}, listing)
        if len(_layout) > 4096:
            _layout.clear()
        _layout[code] = found
    return found


def note(result, reflected):
    """Remember that ``result`` is being returned to the interpreter by our operator."""
    frame = sys._getframe(3 if reflected else 2)
    if len(RECENT) >= _CAPACITY:
        RECENT.clear()  # (not popping the oldest: iterating races with other threads)
    RECENT[id(result)] = (_ref(result), id(frame), frame.f_code, frame.f_lasti)


def _follows(frame, produced_at, reflected):
    """Whether the frame's current BINARY_OP consumes what ``produced_at`` pushed: 0
    (no), ``_NEXT`` (with one plain load between, or none) or ``_ABOVE`` (a right
    operand computed between); remembered per code object and offsets (bytecode does
    not change, and reading it back from a code object costs more than the rest of the
    proof)."""
    code, here = frame.f_code, frame.f_lasti
    key = (code, here, produced_at, reflected)
    found = _FOLLOWS.get(key)
    if found is None:
        found = _consumes(code, here, produced_at, reflected)
        if len(_FOLLOWS) > 4096:
            _FOLLOWS.clear()
        _FOLLOWS[key] = found
    return found


_FOLLOWS = {}
_NEXT, _ABOVE = 1, 2


#: Instructions that may compute the right operand between ``k1`` and ``k2``: their
#: pops are ``1 - stack effect`` at most (one result pushed, or none), except the
#: attribute reads, which pop their object and may push two.
_BETWEEN = {
    "LOAD_CONST", "LOAD_FAST", "LOAD_NAME", "LOAD_GLOBAL", "LOAD_DEREF", "LOAD_FAST_CHECK",
    "LOAD_FAST_LOAD_FAST", "PUSH_NULL", "KW_NAMES", "NOP", "LOAD_ATTR", "LOAD_METHOD",
    "BINARY_OP", "BINARY_SUBSCR", "BINARY_SLICE", "COMPARE_OP", "UNARY_NEGATIVE",
    "UNARY_INVERT", "UNARY_NOT", "PRECALL", "CALL", "CALL_KW", "BUILD_TUPLE",
    "BUILD_LIST", "BUILD_SLICE",
}  # fmt: skip
_ATTRIBUTES = {"LOAD_ATTR", "LOAD_METHOD"}


def _consumes(code, here, produced_at, reflected):
    if code.co_code[here] != _BINARY_OP:
        return 0
    where, listing = _instructions(code)
    k2, k1 = where.get(here), where.get(produced_at)
    if k2 is None or k1 is None or not k1 < k2 or listing[k1].opname != "BINARY_OP":
        return 0
    if any(listing[k].is_jump_target for k in range(k1 + 1, k2 + 1)):
        return 0
    if reflected:
        return _NEXT if k1 == k2 - 1 else 0  # a temporary right operand: made just before
    if k1 == k2 - 2 and listing[k1 + 1].opname in _LOADS:
        return _NEXT
    depth = 1  # values on the stack from the temporary up
    for k in range(k1 + 1, k2):
        step = listing[k]
        if step.opname not in _BETWEEN:
            return 0
        try:
            effect = dis.stack_effect(step.opcode, step.arg)
        except ValueError:  # an argument this interpreter's table does not take
            return 0
        pops = 1 if step.opname in _ATTRIBUTES else max(0, 1 - effect)
        if pops >= depth:
            return 0  # it would take the temporary off the stack
        depth += effect
    return _ABOVE if depth == 2 else 0  # the temporary, and the right operand above it


_KEEPS = {}


def _keeps_dtype(ufunc, operands, dtype):
    """True when ``ufunc`` of operands of these dtypes (or Python types) gives ``dtype``;
    remembered, as resolving costs more than the rest of the proof."""
    key = (ufunc, *operands)
    found = _KEEPS.get(key)
    if found is None:
        try:
            found = ufunc.resolve_dtypes((*operands, None))[-1] == dtype
        except (TypeError, ValueError):  # NumPy 2's DTypePromotionError is a TypeError
            found = False
        if len(_KEEPS) > 1024:
            _KEEPS.clear()
        _KEEPS[key] = found
    return found


def temporary(obj, reflected, other, ufunc, plain):
    """True when ``obj`` (a TracedArray with plain view ``plain``) may take the result of
    ``ufunc(obj, other)`` (``ufunc(other, obj)`` when ``reflected``)."""
    last = RECENT.get(id(obj))
    if last is None or last[0]() is not obj:
        return False
    if sys.getrefcount(obj) != _COUNTS[reflected]:
        return False
    frame = sys._getframe(3 if reflected else 2)
    if id(frame) != last[1] or frame.f_code is not last[2]:
        return False
    how = _follows(frame, last[3], reflected)
    if not how:
        return False
    base = obj.base
    if type(base) is not np.ndarray:
        return False
    # held by obj, by the plain view the operator made of it, by `base` and the call;
    # when the operator used the plain array obj keeps (see _array._plain), that array
    # is `base`, held also by obj's slot, the operator's local and `plain` (counted
    # before reading any flags: a flags object holds its array)
    if sys.getrefcount(base) != (6 if plain is base else 4):
        return False
    flags = base.flags
    # (read-only: the traced result's memory is locked, see _array._wrap)
    if not flags.owndata:
        return False
    if not (flags if plain is base else plain.flags).c_contiguous:
        return False
    t = type(other)
    if t is int or t is float or t is complex:
        other_type, shape = t, ()
    else:
        # a nested list has no .shape but broadcasts like the array it makes
        as_array = np.asarray(other)
        other_type, shape = as_array.dtype, as_array.shape
    operands = (other_type, plain.dtype) if reflected else (plain.dtype, other_type)
    if not _keeps_dtype(ufunc, operands, plain.dtype):
        return False
    if shape and how == _ABOVE and shape != plain.shape:
        # NumPy never reuses a temporary whose other operand must be broadcast (only
        # a scalar or one of its shape): following it keeps the traced expression's
        # allocations those of the plain one
        return False
    if shape:
        if len(shape) > plain.ndim:
            return False
        if not all(o in (1, p) for o, p in zip(reversed(shape), reversed(plain.shape))):
            return False
    REUSED[0] += 1
    return True
