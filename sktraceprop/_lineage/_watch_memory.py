"""The clones a pipeline given ``memory=`` fits in its steps' place, watched as its steps.

A scikit-learn (or imbalanced-learn) ``Pipeline`` given ``memory=`` (a folder, or a
``joblib.Memory`` with a location) does not fit its transformer steps in place: it fits
a clone of each through joblib's cache of ``_fit_transform_one`` (or loads the clone a
fit before left in the cache's files) and puts that clone in ``steps`` in the step's
place. The step watch (:mod:`._fitted_elsewhere`) spied on the step objects given, none
of which was fitted: another thread that fitted a fitted clone, or changed it in place,
after it was put in ``steps`` and before the run was recorded went unseen, and the run
recorded the fingerprint of that other state beside this fit's rows.

So, while a traced fit runs, each such pipeline (the traced one, and a pipeline that is
its last step, or a :class:`~sktraceprop.TracedEstimator`'s) holds a stand-in for its
memory (:class:`WatchedMemory`): it caches what the memory caches, and as each cached
call returns in the traced fit's thread it hands the step it returned (the fitted
clone, or the one loaded from the cache: no other code holds it yet) to the watch
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

The stand-in is seen only by the traced fit: it is the memory's ``location`` and
``cache`` (the cache holders, :mod:`sktraceprop._cache_holders`, read the location), and
a copy, pickle or ``repr`` of it is of the memory given.
"""

import copy
import threading

from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_memory


def _given(value):
    return value


class WatchedMemory:
    """Stands in for ``pipe``'s ``memory`` (``given``, resolved to ``memory``) during a
    traced fit watched by ``fits``."""

    def __init__(self, memory, given, pipe, fits):
        self._memory, self._given, self._pipe, self._fits = memory, given, pipe, fits
        self._names = None

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
                self._fits.placed_step(name, fitted, self._pipe)
            return out

        return call

    def __repr__(self):
        return repr(self._given)

    def __deepcopy__(self, memo):
        return copy.deepcopy(self._given, memo)

    def __copy__(self):
        return self._given

    def __reduce__(self):
        return (_given, (self._given,))


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


def _pipelines(model):
    """``model`` and the pipeline that is its last step, and so on."""
    out = []
    while isinstance(model, Pipeline):
        out.append(model)
        model = model.steps[-1][1]
    return out


def watch_memories(model, fits):
    """Put a :class:`WatchedMemory` in place of the memory of each pipeline of ``model``
    (itself, its last step's...) that fits clones; returns ``(pipe, given, stand-in)``
    of each, for :func:`restore_memories`."""
    put = []
    for pipe in _pipelines(model):
        given = pipe.__dict__.get("memory")
        resolved = _cloning(given)
        if resolved is None:  # (an outer traced fit's stand-in is stood in for in turn)
            continue
        stand_in = WatchedMemory(resolved, given, pipe, fits)
        pipe.__dict__["memory"] = stand_in
        put.append((pipe, given, stand_in))
    return put


def restore_memories(put):
    """Give back each pipeline its memory (where it still holds the stand-in)."""
    for pipe, given, stand_in in reversed(put):
        if pipe.__dict__.get("memory") is stand_in:
            pipe.__dict__["memory"] = given
