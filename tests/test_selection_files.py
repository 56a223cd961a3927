"""Runs of model selection over rows read from CSV files, against the files' bytes.

The truth is independent of the library: the physical line where each record starts,
found by Python's ``csv`` module over the raw bytes, the SHA-256 of those bytes, and
the splits the CV splitter gives for the same data.
"""

import csv
import hashlib

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def _write(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def _lines_by_key(path):
    """Key (first field) -> the physical 1-based line its record starts on, from the bytes."""
    text = open(path, "rb").read().decode()
    physical = iter(enumerate(text.split("\n"), start=1))
    last = [0]

    def lines():
        for number, line in physical:
            last[0] = number
            yield line + "\n"

    reader = csv.reader(lines())
    next(reader)  # the header
    out = {}
    while True:
        start = last[0] + 1
        try:
            record = next(reader)
        except StopIteration:
            return out
        if record:
            out[int(record[0])] = start


@pytest.fixture
def files(tmp_path):
    """Two files joined on ``pid``: quoted fields (commas, quotes, newlines), gaps."""
    rng = np.random.default_rng(4)
    n = 60
    patients = [
        [
            1000 + i,
            f"Name {i}, Jr",
            "" if i % 11 == 4 else int(rng.integers(20, 80)),
            f"{rng.normal(120, 15):.2f}",
            'said "hi",\nthen left' if i % 7 == 0 else "ok",
        ]
        for i in range(n)
    ]
    # each test's files are other bytes: a worker process kept from an earlier test
    # knows identical bytes by the path they were first read from
    site = tmp_path.name
    patients[0][1] = site
    keep = rng.permutation(n)[: n - 5]  # some patients have no labs; another order
    labs = [
        [1000 + i, "" if i % 9 == 2 else f"{rng.normal(200, 30):.1f}", int(i % 3 == 0), site]
        for i in keep
    ]
    a, b = tmp_path / "patients.csv", tmp_path / "labs.csv"
    _write(a, ["pid", "name", "age", "bp", "note"], patients)
    _write(b, ["pid", "chol", "label", "site"], labs)
    merged = stp.merge(
        stp.read_csv(a, source_id="patients"), stp.read_csv(b, source_id="labs"), on="pid"
    )
    return merged, {"patients": a, "labs": b}


def _pipe(store):
    return stp.make_traced_pipeline(
        SimpleImputer(), StandardScaler(), LogisticRegression(), store=store
    )


def _check_rows(run, pids, paths):
    """The run's training rows are the rows of ``pids``, in order, on their files' lines."""
    rows = run.rows()
    assert rows["train_index"].nunique() == len(pids)
    for name, path in paths.items():
        lines = _lines_by_key(path)
        mine = rows[rows["source_id"] == name].sort_values("train_index")
        assert mine["train_index"].tolist() == list(range(len(pids)))
        assert mine["line"].tolist() == [lines[p] for p in pids]
        assert set(mine["uri"]) == {path.resolve().as_uri()}
    digests = {s.source_id: s.sha256 for s in run.sources.values() if not s.derived}
    assert digests == {
        name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in paths.items()
    }


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_merged_file_rows_of_every_split_and_the_refit_are_traceable_from_the_store(
    files, tmp_path, n_jobs
):
    # With n_jobs=2 a worker process stored the merge source first, without its parent
    # rows (they did not travel with the clone it was sent): the store then never held
    # them, and no run of the search, the refit included, could be traced from it.
    merged, paths = files
    X, y, pids = merged[["age", "bp", "chol"]], merged["label"], merged["pid"].to_numpy()
    path = tmp_path / "runs.db"
    cv = StratifiedKFold(3, shuffle=True, random_state=1)
    grid = {"logisticregression__C": [0.1, 10.0]}
    search = GridSearchCV(_pipe(stp.stores.SQLiteStore(path)), grid, cv=cv, n_jobs=n_jobs)
    search.fit(X, y)
    splits = list(cv.split(X, y))
    store = stp.stores.SQLiteStore(path)  # a new handle: what is on disk
    runs = [store.load_run(r) for r in store.list_runs()["run_id"]]
    assert len(runs) == 2 * 3 + 1
    for run in runs:
        if run.selection["role"] == "cv_fold":
            train = splits[run.selection["split_progress"][0]][0]
            _check_rows(run, pids[train], paths)
        else:
            assert run.run_id == search.best_estimator_.lineage_.run_id
            _check_rows(run, pids, paths)
    assert store.verify()


def test_cross_validate_in_workers_stores_the_parents_of_merges_and_aggregates(files, tmp_path):
    # a ward statistic joined back to the rows: a merge of the rows with an aggregate
    # of them; the workers store both derived sources first
    from sklearn.model_selection import KFold, cross_validate

    merged, paths = files
    patients = stp.read_csv(paths["patients"], source_id="patients")
    merged = merged.assign(ward=merged["pid"] % 4)
    wards = stp.aggregate(merged, "ward", ward_bp=("bp", "mean"))
    rows = stp.merge(merged, wards, on="ward")
    X, y, pids = rows[["age", "bp", "chol", "ward_bp"]], rows["label"], rows["pid"].to_numpy()
    path = tmp_path / "runs.db"
    cv = KFold(3, shuffle=True, random_state=0)
    cross_validate(_pipe(stp.stores.SQLiteStore(path)), X, y, cv=cv, n_jobs=2)
    store = stp.stores.SQLiteStore(path)
    runs = [store.load_run(r) for r in store.list_runs()["run_id"]]
    lines = _lines_by_key(paths["patients"])
    found = []
    for run in runs:
        assert all(s.parents is not None for s in run.sources.values() if s.derived)
        mine = run.rows().query("source_id == 'patients'").sort_values("train_index")
        (k,) = [
            k
            for k, (train, _) in enumerate(cv.split(X, y))
            if mine["line"].tolist() == [lines[p] for p in pids[train]]
        ]
        train, test = list(cv.split(X, y))[k]
        _check_rows(run, pids[train], paths)
        # a patient the split did not train on: the training rows of its ward depend on
        # it through the ward's statistic (the aggregate's parents), and only those
        gone = pids[test[0]]
        (line,) = [p for p in stp.row_ids(patients)[patients["pid"].to_numpy() == gone]]
        row, via = run.depends_on(removed_ids=[line])
        np.testing.assert_array_equal(row, pids[train] % 4 == gone % 4)
        np.testing.assert_array_equal(via, row)
        found.append(k)
    assert sorted(found) == [0, 1, 2]


def test_explainer_of_the_best_model_names_its_rows_files_and_lines(files, tmp_path):
    merged, paths = files
    X, y, pids = merged[["age", "bp", "chol"]], merged["label"], merged["pid"].to_numpy()
    store = stp.stores.SQLiteStore(tmp_path / "runs.db")
    grid = {"logisticregression__C": [0.1, 10.0]}
    search = GridSearchCV(_pipe(store), grid, cv=3, n_jobs=2).fit(X, y)
    explainer = stp.InfluenceExplainer(search.best_estimator_, n_subsets=4, random_state=0)
    top = explainer.fit(X, y).explain(X.iloc[:2], top_k=3)
    table = top.top()
    assert len(table) == 2 * 3 * 2  # two test rows, three training rows, two files each
    for name, path in paths.items():
        lines = _lines_by_key(path)
        mine = table[table["source_id"] == name]
        assert len(mine) == 6
        assert mine["line"].tolist() == [lines[p] for p in pids[mine["train_index"]]]
