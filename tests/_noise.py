"""Warnings raised in other threads while the library works, for the tests that check
none of them is lost or swallowed (``catch_warnings`` is process-wide; the library's own
quiet runs must be local to their thread)."""

import inspect
import warnings

NOISE_FILE = __file__


def noisy(k, n, stop):
    """Warn ``n`` times (or until ``stop``): ``(line of the warn call, messages)``; each
    warning is located at that line of :data:`NOISE_FILE`."""
    said = []
    for i in range(n):
        said.append(f"noisy {k} {i}")
        warnings.warn(said[-1], UserWarning, stacklevel=1)
        if stop.is_set():
            break
    return inspect.getsourcelines(noisy)[1] + 6, said
