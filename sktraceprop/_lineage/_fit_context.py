"""The context of a traced fit: whether it is the outermost one, and what is found of its
data once, before the fit (the upstream ops its rows went through, its witness rows).

:func:`~._record.build_lineage` and :func:`~._changes.changes` of the same data read
what :class:`fit_inputs` found instead of finding it again.
"""

import contextvars

import pandas as pd

from ._ids import codes_held
from ._source_tables import source_table, upstream_ops
from ._upstream_outputs import identify
from ._witness_view import taken_once

#: True while a traced estimator fits: nested traced estimators then leave the
#: recording to the outermost one.
_RECORDING = contextvars.ContextVar("sktraceprop_recording", default=False)


#: ``(X, ids, identify's result)`` of the fit under way (see :class:`fit_inputs`).
_FOUND = contextvars.ContextVar("sktraceprop_upstream_found", default=None)


class fit_inputs:
    """Context manager of a traced fit of ``X`` (rows ``ids``): which upstream ops its
    rows went through (:func:`identify`) is found once, before the fit (a step with
    ``copy=False`` may write into ``X``: the record is of the data given), and is what
    :func:`changes` and :func:`build_lineage` of the same ``X`` and ``ids`` use. So are
    ``X``'s witness rows, taken then, and their comparisons with what was loaded and
    with the steps' kept outputs (:func:`._witness_view.taken_once`)."""

    def __init__(self, X, ids):
        self.X, self.ids = X, ids

    def __enter__(self):
        self.views = taken_once()
        self.views.__enter__()
        self.codes = codes_held(self.ids)
        self.codes.__enter__()
        try:
            found = None
            if isinstance(self.X, pd.DataFrame):
                sources = source_table(self.ids)
                found = identify(self.X, self.ids, sources, upstream_ops(sources))
            self.token = _FOUND.set((self.X, self.ids, found))
        except BaseException:
            self.codes.__exit__(None, None, None)
            self.views.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        _FOUND.reset(self.token)
        self.codes.__exit__(None, None, None)
        self.views.__exit__(None, None, None)
        return False


def _identified(X, ids, sources):
    """:func:`identify` of ``X``'s upstream ops, as found before the fit under way."""
    held = _FOUND.get()
    if held is not None and held[0] is X and held[1] is ids and held[2] is not None:
        return held[2]
    return identify(X, ids, sources, upstream_ops(sources))


class recording:
    """Context manager marking the fit of the outermost traced estimator."""

    def __enter__(self):
        self.outer = not _RECORDING.get()
        self.token = _RECORDING.set(True)
        return self.outer

    def __exit__(self, *exc):
        _RECORDING.reset(self.token)
        return False
