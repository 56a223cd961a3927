"""The ``memory=`` caches that traced pipelines of this process wrote, as holders of rows.

A pipeline given ``memory=`` (a folder, or a ``joblib.Memory``) writes each fitted
transformer and the data it transformed to files there, so the cache keeps the
training rows' values and what the steps learnt from them (an encoder's categories)
after the pipeline is gone. Each traced fit with a cache registers the cache here
(kept for the life of the process: the files outlive the pipeline), with the rows it
was given, so that a removal (``unlearn``) or an erasure request (``store.erase_rows``)
names it among the objects its rows reach (:mod:`sktraceprop._holders`), until its
files are cleared (``joblib.Memory(location).clear()``). Caches written by other
processes are not seen.
"""

import os
import threading

import numpy as np

from ._holders import hold

_LOCK = threading.Lock()
_CACHES = {}  # location -> PipelineCache


class PipelineCache:
    """A folder of a ``memory=`` cache that holds files of fits on traced rows."""

    def __init__(self, location):
        self.location = location
        self.holder_name = f"the memory= cache {location!r}"
        self._ids = np.zeros(0, np.int64)

    def _held_row_ids(self):
        """The rows given to fits cached here, while any file of the cache is left."""
        # (joblib leaves a .gitignore of its own in a cleared cache)
        if not any(f != ".gitignore" for _, _, files in os.walk(self.location) for f in files):
            return None
        return self._ids


def _location(memory):
    if memory is None:
        return None
    location = memory if isinstance(memory, (str, os.PathLike)) else None
    if location is None:
        location = getattr(memory, "location", None)
    return None if location is None else os.path.abspath(os.fspath(location))


def note_cache(traced):
    """Register the caches of a fitted traced pipeline or estimator (the ``memory`` of
    every pipeline it is or holds), with the rows given to its fit."""
    params = traced.get_params(deep=True)
    memories = [v for k, v in params.items() if k == "memory" or k.endswith("__memory")]
    locations = {_location(m) for m in memories} - {None}
    if not locations:
        return
    run = traced.lineage_
    ids = [run.row_ids] + ([] if run.input_row_ids is None else [run.input_row_ids])
    for location in sorted(locations):
        with _LOCK:
            cache = _CACHES.setdefault(location, PipelineCache(location))
            cache._ids = np.unique(np.concatenate([cache._ids, *ids]).astype(np.int64))
        hold(cache)
