"""A meta-estimator's fits in joblib worker processes (n_jobs=2, loky) record the same
rows and the same notes as in one process.

The rows are checked against the raw file (each row's key is written on its line);
the notes against the runs of the same call with ``n_jobs=1``.
"""

import pickle

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


def _runs(store, path):
    """Each run's purpose, its 'fitted by' notes and its rows' keys as the raw file
    holds them at the named lines, sorted."""
    truth = keys_by_line(path)
    out = []
    for run_id in store.list_runs()["run_id"]:
        run = store.load_run(run_id)
        rows = run.rows()
        keys = tuple(truth[(path.stem, int(line))] for line in rows["line"])
        notes = tuple(n for n in run.notes if n.startswith("fitted by"))
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
