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
between its allocation (``__new__``) and its ``__setstate__``; pickles of protocol 0
and 1 allocate without ``__new__``, and their objects warn one by one.

scikit-learn's own ``__getstate__``/``__setstate__`` (its version warning) run
unchanged inside these.
"""

import threading
import warnings
import weakref

from ._version import __version__
from .exceptions import EarlierPickleWarning, StateFormatError

#: The key of the state's record: ``{"format": int, "sktraceprop": version}``.
KEY = "_sktraceprop_state"

_REFIT = "Fit it again with this sktraceprop (or load it with the sktraceprop that pickled it)."


class StateFormatMixin:
    """Records the class's state format in its pickles and checks it when loading.

    Each public class sets ``_state_format`` (an int, from 1) in its own body, and may
    set ``_state_upgrades`` and ``_reads_unnumbered`` (see the module's docstring).
    """

    _state_format = 1
    _state_upgrades = {}
    _reads_unnumbered = True

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        _allocated(obj)
        return obj

    def __getstate__(self):
        # a copy: BaseEstimator.__getstate__ may return the live __dict__
        state = dict(super().__getstate__())
        state[KEY] = {"format": type(self)._state_format, "sktraceprop": __version__}
        return state

    def __setstate__(self, state):
        outer = _loading_outer(self)
        # what objects loaded inside this one left unsaid: said with it, or passed out
        unsaid, unnumbered = _UNSAID.pop(self, []), False
        if isinstance(state, dict):
            state = dict(state)
            state, unnumbered = read_state(type(self), state.pop(KEY, None), state, warn=False)
        if unnumbered:
            unsaid.insert(0, (type(self).__name__, type(self)._state_format))
        if unsaid and outer is not None:
            _UNSAID.setdefault(outer, []).extend(unsaid)
        elif unsaid:
            said = _unnumbered_message(unsaid, None if unnumbered else type(self).__name__)
            warnings.warn(said, EarlierPickleWarning, stacklevel=2)
        super().__setstate__(state)


_THREAD = threading.local()
#: Per object being unpickled, the classes loaded inside it that record no format.
_UNSAID = weakref.WeakKeyDictionary()


def _allocated(obj):
    """Keep ``obj`` (weakly) among this thread's allocations still without attributes;
    those given theirs since (by ``__init__``, or their ``__setstate__``) are let go."""
    refs = getattr(_THREAD, "allocated", None)
    if refs is None:
        refs = _THREAD.allocated = []
    refs[:] = [r for r in refs if (o := r()) is not None and not vars(o)]
    refs.append(weakref.ref(obj))


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


def _unnumbered_message(found, holder=None):
    """The warning on the objects of one load that record no state format: ``found``,
    ``(class name, the state format it reads)`` of each, the outermost first, or of
    those inside ``holder`` (the class name of the outermost, which records one)."""
    names = [name for name, _ in found]
    formats = ", ".join(f"{name} {expected}" for name, expected in found)
    if len(found) == 1 and holder is None:
        who, were, it = f"this {names[0]} records", "it was", "this is one"
        formats = f"state format {found[0][1]}"
    elif holder is None:
        who = (
            f"this {names[0]} and the {len(names) - 1} traced object(s) loaded inside it "
            f"({', '.join(names[1:])}) record"
        )
        were, it = "they were", "these are"
        formats = f"state formats {formats}"
    else:
        who = (
            f"the {len(names)} traced object(s) loaded inside this {holder} "
            f"({', '.join(names)}) record"
        )
        were, it = "they were", "these are"
        formats = f"state formats {formats}"
    return (
        f"{who} no state format: {were} pickled by an sktraceprop from before pickles "
        f"recorded one (the version is not known). This version ({formats}) reads the "
        f"forms of then that it knows of, but cannot tell whether {it} of them: what "
        "they lack fails where it is read, and what changed meaning is not seen. "
        f"{_REFIT}"
    )
