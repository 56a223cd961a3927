"""Requests that reach the training data only through group statistics.

A row (or a source) that no training row is, or was merged from, may still have been
averaged into a statistic (:func:`sktraceprop.aggregate`) that training rows were joined
with: the model learnt from values it helped compute. Such a request is never answered
with "never trained on", a statement an erasure request would be closed on: it is
refused (``unlearn``) or warned about (``forget=``), naming how many training rows hold
the statistics, since an unlearner cannot recompute statistics made outside the
pipeline.
"""

import numpy as np

from .._lineage._aggregate_members import aggregate_members
from .._lineage._depends_on import depends_on

__all__ = ["ADVICE", "aggregate_members", "aggregated_into", "aggregated_message"]

#: What to do instead, said with every such request.
ADVICE = (
    "an unlearner cannot recompute statistics made outside the pipeline: recompute them "
    "without these rows and refit, or compute them in the pipeline "
    "(stp.preprocessing.GroupStatistics), which unlearn() refits"
)


def aggregated_into(train_ids, keep, source, ids=None, codes=None):
    """How many of the training rows ``train_ids[keep]`` join group statistics computed
    over the rows ``ids`` or the sources ``codes`` (none of those rows being, or merged
    into, a training row).

    Parameters
    ----------
    train_ids : ndarray of int64
        The training rows' ids.
    keep : ndarray of bool
        The training rows to count (the retained ones).
    source : callable
        Code -> source record, with its parents.
    ids : ndarray of int64, default=None
        Row ids asked for.
    codes : iterable of int, default=None
        Source codes asked for (every version of a source id).
    """
    rows = np.asarray(train_ids, dtype=np.int64)[keep]
    if not rows.size:
        return 0
    _, via = depends_on(rows, source, ids, codes)
    return int(via.sum())


def aggregated_message(what, n, retained=True):
    """``what`` (the rows or source asked for, as a phrase) is no training row, but
    ``n`` training rows hold statistics over it: the sentence saying so and what to do."""
    kept = "retained " if retained else ""
    return (
        f"{what} no training row of this model, nor merged into one, but {n} {kept}"
        "training row(s) hold group statistics computed over them (stp.aggregate, joined "
        f"with stp.merge): the model learnt from values they helped compute, and {ADVICE}"
    )
