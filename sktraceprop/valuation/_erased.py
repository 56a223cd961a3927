"""A valuer that holds rows erased at request since its fit says so at each read.

A :class:`~sktraceprop.KNNShapleyValuer` of this process drops the rows an erasure
request names (:mod:`sktraceprop._holders`); one pickled before the request and loaded
after, or fitted on the rows elsewhere, cannot: it keeps their features and labels,
``values_`` and the tables were computed from them, and ``value()`` and ``score()``
compute from them again. Each public accessor of what it holds of its fit
(:data:`OF_FIT`, ``value``, ``score``, ``by_source``, ``by_op``) checks its rows
against the erasure requests made in this process and those recorded in the store of its
transformer (a traced one's ``store``: a valuer has none of its own), and warns
(:class:`~sktraceprop.exceptions.ErasedRowsHeldWarning`, naming the requests) as an
explanation's accessors do; where that store cannot be read, an
:class:`~sktraceprop.exceptions.ErasuresUnknownWarning` says it is not known.

A valuer given no traced transformer has no store to read: a request made in another
process, or before a restart, is not seen here (as a lineage view given no store, it
says nothing of the rows it cannot check).
"""

import sys
import threading
import warnings
from contextlib import contextmanager

import numpy as np

from .._erasures_unreachable import UNREACHABLE, warn_unreachable
from .._lineage._erasures_seen import erased_in_registry
from .._lineage._source import REGISTRY
from ..exceptions import ErasedRowsHeldWarning, UnknownSourceError
from ..utils._prefit import unfrozen
from ..utils._stack import _PACKAGE, user_stacklevel

__all__ = ["OF_FIT", "OfFit", "erased_valued", "said_by_call", "warn_erased_valued"]

#: The fitted attributes that hold the training rows or were computed from them (the
#: others, ``n_features_in_``, ``feature_names_in_``, ``task_``, ``n_samples_fit_`` and
#: ``removed_row_ids_``, describe the input or a removal).
OF_FIT = (
    "values_",
    "row_ids_",
    "classes_",
    "ops_",
    "transformer_",
    "n_ties_ranked_by_index_",
    "n_score_ties_ranked_by_index_",
)


#: How many valuer calls that say it themselves this thread is in (:func:`said_by_call`).
_CALL = threading.local()


@contextmanager
def said_by_call():
    """Within it (a valuer's ``value``, ``score``, ``by_source``, ``by_op``, which say it
    once), reads of :data:`OF_FIT` check nothing: scikit-learn's ``check_is_fitted``
    reads them from outside sktraceprop on the call's behalf."""
    depth = getattr(_CALL, "depth", 0)
    _CALL.depth = depth + 1
    try:
        yield
    finally:
        _CALL.depth = depth


def _internal(frame):
    """Whether ``frame`` is sktraceprop's own (it reads what it holds unsaid)."""
    return frame.f_code.co_filename.startswith(_PACKAGE)


class OfFit:
    """A fitted attribute of :data:`OF_FIT`, kept in the instance's ``__dict__`` under
    its own name (pickles unchanged): read from outside sktraceprop, its valuer's rows
    are checked for erasures first (:func:`warn_erased_valued`); sktraceprop's own
    reads (the valuer's methods, which say it once per call) are not."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        try:
            value = obj.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None
        if not getattr(_CALL, "depth", 0) and not _internal(sys._getframe(1)):
            warn_erased_valued(obj, f"{type(obj).__name__}.{self.name}")
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value

    def __delete__(self, obj):
        try:
            del obj.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None


def _store(valuer):
    """The store of ``valuer``'s transformer (a traced one's), or None."""
    from ..stores._base import BaseStore  # (the stores import the valuation's users)

    store = getattr(unfrozen(valuer.__dict__.get("transformer_")), "store", None)
    return store if isinstance(store, BaseStore) else None


def _marks(valuer, ids):
    """``(hit, named)`` of ``ids`` (``valuer``'s rows) against the erasure requests of
    its transformer's store and those made here; ``hit`` None where none can say."""
    store = _store(valuer)
    try:
        return erased_in_registry(store, ids, REGISTRY)
    except UNREACHABLE as error:
        # (raised where the store is corrupt or busy rather than gone)
        name = f"{type(valuer).__name__}'s transformer"
        warn_unreachable(name, store, error, f"the {ids.size} training row(s) valued")
    except UnknownSourceError:
        pass  # (a source this process does not know: the requests made here, below)
    try:
        return erased_in_registry(None, ids, REGISTRY)
    except UnknownSourceError:
        return None, []


def erased_valued(valuer):
    """``(hit, named)``: which training rows ``valuer`` holds (``row_ids_``) are, or were
    built from, rows erased at request (recorded in its transformer's store, or made in
    this process), and each request in words; ``hit`` None where none can say."""
    ids = valuer.__dict__.get("row_ids_")
    if ids is None or not np.size(ids):
        return None, []
    hit, named = _marks(valuer, np.asarray(ids, dtype=np.int64))
    return hit, [f"store.erasure event seq {s}" if not isinstance(s, str) else s for s in named]


def warn_erased_valued(valuer, what):
    """Warn where training rows ``valuer`` holds are, or were built from, rows erased at
    request (:func:`erased_valued`): what ``what`` hands out was computed from their
    data."""
    hit, named = erased_valued(valuer)
    if hit is None or not hit.any():
        return
    warnings.warn(
        f"{what}: {int(hit.sum())} of the {hit.size} training row(s) valued are, or were "
        f"built from, rows erased at request ({'; '.join(named)}): this "
        f"{type(valuer).__name__} still holds their features and labels (fitted, or "
        "pickled, before the erasure, which could not reach it), and its values and "
        "scores are computed from them. Fit it again on the rows kept, or discard it.",
        ErasedRowsHeldWarning,
        stacklevel=user_stacklevel(),
    )
