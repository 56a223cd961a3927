"""The parts of a ``ColumnTransformer`` or ``FeatureUnion`` step of a traced pipeline,
fitted (or changed in place) by another thread while the traced pipeline fits.

Such a step was watched as one step: another thread's fit of one of its parts was refused
as a change of the whole step (``transformers_``, ``transformer_list``). Each part is
now watched as a step, named as its parameter is (``prep__num__scale``), through
pipelines and column transformers among the parts; the step's own fits of its parts in
joblib's workers (``n_jobs``) are its own.
"""

import pickle
import threading

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._fitted_elsewhere import watch_step_fits
from sktraceprop._lineage._watch_calls import CALLED, estimators_held
from sktraceprop.exceptions import LineageError
from sktraceprop.stores import MemoryStore
from tests._gate import fit_while_other_code_fits, plain, shifted_data


def _ct(remainder="drop", n_jobs=None, third=None):
    num = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=1))])
    parts = [("num", num, [0]), ("mm", MinMaxScaler(), [1])]
    if third is not None:
        parts.append(("third", third, [0]))
    return ColumnTransformer(parts, remainder=remainder, n_jobs=n_jobs)


def _fu(n_jobs=None):
    num = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=1))])
    return FeatureUnion([("num", num), ("mm", MinMaxScaler())], n_jobs=n_jobs)


def _traced(step):
    store = MemoryStore()
    return stp.TracedPipeline([("prep", step), ("lr", LogisticRegression())], store=store), store


def _fitted_ct_scale(pipe):
    return pipe.named_steps["prep"].named_transformers_["num"].named_steps["scale"]


def _fu_scale(pipe):
    return pipe.named_steps["prep"].transformer_list[0][1].named_steps["scale"]


PARTS = {"column-transformer": (_ct, _fitted_ct_scale), "feature-union": (_fu, _fu_scale)}


@pytest.mark.parametrize("layout", list(PARTS))
def test_a_part_fitted_elsewhere_is_named(monkeypatch, layout):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    make, scale_of = PARTS[layout]
    pipe, store = _traced(make())
    fitted = []

    def other():  # (the part the traced fit left, refitted by other code)
        fitted.append(scale_of(pipe))
        fitted[0].fit(plain(X2, y2)[0][:, :1])

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    # the truth: the part holds the other fit's state
    np.testing.assert_array_equal(fitted[0].mean_, plain(X2, y2)[0][:, :1].mean(axis=0))
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    message = str(error)
    assert "step 'prep__num__scale' was fitted in thread 'MainThread'" in message, message
    assert "'prep' had" not in message and "'prep' was" not in message, message
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


@pytest.mark.parametrize("layout", list(PARTS))
def test_a_part_changed_in_place_is_named(monkeypatch, layout):
    X1, y1 = _data(0)
    make, scale_of = PARTS[layout]
    pipe, store = _traced(make())
    before = []

    def other():
        scale = scale_of(pipe)
        before.append((scale, scale.mean_.copy()))
        scale.mean_ += 1.0

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    np.testing.assert_array_equal(before[0][0].mean_, before[0][1] + 1.0)
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    message = str(error)
    assert "step 'prep__num__scale' had its fitted state replaced or changed in place (mean_" in (
        message
    ), message
    assert "'prep' had" not in message, message
    assert store.list_runs().empty


def test_a_part_of_a_column_transformer_inside_a_part_is_named(monkeypatch):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    inner = ColumnTransformer([("s", StandardScaler(), [0])])
    pipe, store = _traced(_ct(third=Pipeline([("ct", inner)])))

    def other():
        part = pipe.named_steps["prep"].named_transformers_["third"].named_steps["ct"]
        part.named_transformers_["s"].fit(plain(X2, y2)[0][:, :1])

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    assert isinstance(error, LineageError), "recorded a run"
    message = str(error)
    assert "step 'prep__third__ct__s' was fitted in thread 'MainThread'" in message, message
    assert "'prep' had" not in message and "'prep__third__ct' had" not in message, message
    assert store.list_runs().empty


def test_a_remainder_fitted_elsewhere_is_named(monkeypatch):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    pipe, store = _traced(_ct(remainder=StandardScaler(), third="drop"))
    X1 = stp.from_numpy(np.c_[plain(X1, y1)[0], plain(X1, y1)[0][:, 0] * 2], "three_0")

    def other():
        pipe.named_steps["prep"].named_transformers_["remainder"].fit(plain(X2, y2)[0][:, :1])

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    assert isinstance(error, LineageError), "recorded a run"
    message = str(error)
    assert "step 'prep__remainder' was fitted in thread 'MainThread'" in message, message
    assert store.list_runs().empty


def test_a_user_thread_placed_by_an_event_is_named(monkeypatch):
    # another thread (not the test's own), started once the steps are fitted, refits the
    # part and signals it is done: refused, named
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    pipe, store = _traced(_ct())
    done = threading.Event()

    def other():
        scale = _fitted_ct_scale(pipe)
        thread = threading.Thread(
            target=lambda: (scale.fit(plain(X2, y2)[0][:, :1]), done.set()), name="user"
        )
        thread.start()
        assert done.wait(300)
        thread.join(300)

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    assert isinstance(error, LineageError), "recorded a run"
    assert "step 'prep__num__scale' was fitted in thread 'user'" in str(error), str(error)
    assert store.list_runs().empty


LAYOUTS = {
    "ct-drop": lambda n_jobs: _ct("drop", n_jobs),
    "ct-passthrough": lambda n_jobs: _ct("passthrough", n_jobs, third="drop"),
    "ct-remainder-estimator": lambda n_jobs: _ct(StandardScaler(), n_jobs, third="passthrough"),
    "ct-nested": lambda n_jobs: _ct(
        n_jobs=n_jobs, third=Pipeline([("ct", ColumnTransformer([("s", StandardScaler(), [0])]))])
    ),
    "feature-union": lambda n_jobs: _fu(n_jobs),
    "feature-union-drop": lambda n_jobs: FeatureUnion(
        [("num", StandardScaler()), ("gone", "drop"), ("same", "passthrough")], n_jobs=n_jobs
    ),
}


@pytest.mark.parametrize("backend", [None, "threading"])
@pytest.mark.parametrize("n_jobs", [None, 2])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_parts_fitted_here_record_the_run_as_sklearn_fits(layout, n_jobs, backend):
    # the step's own fits of its parts (in joblib's workers where n_jobs=2: threads under
    # the threading backend) are its own: the run is recorded, the model is sklearn's
    X, y = _data(0)
    X = stp.from_numpy(np.c_[plain(X, y)[0], plain(X, y)[0][:, 0] * 2], "three_0")
    pipe, store = _traced(LAYOUTS[layout](n_jobs))
    truth = Pipeline([("prep", clone(pipe.steps[0][1])), ("lr", LogisticRegression())])
    if backend is None:
        pipe.fit(X, y)
        truth.fit(*plain(X, y))
    else:
        with parallel_backend(backend, n_jobs=2):
            pipe.fit(X, y)
            truth.fit(*plain(X, y))
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
    Xp = plain(X, y)[0]
    np.testing.assert_array_equal(pipe.predict_proba(X), truth.predict_proba(Xp))
    np.testing.assert_array_equal(pipe[:-1].transform(Xp), truth[:-1].transform(Xp))
    # nothing of the watch is left in the fitted objects: clone and pickle as sklearn's
    for obj in _objects(pipe):
        assert not set(vars(obj)) & METHODS, (obj, set(vars(obj)) & METHODS)
    assert clone(pipe).get_params()["prep"].get_params().keys() == (
        truth.get_params()["prep"].get_params().keys()
    )
    back = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(back.predict_proba(X), truth.predict_proba(Xp))


#: The methods the watch stands in for in an object's own dict while a traced fit runs.
METHODS = {*CALLED, "fit", "fit_transform", "fit_predict", "partial_fit", "fit_resample"}


def _objects(pipe):
    return [obj for obj, _ in estimators_held(pipe).values()]


def _data(seed):
    return shifted_data(seed, "parts_step")


def test_a_part_of_a_column_transformer_fitted_through_memory_is_named(monkeypatch, tmp_path):
    # the pipeline's memory fits a clone of the ColumnTransformer: that clone's parts are
    # the ones watched (the given object's are not fitted)
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    store = MemoryStore()
    pipe = stp.TracedPipeline(
        [("prep", _ct()), ("lr", LogisticRegression())], memory=str(tmp_path), store=store
    )

    def other():
        _fitted_ct_scale(pipe).fit(plain(X2, y2)[0][:, :1])

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    assert isinstance(error, LineageError), "recorded a run"
    assert "step 'prep__num__scale' was fitted in thread 'MainThread'" in str(error), str(error)
    assert store.list_runs().empty


def test_a_traced_column_transformer_step_records_its_run(monkeypatch):
    # sktraceprop's own ColumnTransformer, its parts watched: nothing else done, a run
    X, y = _data(0)
    ct = stp.TracedColumnTransformer([("s", StandardScaler(), [0]), ("m", MinMaxScaler(), [1])])
    pipe, store = _traced(ct)
    assert fit_while_other_code_fits(monkeypatch, pipe, X, y, lambda: None) is None
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]


def test_the_step_refitting_its_parts_in_joblib_threads_is_its_own():
    # once watched, the parts of a FeatureUnion fitted again by the union itself in
    # joblib's worker threads (n_jobs=2, threading backend) are not other code's; a fit
    # of a part by another thread outside the union's fit is
    X, y = plain(*_data(0))
    union = FeatureUnion([("num", StandardScaler()), ("mm", _ThreadNoted())], n_jobs=2)
    pipe = Pipeline([("prep", union), ("lr", LogisticRegression())])
    with watch_step_fits(pipe) as fits:
        union.fit(X, y)  # (the traced fit's thread: its parts watched from its end)
        assert set(fits.left) >= {"prep__num", "prep__mm"}
        with parallel_backend("threading", n_jobs=2):
            union.fit(X, y)
        # the truth: the union fitted the part in place, in a worker thread
        assert _given_mm(union).threads_[-1] != threading.current_thread().name
        assert fits.elsewhere == {}
        part = _given_mm(union)
        thread = threading.Thread(target=lambda: part.fit(X), name="user")
        thread.start()
        thread.join(300)
        assert set(fits.elsewhere) == {"prep__mm"}
        with pytest.raises(LineageError, match="step 'prep__mm' was fitted in thread 'user'"):
            fits.check("Pipeline")


class _ThreadNoted(MinMaxScaler):
    """A MinMaxScaler noting the threads that fitted it."""

    def fit(self, X, y=None):
        self.threads_ = [*getattr(self, "threads_", []), threading.current_thread().name]
        return super().fit(X, y)


def _given_mm(union):
    return dict(union.transformer_list)["mm"]
