"""A fit on group statistics computed over rows removed from a model or erased from
a store, said.

A row removed from a model (by an unlearner) or erased from the store (by an erasure
request, :meth:`~sktraceprop.stores.SQLiteStore.erase_rows`) may also have been averaged into a
group statistic (:func:`sktraceprop.aggregate`) that other rows were joined with
(:func:`sktraceprop.merge`). Those rows are not removed rows, nor merged from one, yet
they hold values the removed row helped compute: a refit on them learns from it again.
Before, such a fit was not warned (the documented gap of the refit check); now it is,
with the same :class:`~sktraceprop.exceptions.RefitOnRemovedWarning` and message prefix
as a fit on the removed rows themselves (:mod:`._removed_rows`), naming how many training
rows hold such statistics, a few of them, and the removed rows the statistics were
computed over, and how they were removed: "removed from a model" (an unlearner's
removal), "erased from the store" (an erasure request), or both. The library cannot
recompute statistics made outside the pipeline: the warning says what to do instead.
"""

import warnings

import numpy as np

from ._lineage._ids import codes_of, distinct_codes, lines_of
from ._removed_set import removed_how
from .exceptions import LineageError, LineageWarning, RefitOnRemovedWarning

#: What to do instead, said with every such warning.
_ADVICE = (
    "recompute the statistics without those rows and refit, or compute them in the "
    "pipeline (stp.preprocessing.GroupStatistics), unless this refit is deliberate"
)


def _derived(ids, source):
    """Whether any row of ``ids`` is a merged or aggregate row (the only rows a group
    statistic can be behind)."""
    return any(source(c).kind in ("merge", "aggregate") for c in distinct_codes(ids).tolist())


def aggregate_members_of(ids, rows, source):
    """``(members, problem)``: every row a group statistic held by the training rows
    ``ids`` was computed over (empty when none), or why they could not be followed.
    ``rows``: ``ids`` and every row behind their merged rows, where already followed
    (the groups are found among them), else None."""
    from ._lineage._aggregate_members import aggregate_members

    if not ids.size or not _derived(ids, source):
        return np.empty(0, np.int64), None
    try:
        return aggregate_members(ids, np.ones(ids.size, bool), source, expanded=rows), None
    except (LineageError, KeyError) as exc:
        return np.empty(0, np.int64), str(exc)


def _name(row_id, source):
    one = np.asarray([row_id], np.int64)
    found = source(int(codes_of(one)[0]))
    return f"{getattr(found, 'source_id', 'an unknown source')} line {int(lines_of(one)[0])}"


def _name_training(row_id, source):
    """A training row as the user knows it: a merged row by the first row it was
    merged from that is no group statistic (``people line 5 (merged into merge:... line
    4)``), any other row by its own source and line."""
    from ._lineage._merged_parents import expand

    one = np.asarray([row_id], np.int64)
    if source(int(codes_of(one)[0])).kind != "merge":
        return _name(row_id, source)
    _, leaves, _ = expand(one, source, with_via=False)
    own = [int(i) for i in leaves if source(int(codes_of(i.reshape(1))[0])).kind != "aggregate"]
    merged = _name(row_id, source)
    return f"{_name(own[0], source)} (merged into {merged})" if own else merged


def warn_aggregated_removed(
    ids, members, problem, removals, fitter, given_fitted, source, prefix, stacklevel
):
    """Warn if training rows ``ids`` join group statistics computed over removed rows.

    Parameters
    ----------
    ids : ndarray of int64
        The fit's training rows (less those it removes again).
    members : ndarray of int64
        The rows their group statistics were computed over (:func:`aggregate_members_of`).
    problem : str or None
        Why ``members`` could not be followed (said), or None.
    removals : list of tuple
        ``(removed, here)``: a :class:`~._removed_set.RemovedRows` and whether this
        process recorded it (else the store the fit writes to).
    fitter : str
        What fits, as the warning names it.
    given_fitted : bool
        The fit trains nothing (an explainer given a fitted model).
    source : callable
        Code -> source record of this process.
    prefix : str
        The message prefix every refit warning begins with.
    stacklevel : int
        Where the warning points, from the caller.
    """
    if problem is not None:  # (never silent where a removal could be behind them)
        warnings.warn(
            f"the group statistics (stp.aggregate) that training rows of a fit of {fitter} "
            f"hold were not checked against rows removed from models or erased from stores: "
            f"{problem}",
            LineageWarning,
            stacklevel=stacklevel + 1,
        )
        return
    if not members.size:
        return
    found, words, by, hit_by = [], {}, [], []
    for removed, here in removals:
        hit = members[removed.isin(members)]
        if hit.size:
            found.append(hit)
            hit_by.append(removed)
            words.update({int(i): removed.get(int(i), f"row id {int(i)}") for i in hit[:5]})
            by.append(f"in this process by {removed.what}" if here else f"by {removed.what}")
    if not found:
        return
    from ._lineage._depends_on import depends_on

    removed = np.unique(np.concatenate(found))
    _, via = depends_on(ids, source, removed_ids=removed)
    holding = np.unique(ids[via])
    if not holding.size:  # (each is a removed row itself or merged from one: said already)
        return
    rows = ", ".join(words.get(int(i), _name(int(i), source)) for i in removed[:5])
    train = ", ".join(_name_training(int(i), source) for i in holding[:5])
    more = " ..." if holding.size > 5 else ""
    verb = (
        "takes as training rows of the model it was given fitted" if given_fitted else "trains on"
    )
    said = (
        f"{verb} {holding.size} row(s) that hold group statistics (stp.aggregate, joined with "
        f"stp.merge) computed over {removed.size} row(s) {removed_how(hit_by)} "
        f"({'; '.join(dict.fromkeys(by))}): {rows}{' ...' if removed.size > 5 else ''}; "
        f"the training rows: {train}{more}. The model learns from values those rows "
        f"helped compute: {_ADVICE}"
    )
    warnings.warn(f"{prefix}{fitter} {said}", RefitOnRemovedWarning, stacklevel=stacklevel + 1)
