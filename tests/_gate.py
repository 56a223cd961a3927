"""A transformer that holds a thread at a known point: the set-up of the tests of a call
and a refit of one model in two threads (tests/test_model_lock.py,
tests/influence/test_explain_while_model_refitted.py)."""

import threading

from sklearn.base import BaseEstimator, TransformerMixin

ENTERED = threading.Event()
RELEASE = threading.Event()
#: How long a test waits for a thread (a first call may compile or load kernels for
#: minutes on a loaded 2-core machine; a wait that succeeds returns at once).
WAIT_S = 300
#: The names of the threads a Gate holds.
GATED = ("predictor", "explainer")


class Gate(TransformerMixin, BaseEstimator):
    """Passes rows through; in a thread named in :data:`GATED` it sets ``ENTERED`` and
    waits to be released (``RELEASE``)."""

    def fit(self, X, y=None):
        self.n_seen_ = len(X)
        return self

    def transform(self, X):
        if threading.current_thread().name in GATED:
            ENTERED.set()
            RELEASE.wait(WAIT_S)
        return X


def signal_waits(estimator, event):
    """Have ``event`` set whenever a thread starts to wait for ``estimator``'s lock
    (:mod:`sktraceprop._model_lock`): a test knows a thread is held there without a sleep."""
    from sktraceprop._model_lock import _lock_of

    class Signalled(threading.Condition):
        def wait(self, timeout=None):
            event.set()
            return super().wait(timeout)

    _lock_of(estimator)._cond = Signalled(threading.Lock())
