"""Transformers that hold a thread at a known point: the set-up of the tests of a call
and a refit of one model in two threads (tests/test_model_lock.py,
tests/influence/test_explain_while_model_refitted.py), and of a refit held under way
(tests/test_search_runs_under_way.py, tests/compliance/test_report_refitted_in_place.py),
and of a removal held between two updates of an object (tests/utils/test_removal_under_way.py)."""

import copy
import pickle
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


#: The name of the thread a :class:`HeldFit` holds in its fit.
REFITTER = "refitter"
FIT_ENTERED = threading.Event()
FIT_RELEASE = threading.Event()


class HeldFit(TransformerMixin, BaseEstimator):
    """Passes rows through; its fit in the thread named :data:`REFITTER` sets
    ``FIT_ENTERED`` and waits to be released (``FIT_RELEASE``): a refit held under way."""

    def fit(self, X, y=None):
        if threading.current_thread().name == REFITTER:
            FIT_ENTERED.set()
            assert FIT_RELEASE.wait(WAIT_S)
        self.n_seen_ = len(X)
        return self

    def transform(self, X):
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


def start_until_stopped(target, locked, name):
    """Run ``target()`` in a thread named ``name`` until it returned or waits for the lock
    of one of ``locked`` (each signalled with :func:`signal_waits`, set up here: no
    thread may be waiting for them yet), with no sleep: ``(thread, waited, out)``,
    ``waited`` true where it waits, ``out`` what it returned (``"value"``) or raised
    (``"error"``) once joined."""
    stopped, done, out = threading.Event(), threading.Event(), {}
    for obj in locked:
        signal_waits(obj, stopped)

    def run():
        try:
            out["value"] = target()
        except Exception as e:
            out["error"] = e
        finally:
            done.set()  # (before ``stopped``: a thread that returned never reads as waiting)
            stopped.set()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    assert stopped.wait(WAIT_S), f"{name} neither returned nor waited for a lock"
    return thread, not done.is_set(), out


def fit_while_other_code_fits(monkeypatch, pipe, X, y, other_fit):
    """Fit ``pipe`` on ``X, y`` in a thread held after its steps' fits and before its run
    is built (an event, no sleep), run ``other_fit()`` (other code fitting a step object
    the pipeline shares) meanwhile, and return the error the pipeline's fit raised, or
    None where it returned. ``pipe``: a traced pipeline, or a ``TracedEstimator``."""
    from sktraceprop import pipeline as traced_pipeline
    from sktraceprop import wrappers

    if isinstance(pipe, wrappers.TracedEstimator):
        traced_pipeline = wrappers

    held, go = threading.Event(), threading.Event()
    rows = traced_pipeline.final_row_ids

    def held_before_the_run(*args, **kwargs):  # (the steps fitted, nothing recorded yet)
        if threading.current_thread().name == "pipeline":
            held.set()
            assert go.wait(WAIT_S)
        return rows(*args, **kwargs)

    monkeypatch.setattr(traced_pipeline, "final_row_ids", held_before_the_run)
    out = {}

    def fit():
        try:
            pipe.fit(X, y)
        except Exception as e:  # (read by the caller once joined)
            out["error"] = e

    fitting = threading.Thread(target=fit, name="pipeline")
    fitting.start()
    try:
        assert held.wait(WAIT_S)
        other_fit()  # the other code's fit, to its end
    finally:
        go.set()
        fitting.join(WAIT_S)
    assert not fitting.is_alive()
    return out.get("error")


#: The name of the thread :func:`copy_while_removal_held` holds in its removal.
REMOVER = "remover"


class HeldDrop:
    """A value whose release (``del`` of the last reference) in the thread named
    :data:`REMOVER` sets ``held`` and waits for ``go``: put in an object's ``__dict__``,
    it holds a removal that deletes the attributes one by one at that attribute."""

    def __init__(self, held, go):
        self.held, self.go = held, go

    def __del__(self):
        if threading.current_thread().name == REMOVER:
            self.held.set()
            self.go.wait(WAIT_S)


def copy_while_removal_held(remove, hold, copy):
    """Run ``remove()`` (a removal of rows an object holds) in a thread named
    :data:`REMOVER`, held between two of its updates of the object by ``hold(held, go)``
    (which arranges for the thread to set ``held`` there and wait for ``go``: an event,
    no sleep), run ``copy()`` meanwhile and return what it returned, once the removal
    returned (its error, if any, raised here)."""
    held, go, out = threading.Event(), threading.Event(), {}
    hold(held, go)

    def run():
        try:
            remove()
        except Exception as e:  # (raised by the caller once joined)
            out["error"] = e

    removing = threading.Thread(target=run, name=REMOVER)
    removing.start()
    try:
        assert held.wait(WAIT_S), "the removal was not held"
        copied = copy()
    finally:
        go.set()
        removing.join(WAIT_S)
    assert not removing.is_alive()
    if "error" in out:
        raise out["error"]
    return copied


#: The two ways a copy is taken while a removal is held.
COPIES = {"pickle": lambda obj: pickle.loads(pickle.dumps(obj)), "deepcopy": copy.deepcopy}


def estimator_copied_during_removal(unl, sample_id, hold, how):
    """A copy (``COPIES[how]``) of ``unl.estimator_`` taken while ``unl.unlearn`` of
    ``sample_id`` is held by ``hold`` (see :func:`copy_while_removal_held`); the
    removal's caveat warnings, not what such tests check, silenced."""
    import warnings

    def remove():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unl.unlearn(sample_id=sample_id)

    return copy_while_removal_held(remove, hold, lambda: COPIES[how](unl.estimator_))


def shifted_data(seed, name, n=60):
    """A traced two-column array (``name``, ``_``, ``seed``) shifted by ``3 * seed`` and
    labels split at that shift, so fits on two seeds give different models; with
    :func:`plain`, the tests of a step fitted elsewhere."""
    import numpy as np

    import sktraceprop as stp

    rng = np.random.default_rng(seed)
    X = rng.normal(loc=3.0 * seed, size=(n, 2))
    return stp.from_numpy(X, f"{name}_{seed}"), X[:, 0] > 3.0 * seed


def plain(X, y):
    """``X`` and ``y`` as plain numpy arrays (no lineage)."""
    import numpy as np

    return np.asarray(X, dtype=float), np.asarray(y)


def removal_data(source_id, n=30, seed=0):
    """A small traced classification set (both classes in its first two rows, no two
    rows alike) for the tests that hold a removal."""
    import numpy as np

    import sktraceprop as stp

    rng = np.random.default_rng(seed)
    X = rng.random((n, 3)) - 0.5 + np.arange(n)[:, None] * 1e-9
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)
    y[:2] = [0, 1]
    return stp.from_numpy(X, source_id=f"{source_id}{seed}"), y
