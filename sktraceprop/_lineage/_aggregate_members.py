"""The rows a group statistic held by training rows was computed over."""

import numpy as np

from ._ids import codes_of, lines_of
from ._merged_parents import expand, rows_behind


def aggregate_members(train_ids, keep, source, expanded=None):
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
    expanded : ndarray of int64, default=None
        ``train_ids[keep]`` and every row behind their merged rows at every level
        (:func:`~._merged_parents.rows_behind`), where the caller has followed them
        already: the groups are found among them, not by walking the merges again.

    Returns
    -------
    members : ndarray of int64
        Sorted, distinct.
    """
    frontier = np.unique(np.asarray(train_ids, dtype=np.int64)[keep])
    seen, found = frontier, [np.empty(0, np.int64)]
    while frontier.size:
        if expanded is None:
            _, leaves, _ = expand(frontier, source, with_via=False)
        else:  # (the merged rows among them are no group: passed over below)
            leaves, expanded = np.unique(expanded), None
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
