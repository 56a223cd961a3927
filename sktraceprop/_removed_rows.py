"""Rows removed in this process by an unlearner, so that a later fit on them is said.

A removal corrects one fitted model. A refit of another (a ``GridSearchCV`` refit, a
cloned unlearner, a plain traced ``fit``) on a frame that still holds the removed rows
learns them again: clone semantics carry no removal. Each removal records its rows here
(the training rows and the rows they were merged from, with their source and line), and
every traced fit and unlearner fit checks its training rows against them and warns with
:class:`~sktraceprop.exceptions.RefitOnRemovedWarning` (a
:class:`~sktraceprop.exceptions.LineageWarning`), naming the rows, their sources and
lines and the removal. A fit writing to a store also checks the removals that store
records, from any process (:mod:`._removed_in_store`). Rows an unlearner's ``forget=``
removes in the same fit are not warned of: the model it leaves does not hold them.

A warning, not an error: a deliberate refit on all rows (to compare with the unlearned
model, or after the removal was withdrawn) is legitimate, and the library cannot tell
the two apart; the warning is what makes the undeliberate one visible. Silence it for a
deliberate refit with
``warnings.simplefilter("ignore", sktraceprop.exceptions.RefitOnRemovedWarning)``, or
by its message, which always begins ``"this fit of "``
(``warnings.filterwarnings("ignore", "this fit of .* (removed from a model|erased from
the store)")``: rows an unlearner removed are "removed from a model", rows an erasure
request erased "erased from the store").
An erasure request (``store.erase_rows``) made in this process records its rows here too
(:mod:`sktraceprop.stores._erased_here`), so that a fit writing to no store is warned of
them. Rows of other processes' removals and erasures are seen only through a store the
fit writes to.

Through merges both ways: the fit's rows are checked with the rows their merged rows
were built from (at every level of the merges), so a merged row built from a removed
file line is said, naming that line and the merged row; a removal records the rows its
merged rows were built from, so a later fit on those is said too. And through group
statistics: a training row joined with an aggregate computed over a removed row is said
(:mod:`._removed_aggregates`).
"""

import threading
import warnings
from contextvars import ContextVar

import numpy as np

from ._lineage._ids import codes_of, distinct_codes, lines_of
from ._removed_aggregates import aggregate_members_of, warn_aggregated_removed
from ._removed_set import RemovedRows, removed_how
from .exceptions import LineageError, LineageWarning, RefitOnRemovedWarning

__all__ = [
    "MESSAGE_PREFIX",
    "clear",
    "deferring",
    "erasure_requests_here",
    "erasure_requests_made",
    "record_erased_sources",
    "record_erasure_request",
    "record_removed",
    "warn_refit_on_removed",
]

#: How every such warning's message begins (a stable prefix to filter on).
MESSAGE_PREFIX = "this fit of "

_LOCK = threading.Lock()
_REMOVED = []  # RemovedRows: one sorted int64 array per removal, no string per row
_SOURCES = []  # (codes, what, {code: source_id}): sources an erasure here erased whole
_REQUESTS = []  # (what, payload, key): erasure requests made here, as their events record them
_DEFER = ContextVar("sktraceprop_refit_check_deferred", default=False)


def clear():
    """Forget every recorded removal (with the source registry: row ids name sources by
    codes that a cleared registry gives out again)."""
    with _LOCK:
        _REMOVED.clear()
        _SOURCES.clear()
        _REQUESTS.clear()


def record_removed(removed):
    """Record the rows of one removal (a :class:`~._removed_set.RemovedRows`)."""
    if removed.ids.size:
        with _LOCK:
            _REMOVED.append(removed)


def record_erased_sources(codes, what, sources):
    """Record the sources (their codes here) an erasure request erased whole: every row
    of them is removed, whichever lines a fit holds (a file's lines are not 1..n)."""
    if codes:
        with _LOCK:
            _SOURCES.append((np.asarray(sorted(codes), np.int64), what, dict(sources)))


def record_erasure_request(what, payload, key):
    """Record an erasure request made here: ``what`` names it (its event's seq, store and
    time), ``payload`` is what its event records (``source_ids``, or ``rows`` by source
    identity and line), ``key`` its event's ``(store_id, seq, created_at)``, so that a
    lineage view given no store, or another store than the one it was made through, can
    say its rows were erased (:mod:`sktraceprop._lineage._erasures_seen`)."""
    with _LOCK:
        _REQUESTS.append((what, payload, key))


def erasure_requests_here():
    """``[(what, payload, key)]``: the erasure requests made in this process, oldest
    first."""
    with _LOCK:
        return list(_REQUESTS)


def erasure_requests_made():
    """How many erasure requests this process has made (what changes when one is)."""
    return len(_REQUESTS)


def _of_sources(whole, ids):
    """``[(RemovedRows, True)]``: the rows of ``ids`` of the sources in ``whole``."""
    codes = codes_of(ids)
    out = []
    for erased, what, names in whole:
        hit = ids[np.isin(codes, erased)]
        if hit.size:
            out.append((RemovedRows(hit, what, names), True))
    return out


def _deferred():
    """True inside :func:`deferring`: the enclosing unlearner's fit checks its rows."""
    return _DEFER.get()


class deferring:
    """Within it, a traced fit leaves the check to the unlearner fitting it, which knows
    the rows its ``forget=`` removes right after (and warns only of the others)."""

    def __enter__(self):
        self._token = _DEFER.set(True)

    def __exit__(self, *exc):
        _DEFER.reset(self._token)


class _Unknown:
    kind = "unknown"  # a code this process does not know: no rows behind it to follow


def _source_here(code):
    from ._lineage._source import REGISTRY

    return REGISTRY.by_code(code) if REGISTRY.has_code(code) else _Unknown


def _with_rows_behind(ids):
    """``(rows, at, problem)``: ``ids`` and then the rows their merged rows were built
    from, at every level of the merges (:func:`~._lineage._merged_parents.rows_behind`),
    with the position in ``ids`` of the training row each is or is behind; ``problem``
    says why the rows behind could not be followed (None when they were)."""
    from ._lineage._merged_parents import rows_behind
    from ._lineage._source import REGISTRY

    at = np.arange(ids.size)
    codes = distinct_codes(ids).tolist()
    if not any(REGISTRY.has_code(c) and REGISTRY.by_code(c).kind == "merge" for c in codes):
        return ids, at, None
    try:
        behind, pos = rows_behind(ids, _source_here)
    except LineageError as exc:
        return ids, at, str(exc)
    return np.concatenate([ids, behind]), np.concatenate([at, pos]), None


def _said_of(own, ids, rows, at, found_by):
    """How the warning names the training row ``own``: the removed row it is, or was
    built from, in the first removal of ``found_by`` (``[(indices into rows, removed)]``,
    ``removed`` a :class:`~._removed_set.RemovedRows`)
    that found one, its merged row named after it."""
    for found, words in found_by:
        mine = found[ids[at[found]] == own]
        if mine.size:
            k = int(mine[0])  # (the row itself before the rows behind it)
            said = words.get(int(rows[k]), f"row id {int(rows[k])}")
            return said if k < ids.size else f"{said} (merged into {_line_of(own)})"
    return f"row id {own}"


def _line_of(row_id):
    """``"<source_id> line n"`` of one row id of this process."""
    one = np.asarray([row_id], np.int64)
    source = _source_here(int(codes_of(one)[0]))
    return f"{getattr(source, 'source_id', 'an unknown source')} line {int(lines_of(one)[0])}"


def warn_refit_on_removed(
    row_ids, fitter, stacklevel=2, store=None, excluded=None, now=False, given_fitted=False
):
    """Warn if ``row_ids`` (a fit's training rows), less ``excluded`` (rows the fit
    removes again: an unlearner's ``forget=``), are or were merged from rows a removal
    recorded here, or that ``store`` (the store the fit writes to, if any) records as
    removed. ``now``: check even inside :func:`deferring` (the unlearner's own check).
    ``given_fitted``: the fit trains nothing (an explainer given a fitted model takes
    the rows as that model's training rows): said so, not "trains on"."""
    if _deferred() and not now:
        return
    with _LOCK:
        removals = [(r, True) for r in _REMOVED]
        whole = list(_SOURCES)
    ids = np.asarray(row_ids, dtype=np.int64)
    if excluded is not None and len(excluded):
        ids = ids[~np.isin(ids, np.asarray(excluded, dtype=np.int64))]
    events = []
    if store is not None:
        from ._removal_events import removal_events

        events = removal_events(store)
    if not removals and not events and not whole:
        return  # (nothing removed anywhere this fit can see: no merge parents to follow)
    # a merged training row holds the values of the rows it was merged from: a removal
    # of one of those (a file line) is as much in it as a removal of the row itself
    rows, at, problem = _with_rows_behind(ids)
    # and a row joined with a group statistic holds the values it was computed over
    # (its groups found among the rows just followed: the merges are walked once)
    members, unfollowed = aggregate_members_of(ids, None if problem else rows, _source_here)
    if whole:  # (rows of sources erased whole here: those of the fit and behind it)
        removals += _of_sources(whole, np.union1d(rows, members))
    if events:  # one pass over the store's removals for both (each run read once)
        from ._removed_in_store import removed_in_store

        found = removed_in_store(store, np.union1d(rows, members), stacklevel + 1, events)
        # an erasure request made in this process is recorded here too: said once, as
        # the store records it (both kept: each may find rows behind merges the other
        # cannot follow)
        stored = {removed.what for removed in found}
        removals = [(r, here and r.what not in stored) for r, here in removals]
        removals += [(r, False) for r in found]
    warn_aggregated_removed(
        ids, members, unfollowed, removals, fitter, given_fitted, _source_here,
        MESSAGE_PREFIX, stacklevel + 1,
    )  # fmt: skip
    if problem is not None:  # (said where a removal could be behind them: never silent)
        warnings.warn(
            f"the rows that the merged training rows of a fit of {fitter} were built "
            f"from were not checked against rows removed from models: {problem}",
            LineageWarning,
            stacklevel=stacklevel + 1,
        )
    if not removals:
        return
    n, direct, through, found_by, by = ids.size, [ids[:0]], [ids[:0]], [], []
    for removed, here in removals:
        found = np.flatnonzero(removed.isin(rows))
        if found.size:
            direct.append(ids[found[found < n]])
            through.append(ids[at[found[found >= n]]])  # rows behind merged rows
            found_by.append((found, removed))
            by.append(f"in this process by {removed.what}" if here else f"by {removed.what}")
    if not found_by:
        return
    direct, through = np.unique(np.concatenate(direct)), np.unique(np.concatenate(through))
    hit = np.union1d(direct, through)
    shown = [_said_of(int(i), ids, rows, at, found_by) for i in hit[:5]]
    via = np.setdiff1d(through, direct).size > 0
    rows = (
        f"{hit.size} row(s) {removed_how(removed for _, removed in found_by)}"
        f"{' or merged from such rows' if via else ''} "
        f"({'; '.join(dict.fromkeys(by))}): {', '.join(shown)}{' ...' if hit.size > 5 else ''}"
    )
    if given_fitted:
        said = (
            f"{MESSAGE_PREFIX}{fitter} takes as training rows of the model it was given "
            f"fitted (not refitted here), and credits, {rows}. That model holds them "
            "(it was fitted on them, or before their removal): explain a model without "
            "them (the unlearner that removed them, on the rows it retains, or a model "
            "fitted without them), unless this is deliberate"
        )
    else:
        said = (
            f"{MESSAGE_PREFIX}{fitter} trains on {rows}. A refit learns them again (clone "
            "and GridSearchCV carry no removal): drop them from the data (or pass them to "
            "an unlearner's forget=), unless this refit is deliberate"
        )
    warnings.warn(said, RefitOnRemovedWarning, stacklevel=stacklevel + 1)
