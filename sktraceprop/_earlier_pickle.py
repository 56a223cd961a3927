"""An sktraceprop object loaded from a pickle an earlier sktraceprop wrote, without some
of the parameters this version's class has.

Its class here reads them (``get_params``, ``clone``, ``repr``, and the methods that
use them: a traced pipeline's ``log_predictions``, an explainer's ``solver``), so the
object fails later with an ``AttributeError`` that names neither the version nor the
cause. The pickle does not say which sktraceprop wrote it (releases before recorded no
version in it); missing parameters show that an earlier one did, and a warning on
loading says so, naming them. No value is guessed for them: what they would have been
is not known.
"""

import warnings

_OWN = {}  # class -> the parameter names sktraceprop adds to its scikit-learn bases


def _own_params(cls):
    if cls not in _OWN:
        names = set(cls._get_param_names())
        for base in cls.__mro__[1:]:
            if base.__module__.split(".")[0] == "sklearn" and "__init__" in vars(base):
                names -= set(getattr(base, "_get_param_names", lambda: ())())
        _OWN[cls] = frozenset(names)
    return _OWN[cls]


def warn_missing_params(obj, state):
    """Warn where ``state`` (being unpickled into ``obj``) lacks parameters of
    ``obj``'s class that sktraceprop defines."""
    try:
        own = _own_params(type(obj))
    except (AttributeError, TypeError, ValueError, RuntimeError):  # no signature to read
        return
    missing = sorted(name for name in own if name not in state)
    if missing:
        warnings.warn(
            f"this {type(obj).__name__} was pickled by an earlier sktraceprop, whose "
            f"{type(obj).__name__} had no parameter(s) {', '.join(missing)}: this "
            "version cannot tell what they would have been, so get_params, clone, repr "
            "and what reads them raise AttributeError, and its fitted state may lack "
            "what this version keeps. Fit it again with this version (or load it with "
            "the version that pickled it).",
            UserWarning,
            stacklevel=3,
        )
