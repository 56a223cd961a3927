"""Progress reporting and joblib block parallelism shared by the long-running calls.

Work that splits into independent blocks goes through :func:`map_blocks`, so that
``joblib.parallel_backend("dask")`` (or ``"ray"``) spreads it over a cluster unchanged.
Progress is shown with ``tqdm`` when it is installed and ``verbose`` is set, else as
short scikit-learn-style lines on standard error.
"""

import sys
import time

from joblib import Parallel, delayed

__all__ = ["map_blocks", "progress"]


class _Lines:
    """Plain progress lines on stderr: ``[desc] 3/10 blocks, 1.2 s``."""

    def __init__(self, iterable, desc, total):
        self._iterable = iterable
        self._desc = desc
        self._total = total

    def __iter__(self):
        start = time.perf_counter()
        total = "" if self._total is None else f"/{self._total}"
        done = 0
        for item in self._iterable:
            yield item
            done += 1
            elapsed = time.perf_counter() - start
            print(f"[{self._desc}] {done}{total} done, {elapsed:.1f} s", file=sys.stderr)


def progress(iterable, *, verbose, desc, total=None):
    """Wrap ``iterable`` so that each item reports progress when ``verbose`` is set.

    Parameters
    ----------
    iterable : iterable
        The work items (or results, as they arrive).
    verbose : int or bool
        Nothing is shown when falsy.
    desc : str
        What is being done, shown before the counts.
    total : int, default=None
        Number of items, when known.

    Returns
    -------
    iterable
        ``iterable`` itself when not verbose, else a wrapper yielding the same items.
    """
    if not verbose:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Lines(iterable, desc, total)
    return tqdm(iterable, desc=desc, total=total, file=sys.stderr)


def map_blocks(func, blocks, *, shared=(), n_jobs=None, verbose=0, desc="blocks"):
    """``[func(b, *shared) for b in blocks]`` through joblib, in order, with progress.

    Parameters
    ----------
    func : callable
        Applied to every block; must be picklable for process-based backends.
    blocks : sequence
        The independent pieces of work.
    shared : tuple, default=()
        Arguments passed to every call after the block. They travel as arguments of
        their own, not inside ``func``, so that joblib's Dask backend sends a large
        array to the cluster once (it scatters large arguments) and loky memory-maps it.
    n_jobs : int, default=None
        joblib's ``n_jobs``; ``None`` means the active backend's default (1 outside a
        ``parallel_backend`` context).
    verbose : int, default=0
        Show progress when positive.
    desc : str, default="blocks"
        Label of the progress display.

    Returns
    -------
    results : list
        ``func(block, *shared)`` for every block, in the order of ``blocks``.
    """
    blocks = list(blocks)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    results = parallel(delayed(func)(b, *shared) for b in blocks)
    return list(progress(results, verbose=verbose, desc=desc, total=len(blocks)))
