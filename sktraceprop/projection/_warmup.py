"""Load the projection kernels in a background thread when the package is first imported.

A process's first numba call pays for importing numba and initialising its compiler,
then loads each kernel from numba's on-disk cache (or compiles it, once per
installation); benchmarks/bench_projection.py measures a fresh process's first call. numba is
imported by the import of this package; the rest happens in a daemon thread started
then, which overlaps it with whatever the program does before its first projection; a
projection that comes sooner simply waits for the kernels, as it would have without
the thread. Set the environment
variable ``SKTRACEPROP_NO_WARMUP=1`` to skip it (e.g. before forking workers).
"""

import os
import threading

import numpy as np
import scipy.sparse as sp


def _cached(dispatcher, dtype=None):
    """Whether numba's on-disk cache holds a current entry of ``dispatcher`` (for its
    first argument of ``dtype``, where given).

    The thread must only *load* kernels: compiling one runs numba's compiler, which
    wraps its work in ``warnings.catch_warnings`` - process-wide state, not the
    thread's. A compile in the thread beside the program's own ``catch_warnings``
    block (a test's ``pytest.warns``, the library's own record of warnings) restores
    the warning filters and handler the block had replaced when it ends: the block
    records nothing more, and filters set meanwhile are undone. Measured: with the
    cache cleared, warnings raised in the first seconds after the import went
    unrecorded by ``pytest.warns`` in 2 of 5 runs. A call whose kernels are not all
    cached is left to the first projection, which compiles them in its own thread, as
    it would without the warm-up.
    """
    try:
        index = dispatcher._cache._cache_file._load_index()  # empty: absent or stale
        if dtype is None:
            return bool(index)
        name = np.dtype(dtype).name
        return any(name in str(key[0][0]) for key in index)
    except Exception:  # noqa: BLE001 - numba's private layout changed: do not warm
        return False


def _calls():
    """The warm-up's calls, ``(X, density)``, whose kernels are all cached."""
    from . import _kernels, _scatter

    shared = _cached(_kernels.column_counts) and _cached(_kernels.column_entries)
    calls = []
    # dense before sparse, float32 first: the likeliest first calls wait least (numba
    # loads one kernel at a time); the low density picks the scatter kernel
    for dtype in (np.float32, np.float64):
        X = np.ones((2, 3), dtype=dtype)
        if shared and _cached(_kernels.tile_rows) and _cached(_kernels.project_dense, dtype):
            calls.append((X, "auto"))
        if shared and _cached(_scatter.project_scatter, dtype):
            calls.append((X, 1e-3))
    for dtype in (np.float32, np.float64):
        if shared and _cached(_kernels.project_csr, dtype):
            calls.append((sp.csr_matrix(np.ones((2, 3), dtype=dtype)), "auto"))
    return calls


def _warm():
    from .._thread_compiles import attempt
    from ._jl import JLProjector

    try:
        for X, density in _calls():
            project = JLProjector(2, density=density, random_state=0, n_jobs=1).fit_transform
            if not attempt(project, X)[0]:
                return  # a kernel the cache lacks after all: not compiled here
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
    # numba itself is imported here, not in the thread: a program importing numba
    # while the thread did could get a partially initialised module (importlib's
    # answer to two threads importing the same modules in different orders)
    import numba  # noqa: F401

    from .._thread_compiles import prepare

    prepare()  # the thread is refused any compile (it only loads; see _cached)
    thread = threading.Thread(target=_warm, name="sktraceprop-jl-warmup", daemon=True)
    thread.start()
