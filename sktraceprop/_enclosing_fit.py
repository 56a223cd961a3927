"""Which estimator's ``fit`` made a traced fit, when another estimator made it.

``CalibratedClassifierCV``, ``TunedThresholdClassifierCV``, ``MultiOutputClassifier``,
``StackingClassifier``, ``VotingClassifier`` and other meta-estimators fit a traced
estimator given to them several times for one call of theirs (per split, per target,
then on all rows). Each fit is a run of purpose ``"fit"``, like a user's own: the run's
notes name the estimator whose ``fit`` made it, and the function it went through (a
split's fit or the final one), as seen on the call stack. A fit made in a joblib worker
(``n_jobs``: a process, or a thread of the threading backend) has only the worker's
stack; where the meta-estimator cloned the traced estimator in its own ``fit``
(``CalibratedClassifierCV``, ``VotingClassifier``, the final fits of
``StackingClassifier``), the clone carries the name of that ``fit`` (:data:`TAG`, with
the process and thread that cloned) to the worker, and the note is the one a fit in one
thread gets; a clone made by that ``fit``'s generator of tasks while joblib draws it on
another thread (past the first tasks, on the thread a finished task calls back on) is
named by the generator's own frame there (:func:`_dispatched_owner`). Where the clone
is made in the worker, from an estimator that scikit-learn's code there holds
(``BaggingClassifier._make_estimator``: the bagging is sent to the task with its
estimator), the worker's own stack names it (:func:`_task_holder`); where the worker is
sent the estimator alone (``MultiOutputClassifier``, ``OneVsRestClassifier``),
the pickle of the estimator carries the tag (:mod:`._enclosing_pickle`) where it is
pickled on the thread running that ``fit``. A fit in a joblib task through scikit-learn's
code that none of these name (the estimator pickled on loky's feeder thread, or cloned on
a joblib thread from an estimator no object of the task holds: other threads' stacks are
never read) gets a note saying the estimator could not be named there.

Nothing else carries the name from the dispatching thread: between the start of such a
``fit`` and its dispatch no code of the library runs on that thread; scikit-learn's
``Parallel`` carries to the task only its own configuration (``config_context`` refuses
other keys) and the warning filters (one list for the whole process), and joblib gives its
threads no copy of the dispatching thread's context variables. Carrying it would take a
patch of scikit-learn's ``Parallel.__call__``, which the library does not make.
"""

import os
import sys
import threading

from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.pipeline import FeatureUnion, Pipeline

#: Compositions that fit each part once, on the rows of the call: a part's fit is the
#: user's fit (the run says which step it is), not one of several.
_COMPOSITIONS = (Pipeline, ColumnTransformer, FeatureUnion, TransformedTargetRegressor)

_FIT_NAMES = ("fit", "_fit", "fit_transform", "fit_predict", "partial_fit")


def _outside_library(frame):
    name = frame.f_globals.get("__name__", "")
    return not (name == "sktraceprop" or name.startswith("sktraceprop."))


#: The attribute a clone made inside a meta-estimator's ``fit`` carries to a worker
#: process: ``{"owner": (class name, module, method), "pid": the process that cloned}``.
TAG = "_stp_enclosing"


def _walk(estimator, frame):
    """``(owner, inner, decided)`` from ``frame`` outwards: ``owner`` the ``(class name,
    module, method)`` of the nearest ``fit`` of another estimator (None when that is one
    of the library's or a composition, ``decided`` then True), ``inner`` the function
    just inside it (the fit's caller)."""
    inner = None
    while frame is not None:
        if _outside_library(frame) and frame.f_code.co_name in _FIT_NAMES:
            owner = frame.f_locals.get("self")
            if isinstance(owner, BaseEstimator) and owner is not estimator:
                if isinstance(owner, _COMPOSITIONS) or type(owner).__module__.startswith(
                    "sktraceprop"
                ):
                    return None, inner, True  # one fit per call, or a purpose of its own
                cls = type(owner)
                return (cls.__name__, cls.__module__, frame.f_code.co_name), inner, True
        name = frame.f_code.co_name
        if inner is None and _outside_library(frame) and name not in ("__call__", "wrapper"):
            inner = f"{frame.f_globals.get('__name__', '')}.{name}"  # the fit's caller
        frame = frame.f_back
    return None, inner, False


def _cloning_frame(frame):
    """The frame of scikit-learn's or imbalanced-learn's code that called ``clone`` (from
    ``frame``, in the library's own clone), or None."""
    while frame is not None and not _outside_library(frame):
        frame = frame.f_back  # (the library's own clone frames)
    while frame is not None and frame.f_globals.get("__name__", "") == "sklearn.base":
        frame = frame.f_back  # (clone)
    if frame is None or not frame.f_globals.get("__name__", "").startswith(
        ("sklearn.", "imblearn.")
    ):
        return None
    return frame


def _meta(owner):
    """Whether ``owner`` is an estimator whose fits of others are named (not one of the
    library's, nor a composition)."""
    return (
        isinstance(owner, BaseEstimator)
        and not isinstance(owner, _COMPOSITIONS)
        and not type(owner).__module__.startswith("sktraceprop")
    )


def _dispatched_owner(frame):
    """``(class name, module, method)`` of the ``fit`` whose generator of joblib tasks
    clones now, consumed by joblib's dispatch on another thread than the fit's (tasks
    past the first ones are drawn by the thread a finished task calls back on), or None.

    The generator's frame (``CalibratedClassifierCV.fit.<locals>.<genexpr>``) runs on
    this thread; its ``self`` is the estimator whose ``fit`` made it."""
    frame = _cloning_frame(frame)
    if frame is None or frame.f_code.co_name != "<genexpr>":
        return None
    method = frame.f_code.co_qualname.split(".<locals>.")[0].rpartition(".")[2]
    owner = frame.f_locals.get("self")
    if method not in _FIT_NAMES or not _meta(owner):
        return None
    cls = type(owner)
    return cls.__name__, cls.__module__, method


def _task_holder(original, frame):
    """``(class name, module, None)`` of the estimator whose method, in scikit-learn's or
    imbalanced-learn's code, clones ``original``, which it holds, in a joblib task now
    (``BaggingClassifier._make_estimator`` in ``_parallel_build_estimators``), or None.

    Only this thread's frames are read, and only a library frame's ``f_locals``."""
    from ._enclosing_pickle import in_joblib_task

    frame = _cloning_frame(frame)
    if frame is None:
        return None
    owner = frame.f_locals.get("self")
    if not _meta(owner) or owner is original:
        return None
    # a list first: another thread may set attributes of the estimator meanwhile
    if not any(value is original for value in list(vars(owner).values())):
        return None
    if not in_joblib_task(frame):
        return None
    cls = type(owner)
    return cls.__name__, cls.__module__, None


def _note(owner, inner):
    name, module, method = owner
    if method is None:  # named in a joblib task by the code cloning what it holds
        who = f"{name} ({module}), in a joblib task"
        through = "" if inner is None else f" through {inner}"
    else:
        who = f"{name}.{method} ({module})"
        through = "" if inner in (None, f"{module}.{method}") else f" through {inner}"
    return (
        f"fitted by {who}{through}, not by a call of its own: one of "
        "the fits that estimator makes (per split, per target or on all its rows), on the "
        "rows it passed; purpose 'fit' does not say whether it keeps this model"
    )


def enclosing_fit_note(estimator):
    """A note naming the meta-estimator whose ``fit`` fitted ``estimator``, or None.

    The nearest frame of a ``fit`` method of another scikit-learn-style estimator is
    the one (None when that is one of the library's, which record their own purpose,
    or a composition that fits each step once); the frame just inside it names the way
    through (``_fit_classifier_calibrator_pair``: a split's fit). In a joblib worker
    (a process, or a thread of the threading backend), whose stack holds no such frame,
    the :data:`TAG` of a clone made by a meta-estimator's ``fit`` in another process or
    on another thread names it, and so does the tag of a clone made in this joblib task
    from what an estimator there holds (:func:`_task_holder`). A tag is used once.
    """
    from ._enclosing_pickle import in_joblib_task

    tag = estimator.__dict__.pop(TAG, None)
    frame = sys._getframe(1)
    owner, inner, decided = _walk(estimator, frame)
    if owner is not None:
        return _note(owner, inner)
    if decided:
        return None
    task = in_joblib_task(frame)
    if tag is not None and tag.get("dispatched"):
        # cloned by the fit's generator of tasks, drawn by joblib on another thread
        if task:
            return _note(tuple(tag["owner"]), inner)
    elif tag is not None and tag.get("in_task"):
        # cloned in a joblib task by scikit-learn's code from what an estimator holds:
        # named in that task only
        if task and tag["pid"] == os.getpid():
            return _note(tuple(tag["owner"]), inner)
    elif tag is not None and (tag["pid"] != os.getpid() or tag.get("pickled")):
        if task or not tag.get("pickled"):  # (not a saved model unpickled later)
            return _note(tuple(tag["owner"]), inner)
    elif tag is not None and task and tag.get("thread") not in (None, threading.get_ident()):
        # cloned by the fit on its own thread, fitted in a joblib thread (threading
        # backend): the clone carried the name; no other thread's stack was read
        return _note(tuple(tag["owner"]), inner)
    if task and inner is not None and inner.partition(".")[0] in ("sklearn", "imblearn"):
        return (
            f"fitted in a joblib task through {inner}, not by a call of its own: the "
            "estimator whose fit made this fit could not be named there; purpose 'fit' "
            "does not say whether it keeps this model"
        )
    return None


def clone_tag(original):
    """The :data:`TAG` a clone of ``original`` made now gets: the meta-estimator ``fit``
    on the stack (with the process and thread cloning), the estimator cloning what it
    holds in a joblib task (``"in_task"``), or None."""
    frame = sys._getframe(1)
    owner, _, _ = _walk(original, frame)
    if owner is not None:
        return {"owner": owner, "pid": os.getpid(), "thread": threading.get_ident()}
    dispatched = _dispatched_owner(frame)
    if dispatched is not None:
        return {"owner": dispatched, "pid": os.getpid(), "dispatched": True}
    holder = _task_holder(original, frame)
    if holder is not None:
        return {
            "owner": holder,
            "pid": os.getpid(),
            "thread": threading.get_ident(),
            "in_task": True,
        }
    # a clone made in a worker of an estimator pickled there with its tag
    tag = original.__dict__.get(TAG)
    if tag is not None and tag.get("pickled"):
        return tag
    # (a clone made in a joblib thread: the fit holding the original runs in another
    # thread, whose stack is not read; see _enclosing_pickle)
    return None
