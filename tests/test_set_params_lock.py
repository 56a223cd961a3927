"""``set_params`` of an unlearner in one thread while another fits it: the fit is of
one set of parameters, its store among them.

The unlearner's fit stores its model's run in its store, then appends the removal of
``forget=`` to its store, read again. Before, ``set_params(store=new)`` in between (a
service pointing its model at a new audit store while a refit runs) left the run in the
old store and failed the fit ("no run ... in MemoryStore()") after the model was
fitted, its removal never recorded. A gate in the first step holds the fit there; the
setter either returns or waits for the unlearner's lock (signalled, not slept on).
"""

import threading

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.stores import MemoryStore
from tests._gate import ENTERED, RELEASE, WAIT_S, Gate, signal_waits


def _data(seed, n=80):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return stp.from_numpy(X, f"set_params_{seed}"), X[:, 0] > 0


def _set_during(gated, obj, fit, params):
    """``fit()`` in a thread named ``gated``, held at the gate while another thread calls
    ``obj.set_params(**params)``, released once the setter returned or waits."""
    ENTERED.clear()
    RELEASE.clear()
    stopped = threading.Event()  # the setter returned, or waits for the lock
    signal_waits(obj, stopped)
    out = {}

    def run_fit():
        try:
            fit()
        except Exception as e:
            out["error"] = e

    def run_set():
        try:
            obj.set_params(**params)
        finally:
            stopped.set()

    fitting = threading.Thread(target=run_fit, name=gated)
    setting = threading.Thread(target=run_set, name="setter")
    fitting.start()
    assert ENTERED.wait(WAIT_S)
    setting.start()
    assert stopped.wait(WAIT_S)
    RELEASE.set()
    fitting.join(WAIT_S)
    setting.join(WAIT_S)
    assert not fitting.is_alive() and not setting.is_alive()
    return out


def test_a_store_set_during_an_unlearners_fit_waits_and_the_record_stays_in_one_store():
    from sktraceprop.unlearning import GradientCorrectionUnlearner

    X, y = _data(0)
    old, new = MemoryStore(), MemoryStore()
    pipe = stp.make_traced_pipeline(Gate(), StandardScaler(), LogisticRegression())
    forget = stp.row_ids(X)[:4].tolist()
    unlearner = GradientCorrectionUnlearner(pipe, forget=forget, store=old)
    out = _set_during("predictor", unlearner, lambda: unlearner.fit(X, y), {"store": new})
    assert "error" not in out, out.get("error")
    run_id = unlearner.run_id_
    assert run_id in set(old.list_runs()["run_id"])
    (removal,) = [e for e in old.events() if e["kind"] == "unlearning"]
    assert removal["run_id"] == run_id  # the run and its removal in one store
    assert new.events() == [] and new.list_runs().empty
    assert unlearner.store is new  # set, after the fit
