"""The enclosing meta-estimator ``fit`` carried in a pickle to a joblib worker.

``MultiOutputClassifier`` and ``OneVsRestClassifier`` with ``n_jobs`` send their
(unfitted) estimator, and no object of theirs, to worker processes and clone it there,
where no frame of their ``fit`` is on the stack (:mod:`._enclosing_fit`; a
``BaggingClassifier`` is sent with its estimator, and its task's own stack names it).
Where the pickle is made on the thread that runs that ``fit`` (a ``fit`` that pickles its
estimator itself, or a backend that pickles on the dispatching thread), the stack of that
thread shows the ``fit`` of a meta-estimator holding the pickled object as an attribute
(``self.estimator``, ``self.estimator_``); the pickle then carries its
:data:`~._enclosing_fit.TAG`, marked ``"pickled"``, and clones made from it in the worker
carry it on. It is used only where the worker's stack shows a joblib task.

Only the pickling thread's own stack is read. joblib's loky backend pickles on its
feeder thread, and the threading backend clones on its worker threads, whose stacks do
not hold the ``fit``: the other threads' stacks (:func:`sys._current_frames`) are not
read there, because walking the frames of a thread that goes on running is not safe in
CPython 3.11 (the step watch did, and crashed); nor does the library patch joblib's or
scikit-learn's dispatch to carry it (see :mod:`._enclosing_fit`). Those fits get the
note of a fit in a joblib task whose estimator could not be named
(:func:`._enclosing_fit.enclosing_fit_note`), never a name guessed from another thread.
"""

import os
import sys

from sklearn.base import BaseEstimator

from ._enclosing_fit import _COMPOSITIONS, _FIT_NAMES, TAG, _outside_library

__all__ = ["EnclosingPickleMixin", "in_joblib_task", "pickled_tag"]


def _holder_fit(obj, frame):
    """The ``(class name, module, method)`` of the nearest meta-estimator ``fit`` from
    ``frame`` outwards whose estimator holds ``obj``, or None."""
    while frame is not None:
        if frame.f_code.co_name in _FIT_NAMES and _outside_library(frame):
            owner = frame.f_locals.get("self")
            if isinstance(owner, BaseEstimator) and owner is not obj:
                if isinstance(owner, _COMPOSITIONS) or type(owner).__module__.startswith(
                    "sktraceprop"
                ):
                    return None
                # a list first: another thread may set attributes of the estimator
                # meanwhile (iterating the live dict would raise)
                if any(value is obj for value in list(vars(owner).values())):
                    cls = type(owner)
                    return cls.__name__, cls.__module__, frame.f_code.co_name
                return None  # the nearest fit is of an estimator not holding it
        frame = frame.f_back
    return None


def pickled_tag(obj):
    """The tag a pickle of ``obj`` made now, on this thread, carries, or None."""
    owner = _holder_fit(obj, sys._getframe(1))
    if owner is not None:
        return {"owner": owner, "pid": os.getpid(), "pickled": True}
    return None


def in_joblib_task(frame):
    """Whether ``frame`` or one outside it runs in joblib's code (a worker's task)."""
    while frame is not None:
        if (frame.f_globals.get("__name__") or "").startswith("joblib"):
            return True
        frame = frame.f_back
    return False


class EnclosingPickleMixin:
    """Pickles made while a meta-estimator's ``fit`` holds the object carry its name."""

    def __getstate__(self):
        state = super().__getstate__()
        try:
            tag = pickled_tag(self)
        except Exception:  # noqa: BLE001 (a note only: pickling never fails for it)
            tag = None
        if tag is not None:
            state = dict(state)  # (BaseEstimator may return the live __dict__)
            state[TAG] = tag
        return state
