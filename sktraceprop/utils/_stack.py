"""Warnings that point at the user's code, not at the library's frames."""

import os
import sys

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_stacklevel():
    """The ``stacklevel`` of the first caller outside sktraceprop, for ``warnings.warn``
    called by the function that calls this one (sklearn's frames count as outside:
    a fit inside ``GridSearchCV`` points at sklearn's call)."""
    frame = sys._getframe(2)  # the caller of warnings.warn's caller
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level
