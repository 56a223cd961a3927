"""One unlearner used from several threads: erasure requests arriving at once (a web
server's workers), and logged predictions of its model while a removal is under way.

The truth is the same calls made one after the other: the same rows removed, the same
corrected model, one event per request naming its own rows; and for a logged call, the
model that answered (its outputs equal to the model's before or after the removal) is the
one its event names. ``sys.setswitchinterval(1e-6)`` makes a race likely.
"""

import threading
import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(3)
    n = 160
    path = tmp_path / "d.csv"
    pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "y": rng.integers(0, 2, n)}
    ).to_csv(path, index=False)
    df = stp.read_csv(path, source_id="d")
    return df[["a", "b"]], df["y"]


def _unlearner(X, y, store=None, **kw):
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GradientCorrectionUnlearner(pipe, store=store).fit(X, y)


def _run_together(*calls):
    errors = []
    barrier = threading.Barrier(len(calls))

    def go(call):
        barrier.wait()
        try:
            call()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=go, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_removals_racing_on_one_unlearner_are_both_made(data, fast_switching):
    X, y = data
    for _ in range(4):
        store = stp.stores.MemoryStore()
        u = _unlearner(X, y, store)
        ids = u.train_row_ids_
        asked = {0: ids[0:6], 1: ids[20:26], 2: ids[50:53]}
        _run_together(*[partial(u.unlearn, sample_id=s) for s in asked.values()])
        # the truth: the same requests one after the other
        ref = _unlearner(X, y)
        for s in asked.values():
            ref.unlearn(sample_id=s)
        gone = np.sort(np.concatenate(list(asked.values())))
        assert np.array_equal(np.sort(u.train_row_ids_[~u.retained_mask_]), gone)
        # one event per request, naming its rows and no other's
        named = sorted(tuple(np.sort(e["row_ids"])) for e in u.unlearning_log_)
        assert named == sorted(tuple(np.sort(s)) for s in asked.values())
        # the model is the one the requests made in turn give (order does not matter
        # for an exact convex correction to the optimum, up to the solver's tolerance)
        np.testing.assert_allclose(
            u.estimator_[-1].coef_, ref.estimator_[-1].coef_, rtol=1e-4, atol=1e-6
        )
        stored = [e for e in store.events(kind="unlearning")]
        assert len(stored) == len(asked)
        assert store.verify()


def test_logged_predictions_racing_a_removal_name_the_model_that_answered(data, fast_switching):
    X, y = data
    rng = np.random.default_rng(4)
    Xq = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    ks = range(1, 21)
    for _ in range(3):
        store = stp.stores.MemoryStore()
        u = _unlearner(X, y, store, log_predictions=True)
        est = u.estimator_
        before = {k: est.predict_proba(Xq.iloc[:k]) for k in ks}
        fp_before = est.lineage_.model_fingerprint
        n_logged = len(store.events(kind="prediction"))
        got = {}

        def predict(est=est, got=got):
            for k in ks:
                got[k] = est.predict_proba(Xq.iloc[:k])

        _run_together(predict, partial(u.unlearn, sample_id=u.train_row_ids_[:40]))
        fp_after = est.lineage_.model_fingerprint
        after = {k: est.predict_proba(Xq.iloc[:k]) for k in ks}
        assert fp_after != fp_before
        raced = store.events(kind="prediction")[n_logged : n_logged + len(ks)]
        by_rows = {e["payload"]["n_rows"]: e["payload"] for e in raced}
        assert sorted(by_rows) == list(ks)
        for k in ks:
            if np.array_equal(got[k], before[k]):
                answered = fp_before
            else:
                np.testing.assert_array_equal(got[k], after[k])
                answered = fp_after
            event = by_rows[k]
            assert event.get("model_fingerprint_now", event["model_fingerprint"]) == answered
