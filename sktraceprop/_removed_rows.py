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
(``warnings.filterwarnings("ignore", "this fit of .* removed from a model")``).
Rows of other processes' removals are seen only through a store the fit writes to.
"""

import threading
import warnings
from contextvars import ContextVar

import numpy as np

from .exceptions import RefitOnRemovedWarning

__all__ = ["MESSAGE_PREFIX", "clear", "deferring", "record_removed", "warn_refit_on_removed"]

#: How every such warning's message begins (a stable prefix to filter on).
MESSAGE_PREFIX = "this fit of "

_LOCK = threading.Lock()
_REMOVED = []  # (sorted row ids, {row id: "source line n"}, what removed them)
_DEFER = ContextVar("sktraceprop_refit_check_deferred", default=False)


def clear():
    """Forget every recorded removal (with the source registry: row ids name sources by
    codes that a cleared registry gives out again)."""
    with _LOCK:
        _REMOVED.clear()


def record_removed(row_ids, words, what):
    """Record the rows of one removal: ``words`` maps a row id to its source and line."""
    ids = np.unique(np.asarray(row_ids, dtype=np.int64))
    if ids.size:
        with _LOCK:
            _REMOVED.append((ids, dict(words), what))


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


def warn_refit_on_removed(row_ids, fitter, stacklevel=2, store=None, excluded=None, now=False):
    """Warn if ``row_ids`` (a fit's training rows), less ``excluded`` (rows the fit
    removes again: an unlearner's ``forget=``), hold rows a removal recorded here, or
    that ``store`` (the store the fit writes to, if any) records as removed. ``now``:
    check even inside :func:`deferring` (the unlearner's own check)."""
    if _deferred() and not now:
        return
    with _LOCK:
        removals = [(*r, True) for r in _REMOVED]
    ids = np.asarray(row_ids, dtype=np.int64)
    if excluded is not None and len(excluded):
        ids = ids[~np.isin(ids, np.asarray(excluded, dtype=np.int64))]
    if store is not None:
        from ._removed_in_store import removed_in_store

        removals += [(*r, False) for r in removed_in_store(store, ids, stacklevel + 1)]
    if not removals:
        return
    hit, named, by = np.zeros(0, np.int64), {}, []
    for removed, words, what, here in removals:
        these = np.unique(ids[np.isin(ids, removed)])
        if these.size:
            hit = np.union1d(hit, these)
            named.update({int(i): words.get(int(i), f"row id {int(i)}") for i in these})
            by.append(f"in this process by {what}" if here else f"by {what}")
    if not hit.size:
        return
    shown = [named[int(i)] for i in hit[:5]]
    warnings.warn(
        f"{MESSAGE_PREFIX}{fitter} trains on {hit.size} row(s) removed from a model "
        f"({'; '.join(dict.fromkeys(by))}): {', '.join(shown)}"
        f"{' ...' if hit.size > 5 else ''}. A refit learns them again (clone and "
        "GridSearchCV carry no removal): drop them from the data (or pass them to an "
        "unlearner's forget=), unless this refit is deliberate",
        RefitOnRemovedWarning,
        stacklevel=stacklevel + 1,
    )
