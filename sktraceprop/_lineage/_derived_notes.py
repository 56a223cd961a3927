"""What the checks of a merge's or aggregate's inputs found or could not tell, kept for
the fits of its rows.

A fit says in its run's notes what the checks of its data found (rows holding none of
their record's values, rows or values moved, values computed over rows: each warned
too, :func:`._replaced_rows.warn_replaced`) and what they could not decide: rows that
may have been moved (:func:`._moved_rows.moved_rows_undecided_note`), a column that may
have been computed over rows (:func:`._over_rows_text.over_rows_undecided_note`) or could
not be checked for that (:func:`._over_rows_unchecked.over_rows_unchecked_note`).
:func:`sktraceprop.merge` and :func:`sktraceprop.aggregate` check their inputs the same
way, before anything is made, but have no run: their verdicts were warned at the call
(the undecided ones dropped), and a fit of the rows made, compared with what the merge
made, noted nothing (a reader of its notes, or of its compliance report, took every
input as checked and its lines as right). Each verdict is now warned of where found
(:func:`warn_undecided` for the undecided ones: there is no run to note them in; so
:func:`sktraceprop.row_lineage` says them) and kept with the source made (:func:`keep`),
so that each fit whose rows come from it, or from a merge of it, notes them
(:func:`notes_of`), and so does the model section of its compliance report.
"""

import threading
import warnings

from ..exceptions import LineageError, LineageWarning
from ..utils._stack import user_stacklevel
from ._witness import WITNESSES

_LOCK = threading.Lock()
#: (source code, SHA-256) -> the notes of the checks of its inputs, in the order found.
_KEPT = {}


def undecided_notes(changed, name):
    """The notes a fit would write of :func:`._changes.changes`' verdicts on ``changed``
    that say what could not be told (none of them a warning), ``name`` naming the data."""
    from ._misplaced import misplaced_undecided_note  # (they build on the witnesses)
    from ._moved_rows import moved_rows_undecided_note
    from ._over_rows_text import over_rows_undecided_note
    from ._over_rows_unchecked import over_rows_unchecked_note

    out = []
    if getattr(changed, "moved_rows_undecided", None):
        out.append(moved_rows_undecided_note(changed.moved_rows_undecided, name))
    if getattr(changed, "misplaced_undecided", None):
        out.append(misplaced_undecided_note(changed.misplaced_undecided, name))
    if getattr(changed, "over_rows_undecided", None):
        out.append(over_rows_undecided_note(changed.over_rows_undecided, name))
    if getattr(changed, "over_rows_unchecked", None):
        out.append(over_rows_unchecked_note(changed.over_rows_unchecked, name))
    return out


def warn_undecided(changed, name, where):
    """Warn of :func:`undecided_notes` of ``changed`` (the data ``name`` given to
    ``where``, a function with no run to note them in); return them."""
    notes = undecided_notes(changed, name)
    for note in notes:
        warnings.warn(f"{where}: {note}", LineageWarning, stacklevel=user_stacklevel())
    return notes


def keep(source, kind, notes):
    """Keep ``notes`` (each naming the input it is of: warned verdicts and undecided
    ones) with ``source``, the merge or aggregate (``kind``) made from those inputs."""
    if not notes:
        return
    said = [f"before sktraceprop.{kind} made source {source.source_id!r}: {n}" for n in notes]
    with _LOCK:
        kept = _KEPT.setdefault((int(source.code), source.sha256), [])
        kept.extend(n for n in said if n not in kept)  # (the same merge made again)


def notes_of(sources):
    """The notes kept (:func:`keep`) with ``sources`` (code -> Source) and every source
    they were merged or aggregated from, each once."""
    from ._source import REGISTRY

    out, seen, todo = [], set(), [int(c) for c in sources]
    while todo:
        code = todo.pop()
        if code in seen:
            continue
        seen.add(code)
        try:
            source = sources.get(code) or REGISTRY.by_code(code)
        except LineageError:  # (a code the registry no longer holds)
            continue
        with _LOCK:
            kept = list(_KEPT.get((code, source.sha256), ()))
        out.extend(n for n in kept if n not in out)
        todo.extend(int(p) for p in getattr(source, "parent_codes", ()) or ())
    return out


class _Clear:
    """Drops the notes kept when the witnesses are cleared (a cleared registry reuses
    codes); forgetting rows (an erasure) leaves them: they name lines, not values."""

    def forget(self, ids):
        pass

    def clear(self):
        with _LOCK:
            _KEPT.clear()


WITNESSES.follow(_Clear())
