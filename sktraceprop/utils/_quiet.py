"""Warnings of the library's own runs of a user's code, kept from the user, in one thread.

The library runs steps again to check them (a row alone through the fitted steps, a
copy of a step fitted on a few rows, a probe fit): what those runs warn is the check's,
not the user's. ``warnings.catch_warnings`` is no way to hide it: its filters and handler
are process-wide, so while the block ran the warnings other threads raised were dropped,
and when it ended it restored the filters another thread's block had replaced (that
block then recorded nothing more).

:func:`quiet` changes nothing process-wide but once: the function the warnings
machinery calls to show a warning (``warnings._showwarnmsg``, which ``catch_warnings``
leaves in place, recording or not) is wrapped, once per process, by one that drops the
warnings of a thread inside :func:`quiet` and passes every other on unchanged.
NumPy's floating-point warnings are not raised there at all (``np.errstate``, a
thread's own state).

What the filters decided still holds: a warning an ``"error"`` filter turns into an
exception raises inside the check (which then says it could not check, or fails
loudly), and a warning shown "once per location" is registered by the machinery before
it is dropped. So where :func:`quiet` dropped a warning, the registries are cleared when
it ends (as a change of the filters does): the user's own warning at that location is
shown again, a duplicate at worst, never lost. A program that replaces
``warnings._showwarnmsg`` itself sees the check's warnings (wrapped again at the next
:func:`quiet`).
"""

import contextlib
import threading
import warnings

import numpy as np

_local = threading.local()
_lock = threading.Lock()


class _DropQuiet:
    """``warnings._showwarnmsg`` wrapped: a thread inside :func:`quiet` shows nothing."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, msg):
        if getattr(_local, "depth", 0):
            _local.dropped = True
            return None
        return self.inner(msg)


def _wrapped():
    """Whether the show function is wrapped (wrap it where it is not)."""
    if isinstance(getattr(warnings, "_showwarnmsg", None), _DropQuiet):
        return True
    with _lock:
        inner = getattr(warnings, "_showwarnmsg", None)
        if inner is None:  # (a Python without it: the warnings are shown, not lost)
            return False
        if not isinstance(inner, _DropQuiet):
            warnings._showwarnmsg = _DropQuiet(inner)
    return True


@contextlib.contextmanager
def quiet():
    """Drop the warnings this thread raises inside the block (see the module); other
    threads' warnings are left alone."""
    _wrapped()
    depth = getattr(_local, "depth", 0)
    if depth == 0:
        _local.dropped = False
    _local.depth = depth + 1
    try:
        with np.errstate(all="ignore"):
            yield
    finally:
        _local.depth = depth
        if depth == 0 and _local.dropped:
            _local.dropped = False
            mutated = getattr(warnings, "_filters_mutated", None)
            if mutated is not None:  # every "once" registry forgets what it saw
                mutated()
