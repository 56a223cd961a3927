"""Runs of fits made by scikit-learn's model selection, against the splitter's own splits.

The truth each test checks the stored runs against is independent of the library: the
splits the CV splitter gives for the same data (``list(cv.split(X, y))``), the row ids
of the frame (``X.index``), the parameters of the search's ``cv_results_`` and
``best_params_``, and the run the fitted ``best_estimator_`` carries.
"""

import functools
import warnings
from datetime import datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    HalvingRandomSearchCV,
    KFold,
    RandomizedSearchCV,
    ShuffleSplit,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
    cross_validate,
    learning_curve,
    validation_curve,
)
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance._model_evidence import selection_note
from tests._search_data import rows_file, scaled_logistic

GRID = {"logisticregression__C": [0.1, 1.0, 10.0]}


@pytest.fixture
def data(tmp_path):
    return rows_file(tmp_path, seed=7, n=48)


_pipe = scaled_logistic


def _runs(store, **filters):
    return [store.load_run(r) for r in store.list_runs(**filters)["run_id"]]


def _split_of(run, X, splits):
    """The index of the split whose training rows (by the splitter) are the run's rows."""
    ids = X.index.to_numpy()
    found = [k for k, (train, _) in enumerate(splits) if np.array_equal(ids[train], run.row_ids)]
    assert len(found) == 1, "the run's rows are the training rows of exactly one split"
    return found[0]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_runs_name_each_split_and_the_refit(data, tmp_path, n_jobs):
    X, y = data
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    cv = KFold(4, shuffle=True, random_state=3)
    search = GridSearchCV(_pipe(store), GRID, cv=cv, n_jobs=n_jobs).fit(X, y)
    splits = list(cv.split(X, y))
    candidates = search.cv_results_["params"]

    folds = _runs(store, search_role="cv_fold")
    assert len(folds) == len(candidates) * len(splits)
    seen = set()
    for run in folds:
        s = run.selection
        assert run.purpose == "cv_fold"
        k = _split_of(run, X, splits)
        assert s["split_progress"] == [k, len(splits)]
        i, n = s["candidate_progress"]
        assert n == len(candidates) and s["candidate_params"] == candidates[i]
        # the fitted model had the candidate's parameters: the op records them
        assert run.ops[-1].params["C"] == candidates[i]["logisticregression__C"]
        assert (s["n_train"], s["n_test"]) == (len(splits[k][0]), len(splits[k][1]))
        assert s["search"] == "sklearn.model_selection._search.GridSearchCV"
        seen.add((i, k))
    assert seen == {(i, k) for i in range(len(candidates)) for k in range(len(splits))}

    (refit,) = _runs(store, search_role="refit")
    assert refit.run_id == search.best_estimator_.lineage_.run_id
    assert refit.purpose == "fit"
    assert np.array_equal(refit.row_ids, X.index.to_numpy())
    s = refit.selection
    assert s["best_index"] == search.best_index_ and s["best_params"] == search.best_params_
    assert (s["n_splits"], s["n_candidates"]) == (len(splits), len(candidates))
    assert (s["n_split_fits"], s["n_failed_fits"]) == (len(folds), 0)
    assert refit.ops[-1].params["C"] == search.best_params_["logisticregression__C"]
    # one search: one id, on every split and on the refit, and no other run
    assert {r.selection["search_id"] for r in [*folds, refit]} == {s["search_id"]}
    assert len(store.list_runs()) == len(folds) + 1
    assert len(store.list_runs(search_id=s["search_id"])) == len(folds) + 1
    # every split was fitted before the refit (wall-clock UTC times)
    times = [datetime.fromisoformat(r.created_at) for r in folds]
    assert max(times) <= datetime.fromisoformat(refit.created_at)
    assert store.verify()


def test_two_cross_validate_calls_are_two_searches(data):
    X, y = data
    store = stp.stores.MemoryStore()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    cross_validate(_pipe(store), X, y, cv=cv)
    cross_val_score(_pipe(store), X, y, cv=cv)
    splits = list(cv.split(X, y))
    runs = _runs(store)
    assert len(runs) == 6
    first, second = runs[:3], runs[3:]
    for group in (first, second):
        assert len({r.selection["search_id"] for r in group}) == 1
        assert sorted(_split_of(r, X, splits) for r in group) == [0, 1, 2]
        for r in group:
            assert r.purpose == "cv_fold"
            assert r.selection["search"] == "sklearn.model_selection.cross_validate"
            assert r.selection["candidate_params"] is None
    assert first[0].selection["search_id"] != second[0].selection["search_id"]
    assert store.list_runs(search_role="refit").empty


def test_cross_val_predict_runs_are_its_splits(data, tmp_path):
    X, y = data
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    cv = KFold(4)
    cross_val_predict(_pipe(store), X, y, cv=cv, n_jobs=2)
    splits = list(cv.split(X, y))
    runs = _runs(store)
    assert sorted(_split_of(r, X, splits) for r in runs) == [0, 1, 2, 3]
    assert {r.selection["search"] for r in runs} == {"sklearn.model_selection.cross_val_predict"}
    assert {r.selection["called_by"] for r in runs} == {
        "sklearn.model_selection._validation._fit_and_predict"
    }
    assert len({r.selection["search_id"] for r in runs}) == 1
    assert store.verify()


def test_halving_search_runs_and_refit(data):
    X, y = data
    store = stp.stores.MemoryStore()
    search = HalvingGridSearchCV(
        _pipe(store), GRID, cv=3, min_resources=18, random_state=0, factor=2
    ).fit(X, y)
    folds = _runs(store, search_role="cv_fold")
    # one run per candidate and split of every iteration, on that iteration's rows
    n_resources = search.cv_results_["n_resources"]
    assert len(folds) == 3 * len(n_resources)
    # each split's train and test rows make up one iteration's subsample of the rows
    sizes = sorted(r.selection["n_train"] + r.selection["n_test"] for r in folds)
    assert sizes == sorted(int(n) for n in n_resources for _ in range(3))
    assert all(r.n_samples == r.selection["n_train"] for r in folds)
    assert all(np.isin(r.row_ids, X.index.to_numpy()).all() for r in folds)
    (refit,) = _runs(store, search_role="refit")
    assert refit.run_id == search.best_estimator_.lineage_.run_id
    assert refit.selection["best_params"] == search.best_params_
    assert refit.selection["n_candidates"] == len(search.cv_results_["params"])
    assert refit.selection["n_splits"] == 3
    assert refit.selection["search"].endswith("HalvingGridSearchCV")


#: The keys of a split's record for any search but a halving one (as before halving
#: searches recorded their iteration): unchanged.
FOLD_KEYS = {
    "role",
    "estimator",
    "search_id",
    "search",
    "called_by",
    "split_progress",
    "candidate_progress",
    "candidate_params",
    "n_train",
    "n_test",
}


@pytest.mark.parametrize(
    ("search_class", "resource", "n_jobs"),
    [
        (HalvingGridSearchCV, "n_samples", 1),
        (HalvingGridSearchCV, "n_samples", 2),
        (HalvingRandomSearchCV, "n_samples", 1),
        (HalvingGridSearchCV, "logisticregression__max_iter", 1),
    ],
)
def test_halving_split_runs_name_their_cv_results_row(
    data, tmp_path, search_class, resource, n_jobs
):
    X, y = data
    store = stp.stores.SQLiteStore(tmp_path / "s.db")  # worker processes write to it
    cv = KFold(3, shuffle=True, random_state=5)
    grid = {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}
    kwargs = dict(cv=cv, factor=2, random_state=0, resource=resource, n_jobs=n_jobs)
    if resource == "n_samples":
        kwargs["min_resources"] = 18
    else:
        kwargs.update(min_resources=20, max_resources=80)
    search = search_class(_pipe(store), grid, **kwargs).fit(X, y)
    results = search.cv_results_
    assert max(results["iter"]) >= 1, "the search ran more than one iteration"
    splits = list(cv.split(X, y))
    ids = X.index.to_numpy()

    folds = _runs(store, search_role="cv_fold")
    seen = set()
    for run in folds:
        s = run.selection
        row, k = s["cv_results_index"], s["split_progress"][0]
        assert s["iteration"] == results["iter"][row]
        assert s["n_resources"] == results["n_resources"][row]
        # the row's candidate is the one this run fitted, with the row's resources
        assert s["candidate_params"] == results["params"][row]
        train, test = splits[k]
        if resource == "n_samples":
            # each split of the iteration keeps the fraction n_resources / n_samples of
            # the splitter's training and test rows
            fraction = results["n_resources"][row] / len(X)
            assert s["n_train"] == int(fraction * len(train))
            assert s["n_test"] == int(fraction * len(test))
        else:
            assert run.ops[-1].params["max_iter"] == results["n_resources"][row]
            assert s["n_train"] == len(train)
        # the run's rows are among split k's training rows, none of its test rows
        assert np.isin(run.row_ids, ids[train]).all() and len(run.row_ids) == s["n_train"]
        assert f"halving iteration {s['iteration']}, row {row} of" in selection_note(run)
        seen.add((row, k))
    # every row of cv_results_ on every split, exactly once
    assert len(folds) == len(seen)
    assert seen == {(i, k) for i in range(len(results["params"])) for k in range(len(splits))}
    assert store.verify()


def test_halving_iteration_is_not_known_under_a_subclass_loop(data):
    class OwnLoop(HalvingGridSearchCV):
        # the same loop, but the search's own: the library cannot know its order
        @functools.wraps(HalvingGridSearchCV._run_search)
        def _run_search(self, *args, **kwargs):
            return super()._run_search(*args, **kwargs)

    X, y = data
    store = stp.stores.MemoryStore()
    OwnLoop(_pipe(store), GRID, cv=3, min_resources=18, factor=2, random_state=0).fit(X, y)
    folds = _runs(store, search_role="cv_fold")
    assert folds
    for run in folds:
        s = run.selection
        assert (s["iteration"], s["n_resources"], s["cv_results_index"]) == (None,) * 3
        assert "halving iteration not known" in selection_note(run)


@pytest.mark.parametrize("search_class", [GridSearchCV, RandomizedSearchCV])
def test_other_searches_record_what_they_recorded(data, search_class):
    X, y = data
    store = stp.stores.MemoryStore()
    search_class(_pipe(store), GRID, cv=3).fit(X, y)
    folds = _runs(store, search_role="cv_fold")
    assert len(folds) == 9
    assert all(set(run.selection) == FOLD_KEYS for run in folds)
    assert not any("halving" in selection_note(run) for run in folds)


def test_a_search_fitted_again_names_the_splits_of_its_new_fit(data):
    # scikit-learn 1.6 to 1.8 set n_splits_ only after the refit: during the second
    # fit's refit it still held the first fit's number
    X, y = data
    store = stp.stores.MemoryStore()
    search = GridSearchCV(_pipe(store), GRID, cv=KFold(3)).fit(X, y)
    first = store.load_run(search.best_estimator_.lineage_.run_id)
    search.set_params(cv=KFold(5)).fit(X, y)
    second = store.load_run(search.best_estimator_.lineage_.run_id)
    assert [first.selection["n_splits"], second.selection["n_splits"]] == [3, 5]
    assert second.selection["n_split_fits"] == 5 * len(GRID["logisticregression__C"])
    assert search.n_splits_ == 5


def test_randomized_search_best_index_names_the_refit_parameters(data):
    X, y = data
    store = stp.stores.MemoryStore()
    search = RandomizedSearchCV(
        _pipe(store),
        {"logisticregression__C": np.logspace(-2, 2, 20)},
        n_iter=4,
        cv=2,
        random_state=1,
    ).fit(X, y)
    (refit,) = _runs(store, search_role="refit")
    best = search.cv_results_["params"][refit.selection["best_index"]]
    assert refit.selection["best_params"] == {k: float(v) for k, v in best.items()}
    folds = _runs(store, search_role="cv_fold")
    assert sorted(
        {r.selection["candidate_params"]["logisticregression__C"] for r in folds}
    ) == sorted(float(p["logisticregression__C"]) for p in search.cv_results_["params"])


def test_refit_false_stores_only_the_splits(data):
    X, y = data
    store = stp.stores.MemoryStore()
    GridSearchCV(_pipe(store), GRID, cv=2, refit=False).fit(X, y)
    assert len(store.list_runs(search_role="cv_fold")) == 6
    assert store.list_runs(search_role="refit").empty
    assert store.list_runs(purpose="fit").empty


def test_failed_split_fits_store_nothing(data):
    X, y = data
    store = stp.stores.MemoryStore()
    grid = {"logisticregression__C": [1.0, -1.0]}  # C must be positive: those fits fail
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)
        warnings.simplefilter("ignore", UserWarning)
        search = GridSearchCV(_pipe(store), grid, cv=3, error_score=np.nan).fit(X, y)
    assert np.isnan(search.cv_results_["mean_test_score"][1])
    folds = _runs(store, search_role="cv_fold")
    assert len(folds) == 3
    assert {r.selection["candidate_params"]["logisticregression__C"] for r in folds} == {1.0}
    assert len(store.list_runs()) == 4 and store.verify()
    # the refit says how many fits on splits there were, and how many failed
    (refit,) = _runs(store, search_role="refit")
    failed = int(np.isnan(search.cv_results_["split0_test_score"]).sum()) * 3
    assert (refit.selection["n_split_fits"], refit.selection["n_failed_fits"]) == (6, failed)
    assert refit.selection["n_split_fits"] - refit.selection["n_failed_fits"] == len(folds)


def test_fits_other_code_makes_are_not_guessed(data):
    X, y = data
    store = stp.stores.MemoryStore()
    search = GridSearchCV(_pipe(store), GRID, cv=2).fit(X, y)
    n = len(store.list_runs())
    # a hand-written cross-validation loop: the library cannot know, so says nothing
    for train, _ in KFold(2).split(X):
        clone(_pipe(store)).fit(X.iloc[train], y.iloc[train])
    # the refitted model, cloned and refitted by the user: not a refit of the search
    clone(search.best_estimator_).fit(X, y)
    # the best model refitted in place by the user
    search.best_estimator_.fit(X, y)
    later = store.list_runs().iloc[n:]
    assert len(later) == 4
    assert later["purpose"].tolist() == ["fit"] * 4
    assert later["search_role"].tolist() == [None] * 4
    assert all(store.load_run(r).selection is None for r in later["run_id"])


def test_a_search_over_a_pipeline_holding_a_traced_step_claims_nothing(data):
    from sklearn.pipeline import make_pipeline

    X, y = data
    store = stp.stores.MemoryStore()
    inner = stp.TracedEstimator(LogisticRegression(), store=store)
    GridSearchCV(
        make_pipeline(StandardScaler(), inner), {"tracedestimator__estimator__C": [1.0]}, cv=2
    ).fit(X, y)
    # the traced step was fitted by sklearn's Pipeline, not by the search's split code
    runs = store.list_runs()
    assert len(runs) == 3 and runs["search_role"].tolist() == [None] * 3


def test_user_purpose_wins_and_the_role_stays(data):
    X, y = data
    store = stp.stores.MemoryStore()
    with stp.run_context(purpose="tuning"):
        GridSearchCV(_pipe(store), GRID, cv=2).fit(X, y)
    runs = store.list_runs()
    assert runs["purpose"].tolist() == ["tuning"] * 7
    assert runs["search_role"].tolist() == ["cv_fold"] * 6 + ["refit"]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_an_unlearner_in_a_search_stores_its_model_runs_by_role(data, tmp_path, n_jobs):
    X, y = data
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    forget = X.index.to_numpy()[:3]
    unlearner = stp.GradientCorrectionUnlearner(_pipe(store), forget=forget)
    cv = KFold(3)
    search = GridSearchCV(
        unlearner, {"estimator__logisticregression__C": [0.1, 1.0]}, cv=cv, n_jobs=n_jobs
    ).fit(X, y)
    splits = list(cv.split(X, y))
    folds = _runs(store, search_role="cv_fold")
    assert len(folds) == 6
    for run in folds:
        assert run.purpose == "unlearning"
        assert run.selection["estimator"].endswith("GradientCorrectionUnlearner")
        k = _split_of(run, X, splits)
        assert run.selection["split_progress"] == [k, 3]
    (refit,) = _runs(store, search_role="refit")
    assert refit.run_id == search.best_estimator_.estimator_.lineage_.run_id
    # a removal for every fit whose training rows held the rows to forget (their
    # positions 0-2 are in the test rows of split 0 only) and for the refit
    removals = [e for e in store.events() if e["kind"] == "unlearning"]
    holding = {r.run_id for r in folds if np.isin(forget, r.row_ids).all()} | {refit.run_id}
    assert {e["run_id"] for e in removals} == holding
    assert len(removals) == 2 * 2 + 1
    assert store.verify()
    # the report on the search is the refit's corrected model, its removal and the store
    report = stp.compliance_report(
        search,
        system_name="S",
        system_version="1",
        deployer_name="D",
        high_risk_category="creditworthiness",
        intended_purpose="review",
        human_oversight=["officer"],
    ).to_dict()
    (mine,) = [e for e in removals if e["run_id"] == refit.run_id]
    assert report["model"]["run_id"] == refit.run_id
    assert report["model"]["selection"]["role"] == "refit"
    assert report["model"]["fitted_object_after_removal"]["seq"] == mine["seq"]
    assert [r["seq"] for r in report["record_keeping"]["removals"]] == [mine["seq"]]
    assert report["record_keeping"]["store"]["n_runs"] == 7
    assert [r["search_role"] for r in report["record_keeping"]["runs"]] == (
        ["cv_fold"] * 6 + ["refit"]
    )


def test_cross_validate_on_threads_is_one_call(data):
    from joblib import parallel_backend

    X, y = data
    store = stp.stores.MemoryStore()
    cv = KFold(4, shuffle=True, random_state=5)
    with parallel_backend("threading"):
        cross_validate(_pipe(store), X, y, cv=cv, n_jobs=2)
        GridSearchCV(_pipe(store), GRID, cv=cv, n_jobs=2).fit(X, y)
    splits = list(cv.split(X, y))
    runs = _runs(store)
    assert len(runs) == 4 + 12 + 1
    calls = [r.selection["search_id"] for r in runs]
    assert len(set(calls[:4])) == 1 and len(set(calls[4:])) == 1 and calls[0] != calls[4]
    assert sorted(_split_of(r, X, splits) for r in runs[:4]) == [0, 1, 2, 3]
    assert [r.selection["role"] for r in runs] == ["cv_fold"] * 16 + ["refit"]


def test_an_explainer_tuned_by_a_search_marks_the_runs_of_its_models(data):
    X, y = data
    store = stp.stores.MemoryStore()
    cv = KFold(2)
    search = GridSearchCV(
        stp.InfluenceExplainer(_pipe(store)), {"damping": [1e-3, 1e-1]}, cv=cv
    ).fit(X, y)
    splits = list(cv.split(X, y))
    runs = _runs(store)
    assert [r.purpose for r in runs] == ["influence"] * 5
    assert [r.selection["role"] for r in runs] == ["cv_fold"] * 4 + ["refit"]
    assert sorted(_split_of(r, X, splits) for r in runs[:4]) == [0, 0, 1, 1]
    assert {r.selection["candidate_params"]["damping"] for r in runs[:4]} == {1e-3, 1e-1}
    assert runs[-1].run_id == search.best_estimator_.estimator_.lineage_.run_id
    assert runs[-1].selection["best_params"] == search.best_params_


def _lowest_c(cv_results):
    """A refit callable: the candidate with the smallest C."""
    return int(np.argmin([p["logisticregression__C"] for p in cv_results["params"]]))


def test_a_callable_refit_is_named_and_its_choice_recorded(data):
    X, y = data
    store = stp.stores.MemoryStore()
    search = GridSearchCV(_pipe(store), GRID, cv=2, refit=_lowest_c).fit(X, y)
    (refit,) = _runs(store, search_role="refit")
    assert refit.selection["refit"] == f"{__name__}._lowest_c"
    assert refit.selection["best_index"] == 0 == search.best_index_
    assert refit.selection["best_params"] == {"logisticregression__C": 0.1}
    assert refit.ops[-1].params["C"] == 0.1


def test_learning_and_validation_curves_are_one_call_each(data):
    """Each curve's splits are cross-validation folds of one call: the training rows are
    the splitter's (the first rows of each split, by size), and the validation curve's
    parameter is each run's candidate."""
    X, y = data
    store = stp.stores.MemoryStore()
    cv = KFold(3)
    sizes, _, _ = learning_curve(_pipe(store), X, y, cv=cv, train_sizes=[0.5, 1.0])
    validation_curve(
        _pipe(store), X, y, param_name="logisticregression__C", param_range=[0.1, 10.0], cv=cv
    )
    runs = _runs(store)
    assert len(runs) == 12
    curve, valid = runs[:6], runs[6:]
    ids = X.index.to_numpy()
    expected = [ids[train[:n]].tolist() for train, _ in cv.split(X) for n in sizes]
    assert sorted(r.row_ids.tolist() for r in curve) == sorted(expected)
    for group, name in ((curve, "learning_curve"), (valid, "validation_curve")):
        assert len({r.selection["search_id"] for r in group}) == 1
        assert {r.purpose for r in group} == {"cv_fold"}
        assert {r.selection["search"] for r in group} == {f"sklearn.model_selection.{name}"}
    assert curve[0].selection["search_id"] != valid[0].selection["search_id"]
    assert (
        sorted(r.selection["candidate_params"]["logisticregression__C"] for r in valid)
        == [0.1] * 3 + [10.0] * 3
    )


def test_a_split_of_rows_without_ids_says_its_lines_are_positions_in_the_split(data):
    X, y = data
    rng = np.random.default_rng(3)
    arrays = (rng.normal(size=(48, 2)), rng.integers(0, 2, 48))  # never loaded: no ids
    cv = KFold(3, shuffle=True, random_state=0)
    store = stp.stores.MemoryStore()
    res = cross_validate(_pipe(store), *arrays, cv=cv, return_estimator=True)
    assert len(_runs(store, purpose="cv_fold")) == 3
    for fitted, (train, _) in zip(res["estimator"], cv.split(*arrays)):
        run = fitted.lineage_
        [note] = [n for n in run.notes if "carried no row ids" in n]
        [source] = run.sources.values()
        assert f"recorded as {source.source_id}, the split's own {train.size} training" in note
        # its line k is the split's k-th row, not row k of the data given to the search
        line = int(run.rows()["line"].iloc[-1])
        assert line == train.size and train[line - 1] != line - 1
    # traced rows, or sample_id: lines of the file, no note
    cross_validate(_pipe(store), X.to_numpy(), y, cv=cv, params={"sample_id": stp.row_ids(X)})
    cross_validate(_pipe(store), X, y, cv=cv)
    assert not any("carried no row ids" in n for r in _runs(store)[3:] for n in r.notes)
    # the refit of a search is given all the rows: positions in them, no note
    search = GridSearchCV(_pipe(store), GRID, cv=cv).fit(*arrays)
    assert not any("carried no row ids" in n for n in search.best_estimator_.lineage_.notes)


def test_a_regressor_fitted_by_a_transformed_target_regressor_says_its_target_is_transformed(
    data,
):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.linear_model import Ridge

    X, _ = data
    price = np.exp(X["x2"]) * 100.0  # prices; the regressor is fitted on their log
    model = TransformedTargetRegressor(
        stp.make_traced_pipeline(StandardScaler(), Ridge()), func=np.log, inverse_func=np.exp
    ).fit(X[["x1"]], price)
    run = model.regressor_.lineage_
    [stats] = run.source_stats["sources"]
    assert np.isclose(stats["labels"]["mean"], np.log(price).mean())  # not price.mean()
    [note] = [n for n in run.notes if "TransformedTargetRegressor" in n]
    assert "on the target it transformed (by func=log): the run's target statistics" in note
    scaled = TransformedTargetRegressor(stp.TracedEstimator(Ridge()), transformer=StandardScaler())
    [note] = [n for n in scaled.fit(X[["x1"]], price).regressor_.lineage_.notes if "Trans" in n]
    assert "(by its transformer StandardScaler)" in note
    # the identity transforms nothing; a regressor fitted directly is given the target
    for fitted in (
        TransformedTargetRegressor(stp.TracedEstimator(Ridge())).fit(X[["x1"]], price).regressor_,
        stp.TracedEstimator(Ridge()).fit(X[["x1"]], price),
    ):
        assert not any("TransformedTargetRegressor" in n for n in fitted.lineage_.notes)


def test_a_traced_fit_keeps_no_object_of_its_callers_alive():
    # the TransformedTargetRegressor note read the calling frame's f_locals, which
    # stores a snapshot of the caller's variables in its frame: an explainer the caller
    # then deleted stayed alive (and was named as holding removed rows) until it returned
    import gc
    import weakref

    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(30, 3)), source_id="alive")
    y = (X.to_numpy()[:, 0] > 0).astype(int)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    explainer = stp.InfluenceExplainer(pipe).fit(X, y)
    seen = weakref.ref(explainer)
    stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    del explainer
    gc.collect()
    assert seen() is None


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_splits=st.integers(2, 5),
    seed=st.integers(0, 1000),
    kind=st.sampled_from(["kfold", "stratified", "shuffle"]),
    predict=st.booleans(),
)
def test_cross_validate_and_predict_runs_name_their_split_in_the_splitters_order(
    data, n_splits, seed, kind, predict
):
    # cross_validate and cross_val_predict give their fits no split_progress: which
    # stored run was which test_score (or which block of predictions) was not recorded
    X, y = data
    cv = {
        "kfold": KFold(n_splits, shuffle=True, random_state=seed),
        "stratified": StratifiedKFold(n_splits, shuffle=True, random_state=seed),
        "shuffle": ShuffleSplit(n_splits, test_size=0.25, random_state=seed),
    }[kind]
    if predict and kind == "shuffle":
        cv = KFold(n_splits)  # cross_val_predict needs a partition
    store = stp.stores.MemoryStore()
    call = cross_val_predict if predict else cross_validate
    call(_pipe(store), X, y, cv=cv)
    ids = X.index.to_numpy()
    splits = list(cv.split(X, y))
    runs = _runs(store)
    assert sorted(r.selection["split_index"] for r in runs) == list(range(len(splits)))
    for run in runs:
        np.testing.assert_array_equal(run.row_ids, ids[splits[run.selection["split_index"]][0]])
        assert f"split {run.selection['split_index'] + 1} in the splitter's order" in (
            selection_note(run)
        )


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_split_index_of_cross_validate_in_workers(data, tmp_path, backend):
    from joblib import parallel_backend
    from sklearn.pipeline import make_pipeline

    X, y = data
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    cv = KFold(4, shuffle=True, random_state=2)
    # a traced column transformer inside the traced pipeline: cloned with each split's
    # clone, it is not a split of its own
    nested = stp.make_traced_pipeline(
        stp.make_traced_column_transformer((StandardScaler(), ["x1", "x2"])),
        LogisticRegression(),
        store=store,
    )
    with parallel_backend(backend):
        scores = cross_validate(nested, X, y, cv=cv, n_jobs=2, return_estimator=True)
        # a traced step inside a plain Pipeline: fitted by the Pipeline, not as a split
        inner = stp.TracedEstimator(LogisticRegression(), store=store)
        cross_validate(make_pipeline(StandardScaler(), inner), X, y, cv=cv, n_jobs=2)
    splits = list(cv.split(X, y))
    ids = X.index.to_numpy()
    for k, fitted in enumerate(scores["estimator"]):
        run = store.load_run(fitted.lineage_.run_id)
        assert run.selection["split_index"] == k
        np.testing.assert_array_equal(run.row_ids, ids[splits[k][0]])
    runs = _runs(store)
    assert len(runs) == 8
    assert sorted(r.selection["split_index"] for r in runs if r.selection) == [0, 1, 2, 3]
    assert [r.selection for r in runs if r.estimator.endswith("TracedEstimator")] == [None] * 4
