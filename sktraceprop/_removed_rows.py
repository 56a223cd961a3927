"""Rows removed in this process by an unlearner, so that a later fit on them is said.

A removal corrects one fitted model. A refit of another (a ``GridSearchCV`` refit, a
cloned unlearner, a plain traced ``fit``) on a frame that still holds the removed rows
learns them again: clone semantics carry no removal. Each removal records its rows here
(the training rows and the rows they were merged from, with their source and line), and
every traced fit and unlearner fit checks its training rows against them and warns with
:class:`~sktraceprop.exceptions.LineageWarning`, naming the rows, their sources and lines
and the removal.

A warning, not an error: a deliberate refit on all rows (to compare with the unlearned
model, or after the removal was withdrawn) is legitimate, and the library cannot tell
the two apart; the warning is what makes the undeliberate one visible. Silence it for a
deliberate refit with
``warnings.filterwarnings("ignore", "this fit of .* removed from a model")``. Rows of
other processes' removals are not seen; a store's unlearning events list them
(``sktraceprop runs``).
"""

import threading
import warnings

import numpy as np

from .exceptions import LineageWarning

__all__ = ["clear", "record_removed", "warn_refit_on_removed"]

_LOCK = threading.Lock()
_REMOVED = []  # (sorted row ids, {row id: "source line n"}, what removed them)


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


def warn_refit_on_removed(row_ids, fitter, stacklevel=2):
    """Warn if ``row_ids`` (a fit's training rows) hold rows a removal recorded here."""
    with _LOCK:
        removals = list(_REMOVED)
    if not removals:
        return
    ids = np.asarray(row_ids, dtype=np.int64)
    hit, named, by = np.zeros(0, np.int64), {}, []
    for removed, words, what in removals:
        these = np.unique(ids[np.isin(ids, removed)])
        if these.size:
            hit = np.union1d(hit, these)
            named.update({int(i): words.get(int(i), f"row id {int(i)}") for i in these})
            by.append(what)
    if not hit.size:
        return
    shown = [named[int(i)] for i in hit[:5]]
    warnings.warn(
        f"this fit of {fitter} trains on {hit.size} row(s) removed from a model in this "
        f"process ({'; '.join(dict.fromkeys(by))}): {', '.join(shown)}"
        f"{' ...' if hit.size > 5 else ''}. A refit learns them again (clone and "
        "GridSearchCV carry no removal): drop them from the data (or pass them to an "
        "unlearner's forget=), unless this refit is deliberate",
        LineageWarning,
        stacklevel=stacklevel + 1,
    )
