"""``run_context`` around a search or cross-validation run with ``n_jobs=2``.

The fits of the splits run on joblib's threads or in worker processes, outside the
block; their runs must still carry its name, purpose, tags and parent, as they do with
``n_jobs=1`` (the truth: the same calls made serially), so that ``list_runs(tags=...)``
finds every run of the job.
"""

import threading

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV, KFold, cross_validate, permutation_test_score

import sktraceprop as stp
from tests._search_data import rows_file, scaled_logistic

_COLUMNS = ["name", "purpose", "parent_run_id", "search_role"]


def _labels(store):
    runs = store.list_runs()
    return sorted(
        (tuple(str(v) for v in row[_COLUMNS]), tuple(sorted(row["tags"].items())))
        for _, row in runs.iterrows()
    )


def _job(X, y, store, n_jobs, context, search=True):
    pipe = scaled_logistic(store)
    with stp.run_context(**context):
        cross_validate(pipe, X, y, cv=KFold(3), n_jobs=n_jobs, error_score="raise")
        if not search:
            return None
        grid = {"logisticregression__C": [0.5, 1.0]}
        search = GridSearchCV(pipe, grid, cv=KFold(2), n_jobs=n_jobs, error_score="raise")
        return search.fit(X, y)


def _stored_labels(tmp_path, X, y, n_jobs, backend, context, label):
    store = stp.stores.SQLiteStore(tmp_path / f"{label}.db")
    with parallel_backend(backend):
        search = _job(X, y, store, n_jobs, context)
    return _labels(store), search, store


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_split_runs_keep_the_run_context(tmp_path, backend):
    X, y = rows_file(tmp_path, seed=0, n=30)
    context = {"name": "weekly", "tags": {"ticket": "AUD-7"}, "parent_run_id": "P1"}
    serial, _, _ = _stored_labels(tmp_path, X, y, 1, backend, context, "serial")
    parallel, _, store = _stored_labels(tmp_path, X, y, 2, backend, context, "parallel")
    assert parallel == serial
    assert len(store.list_runs(tags={"ticket": "AUD-7"})) == 3 + 4 + 1
    assert set(store.list_runs(search_role="cv_fold")["name"]) == {"weekly"}
    assert store.verify()


def test_refit_of_best_estimator_later_takes_no_old_context(tmp_path):
    X, y = rows_file(tmp_path, seed=1, n=30)
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    with parallel_backend("threading"):
        search = _job(X, y, store, 2, {"name": "weekly", "tags": {"t": "1"}})
    search.best_estimator_.fit(X, y)  # the user's own fit, outside the block
    run = search.best_estimator_.lineage_
    assert (run.name, run.tags, run.purpose, run.selection) == (None, {}, "fit", None)


@pytest.fixture
def data(tmp_path):
    return rows_file(tmp_path, seed=2, n=24)


_texts = st.text(alphabet="abcXYZ-_ 0", min_size=1, max_size=6)


@settings(
    deadline=None, max_examples=4, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(outer={"name": "a", "purpose": "audit"}, inner={"tags": {"k": "v"}})
@given(
    outer=st.fixed_dictionaries(
        {}, optional={"name": _texts, "purpose": _texts, "tags": st.dictionaries(_texts, _texts)}
    ),
    inner=st.fixed_dictionaries(
        {}, optional={"parent_run_id": _texts, "tags": st.dictionaries(_texts, _texts)}
    ),
)
def test_nested_contexts_threads_match_serial(data, outer, inner):
    X, y = data
    found = {}
    for n_jobs in (1, 2):
        store = stp.stores.MemoryStore()
        with parallel_backend("threading"), stp.run_context(**outer):
            _job(X, y, store, n_jobs, inner, search=False)
        found[n_jobs] = _labels(store)
    assert found[2] == found[1]


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_nested_cross_validation_keeps_the_run_context(tmp_path, backend):
    X, y = rows_file(tmp_path, seed=3, n=32)
    found = {}
    for n_jobs in (1, 2):
        store = stp.stores.SQLiteStore(tmp_path / f"{n_jobs}.db")
        grid = {"logisticregression__C": [0.5, 1.0]}
        search = GridSearchCV(scaled_logistic(store), grid, cv=KFold(2))
        with parallel_backend(backend), stp.run_context(name="nested", tags={"t": "1"}):
            cross_validate(search, X, y, cv=KFold(2), n_jobs=n_jobs, error_score="raise")
        found[n_jobs] = _labels(store)
    assert found[2] == found[1]
    assert {label[0][0] for label in found[2]} == {"nested"}
    assert len(found[2]) == 2 * (4 + 1)


def test_clones_of_a_searched_model_searched_again_take_no_old_context(tmp_path):
    X, y = rows_file(tmp_path, seed=4, n=30)
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    with parallel_backend("threading"):
        search = _job(X, y, store, 2, {"name": "weekly", "tags": {"t": "1"}})
        before = len(store.list_runs())
        best = search.best_estimator_
        cross_validate(best, X, y, cv=KFold(2), n_jobs=2, error_score="raise")
        GridSearchCV(best, {"logisticregression__C": [2.0]}, cv=KFold(2), n_jobs=2).fit(X, y)
    later = store.list_runs().iloc[before:]
    assert len(later) == 2 + 2 + 1
    assert later["name"].isna().all() and not any(later["tags"])


def test_two_threads_each_in_its_own_context_do_not_cross(tmp_path):
    X, y = rows_file(tmp_path, seed=5, n=30)
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    barrier = threading.Barrier(2)
    errors = []

    def job(name):
        try:
            barrier.wait()
            with parallel_backend("threading"):
                _job(X, y, store, 2, {"name": name, "tags": {"who": name}})
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    runs = store.list_runs()
    assert len(runs) == 2 * (3 + 4 + 1)
    assert (runs["tags"].map(lambda tags: tags["who"]) == runs["name"]).all()
    # each search or cross-validation call's runs are of one thread
    assert (runs.groupby("search_id")["name"].nunique() == 1).all()
    assert runs["name"].value_counts().to_dict() == {"a": 8, "b": 8}
    assert store.verify()


def test_permutation_test_score_fits_keep_the_run_context(tmp_path):
    X, y = rows_file(tmp_path, seed=6, n=30)
    found = {}
    for n_jobs in (1, 2):
        store = stp.stores.MemoryStore()
        pipe = scaled_logistic(store)
        with parallel_backend("threading"), stp.run_context(name="perm", tags={"t": "1"}):
            # y without row ids: permuted labels meet other rows by design
            permutation_test_score(
                pipe, X, y.to_numpy(), cv=KFold(2), n_permutations=2, n_jobs=n_jobs
            )
        found[n_jobs] = _labels(store)
    assert found[2] == found[1]
    assert len(found[2]) == 2 + 2 * 2
    assert {label[0][0] for label in found[2]} == {"perm"}
