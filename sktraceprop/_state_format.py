"""The state format a public estimator's pickle records, checked when it is loaded.

An estimator's attributes (and the private objects it keeps: an unlearner's removal
method, an explainer's fit) change between versions of sktraceprop. Loaded into code
that expects another layout, a pickle fails deep inside a later call (an unlearner
pickled at commit 29414bb raised ``AttributeError: 'PipelineRefit' object has no
attribute 'weighted'`` in ``unlearn``) or, worse, computes something else with no
word. So each public estimator's pickle records its class's state format (a number,
``_state_format``, raised whenever what the class keeps changes in a way the code
cannot read back) and the sktraceprop version that wrote it, and loading checks them
before anything is set on the object:

- the format this class writes: loaded;
- an earlier format the class reads (``_state_upgrades``: format -> function turning
  such a state into the current one): upgraded, then loaded;
- any other earlier format: refused (:class:`~sktraceprop.exceptions.StateFormatError`),
  naming the class, the format found and the one expected: fit it again;
- a newer format: refused, made by a newer sktraceprop;
- no format (pickled before pickles recorded one): a fitted state is warned about
  (:class:`~sktraceprop.exceptions.EarlierPickleWarning`), since the forms of then that
  this version reads cannot be told from those it cannot, or refused where the class
  knows it cannot read them (``_reads_unnumbered = False``). An unfitted one holds only
  parameters, which :mod:`._earlier_pickle` checks.

A traced object pickled with others inside it (a pipeline's traced column transformer)
is loaded, its inner objects first, as one: the warnings of the objects without a
format are said once, by the outermost, naming each of them (one warning per object hid
the message in noise). An object being unpickled is known by its empty ``__dict__``
between its allocation (``__new__``) and its ``__setstate__``. An object that sees
none around it waits until the load ends (:mod:`._state_format_load`): pickles of
protocol 0 and 1 allocate with ``object.__new__`` (``copyreg._reconstructor``), which
calls no ``__new__`` of ours, so an object of ours set later takes those waiting in its
state; a function of ours given objects as arguments (a traced array's sources, a
frame's mark of its read paths) takes theirs; the others are said, each by itself, when
the load ends.

A class pickled through a function of its own (``__reduce__``: an array, a record
rebuilt by its constructor) passes its record to that function, which checks it with
:func:`check_record`.

scikit-learn's own ``__getstate__``/``__setstate__`` (its version warning) run
unchanged inside these.
"""

import threading
import warnings
import weakref

from . import _state_format_load as _load_end
from ._version import __version__
from .exceptions import EarlierPickleWarning, StateFormatError

#: The key of the state's record: ``{"format": int, "sktraceprop": version}``.
KEY = "_sktraceprop_state"

_REFIT = "Fit it again with this sktraceprop (or load it with the sktraceprop that pickled it)."


def _forgetting_failure(setstate):
    """``setstate`` (a class's own ``__setstate__``), forgetting this thread's objects
    being loaded where it raises, after its format was read as well as before (a report
    checked on loading, a run whose sources cannot be completed): else the object it
    leaves empty, kept alive by the exception, takes a later load's warning."""

    def __setstate__(self, state):
        try:
            return setstate(self, state)
        except BaseException:
            _load_failed()
            raise

    __setstate__.__doc__, __setstate__.__qualname__ = setstate.__doc__, setstate.__qualname__
    __setstate__._forgets_failed_load = True
    return __setstate__


class _FormatBase:
    """The class attributes of a state format, and the allocations an unpickling makes
    (see the module: objects loaded inside another are said with it)."""

    _state_format = 1
    _state_upgrades = {}
    _reads_unnumbered = True
    #: Whether a state without a format is said only where it is fitted (estimators).
    _unnumbered_fitted_only = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__setstate__")
        if own is not None and not getattr(own, "_forgets_failed_load", False):
            cls.__setstate__ = _forgetting_failure(own)

    def __new__(cls, /, *args, **kwargs):
        obj = super().__new__(cls)
        if not args and not kwargs:
            # as the unpickler allocates (a constructor given arguments is not loading;
            # one given none sets its attributes in __init__ before any load can follow)
            _allocated(obj)
        return obj


class StateFormatMixin(_FormatBase):
    """Records the class's state format in its pickles and checks it when loading.

    Each public class sets ``_state_format`` (an int, from 1) in its own body, and may
    set ``_state_upgrades`` and ``_reads_unnumbered`` (see the module's docstring).
    """

    _unnumbered_fitted_only = True

    def __getstate__(self):
        # (BaseEstimator.__getstate__ may return the live __dict__: stamp_state copies)
        return stamp_state(self, super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(check_state(self, state))


class RecordedFormatMixin(_FormatBase):
    """A state format for a public class that is not an estimator (a run, an
    explanation, a store): its pickle is its ``__dict__`` with the record; a class that
    pickles otherwise returns :func:`stamp_state`'s from its ``__getstate__`` and starts
    its ``__setstate__`` with :func:`check_state`. Any state of such a class that records
    no format is warned about (it has no unfitted form holding parameters only). Each
    class sets ``_state_format`` in its own body."""

    def __getstate__(self):
        return stamp_state(self, self.__dict__)

    def __setstate__(self, state):
        self.__dict__.update(check_state(self, state))


def stamp_state(obj, state):
    """A copy of ``state`` recording ``obj``'s class's state format and this version."""
    state = dict(state)
    state[KEY] = record_of(type(obj))
    return state


def check_state(obj, state):
    """``state`` (pickled) as ``obj``'s class of this version holds it, without its
    record; raises where it cannot be read, and says where it records no format: with
    the object being loaded around ``obj``, or here where none is (the module)."""
    try:
        return _checked(obj, state)
    except BaseException:
        _load_failed()
        raise


def _load_failed():
    """Forget this thread's objects being loaded: a load that failed leaves them
    allocated and empty, kept alive by the exception (its traceback holds ``self``; a
    notebook keeps the last one), and a later load's warning was given to them, never
    said."""
    _THREAD.allocated = []
    _load_end.end()


def _checked(obj, state):
    cls = type(obj)
    outer = _loading_outer(obj)
    # what objects loaded inside this one left unsaid (those that saw it being loaded,
    # then those waiting in its state): said with it, or passed out
    unsaid, unnumbered, given = _take_unsaid(obj), False, state
    if not _watched(obj):
        unsaid += _load_end.inside(obj, state)
    if isinstance(state, dict):
        state = dict(state)
        record = state.pop(KEY, None)
        state.pop(_load_end.MARK, None)
        if record is None and not cls._unnumbered_fitted_only and cls._reads_unnumbered:
            unnumbered = True
        else:
            state, unnumbered = read_state(cls, record, state, warn=False)
    if unnumbered:
        unsaid.insert(0, (cls.__name__, cls._state_format))
    holder = None if unnumbered else cls.__name__
    if unsaid and outer is not None:
        _give_unsaid(outer, unsaid)
    elif unsaid and not _load_end.defer(obj, given, holder, unsaid):
        warnings.warn(_unnumbered_message(unsaid, holder), EarlierPickleWarning, stacklevel=3)
    return state


def check_record(cls, record, holding=()):
    """Check the record a class pickled through a function of its own passed to it
    (:func:`stamp_state`'s, or None from before pickles recorded one): raises where
    ``cls`` cannot read it, and says (with the object being loaded around it, or here)
    where it is None, with the objects of ``holding`` (the function's arguments: a
    traced array's sources) that record none."""
    if record is not None:
        try:
            read_state(cls, record, {}, warn=False)
        except BaseException:
            _load_failed()
            raise
    found = [(cls.__name__, cls._state_format)] if record is None else []
    found += _load_end.claim(holding)
    say_held(found, None if record is None else cls.__name__, stacklevel=4)


def say_held(found, holder=None, stacklevel=3):
    """Say ``found`` (as :func:`_unnumbered_message` takes it; ``holder`` the class
    name of the object holding them where it records a format) with the object being
    loaded around it, or here (``stacklevel`` counted from this function)."""
    if not found:
        return
    outer = _loading_outer(None)
    if outer is not None:
        _give_unsaid(outer, found)
    else:
        warnings.warn(
            _unnumbered_message(found, holder), EarlierPickleWarning, stacklevel=stacklevel
        )


def record_of(cls):
    """The record :func:`stamp_state` writes for ``cls``."""
    return {"format": cls._state_format, "sktraceprop": __version__}


def constructed(cls, record, args):
    """``cls(*args)``, for a class whose pickle calls its constructor (``__reduce__``
    returning ``(constructed, (cls, record_of(cls), args))``), once its record is read.

    Such a class's pickles from before records were written call ``cls(*args)`` itself:
    that cannot be told from a construction, and is read as one (its arguments are
    checked by the constructor as any are), with no warning.
    """
    check_record(cls, record)
    return cls(*args)


_THREAD = threading.local()
#: Per object being unpickled (by id: a run is not hashable), a weak reference to it and
#: the classes loaded inside it that record no format.
_UNSAID = {}


def _take_unsaid(obj):
    entry = _UNSAID.pop(id(obj), None)
    return list(entry[1]) if entry is not None and entry[0]() is obj else []


def _give_unsaid(outer, found):
    entry = _UNSAID.get(id(outer))
    if entry is None or entry[0]() is not outer:
        key = id(outer)
        # dropped with the object (a load that failed before it was set)
        entry = _UNSAID[key] = (weakref.ref(outer, lambda _, k=key: _UNSAID.pop(k, None)), [])
    entry[1].extend(found)


def _allocated(obj):
    """Keep ``obj`` (weakly) among this thread's allocations still without attributes;
    those given theirs since (by ``__init__``, or their ``__setstate__``) are let go."""
    refs = getattr(_THREAD, "allocated", None)
    if refs is None:
        refs = _THREAD.allocated = []
    refs[:] = [r for r in refs if (o := r()) is not None and not vars(o)]
    refs.append(weakref.ref(obj))


def _watched(obj):
    """Whether ``obj`` was allocated as the unpickler of protocol 2 and later does."""
    return any(ref() is obj for ref in getattr(_THREAD, "allocated", ()))


def _loading_outer(obj):
    """The outermost object allocated before ``obj`` in this thread that has no
    attributes yet (being unpickled, ``obj`` inside it), or None."""
    for ref in getattr(_THREAD, "allocated", ()):
        other = ref()
        if other is obj:
            return None
        if other is not None and not vars(other):
            return other
    return None


def _fitted(state):
    """Whether ``state`` holds fitted attributes (names ending in ``_``)."""
    return any(k.endswith("_") and not k.startswith("__") for k in state)


def read_state(cls, record, state, warn=True):
    """``state`` as ``cls`` of this version holds it, or raise/warn (see the module).

    With ``warn=False``, ``(state, unnumbered)``: whether a fitted state recorded no
    format, for the caller to say (:func:`_unnumbered_message`)."""
    name, expected = cls.__name__, cls._state_format
    if record is None:
        if not _fitted(state):
            return state if warn else (state, False)
        if not cls._reads_unnumbered:
            raise StateFormatError(
                f"this {name} records no state format: it was pickled by an sktraceprop "
                "from before pickles recorded one (its version is not known), whose "
                f"fitted {name} this version (state format {expected}) cannot read: what "
                "it keeps has changed since (loaded, it would fail or compute otherwise "
                f"later). {_REFIT}"
            )
        if not warn:
            return state, True
        warnings.warn(_unnumbered_message([name]), EarlierPickleWarning, stacklevel=3)
        return state
    found = record.get("format") if isinstance(record, dict) else None
    version = record.get("sktraceprop", "unknown") if isinstance(record, dict) else "unknown"
    if not isinstance(found, int) or isinstance(found, bool):
        raise StateFormatError(
            f"this {name}'s pickle records a state format that is not a number "
            f"({record!r}): it was not written by sktraceprop as it is, and this version "
            f"(state format {expected}) cannot read it. {_REFIT}"
        )
    if found == expected:
        return state if warn else (state, False)
    if found > expected:
        raise StateFormatError(
            f"this {name} was made by a newer sktraceprop ({version}, state format "
            f"{found}): this sktraceprop ({__version__}) reads {name} state format "
            f"{expected} and earlier only. Load it with sktraceprop {version} or newer, "
            "or fit it again with this one."
        )
    upgrade = cls._state_upgrades.get(found)
    if upgrade is None:
        reads = sorted({expected, *cls._state_upgrades})
        raise StateFormatError(
            f"this {name} was pickled by sktraceprop {version} in state format {found}; "
            f"this sktraceprop ({__version__}) reads {name} state format(s) "
            f"{', '.join(map(str, reads))} only (expected {expected}), so it cannot be "
            f"loaded. {_REFIT}"
        )
    return upgrade(state) if warn else (upgrade(state), False)


def _counted(names):
    """``names`` once each, in order, with their count where above one."""
    counts = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(name if n == 1 else f"{n} {name}" for name, n in counts.items())


def _unnumbered_message(found, holder=None):
    """The warning on the objects of one load that record no state format: ``found``,
    ``(class name, the state format it reads)`` of each, the outermost first, or of
    those inside ``holder`` (the class name of the outermost, which records one)."""
    formats = dict(found)
    if len(found) == 1 and holder is None:
        who, were, it = f"this {found[0][0]} records", "it was", "this is one"
        formats = f"state format {found[0][1]}"
    else:
        inner = [name for name, _ in (found[1:] if holder is None else found)]
        who = (
            f"this {found[0][0]} and the {len(inner)} object(s) loaded inside it"
            if holder is None
            else f"the {len(inner)} object(s) loaded inside this {holder}"
        ) + f" ({_counted(inner)}) record"
        were, it = "they were", "these are"
        formats = "state formats " + ", ".join(f"{k} {v}" for k, v in formats.items())
    return (
        f"{who} no state format: {were} pickled by an sktraceprop from before pickles "
        f"recorded one (the version is not known). This version ({formats}) reads the "
        f"forms of then that it knows of, but cannot tell whether {it} of them: what "
        "they lack fails where it is read, and what changed meaning is not seen. "
        f"{_REFIT}"
    )
