"""Whether a traced transform's output goes back to the user's code, read off the stack.

Only such an output is worth remembering (:mod:`._bare_outputs`): a ``predict``,
``score`` or ``fit`` of a pipeline calls its steps' ``transform`` on every call, and
remembering those outputs would cost time per serving call and push the outputs the
user holds out of the few kept.

The frames of the libraries that call ``transform`` on a user's behalf (scikit-learn,
imbalanced-learn, joblib, sktraceprop) are walked outwards from the transform; the
outermost of them, the method the user's code called, decides: its output is handed to
the user when that method is a ``transform`` or ``fit_transform``. (scikit-learn's
``set_output`` wrapper is looked through: it names no method of its own.) A worker
thread or process, whose stack starts in the libraries, hands nothing to the user.
"""

import sys

__all__ = ["handed_to_user"]

#: Top-level packages whose frames call ``transform`` on the user's behalf.
LIBRARIES = frozenset({"sklearn", "sktraceprop", "imblearn", "joblib", "threadpoolctl"})
#: Frames that name no method of their own (a wrapper around the one it calls).
_WRAPPERS = frozenset({"sklearn.utils._set_output"})
_HANDED = frozenset({"transform", "fit_transform"})


def handed_to_user(depth=1):
    """True when the transform running ``depth`` frames above this call was called,
    through the libraries only, by a ``transform`` or ``fit_transform`` the user's code
    called."""
    frame = sys._getframe(depth + 1)
    entry = None
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module.partition(".")[0] not in LIBRARIES:
            break  # the user's code (or a thread's start: then entry is no method)
        if module not in _WRAPPERS:
            entry = frame.f_code.co_name
        frame = frame.f_back
    if frame is None:
        return False  # the whole stack is the libraries': a worker's
    return entry in _HANDED
