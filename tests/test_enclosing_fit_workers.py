"""A meta-estimator's fits in joblib worker processes (n_jobs=2, loky) record the same
rows and the same notes as in one process.

The rows are checked against the raw file (each row's key is written on its line);
the notes against the runs of the same call with ``n_jobs=1``.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._enclosing_fit import TAG
from sktraceprop.exceptions import LineageWarning
from tests._lineage._raw_files import keys_by_line


def _write(tmp_path, n=90):
    rng = np.random.default_rng(4)
    lines = ["key,a,b,y"]
    for i in range(n):
        if i % 8 == 3:
            lines.append("")
        lines.append(f"k{i},{rng.normal():.5f},{rng.normal():.5f},{i % 2}")
    path = tmp_path / "meta.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _runs(store, path, lines=True, prefix="fitted by"):
    """Each run's purpose, its notes that start with ``prefix`` and its rows' keys as the raw file
    holds them at the named lines (or the rows' count: ``lines=False``), sorted."""
    truth = keys_by_line(path)
    out = []
    for run_id in store.list_runs()["run_id"]:
        run = store.load_run(run_id)
        rows = run.rows()
        keys = len(rows)
        if lines:
            keys = tuple(truth[(path.stem, int(line))] for line in rows["line"])
        notes = tuple(n for n in run.notes if n.startswith(prefix))
        out.append((run.purpose, notes, keys))
    return sorted(out)


@pytest.mark.parametrize(
    "meta,n",
    [
        (lambda p, n_jobs: CalibratedClassifierCV(p, cv=3, n_jobs=n_jobs), 90),
        (lambda p, n_jobs: VotingClassifier([("p", p)], n_jobs=n_jobs), 91),
    ],
    ids=["calibrated", "voting"],
)
def test_worker_fits_record_the_rows_and_notes_of_one_process(tmp_path, meta, n):
    # (files of other bytes per case: loky's workers outlive a test's registry)
    path = _write(tmp_path, n)
    d = stp.read_csv(path, source_id="meta")
    X, y = d[["a", "b"]], d["y"].to_numpy()
    by_jobs = {}
    for n_jobs in (1, 2):
        store = stp.stores.SQLiteStore(tmp_path / f"runs{n_jobs}.db")
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        meta(pipe, n_jobs).fit(X, y)
        by_jobs[n_jobs] = _runs(store, path)
    assert by_jobs[1] == by_jobs[2]
    assert all(notes[0].startswith("fitted by ") for _, notes, _ in by_jobs[2])
    # each fit's rows, as the raw file holds them at the lines named: the training rows of
    # each of the splitter's splits (calibrated), or every row (voting)
    keys = d["key"].to_numpy()
    if isinstance(meta(None, 1), CalibratedClassifierCV):
        expected = [tuple(keys[t]) for t, _ in StratifiedKFold(3).split(X, y)]
    else:
        expected = [tuple(keys)]
    assert sorted(k for *_, k in by_jobs[2]) == sorted(expected)


def test_the_tag_is_used_once_and_never_in_the_process_that_cloned(tmp_path):
    """A clone made by a meta-estimator's fit and fitted later, by the user, in this
    process or (pickled) in another, gets no note from the clone."""
    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="meta")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    made = []

    class Cloning(CalibratedClassifierCV):
        def fit(self, X, y):
            made.append(clone(self.estimator))
            return super().fit(X, y)

    Cloning(pipe, cv=2).fit(d[["a", "b"]], d["y"])
    tagged = made[0]
    assert getattr(tagged, TAG)["owner"][0] == "Cloning"
    tagged.fit(d[["a", "b"]], d["y"])  # same process: the stack decides, and says nothing
    assert not any(n.startswith("fitted by") for n in tagged.lineage_.notes)
    assert not hasattr(tagged, TAG)
    again = pickle.loads(pickle.dumps(tagged))  # used once: a later fit gets nothing
    again.fit(d[["a", "b"]], d["y"])
    assert not any(n.startswith("fitted by") for n in again.lineage_.notes)


def _clone_in_worker_metas():
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.multioutput import MultiOutputClassifier

    return {
        "multioutput": lambda p, n_jobs: MultiOutputClassifier(p, n_jobs=n_jobs),
        "one_vs_rest": lambda p, n_jobs: OneVsRestClassifier(p, n_jobs=n_jobs),
    }


def _targets(name, d):
    y = d["y"].to_numpy()
    if name == "multioutput":
        return np.c_[y, 1 - y]
    if name == "one_vs_rest":
        return (np.arange(len(y)) + y) % 3
    return y


_WORKER_FUNCTIONS = {
    "multioutput": "sklearn.multioutput._fit_estimator",
    "one_vs_rest": "sklearn.multiclass._fit_binary",
}


def _unnamed(note, name):
    return note.startswith(f"fitted in a joblib task through {_WORKER_FUNCTIONS[name]}") and (
        "could not be named there" in note
    )


@pytest.mark.parametrize("name,n", [("multioutput", 92), ("one_vs_rest", 93)])
def test_estimators_cloned_in_the_worker_say_what_they_cannot_name(tmp_path, name, n):
    """MultiOutputClassifier and OneVsRestClassifier clone the estimator in the worker,
    from a pickle made by loky's feeder thread, whose stack does not hold their fit, and
    send the worker no object of theirs. The other threads' stacks are not read (walking a
    running thread's frames crashed CPython): the worker's runs, the same rows as with
    n_jobs=1, say they were fitted in a joblib task through scikit-learn's worker function
    and that the estimator whose fit made them could not be named, never a guessed name.
    (BaggingClassifier, whose task holds the bagging: test_enclosing_fit_threads.)"""
    path = _write(tmp_path, n)
    d = stp.read_csv(path, source_id="meta")
    X, y = d[["a", "b"]], _targets(name, d)
    by_jobs = {}
    for n_jobs in (1, 2):
        store = stp.stores.SQLiteStore(tmp_path / f"runs{n_jobs}.db")
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LineageWarning)
            _clone_in_worker_metas()[name](pipe, n_jobs).fit(X, y)
        by_jobs[n_jobs] = _runs(store, path, prefix="fitted ")
    assert [(p, k) for p, _, k in by_jobs[1]] == [(p, k) for p, _, k in by_jobs[2]]
    assert len(by_jobs[2]) >= 2
    assert all(len(notes) == 1 and notes[0].startswith("fitted by ") for _, notes, _ in by_jobs[1])
    assert all(len(notes) == 1 and _unnamed(notes[0], name) for _, notes, _ in by_jobs[2])


def test_threads_of_joblib_say_what_they_cannot_name_and_a_saved_pickle_does_not(tmp_path):
    """The threading backend clones in a joblib thread, whose stack does not hold the
    meta-estimator's fit: the note says it could not be named (the fit's thread is not
    read). A pickle made by a meta-estimator's fit on its own thread carries its name; fitted
    later outside a joblib task (a saved model), it gets no note."""
    from joblib import parallel_backend

    path = _write(tmp_path, 95)
    d = stp.read_csv(path, source_id="meta")
    X, y = d[["a", "b"]], _targets("multioutput", d)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    meta = _clone_in_worker_metas()["multioutput"](pipe, 2)
    with parallel_backend("threading", n_jobs=2):
        meta.fit(X, y)
    notes = [[n for n in e.lineage_.notes if n.startswith("fitted ")] for e in meta.estimators_]
    assert len(notes) == 2
    assert all(len(n) == 1 and _unnamed(n[0], "multioutput") for n in notes)
    saved = []

    class Saving(type(meta)):
        def fit(self, X, y):
            saved.append(pickle.dumps(self.estimator))
            return super().fit(X, y)

    Saving(pipe).fit(X, y)
    later = pickle.loads(saved[0])
    assert getattr(later, TAG)["owner"][0] == "Saving"  # made while its fit held it
    later.fit(X, y[:, 0])
    assert not any(n.startswith("fitted") for n in later.lineage_.notes)


def test_a_worker_fit_through_sklearn_that_nothing_names_says_so(tmp_path):
    """A fit in a joblib task through scikit-learn's code whose meta-estimator no stack
    shows (here its worker function called directly) notes that it could not be named,
    rather than saying nothing."""
    from sklearn.multioutput import _fit_estimator
    from sklearn.utils.parallel import Parallel, delayed

    path = _write(tmp_path, 96)
    d = stp.read_csv(path, source_id="meta")
    X, y = d[["a", "b"]], d["y"].to_numpy()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    fitted = Parallel(n_jobs=2)(delayed(_fit_estimator)(pipe, X, y) for _ in range(2))
    for model in fitted:
        (note,) = [n for n in model.lineage_.notes if "joblib task" in n]
        assert "through sklearn.multioutput._fit_estimator" in note
        assert "could not be named" in note
