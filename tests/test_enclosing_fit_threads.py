"""A meta-estimator's fits in joblib's threads (threading backend) and the clones
``BaggingClassifier`` makes in a joblib task name the meta-estimator, with no other
thread's stack read; two meta-estimators or searches fitted at once on two threads each
name their own.

The name travels with the clone (made by the meta-estimator's fit on its own thread), or
is read in the task from scikit-learn's own frame cloning what the bagging holds. The
rows are checked against the raw file; the notes against the same call with ``n_jobs=1``.
"""

import threading
import warnings

import pytest
from joblib import parallel_backend
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import BaggingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._selection import search_fit_of
from sktraceprop.exceptions import LineageWarning
from tests._gate import WAIT_S
from tests.test_enclosing_fit_workers import _runs, _write

_BAGGING = (
    "fitted by BaggingClassifier (sklearn.ensemble._bagging), in a joblib task through "
    "sklearn.ensemble._bagging._parallel_build_estimators, not by a call of its own"
)


def _runs_by_jobs(tmp_path, n, fit, *, backend="threading", sqlite=True, **runs):
    """The frame of the file of ``n`` rows and, for ``n_jobs`` 1 and 2, the runs
    (:func:`_runs` with ``runs``) stored by ``fit(pipe, X, y, n_jobs)`` of a traced
    pipeline under joblib's ``backend``."""
    path = _write(tmp_path, n)
    d = stp.read_csv(path, source_id="meta")
    X, y = d[["a", "b"]], d["y"].to_numpy()
    by_jobs = {}
    for n_jobs in (1, 2):
        store = (
            stp.stores.SQLiteStore(tmp_path / f"runs{n_jobs}.db")
            if sqlite
            else stp.stores.MemoryStore()
        )
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        with parallel_backend(backend, n_jobs=n_jobs):
            fit(pipe, X, y, n_jobs)
        by_jobs[n_jobs] = _runs(store, path, prefix="fitted ", **runs)
    return d, by_jobs


@pytest.mark.parametrize(
    "meta,n",
    [
        (lambda p, n_jobs: CalibratedClassifierCV(p, cv=3, n_jobs=n_jobs), 70),
        (lambda p, n_jobs: VotingClassifier([("p", p)], n_jobs=n_jobs), 71),
    ],
    ids=["calibrated", "voting"],
)
def test_fits_in_joblib_threads_record_the_notes_of_one_thread(tmp_path, meta, n):
    d, by_jobs = _runs_by_jobs(
        tmp_path, n, lambda pipe, X, y, n_jobs: meta(pipe, n_jobs).fit(X, y), sqlite=False
    )
    X, y = d[["a", "b"]], d["y"].to_numpy()
    assert by_jobs[1] == by_jobs[2]
    name = type(meta(None, 1)).__name__
    assert all(
        len(notes) == 1 and notes[0].startswith(f"fitted by {name}.fit ")
        for _, notes, _ in by_jobs[2]
    )
    keys = d["key"].to_numpy()
    if name == "CalibratedClassifierCV":
        expected = [tuple(keys[t]) for t, _ in StratifiedKFold(3).split(X, y)]
    else:
        expected = [tuple(keys)]
    assert sorted(k for *_, k in by_jobs[2]) == sorted(expected)


@pytest.mark.parametrize("backend,n", [("threading", 76), ("loky", 77)])
def test_clones_drawn_by_joblib_on_another_thread_are_named(tmp_path, backend, n):
    """Past the first tasks (pre_dispatch: 2 * n_jobs), joblib draws the next ones from
    the meta-estimator's generator on the thread a finished task calls back on, whose
    stack does not hold the fit: the generator's own frame (of CalibratedClassifierCV.fit,
    running on that thread) names it, and every split's note is the one of n_jobs=1."""
    d, by_jobs = _runs_by_jobs(
        tmp_path,
        n,
        lambda pipe, X, y, n_jobs: CalibratedClassifierCV(pipe, cv=8, n_jobs=n_jobs).fit(X, y),
        backend=backend,
    )
    X, y = d[["a", "b"]], d["y"].to_numpy()
    assert by_jobs[1] == by_jobs[2]
    assert len(by_jobs[2]) == 8
    assert all(
        len(notes) == 1 and notes[0].startswith("fitted by CalibratedClassifierCV.fit ")
        for _, notes, _ in by_jobs[2]
    )
    keys = d["key"].to_numpy()
    expected = [tuple(keys[t]) for t, _ in StratifiedKFold(8).split(X, y)]
    assert sorted(k for *_, k in by_jobs[2]) == sorted(expected)


@pytest.mark.parametrize("backend,n", [("threading", 72), ("loky", 73)])
def test_bagging_clones_in_the_task_are_named_from_its_own_frames(tmp_path, backend, n):
    """BaggingClassifier clones its estimator in the joblib task, from the estimator the
    bagging (sent there with it) holds: the task's own stack shows it."""

    def fit(pipe, X, y, n_jobs):
        bagging = BaggingClassifier(pipe, n_estimators=3, n_jobs=n_jobs, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LineageWarning)  # (rows without their ids)
            bagging.fit(X, y)

    _, by_jobs = _runs_by_jobs(tmp_path, n, fit, backend=backend, lines=False)
    assert [(p, k) for p, _, k in by_jobs[1]] == [(p, k) for p, _, k in by_jobs[2]]
    assert len(by_jobs[2]) == 3
    assert all(
        notes[0].startswith("fitted by BaggingClassifier._fit ") for _, notes, _ in by_jobs[1]
    )
    assert all(len(notes) == 1 and notes[0].startswith(_BAGGING) for _, notes, _ in by_jobs[2])


#: Set by each side's gate when a fit of its meta-estimator reaches it.
_ARRIVED = {"first": threading.Event(), "second": threading.Event()}


class _Both(TransformerMixin, BaseEstimator):
    """Passes rows through; its fit waits until a fit of the other side has begun, so
    that the two sides' fits run at the same time."""

    def __init__(self, side="first"):
        self.side = side

    def fit(self, X, y=None):
        _ARRIVED[self.side].set()
        other = "second" if self.side == "first" else "first"
        assert _ARRIVED[other].wait(WAIT_S)
        return self

    def transform(self, X):
        return X


class First(CalibratedClassifierCV):
    pass


class Second(CalibratedClassifierCV):
    pass


def _at_once(fits):
    for event in _ARRIVED.values():
        event.clear()
    errors = []

    def run(fit):
        try:
            fit()
        except BaseException as error:  # noqa: BLE001 (raised again below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(fit,)) for fit in fits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


def test_two_meta_estimators_fitted_at_once_on_two_threads_each_name_their_own(tmp_path):
    path = _write(tmp_path, 74)
    d = stp.read_csv(path, source_id="meta")
    X, y = d[["a", "b"]], d["y"].to_numpy()
    stores = {side: stp.stores.MemoryStore() for side in _ARRIVED}
    metas = {
        side: cls(
            stp.make_traced_pipeline(_Both(side), LogisticRegression(), store=stores[side]),
            cv=2,
            n_jobs=2,
        )
        for side, cls in (("first", First), ("second", Second))
    }

    def fit(side):
        with parallel_backend("threading", n_jobs=2):
            metas[side].fit(X, y)

    _at_once([lambda: fit("first"), lambda: fit("second")])
    for side, name in (("first", "First"), ("second", "Second")):
        runs = _runs(stores[side], path, prefix="fitted ")
        assert len(runs) == 2
        assert all(
            len(notes) == 1 and notes[0].startswith(f"fitted by {name}.fit ({__name__})")
            for _, notes, _ in runs
        )


def test_two_searches_fitted_at_once_on_two_threads_each_name_their_own(tmp_path):
    path = _write(tmp_path, 75)
    d = stp.read_csv(path, source_id="meta")
    X, y = d[["a", "b"]], d["y"].to_numpy()
    stores = {side: stp.stores.MemoryStore() for side in _ARRIVED}
    grids = {"first": [0.5, 2.0], "second": [3.0, 7.0]}
    searches = {
        side: GridSearchCV(
            stp.make_traced_pipeline(_Both(side), LogisticRegression(), store=stores[side]),
            {"logisticregression__C": grids[side]},
            cv=KFold(2),
            n_jobs=2,
        )
        for side in _ARRIVED
    }

    def fit(side):
        with parallel_backend("threading", n_jobs=2):
            searches[side].fit(X, y)

    _at_once([lambda: fit("first"), lambda: fit("second")])
    for side, search in searches.items():
        search_id = search_fit_of(search)[0]
        runs = [stores[side].load_run(r) for r in stores[side].list_runs()["run_id"]]
        assert len(runs) == 5  # 2 candidates x 2 splits, and the refit
        assert {r.selection["search_id"] for r in runs} == {search_id}
        folds = [r for r in runs if r.selection["role"] == "cv_fold"]
        assert sorted(r.selection["candidate_params"]["logisticregression__C"] for r in folds) == (
            sorted(grids[side] * 2)
        )
    assert search_fit_of(searches["first"])[0] != search_fit_of(searches["second"])[0]
