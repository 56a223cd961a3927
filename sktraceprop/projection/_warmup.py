"""Load the projection kernels in a background thread when the package is first imported.

A process's first numba call pays for importing numba and initialising its compiler
(about a second), then loads each kernel from numba's on-disk cache (or compiles it,
once per installation). Doing that in a daemon thread at import lets it overlap with
whatever the program does before its first projection; a projection that comes sooner
simply waits for the kernels, as it would have without the thread. Set the environment
variable ``SKTRACEPROP_NO_WARMUP=1`` to skip it (e.g. before forking workers).
"""

import os
import threading

import numpy as np
import scipy.sparse as sp


def _warm():
    from ._jl import JLProjector

    try:
        for dtype in (np.float32, np.float64):
            X = np.ones((2, 3), dtype=dtype)
            proj = JLProjector(2, random_state=0, n_jobs=1)
            proj.fit_transform(X)
            proj.transform(sp.csr_matrix(X))
    except Exception:
        # nothing depends on the warm-up: a failing kernel fails again, with its
        # error, in the caller's own projection
        pass


#: The warm-up thread, or None where it was skipped.
thread = None


def start():
    """Start the warm-up thread (at the package's import), unless
    ``SKTRACEPROP_NO_WARMUP`` is set to something other than ``0``."""
    global thread
    if os.environ.get("SKTRACEPROP_NO_WARMUP", "") not in ("", "0"):
        return
    thread = threading.Thread(target=_warm, name="sktraceprop-jl-warmup", daemon=True)
    thread.start()
