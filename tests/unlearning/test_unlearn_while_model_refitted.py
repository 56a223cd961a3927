"""A removal computed while another thread refits the unlearner's model.

The unlearner computes a removal without holding its model (logged predictions of it
go on meanwhile) and checked, before, that the model is the one it prepared. Before,
a refit of ``estimator_`` in another thread after that check was undone by the swap:
the corrected old model answered under the refit's run (whose rows it never saw), and
the unlearning event said the removal was made. A gate in the removal's computation
(released by the test) makes the interleaving certain.
"""

import threading
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import UnlearningError
from sktraceprop.stores import MemoryStore
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _data(seed, shift):
    rng = np.random.default_rng(seed)
    X = shift + rng.normal(size=(120, 3))
    return stp.from_numpy(X, f"during_{seed}"), X[:, 0] > shift


def _gated_unlearner(store):
    X, y = _data(0, 0.0)
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unlearner = GradientCorrectionUnlearner(pipe, store=store).fit(X, y)
    entered, release = threading.Event(), threading.Event()
    compute = unlearner._method.remove

    def gated(*args, **kwargs):
        out = compute(*args, **kwargs)
        entered.set()
        release.wait(60)
        return out

    unlearner._method.remove = gated  # this instance only
    return unlearner, X, entered, release


def _unlearn_in_thread(unlearner):
    out = {}

    def go():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                unlearner.unlearn(sample_id=unlearner.train_row_ids_[:5])
        except Exception as e:
            out["error"] = e

    thread = threading.Thread(target=go)
    thread.start()
    return thread, out


def test_a_refit_of_the_model_while_a_removal_is_computed_is_kept_and_the_removal_refused():
    store = MemoryStore()
    unlearner, _, entered, release = _gated_unlearner(store)
    pipe = unlearner.estimator_
    thread, out = _unlearn_in_thread(unlearner)
    assert entered.wait(60)
    X2, y2 = _data(1, 3.0)
    pipe.fit(X2, y2)  # a logged model's refit: not blocked by the removal's computation
    refit_run = pipe.lineage_.run_id
    release.set()
    thread.join(60)
    assert isinstance(out.get("error"), UnlearningError)
    assert "while the removal was computed" in str(out["error"])
    assert not store.events(kind="unlearning")
    assert unlearner.retained_mask_.all()
    # the model is the refit's, named by the refit's run (independent truth: X2's means)
    assert pipe.lineage_.run_id == refit_run
    np.testing.assert_allclose(pipe[0].mean_, X2.to_numpy().mean(axis=0), rtol=1e-12)


def test_logged_calls_go_on_while_a_removal_is_computed():
    store = MemoryStore()
    unlearner, X, entered, release = _gated_unlearner(store)
    pipe = unlearner.estimator_
    before = pipe.predict_proba(X[:7])
    thread, out = _unlearn_in_thread(unlearner)
    try:
        assert entered.wait(60)
        # answered at once (a call waiting for the removal would block here)
        np.testing.assert_array_equal(pipe.predict_proba(X[:7]), before)
    finally:
        release.set()
        thread.join(60)
    assert "error" not in out, out.get("error")
    (event,) = store.events(kind="unlearning")
    assert not unlearner.retained_mask_[:5].any()
    assert not np.array_equal(pipe.predict_proba(X[:7]), before)
    logged = store.events(kind="prediction")
    assert [e["payload"]["n_rows"] for e in logged] == [7, 7, 7]
    assert logged[1]["seq"] < event["seq"] < logged[2]["seq"]
