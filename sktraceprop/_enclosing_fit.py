"""Which estimator's ``fit`` made a traced fit, when another estimator made it.

``CalibratedClassifierCV``, ``TunedThresholdClassifierCV``, ``MultiOutputClassifier``,
``StackingClassifier``, ``VotingClassifier`` and other meta-estimators fit a traced
estimator given to them several times for one call of theirs (per split, per target,
then on all rows). Each fit is a run of purpose ``"fit"``, like a user's own: the run's
notes name the estimator whose ``fit`` made it, and the function it went through (a
split's fit or the final one), as seen on the call stack. A fit made in a worker
process (``n_jobs``) has only the worker's stack; where the meta-estimator cloned the
traced estimator in its own ``fit`` (``CalibratedClassifierCV``, ``VotingClassifier``,
the final fits of ``StackingClassifier``), the clone carries the name of that ``fit``
(:data:`TAG`) to the worker, and the note is the one a fit in one process gets. Where
the clone is made in the worker (``MultiOutputClassifier``, ``OneVsRestClassifier``,
``BaggingClassifier``), the pickle of the estimator sent there carries the tag
(:mod:`._enclosing_pickle`) where it is pickled on the thread running that ``fit``. A
fit in a joblib task through scikit-learn's code that none of these name (the estimator
pickled on loky's feeder thread, or cloned on a joblib thread: other threads' stacks are
never read) gets a note saying the estimator could not be named there.
"""

import os
import sys

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


def _note(owner, inner):
    name, module, method = owner
    through = "" if inner in (None, f"{module}.{method}") else f" through {inner}"
    return (
        f"fitted by {name}.{method} ({module}){through}, not by a call of its own: one of "
        "the fits that estimator makes (per split, per target or on all its rows), on the "
        "rows it passed; purpose 'fit' does not say whether it keeps this model"
    )


def enclosing_fit_note(estimator):
    """A note naming the meta-estimator whose ``fit`` fitted ``estimator``, or None.

    The nearest frame of a ``fit`` method of another scikit-learn-style estimator is
    the one (None when that is one of the library's, which record their own purpose,
    or a composition that fits each step once); the frame just inside it names the way
    through (``_fit_classifier_calibrator_pair``: a split's fit). In a worker process,
    whose stack holds no such frame, the :data:`TAG` of a clone made by a
    meta-estimator's ``fit`` in another process names it. A tag is used once.
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
    if tag is not None and (tag["pid"] != os.getpid() or tag.get("pickled")):
        if task or not tag.get("pickled"):  # (not a saved model unpickled later)
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
    on the stack, or None."""
    owner, _, _ = _walk(original, sys._getframe(1))
    if owner is not None:
        return {"owner": owner, "pid": os.getpid()}
    # a clone made in a worker of an estimator pickled there with its tag
    tag = original.__dict__.get(TAG)
    if tag is not None and tag.get("pickled"):
        return tag
    # (a clone made in a joblib thread: the fit holding the original runs in another
    # thread, whose stack is not read; see _enclosing_pickle)
    return None
