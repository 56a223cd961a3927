"""NaN and infinity checks of the projector's input and output."""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import assert_all_finite

__all__ = ["_all_finite", "_check_finite"]

#: Dense inputs with at least this many entries are checked for NaN and infinity by
#: several threads, each summing a slab of rows with numpy (scikit-learn's check is one
#: thread). No compiled kernel: ``fit`` never loads numba, so a first call in a fresh
#: process compiles nothing.
_PARALLEL_CHECK_ENTRIES = 4_000_000


def _check_finite(X, name, n_jobs=None):
    """Raise scikit-learn's usual error if ``X`` holds NaN or infinity."""
    if not sp.issparse(X) and X.ndim == 2 and X.size >= _PARALLEL_CHECK_ENTRIES:
        flat = X.ravel(order="K") if X.flags.c_contiguous or X.flags.f_contiguous else None
        if flat is not None:
            if n_jobs is None or n_jobs < 0:
                n_jobs = os.cpu_count() or 1
            bounds = np.linspace(0, flat.size, 4 * n_jobs + 1).astype(np.int64)
            slabs = [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
            # numpy releases the GIL in reductions; a sum of finite entries that
            # overflows goes to scikit-learn's exact check below
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                sums = list(pool.map(np.add.reduce, slabs))
            if np.isfinite(sums).all():
                return
    # small, sparse or strided input, or some entry is not finite: scikit-learn's check
    assert_all_finite(X, estimator_name=name, input_name="X")


def _all_finite(out):
    """No NaN or infinity in ``out``: its sum is finite, or else each entry is."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.add.reduce(out, axis=None))) or bool(np.isfinite(out).all())
