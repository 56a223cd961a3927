"""The clones a pipeline given ``memory=`` fits in its steps' place, watched as its steps.

A scikit-learn (or imbalanced-learn) ``Pipeline`` given ``memory=`` (a folder, or a
``joblib.Memory`` with a location) does not fit its transformer steps in place: it fits
a clone of each through joblib's cache of ``_fit_transform_one`` (or loads the clone a
fit before left in the cache's files) and puts that clone in ``steps`` in the step's
place. The step watch (:mod:`._fitted_elsewhere`) spied on the step objects given, none
of which was fitted: another thread that fitted a fitted clone, or changed it in place,
after it was put in ``steps`` and before the run was recorded went unseen, and the run
recorded the fingerprint of that other state beside this fit's rows.

So, while a traced fit runs, each such pipeline (the traced one, or a
:class:`~sktraceprop.TracedEstimator`'s, and each pipeline nested among its steps: its
steps named ``outer__inner``, :mod:`._step_names`) holds a stand-in for its memory
(:class:`WatchedMemory`): it caches what the memory caches, and as each cached call
returns in the traced fit's thread it hands the step it returned (the fitted clone, or
the one loaded from the cache: no other code holds it yet) to the watch
(:meth:`~._fitted_elsewhere.StepFits.placed_step`), which digests it and watches its fit
methods and the traced fit's own calls of it, as it does a step fitted in place when its
fit returns; and refuses the run where the pipeline no longer holds that step in its
place when the run is checked (another thread fitted the pipeline, or replaced it).

A step loaded from the cache was fitted on the same data: joblib keys each call by the
step's parameters and the data given to it, a traced frame with its row ids (its index)
among it, so a cache hit on other rows, or on rows whose source file changed (other
values), is not possible (``tests/test_step_memory_watch.py`` checks both). Rows given
as a plain array (ids in ``sample_id``) are keyed by their values alone: a hit on other
rows with the same values loads the state a fit of these values leaves.

The stand-in is seen only by the traced fit's own thread: ``memory`` of a pipeline is
read through a data descriptor (put once on scikit-learn's ``Pipeline`` class, so on
imbalanced-learn's and the traced ones too, where no class between defines ``memory``)
that gives the stand-in to that thread alone and the memory given to every other
(``get_params``, ``clone``, ``repr``, a pickle of the pipeline: the user's object). A
pipeline whose class defines ``memory`` itself has the stand-in in its dict, seen by
every thread, as before. In the fit's thread it is the memory's ``location`` and
``cache`` (the cache holders, :mod:`sktraceprop._cache_holders`, read the location), and
a copy, pickle or ``repr`` of it is of the memory given.
"""

import copy
import threading

from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_memory

from ._step_names import pipelines

#: id(pipeline) -> ((thread ident, stand-in, the memory it stands in for), ...): the
#: stand-ins each thread sees (while the pipeline holds that memory: one set since is
#: seen as set).
_STANDS_IN = {}
_LOCK = threading.Lock()


def _given(value):
    return value


class _Memory:
    """A pipeline's ``memory``: the stand-in a traced fit put for its own thread, else
    the value the pipeline holds (in its dict, as before)."""

    def __get__(self, obj, objtype=None):
        if obj is None:
            raise AttributeError("memory")  # (no class attribute, as before)
        try:
            held = obj.__dict__["memory"]
        except KeyError:
            raise AttributeError("memory") from None
        entries = _STANDS_IN.get(id(obj))
        if entries:
            me = threading.get_ident()
            for owner, stand_in, given in reversed(entries):
                if owner == me and held is given:
                    return stand_in
        return held

    def __set__(self, obj, value):
        obj.__dict__["memory"] = value

    def __delete__(self, obj):
        del obj.__dict__["memory"]


_MEMORY = _Memory()


def _thread_seen(pipe):
    """Whether ``pipe``'s ``memory`` is read through :class:`_Memory` (put on
    ``Pipeline`` the first time it is needed)."""
    with _LOCK:
        if "memory" not in Pipeline.__dict__:
            Pipeline.memory = _MEMORY
    for cls in type(pipe).__mro__:
        if "memory" in cls.__dict__:
            return cls.__dict__["memory"] is _MEMORY
    return False


class WatchedMemory:
    """Stands in for ``pipe``'s ``memory`` (``given``, resolved to ``memory``) during a
    traced fit watched by ``fits``."""

    def __init__(self, memory, given, pipe, fits, prefix=""):
        self._memory, self._given, self._pipe, self._fits = memory, given, pipe, fits
        self._prefix, self._names = prefix, None

    def __getattr__(self, attr):  # the memory's location, and all else it has
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._memory, attr)

    def cache(self, func=None, *args, **kwargs):
        """``memory.cache(func, ...)``, whose calls in the traced fit's thread hand the
        step each returned (its last output) to the watch."""
        cached = self._memory.cache(func, *args, **kwargs)
        if threading.get_ident() == self._fits.owner:
            self._names = None  # (a new fit of the pipeline's steps begins)

        def call(*a, **kw):
            out = cached(*a, **kw)
            if threading.get_ident() == self._fits.owner:
                if self._names is None:  # the steps the pipeline fits, in its order
                    self._names = iter(
                        [
                            (name, step)
                            for name, step in self._pipe.steps[:-1]
                            if step is not None and not isinstance(step, str)
                        ]
                    )
                name, step = next(self._names, (None, None))
                fitted = out[-1] if isinstance(out, tuple) and out else None
                if type(fitted) is not type(step):  # (not told apart: refused)
                    name = None
                if name is None:  # (which pipeline, said: its steps' names begin so)
                    self._fits.untold_step(self._pipe, self._prefix)
                else:
                    self._fits.placed_step(self._prefix + name, fitted, self._pipe, name)
            return out

        return call

    @property
    def _user(self):
        """The memory the user gave (an outer traced fit's stand-in seen through)."""
        given = self._given
        while isinstance(given, WatchedMemory):
            given = given._given
        return given

    def __repr__(self):
        return repr(self._user)

    def __deepcopy__(self, memo):
        return copy.deepcopy(self._user, memo)

    def __copy__(self):
        return self._user

    def __reduce__(self):
        return (_given, (self._user,))


def _cloning(memory):
    """The memory ``Pipeline`` resolves ``memory`` to where it fits clones, or None."""
    if memory is None:
        return None
    try:
        resolved = check_memory(memory)
    except Exception:  # noqa: BLE001 - the pipeline's own fit says what is wrong
        return None
    if hasattr(resolved, "location") and resolved.location is None:
        return None  # (fitted in place, not cloned)
    return resolved


def watch_memories(model, fits):
    """Put a :class:`WatchedMemory` in place of the memory of each pipeline of ``model``
    (itself, and each pipeline nested in it) that fits clones, for this thread; returns
    ``(pipe, given, stand-in, in its dict)`` of each, for :func:`restore_memories`."""
    put = []
    for pipe, prefix in pipelines(model):
        # (as this thread sees it: an outer traced fit's stand-in is stood in for in turn)
        given = getattr(pipe, "memory", None)
        resolved = _cloning(given)
        if resolved is None:
            continue
        stand_in = WatchedMemory(resolved, given, pipe, fits, prefix)
        in_dict = not _thread_seen(pipe)
        if in_dict:  # (its class defines memory: seen by every thread)
            pipe.__dict__["memory"] = stand_in
        else:
            with _LOCK:
                # (a new tuple, never changed in place: a reader in another thread
                # walks the one it got)
                entry = (fits.owner, stand_in, pipe.__dict__.get("memory"))
                _STANDS_IN[id(pipe)] = (*_STANDS_IN.get(id(pipe), ()), entry)
        put.append((pipe, given, stand_in, in_dict))
    return put


def restore_memories(put):
    """Give back each pipeline its memory (where it still holds the stand-in)."""
    for pipe, given, stand_in, in_dict in reversed(put):
        if in_dict:
            if pipe.__dict__.get("memory") is stand_in:
                pipe.__dict__["memory"] = given
            continue
        with _LOCK:
            entries = tuple(e for e in _STANDS_IN.get(id(pipe), ()) if e[1] is not stand_in)
            if entries:
                _STANDS_IN[id(pipe)] = entries
            else:
                _STANDS_IN.pop(id(pipe), None)
