"""Which estimator's ``fit`` made a traced fit, when another estimator made it.

``CalibratedClassifierCV``, ``TunedThresholdClassifierCV``, ``MultiOutputClassifier``,
``StackingClassifier``, ``VotingClassifier`` and other meta-estimators fit a traced
estimator given to them several times for one call of theirs (per split, per target,
then on all rows). Each fit is a run of purpose ``"fit"``, like a user's own: the run's
notes name the estimator whose ``fit`` made it, and the function it went through (a
split's fit or the final one), as seen on the call stack. A fit made in a worker
process (``n_jobs``) has only the worker's stack: no note, which proves nothing.
"""

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


def enclosing_fit_note(estimator):
    """A note naming the meta-estimator whose ``fit`` fitted ``estimator``, or None.

    The nearest frame of a ``fit`` method of another scikit-learn-style estimator is
    the one (None when that is one of the library's, which record their own purpose,
    or a composition that fits each step once); the frame just inside it names the way
    through (``_fit_classifier_calibrator_pair``: a split's fit).
    """
    frame = sys._getframe(1)
    inner = None
    while frame is not None:
        if _outside_library(frame) and frame.f_code.co_name in _FIT_NAMES:
            owner = frame.f_locals.get("self")
            if isinstance(owner, BaseEstimator) and owner is not estimator:
                if isinstance(owner, _COMPOSITIONS) or type(owner).__module__.startswith(
                    "sktraceprop"
                ):
                    return None  # one fit per call, or a purpose of the library's own
                cls = type(owner)
                own = f"{cls.__module__}.{frame.f_code.co_name}"
                through = "" if inner in (None, own) else f" through {inner}"
                return (
                    f"fitted by {cls.__name__}.{frame.f_code.co_name} ({cls.__module__})"
                    f"{through}, not by a call of its own: one of the fits that estimator "
                    "makes (per split, per target or on all its rows), on the rows it "
                    "passed; purpose 'fit' does not say whether it keeps this model"
                )
        name = frame.f_code.co_name
        if inner is None and _outside_library(frame) and name not in ("__call__", "wrapper"):
            inner = f"{frame.f_globals.get('__name__', '')}.{name}"  # the fit's caller
        frame = frame.f_back
    return None
