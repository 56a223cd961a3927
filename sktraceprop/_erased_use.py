"""A traced model answering calls after an erasure of its training rows says so, once.

A model fitted, or pickled, before an erasure request (:meth:`~sktraceprop.stores.
SQLiteStore.erase_rows`) of some of its training rows still holds what it learnt from
them: an erasure changes no fitted object, and only a removal (an unlearner's
``unlearn``, whose corrected model's run no longer lists them) or a refit on the rows
kept takes them out. Its logged calls said so; a call not logged (``log_predictions``
False) answered with no word. Every call (``predict``, ``predict_proba``,
``predict_log_proba``, ``decision_function``) now checks, the first time, its run's rows
against the erasure requests its store records and those made in this process, and an
:class:`~sktraceprop.exceptions.ErasedRowsHeldWarning` names them
(:func:`~._erased_held.warn_erased_held`); where the store cannot be read (moved,
deleted, on another machine, corrupt or busy), an
:class:`~sktraceprop.exceptions.ErasuresUnknownWarning` says it is not known, and a
call is still answered. A copy of a MemoryStore (pickled with the model) is checked for
the requests it records; that it cannot know those recorded in its store since is said
by ``trace()``'s ``erased`` column, not at the calls of every model pickled with one (a
model with no store says nothing of the requests of other processes either).

Once per object (a load, a copy) and store: the store is read at an object's first call
only, and every later call costs one lookup here. An erasure request made in this
process since the check has the next call check again; one made in another process
since is seen by the next load, ``trace()`` or a compliance report.
"""

import threading
import warnings
import weakref

from ._erased_held import warn_erased_held, warn_held_here
from ._erasures_unreachable import UNREACHABLE, unreachable, warn_unreachable
from ._removed_rows import erasure_requests_made
from .exceptions import ErasuresUnknownWarning
from .utils._stack import user_stacklevel

__all__ = ["warn_erased_use"]

_LOCK = threading.Lock()
#: estimator -> (store, erasure requests made here) when it was last checked
_CHECKED = weakref.WeakKeyDictionary()


def _first_check(estimator, store):
    """Whether ``estimator`` is to be checked against ``store`` now: not yet checked
    against it, or an erasure request was made in this process since."""
    key = (store, erasure_requests_made())
    with _LOCK:
        try:
            seen = _CHECKED.get(estimator)
        except TypeError:  # (an object no weak reference can name: checked every time)
            return True
        if seen is not None and seen[0] is key[0] and seen[1] == key[1]:
            return False
        _CHECKED[estimator] = key
        return True


def warn_erased_use(estimator, store):
    """Warn, once per ``estimator`` and ``store`` (the store it uses now, or None), where
    its ``lineage_`` holds training rows that ``store`` records an erasure request of,
    or that one made in this process named; where ``store`` cannot be read, that it is
    not known. Called at each answered call: after the first, one lookup."""
    if not _first_check(estimator, store):
        return
    run = getattr(estimator, "lineage_", None)
    if run is None or not hasattr(run, "row_ids"):
        return
    if store is None:
        warn_held_here(estimator, run)
        return
    try:
        # (a copy of a MemoryStore says what it records; what it cannot know, trace()
        # says in its column: not at every call of every model pickled with one)
        warn_erased_held(estimator, store, snapshot_said=True)
    except UNREACHABLE as error:
        if unreachable(error):
            warn_unreachable(estimator, store, error, "its training rows")
        else:  # (corrupt, busy: the call is answered all the same)
            warnings.warn(
                f"this {type(estimator).__name__}'s store could not be read to check "
                f"its training rows for erasure requests ({type(error).__name__}: "
                f"{error}): whether any were erased at request since it was fitted is "
                "not known here.",
                ErasuresUnknownWarning,
                stacklevel=user_stacklevel(),
            )
        # the requests made here are known whatever the store says
        warn_held_here(estimator, run)
