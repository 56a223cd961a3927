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

from .._lineage._depends_on import depends_on
from .._lineage._ids import codes_of, lines_of
from .._lineage._merged_parents import expand, rows_behind

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


def aggregate_members(train_ids, keep, source):
    """Every row id that a group statistic held by the training rows ``train_ids[keep]``
    was computed over: the members of each group (:func:`sktraceprop.aggregate`) a
    training row was joined with, the rows those members were merged from at any depth,
    and, for an aggregate of aggregated rows, their members in turn. The rows that
    :func:`aggregated_into` counts a training row for, listed from the other side.

    Parameters
    ----------
    train_ids : ndarray of int64
        The training rows' ids.
    keep : ndarray of bool
        The training rows to follow (the retained ones).
    source : callable
        Code -> source record, with its parents.

    Returns
    -------
    members : ndarray of int64
        Sorted, distinct.
    """
    frontier = np.unique(np.asarray(train_ids, dtype=np.int64)[keep])
    seen, found = frontier, [np.empty(0, np.int64)]
    while frontier.size:
        _, leaves, _ = expand(frontier, source, with_via=False)
        codes = codes_of(leaves)
        members = [np.empty(0, np.int64)]
        for code in np.unique(codes).tolist():
            record = source(code)
            if record.kind != "aggregate":
                continue
            groups = np.unique(leaves[codes == code])
            _, of_groups = record.require_parents().of(lines_of(groups) - 1)
            members.append(of_groups)
        members = np.unique(np.concatenate(members))
        found += [members, rows_behind(members, source)[0]]
        # (an aggregate of aggregated rows: its members' groups, followed once each)
        frontier = np.setdiff1d(members, seen)
        seen = np.union1d(seen, frontier)
    return np.unique(np.concatenate(found))


def aggregated_message(what, n, retained=True):
    """``what`` (the rows or source asked for, as a phrase) is no training row, but
    ``n`` training rows hold statistics over it: the sentence saying so and what to do."""
    kept = "retained " if retained else ""
    return (
        f"{what} no training row of this model, nor merged into one, but {n} {kept}"
        "training row(s) hold group statistics computed over them (stp.aggregate, joined "
        f"with stp.merge): the model learnt from values they helped compute, and {ADVICE}"
    )
