"""Find the public estimators of sktraceprop."""

import inspect

from sklearn.base import BaseEstimator


def all_estimators():
    """Public estimator classes of sktraceprop, as (name, class) pairs sorted by name.

    Estimators whose optional dependency is missing (``TracedImbPipeline`` without
    imbalanced-learn) are left out.
    """
    import sktraceprop

    found = {}
    for name in sktraceprop.__all__:
        try:
            obj = getattr(sktraceprop, name)
        except ImportError:
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found[name] = obj
        elif inspect.ismodule(obj):
            for sub in getattr(obj, "__all__", ()):
                value = getattr(obj, sub, None)
                if inspect.isclass(value) and issubclass(value, BaseEstimator):
                    if value.__module__.startswith("sktraceprop"):
                        found[sub] = value
    return sorted(found.items())


__all__ = ["all_estimators"]
