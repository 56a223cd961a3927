"""The estimator, its lineage_ and the store never disagree, whatever fails."""

import sqlite3

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_validate
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

import sktraceprop as stp
from sktraceprop._tracing import library_fit
from sktraceprop.exceptions import StoreBusyError, StoreError, StorePermissionError


def _data(n=60, seed=0, source="s"):
    rng = np.random.default_rng(seed)
    X = stp.from_numpy(rng.normal(size=(n, 3)), f"{source}{seed}")
    return X, (X["x0"] > 0).astype(int)


def _estimators(store):
    return {
        "pipeline": stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store),
        "wrapper": stp.TracedEstimator(LogisticRegression(), store=store),
        "column_transformer": stp.make_traced_column_transformer(
            (StandardScaler(), ["x0", "x1"]), store=store
        ),
    }


class _FailingStore(stp.stores.MemoryStore):
    """A store whose writes fail after the fit (a full disk, a dropped connection)."""

    fail = False

    def _transact(self, write, committed):
        if self.fail:
            raise OSError("No space left on device")
        return super()._transact(write, committed)


@pytest.mark.parametrize("kind", ["pipeline", "wrapper", "column_transformer"])
def test_a_failed_store_write_leaves_the_estimator_unfitted(kind):
    store = _FailingStore()
    est = _estimators(store)[kind]
    X, y = _data()
    est.fit(X, y)
    first = est.lineage_
    store.fail = True
    X2, y2 = _data(seed=1)
    with pytest.raises(OSError, match="No space"):
        est.fit(X2, y2)
    # not the new model with the old lineage_, nor a model the store has no run of
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert not hasattr(est, "lineage_")
    assert store.list_runs()["run_id"].tolist() == [first.run_id]
    with pytest.raises(NotFittedError):
        est.trace([0])
    store.fail = False
    est.fit(X2, y2)  # a retry works, and is stored
    assert store.list_runs()["run_id"].tolist() == [first.run_id, est.lineage_.run_id]
    assert store.load_run(est.lineage_.run_id) == est.lineage_


def test_a_busy_sqlite_store_leaves_nothing_half_done(tmp_path):
    path = tmp_path / "busy.db"
    store = stp.stores.SQLiteStore(path, timeout=0.2)
    pipe = _estimators(store)["pipeline"]
    X, y = _data()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError, match="Retry"):
            pipe.fit(X, y)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with pytest.raises(NotFittedError):
        check_is_fitted(pipe)
    assert store.list_runs().empty and store.events(include_store_events=True) == []
    pipe.fit(X, y)
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]


def test_a_store_that_cannot_be_written_is_refused_before_fitting(tmp_path):
    path = tmp_path / "s.db"
    pipe = _estimators(stp.stores.SQLiteStore(path))["pipeline"]
    X, y = _data()
    pipe.fit(X, y)
    run, scaler, coef = pipe.lineage_, pipe[0], pipe[-1].coef_.copy()
    pipe.set_params(store=stp.stores.SQLiteStore(path, mode="ro"))
    X2, y2 = _data(seed=1)
    with pytest.raises(StorePermissionError, match="read-only"):
        pipe.fit(X2, y2)
    # nothing was fitted: the previous model, its run and the store still agree
    assert pipe.lineage_ is run and pipe[0] is scaler
    np.testing.assert_array_equal(pipe[-1].coef_, coef)
    assert stp.stores.SQLiteStore(path).list_runs()["run_id"].tolist() == [run.run_id]
    with pytest.raises(TypeError, match="store must be"):
        clone(pipe).set_params(store="lineage.db").fit(X, y)


def test_an_unsupported_model_explained_stores_no_run():
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(solver="liblinear"), store=store
    )
    X, y = _data()
    explainer = stp.InfluenceExplainer(pipe)
    with pytest.raises(TypeError, match="liblinear"):
        explainer.fit(X, y)
    assert store.list_runs().empty
    with pytest.raises(NotFittedError):
        check_is_fitted(explainer.estimator_)
    # a supported model: the explainer's clone is stored, and says what it is
    explainer = stp.InfluenceExplainer(clone(pipe).set_params(logisticregression__solver="lbfgs"))
    explainer.fit(X, y)
    runs = store.list_runs()
    assert runs["purpose"].tolist() == ["influence"]
    assert runs["run_id"].tolist() == [explainer.estimator_.lineage_.run_id]


def test_library_fits_are_stored_only_when_their_block_succeeds():
    store = stp.stores.MemoryStore()
    X, y = _data()
    user = _estimators(store)["pipeline"].fit(X, y)
    copy = clone(user)
    with pytest.raises(RuntimeError, match="cannot use"):
        with library_fit("unlearning", parent=user):
            copy.fit(X, y)
            assert store.list_runs()["run_id"].tolist() == [user.lineage_.run_id]  # deferred
            raise RuntimeError("the clone cannot use this model")
    assert store.list_runs()["run_id"].tolist() == [user.lineage_.run_id]
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    with library_fit("unlearning", parent=user):
        with library_fit("influence"):  # nested: stored with the outer block
            inner = clone(user).fit(X, y)
        copy.fit(X, y)
        assert len(store.list_runs()) == 1
    runs = store.list_runs()
    assert runs["purpose"].tolist() == ["fit", "influence", "unlearning"]
    assert runs["parent_run_id"].tolist() == [None, user.lineage_.run_id, user.lineage_.run_id]
    assert runs["run_id"].tolist()[1:] == [inner.lineage_.run_id, copy.lineage_.run_id]
    assert store.list_runs(parent_run_id=user.lineage_.run_id, purpose="unlearning")[
        "run_id"
    ].tolist() == [copy.lineage_.run_id]


def test_run_context_nests_and_checks_its_arguments():
    store = stp.stores.MemoryStore()
    X, y = _data()
    pipe = _estimators(store)["pipeline"]
    with stp.run_context(name="outer", tags={"team": "risk", "v": 1}):
        with stp.run_context(purpose="backfill", tags={"v": 2}):
            pipe.fit(X, y)
        outer = clone(pipe).fit(X, y).lineage_
    inner = pipe.lineage_
    assert (inner.name, inner.purpose, inner.tags) == (
        "outer",
        "backfill",
        {"team": "risk", "v": 2},
    )
    assert (outer.name, outer.purpose, outer.tags) == ("outer", "fit", {"team": "risk", "v": 1})
    assert clone(pipe).fit(X, y).lineage_.name is None  # the context ended
    with pytest.raises(TypeError, match="tags must"):
        with stp.run_context(tags=["a"]):
            pass
    with pytest.raises(TypeError, match="tags must map"):
        with stp.run_context(tags={"a": object()}):
            pass
    with pytest.raises(TypeError, match="purpose must be a string"):
        with stp.run_context(purpose=3):
            pass


def test_a_memory_store_in_process_workers_fails_loudly():
    store = stp.stores.MemoryStore()
    pipe = _estimators(store)["pipeline"]
    X, y = _data(n=80)
    with pytest.raises(StoreError, match="copied into process"):
        cross_validate(pipe, X, y, cv=KFold(4), n_jobs=2, error_score="raise")
    with pytest.raises(ValueError, match="copied into process"):
        cross_validate(pipe, X, y, cv=KFold(4), n_jobs=2)  # every fit failed, said so
    assert store.list_runs().empty
    with joblib.parallel_backend("threading", n_jobs=2):
        cross_validate(pipe, X, y, cv=KFold(4), n_jobs=2)
    assert len(store.list_runs()) == 4 and store.verify()


def test_a_memory_store_copy_from_another_process_is_read_only():
    import os
    import pickle

    store = stp.stores.MemoryStore()
    X, y = _data()
    run = _estimators(store)["pipeline"].fit(X, y).lineage_
    copy = pickle.loads(pickle.dumps(store))
    # this process too: what it were given would never reach ``store`` (it was writable,
    # so a model saved and loaded with joblib logged to a copy nobody held)
    with pytest.raises(StoreError, match="was unpickled"):
        copy.append_event("review", {})
    with pytest.raises(StoreError, match="was unpickled"):
        _estimators(copy)["pipeline"].fit(X, y)
    assert store.events() == [] and copy.events() == [] and len(copy.list_runs()) == 1
    copy._pid = os.getpid() + 1  # as if unpickled in a worker
    assert copy.load_run(run.run_id) == run and copy.verify()
    with pytest.raises(StoreError, match="copied into process"):
        copy.append_event("review", {})
    writable = copy.copy()
    writable.append_event("review", {})
    assert len(writable.events()) == 1 and writable.store_id == store.store_id
    assert pickle.loads(pickle.dumps(writable)).events() == writable.events()
