"""Runs of a traced estimator fitted by a meta-estimator name the estimator that fitted it."""

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, TunedThresholdClassifierCV
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def _data(n=60):
    rng = np.random.default_rng(0)
    X = stp.from_pandas(pd.DataFrame(rng.normal(size=(n, 3)), columns=list("abc")), "meta")
    y = (X["a"].to_numpy() + rng.normal(size=n) > 0).astype(int)
    return X, y


def _notes(store):
    out = []
    for run_id in store.list_runs()["run_id"]:
        run = store.load_run(run_id)
        out.append((run.purpose, [n for n in run.notes if n.startswith("fitted by")], run))
    return out


@pytest.mark.parametrize(
    "meta,through,n_runs",
    [
        (lambda p: CalibratedClassifierCV(p, cv=3), ["_fit_classifier_calibrator_pair"] * 3, 3),
        (
            lambda p: TunedThresholdClassifierCV(p, cv=3),
            [None] + ["_fit_and_score_over_thresholds"] * 3,
            4,
        ),
    ],
    ids=["calibrated", "tuned"],
)
def test_each_fit_a_meta_estimator_makes_is_named(meta, through, n_runs):
    # each was a run of purpose "fit" like a user's own: 4 "fit" runs for one call of
    # TunedThresholdClassifierCV.fit, with nothing saying which model it kept (the one
    # fitted on all rows) and which only scored thresholds on a split
    X, y = _data()
    store = stp.stores.MemoryStore()
    model = meta(stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store))
    model.fit(X, y)
    runs = _notes(store)
    assert len(runs) == n_runs
    name = type(model).__name__
    seen = []
    for purpose, notes, run in runs:
        assert purpose == "fit" and len(notes) == 1
        assert notes[0].startswith(f"fitted by {name}.")
        seen.append(next((t for t in set(through) - {None} if t in notes[0]), None))
        if "through" not in notes[0]:
            # the fit on all the rows given (the model the meta-estimator keeps)
            assert len(run.row_ids) == len(X)
        else:
            assert len(run.row_ids) < len(X)
    assert sorted(seen, key=str) == sorted(through, key=str)


def test_fits_per_target_are_named():
    X, y = _data()
    store = stp.stores.MemoryStore()
    inner = stp.make_traced_pipeline(LogisticRegression(), store=store)
    MultiOutputClassifier(inner).fit(X, np.c_[y, 1 - y])
    runs = _notes(store)
    assert len(runs) == 2
    assert all("MultiOutputClassifier.fit" in notes[0] for _, notes, _ in runs)


def test_a_users_fit_a_pipeline_step_and_a_search_get_no_such_note():
    X, y = _data()
    store = stp.stores.MemoryStore()
    stp.make_traced_pipeline(LogisticRegression(), store=store).fit(X, y)
    make_pipeline(
        StandardScaler(), stp.make_traced_pipeline(LogisticRegression(), store=store)
    ).fit(X, y)
    traced = stp.make_traced_pipeline(LogisticRegression(), store=store)
    GridSearchCV(traced, {"logisticregression__C": [1.0]}, cv=2).fit(X, y)
    # the stacking's cross_val_predict fits are splits ("cv_fold"), named as such
    StackingClassifier(
        [("p", stp.make_traced_pipeline(LogisticRegression(), store=store))], cv=2
    ).fit(X, y)
    runs = _notes(store)
    plain = [
        notes for purpose, notes, run in runs if run.selection is not None or purpose != "fit"
    ]
    assert all(notes == [] for notes in plain)
    fit_notes = [notes for purpose, notes, run in runs if run.selection is None]
    # the user's fit, the pipeline step's, and the stacking's final fit on all rows
    assert [len(n) for n in fit_notes] == [0, 0, 1]
    assert "StackingClassifier.fit" in fit_notes[-1][0]
