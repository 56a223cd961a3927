"""A store that cannot be read: whether rows were erased is not known, and said.

An object pickled before an erasure (a model, an explainer, an explanation) checks its
training rows against the erasure requests its store records (:mod:`._erased_held`).
Where that store cannot be read now (its SQLite file moved or deleted, or another store
made at its path; the pickle opened on another machine; its server down), finding no
request there would claim that none was made: an
:class:`~sktraceprop.exceptions.ErasuresUnknownWarning` says it is not known instead,
the rows an erasure request made in this process named are still known (marked True),
the others ``<NA>``, and a row's values are withheld.
"""

import threading
import warnings
from contextlib import contextmanager

import numpy as np

from .exceptions import (
    ErasuresUnknownWarning,
    StoreConnectionError,
    StoreError,
    StoreNotFoundError,
    UnknownSourceError,
)
from .utils._stack import user_stacklevel

__all__ = ["UNREACHABLE", "marks_here", "said_once", "unreachable", "warn_unreachable"]

#: What a store that cannot be read now raises (with :func:`unreachable`, which tells
#: which of them it is): its file moved or deleted, another store made at its path (or
#: its schema dropped and made again), opened on another machine, its server down.
#: Read through an object pickled before an erasure, finding no request there would
#: claim none was made.
UNREACHABLE = (StoreError,)


def unreachable(error):
    """Whether ``error`` (a :class:`~sktraceprop.exceptions.StoreError`) says the store
    cannot be read now, rather than that it is corrupt, busy or not to be written."""
    return isinstance(error, StoreNotFoundError | StoreConnectionError) or getattr(
        error, "store_replaced", False
    )


#: The stores said unreadable in the call under way (:func:`said_once`), per thread.
_SAID = threading.local()


@contextmanager
def said_once():
    """Within it, :func:`warn_unreachable` says each store once: a call that checks its
    rows twice (an explanation's ``top()``: the rows shown, then the rows scored)
    warns once."""
    outer = getattr(_SAID, "stores", None)
    if outer is None:
        _SAID.stores = set()
    try:
        yield
    finally:
        if outer is None:
            _SAID.stores = None


def warn_unreachable(estimator, store, error, what):
    """Warn that ``estimator``'s store (``store``, which raised ``error``) cannot be
    read, so whether ``what`` (its training rows, in words) were erased at request since
    is not known: only the requests made in this process were checked (``estimator``:
    the object, or its class's name). Raises ``error`` where it says something else of
    the store (corrupt, busy)."""
    if not unreachable(error):
        raise error
    said = getattr(_SAID, "stores", None)
    if said is not None:
        if id(store) in said:
            return
        said.add(id(store))
    name = estimator if isinstance(estimator, str) else type(estimator).__name__
    warnings.warn(
        f"this {name}'s store, {_store_label(store)}, cannot be read "
        f"({type(error).__name__}: {error}): whether {what} were erased at request since "
        "is not known here (only the erasure requests made in this process were checked). "
        "Open the store where it is now and set it as the model's store "
        "(set_params(store=...)), or discard this object.",
        ErasuresUnknownWarning,
        stacklevel=user_stacklevel(),
    )


def marks_here(run, row_ids, store):
    """:func:`._erased_held.erased_marks` of ``row_ids`` (rows of ``run``) against the
    erasure requests made in this process only: ``store`` cannot be read."""
    from ._lineage._erasures_seen import erased_in_run

    note = (
        f"erasures not checked: the explained model's store, {_store_label(store)}, "
        "cannot be read (moved, deleted, or on another machine), so whether these rows "
        "were erased is not known here"
    )
    try:
        hit, seqs = erased_in_run(None, run, np.asarray(row_ids, dtype=np.int64))
    except UnknownSourceError:
        hit = None
    if hit is None:
        return None, [], None, note
    return hit, seqs, None, None


def _store_label(store):
    """``store`` in the words its requests are named by."""
    from .stores._erased_here import store_label  # (the stores import this module)

    return store_label(store)
