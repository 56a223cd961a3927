"""``search_runs``: the stored run of each cv_results_ row and split of a search.

The truth is the splitter's own splits for the same data (``list(cv.split(X, y))``),
the frame's row ids (``X.index``) and the search's ``cv_results_``: the run a cell
names must have been fitted on exactly that split's training rows, with that row's
parameters.
"""

import pickle
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joblib import parallel_backend
from sklearn.exceptions import FitFailedWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    KFold,
    RandomizedSearchCV,
    ShuffleSplit,
    StratifiedKFold,
)
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from tests._gate import WAIT_S
from tests._search_data import rows_file, scaled_logistic


@pytest.fixture
def data(tmp_path):
    return rows_file(tmp_path, seed=3, n=40)


_pipe = scaled_logistic


def _check(search, runs, store, X, splits, c="logisticregression__C", model=None):
    """Every cell names the run fitted on that split's training rows, with that row's C."""
    ids = X.index.to_numpy()
    params = search.cv_results_["params"]
    assert runs.shape == (len(params), len(splits))
    assert list(runs.columns) == [f"split{k}_run_id" for k in range(len(splits))]
    named = runs.to_numpy().ravel().tolist()
    assert len(set(named)) == len(named)
    # every split run this fit stored is named, once
    mine = store.list_runs(search_id=runs.attrs["search_id"], search_role="cv_fold")
    assert sorted(named) == sorted(mine["run_id"])
    for i in range(len(params)):
        for k, (train, _) in enumerate(splits):
            run = store.load_run(runs.iloc[i, k])
            np.testing.assert_array_equal(run.row_ids, ids[train])
            fitted = run.ops[-1] if model is None else model(run)
            assert fitted.params["C"] == params[i][c]
            assert run.selection["search_id"] == runs.attrs["search_id"]


@pytest.mark.parametrize("how", ["sequential", "processes", "threads"])
def test_each_cell_names_the_run_of_its_candidate_and_split(data, tmp_path, how):
    X, y = data
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    cv = KFold(3, shuffle=True, random_state=2)
    search = GridSearchCV(
        _pipe(store),
        {"logisticregression__C": [0.1, 1.0, 10.0]},
        cv=cv,
        n_jobs=1 if how == "sequential" else 2,
    )
    with parallel_backend("threading" if how == "threads" else "loky"):
        search.fit(X, y)
    runs = stp.search_runs(search, store)
    _check(search, runs, store, X, list(cv.split(X, y)))
    # the refit's run is of the same search
    assert search.best_estimator_.lineage_.selection["search_id"] == runs.attrs["search_id"]
    joined = pd.DataFrame(search.cv_results_).join(runs)
    assert joined["split0_run_id"].tolist() == runs["split0_run_id"].tolist()


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_splits=st.integers(2, 4),
    seed=st.integers(0, 1000),
    kind=st.sampled_from(["kfold", "stratified", "shuffle"]),
    n_candidates=st.integers(1, 3),
    randomized=st.booleans(),
)
def test_cells_match_the_splitter_for_random_splitters(
    data, n_splits, seed, kind, n_candidates, randomized
):
    X, y = data
    cv = {
        "kfold": KFold(n_splits, shuffle=True, random_state=seed),
        "stratified": StratifiedKFold(n_splits, shuffle=True, random_state=seed),
        "shuffle": ShuffleSplit(n_splits, test_size=0.3, random_state=seed),
    }[kind]
    store = stp.stores.MemoryStore()
    grid = {"logisticregression__C": [0.1, 1.0, 10.0][:n_candidates]}
    if randomized:
        search = RandomizedSearchCV(
            _pipe(store), grid, n_iter=n_candidates, cv=cv, random_state=seed
        )
    else:
        search = GridSearchCV(_pipe(store), grid, cv=cv)
    search.fit(X, y)
    _check(search, stp.search_runs(search, store), store, X, list(cv.split(X, y)))


def test_a_failed_fit_has_no_run_and_the_others_are_named(data):
    X, y = data
    store = stp.stores.MemoryStore()
    cv = KFold(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)
        warnings.simplefilter("ignore", UserWarning)
        search = GridSearchCV(
            _pipe(store), {"logisticregression__C": [1.0, -1.0]}, cv=cv, error_score=np.nan
        ).fit(X, y)
    runs = stp.search_runs(search, store)
    assert runs.iloc[1].tolist() == [None, None]  # C=-1 failed on both splits
    splits = list(cv.split(X, y))
    for k, (train, _) in enumerate(splits):
        np.testing.assert_array_equal(
            store.load_run(runs.iloc[0, k]).row_ids, X.index.to_numpy()[train]
        )


def test_halving_cells_are_the_rows_of_their_iteration(data):
    X, y = data
    store = stp.stores.MemoryStore()
    search = HalvingGridSearchCV(
        _pipe(store),
        {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]},
        cv=KFold(2, shuffle=True, random_state=1),
        factor=2,
        min_resources=16,
        random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    assert max(results["iter"]) >= 1
    runs = stp.search_runs(search, store)
    assert runs.shape == (len(results["params"]), 2) and runs.notna().all().all()
    for i in range(len(results["params"])):
        for k in range(2):
            run = store.load_run(runs.iloc[i, k])
            assert run.selection["iteration"] == results["iter"][i]
            assert run.ops[-1].params["C"] == results["params"][i]["logisticregression__C"]
            assert run.selection["n_train"] + run.selection["n_test"] == results["n_resources"][i]


def test_an_unlearner_search_names_its_model_runs(data, tmp_path):
    X, y = data
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    cv = KFold(2)
    unlearner = stp.GradientCorrectionUnlearner(_pipe(store), forget=X.index.to_numpy()[:2])
    search = GridSearchCV(
        unlearner, {"estimator__logisticregression__C": [0.1, 1.0]}, cv=cv, n_jobs=2
    ).fit(X, y)
    runs = stp.search_runs(search, store)
    _check(
        search,
        runs,
        store,
        X,
        list(cv.split(X, y)),
        c="estimator__logisticregression__C",
        model=lambda run: run.ops[-1],
    )
    refit = search.best_estimator_.estimator_.lineage_
    assert refit.selection["search_id"] == runs.attrs["search_id"]


def test_an_unpickled_search_is_found_through_its_refit(data):
    X, y = data
    store = stp.stores.MemoryStore()
    cv = KFold(2)
    search = GridSearchCV(_pipe(store), {"logisticregression__C": [0.1, 1.0]}, cv=cv).fit(X, y)
    before = stp.search_runs(search, store)
    again = pickle.loads(pickle.dumps(search))  # another object: only its refit's run says
    pd.testing.assert_frame_equal(stp.search_runs(again, store), before)
    # without a refit, an unpickled search's fit is not known: said, not guessed
    bare = GridSearchCV(_pipe(store), {"logisticregression__C": [0.1]}, cv=cv, refit=False)
    bare = pickle.loads(pickle.dumps(bare.fit(X, y)))
    with pytest.raises(LineageError, match="not known"):
        stp.search_runs(bare, store)


def test_a_search_fitted_again_names_its_latest_fit(data):
    X, y = data
    store = stp.stores.MemoryStore()
    search = GridSearchCV(_pipe(store), {"logisticregression__C": [0.1, 1.0]}, cv=KFold(2))
    first = stp.search_runs(search.fit(X, y), store)
    cv = KFold(3, shuffle=True, random_state=0)
    second = stp.search_runs(search.set_params(cv=cv).fit(X, y), store)
    assert first.attrs["search_id"] != second.attrs["search_id"]
    _check(search, second, store, X, list(cv.split(X, y)))


def test_a_search_loop_of_its_own_is_refused(data):
    class TwoCalls(GridSearchCV):
        # each call's candidates restart at 0: the row of a split's fit is not known
        def _run_search(self, evaluate_candidates):
            evaluate_candidates([{"logisticregression__C": 0.1}])
            evaluate_candidates([{"logisticregression__C": 1.0}])

    X, y = data
    store = stp.stores.MemoryStore()
    search = TwoCalls(_pipe(store), {"logisticregression__C": [0.1]}, cv=2).fit(X, y)
    with pytest.raises(LineageError, match="loop of its own"):
        stp.search_runs(search, store)


def test_wrong_inputs_are_refused(data):
    X, y = data
    store = stp.stores.MemoryStore()
    with pytest.raises(TypeError, match="fitted scikit-learn search"):
        stp.search_runs(_pipe(store).fit(X, y), store)
    search = GridSearchCV(_pipe(store), {"logisticregression__C": [0.1]}, cv=2).fit(X, y)
    with pytest.raises(LineageError, match="holds no run"):
        stp.search_runs(search, stp.stores.MemoryStore())  # another store
    with pytest.raises(TypeError, match="sktraceprop store"):
        stp.search_runs(search, "runs.db")


def test_results_of_a_fit_that_left_no_id_are_not_given_an_earlier_fits_runs(data):
    # The search's id is minted when it clones a traced estimator: a later fit of an
    # untraced estimator, or one that failed midway, left the earlier fit's id beside
    # cv_results_ that are not that fit's (the same grid: nothing else told them apart)
    from sklearn.pipeline import make_pipeline

    X, y = data
    store = stp.stores.MemoryStore()
    grid = {"logisticregression__C": [0.1, 1.0]}
    search = GridSearchCV(_pipe(store), grid, cv=KFold(2)).fit(X, y)
    first = search.cv_results_
    plain = make_pipeline(StandardScaler(), LogisticRegression())
    search.set_params(estimator=plain, cv=KFold(2, shuffle=True, random_state=0)).fit(X, y)
    assert search.cv_results_ is not first
    with pytest.raises(LineageError, match="replaced"):
        stp.search_runs(search, store)

    search = GridSearchCV(_pipe(store), grid, cv=KFold(2)).fit(X, y)
    first = search.cv_results_
    failing = {"logisticregression__C": [0.1, -1.0]}
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.set_params(param_grid=failing, error_score="raise").fit(X, y)
    assert search.cv_results_ is first  # of the first fit; the second stored some runs
    with pytest.raises(LineageError, match="did not complete"):
        stp.search_runs(search, store)


def test_a_search_fitted_again_without_refit_is_not_refused_for_its_old_model(data):
    # refit=False leaves the best_estimator_ of an earlier fit in place: not this fit's
    X, y = data
    store = stp.stores.MemoryStore()
    search = GridSearchCV(_pipe(store), {"logisticregression__C": [0.1, 1.0]}, cv=KFold(2))
    old = search.fit(X, y).best_estimator_
    cv = KFold(3, shuffle=True, random_state=4)
    search.set_params(refit=False, cv=cv).fit(X, y)
    assert search.best_estimator_ is old
    runs = stp.search_runs(search, store)
    _check(search, runs, store, X, list(cv.split(X, y)))
    assert runs.attrs["search_id"] != old.lineage_.selection["search_id"]


def test_a_search_refitted_while_its_runs_are_read_is_refused(data, monkeypatch):
    # Another thread refits the search (other candidates: a randomized search) once its
    # fit and cv_results_ were read. Before: the first fit's runs were given, laid out by
    # its rows, while the search already held the second fit's cv_results_, which
    # pd.DataFrame(search.cv_results_).join(runs) then put beside them, with no error.
    X, y = data
    store = stp.stores.MemoryStore()
    search = RandomizedSearchCV(
        _pipe(store), {"logisticregression__C": np.logspace(-3, 3, 50)}, n_iter=3, cv=2
    ).fit(X, y)
    first = stp.search_runs(search, store).attrs["search_id"]
    listed = store.list_runs
    refits = []

    def refit_then_list(*args, **kwargs):
        if not refits:  # (to the end: it waits for nothing)
            refit = threading.Thread(target=lambda: search.fit(X, y), name="refitter")
            refit.start()
            refit.join(WAIT_S)
            assert not refit.is_alive()
            refits.append(refit)
        return listed(*args, **kwargs)

    monkeypatch.setattr(store, "list_runs", refit_then_list)
    with pytest.raises(LineageError, match="refitted while its runs were read"):
        stp.search_runs(search, store)
    assert refits
    monkeypatch.undo()
    # asked again: the runs of the fit that made the cv_results_ it holds now
    runs = stp.search_runs(search, store)
    assert runs.attrs["search_id"] != first
    assert runs.attrs["search_id"] == search.best_estimator_.lineage_.selection["search_id"]
    params = search.cv_results_["params"]
    for i, row in enumerate(runs.itertuples(index=False)):
        for run_id in row:
            fitted = store.load_run(run_id).ops[-1].params["C"]
            assert fitted == params[i]["logisticregression__C"]
