"""One model, one record: a logged call and a fit of the same estimator never interleave.

A logged ``predict`` reads the estimator's run (``lineage_``) after the model has
answered. scikit-learn refits a pipeline's steps in place, so a fit in another thread
that ended between the answer and the log would have the call logged under the new
run, and a call whose steps were refitted halfway would be logged as one model: a
record of the wrong model, written without an error. Here each traced estimator gets a
readers-writer lock (held in a weak registry, never on the estimator: nothing to pickle,
clone or fingerprint): logged calls share it, a traced fit and an unlearner's in-place
correction hold it alone, so a call is answered and logged by one model, whose run is
the one recorded. Logged calls still run side by side; a fit waits for those under
way, and calls wait for the fit (writers first: a stream of calls cannot starve it).

The writer may take the lock again, and take it shared (a fit that predicts with its own
model); a thread that holds it shared and asks for it alone would wait for itself, and
is refused with an error instead.

``set_params`` of an unlearner (:class:`ParamsLockMixin`) holds its lock alone too:
its fit stores the model's run in its store and then appends the removal of
``forget=`` to its store, read again, so ``set_params(store=B)`` in another thread
between the two left the run in the old store and failed the fit once its model was
fitted. It now waits for the fit under way, and the fit for it. (A traced model reads
its store once per fit or logged call, under its lock.)

A reader that need not hold the model for all it does (a compliance report, whose
verification of the store's chain is long) reads what it needs of the model under the
shared lock with its :func:`generation` (how many times the lock was held alone), lets
it go, and reads the generation again under the lock once done: the same number says
no fit or in-place change came in between, so what it read of the model and of the
store belong together.
"""

import contextlib
import threading
import weakref
from collections import Counter

__all__ = ["ParamsLockMixin", "exclusive", "generation", "shared"]


class _ReadersWriter:
    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._readers = Counter()  # thread ident -> shared holds
        self._writer = None
        self._depth = 0
        self._waiting = 0
        self.generation = 0  # how many times the lock was taken alone (not again)

    @contextlib.contextmanager
    def shared(self):
        me = threading.get_ident()
        with self._cond:
            if self._writer != me and not self._readers[me]:
                while self._writer is not None or self._waiting:
                    self._cond.wait()
            self._readers[me] += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers[me] -= 1
                if not self._readers[me]:
                    del self._readers[me]
                    self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self, what):
        me = threading.get_ident()
        with self._cond:
            if self._writer == me:
                self._depth += 1
            else:
                if self._readers[me]:
                    raise RuntimeError(
                        f"{what} was asked for inside a logged call of the same estimator, "
                        "in the same thread: it would wait for that call to end"
                    )
                self._waiting += 1
                try:
                    while self._writer is not None or sum(self._readers.values()):
                        self._cond.wait()
                finally:
                    self._waiting -= 1
                self._writer, self._depth = me, 1
                self.generation += 1
        try:
            yield
        finally:
            with self._cond:
                self._depth -= 1
                if not self._depth:
                    self._writer = None
                    self._cond.notify_all()


_LOCKS = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _lock_of(estimator):
    with _GUARD:
        lock = _LOCKS.get(estimator)
        if lock is None:
            lock = _LOCKS[estimator] = _ReadersWriter()
        return lock


def shared(estimator):
    """Context manager: a logged call of ``estimator`` (calls run side by side)."""
    return _lock_of(estimator).shared()


def exclusive(estimator, what="a fit"):
    """Context manager: a fit or in-place change of ``estimator`` (alone)."""
    return _lock_of(estimator).exclusive(what)


def generation(estimator):
    """How many times ``estimator``'s lock was taken alone (by a fit, an in-place change
    or ``set_params``); read it holding the lock shared, where it cannot change."""
    return _lock_of(estimator).generation


class ParamsLockMixin:
    """``set_params`` waits for the fits and logged calls of this estimator under way,
    and they wait for it: one fit or call sees one set of parameters (its store among
    them)."""

    def set_params(self, **params):
        with exclusive(self, "set_params"):
            return super().set_params(**params)
