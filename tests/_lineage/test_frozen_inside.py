"""A final step holding a FrozenEstimator: the run says the frozen model was not fitted."""

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp


def _data():
    rng = np.random.default_rng(0)
    X = stp.from_pandas(pd.DataFrame(rng.normal(size=(60, 3)), columns=list("abc")), "frz")
    y = (X["a"].to_numpy() + rng.normal(size=60) > 0).astype(int)
    other = pd.DataFrame(rng.normal(size=(30, 3)), columns=list("abc"))
    prefit = LogisticRegression().fit(other, rng.integers(0, 2, 30))
    return X, y, prefit


@pytest.mark.parametrize(
    "wrap,name",
    [
        (lambda f: CalibratedClassifierCV(f), "estimator"),
        (lambda f: StackingClassifier([("prefit", f)], cv=2), "prefit"),
    ],
    ids=["calibrated", "stacking"],
)
def test_a_frozen_model_inside_the_final_step_is_named_in_the_notes(wrap, name):
    # CalibratedClassifierCV(FrozenEstimator(model)) as the final step: the run listed the
    # rows given to fit as the model's training rows, with no note, while they fitted
    # only the calibrator (a bare FrozenEstimator as the final step is refused)
    X, y, prefit = _data()
    coef = prefit.coef_.copy()
    pipe = stp.make_traced_pipeline(wrap(FrozenEstimator(prefit))).fit(X, y)
    np.testing.assert_array_equal(prefit.coef_, coef)  # (the truth: it was not refitted)
    notes = [n for n in pipe.lineage_.notes if "FrozenEstimator" in n]
    assert len(notes) == 1 and f"({name})" in notes[0]
    assert "rows this run does not list" in notes[0]


def test_a_meta_estimator_that_fits_its_model_gets_no_such_note():
    X, y, _ = _data()
    pipe = stp.make_traced_pipeline(CalibratedClassifierCV(LogisticRegression(), cv=3))
    pipe.fit(X, y)
    assert not [n for n in pipe.lineage_.notes if "FrozenEstimator" in n]
