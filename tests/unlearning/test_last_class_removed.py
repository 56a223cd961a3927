"""A removal that leaves one class behind names itself in the error, and changes nothing.

Removing every row of one class of a binary LogisticRegression raised scikit-learn's own
"This solver needs samples of at least 2 classes", which names no removal. The truth is a
retrain without those rows (it fails the same way) and the unlearner's state before.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, SGDClassifier

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner


@pytest.mark.parametrize(
    "estimator", [LogisticRegression(), SGDClassifier(loss="log_loss", random_state=0)]
)
def test_removing_a_whole_class_says_so_and_keeps_the_model(estimator):
    rng = np.random.default_rng(0)
    X = stp.from_pandas(pd.DataFrame({"x": rng.normal(size=40)}), "last_class")
    y = np.r_[np.zeros(30), np.ones(10)].astype(int)
    unl = GradientCorrectionUnlearner(estimator).fit(X, y)
    before = unl.decision_function(X), len(unl.unlearning_log_)
    with pytest.raises(ValueError):
        estimator.fit(X[y == 0], y[y == 0])  # the retrain fails too
    with pytest.raises(ValueError, match=r"takes every row of 1 class\(es\).*only class \[0\]"):
        unl.unlearn(sample_id=stp.row_ids(X)[y == 1])
    after = unl.decision_function(X), len(unl.unlearning_log_)
    np.testing.assert_array_equal(after[0], before[0])  # nothing changed
    assert after[1] == before[1] == 0
    unl.unlearn(sample_id=stp.row_ids(X)[y == 1][:5])  # a removal that leaves both works
    assert len(unl.unlearning_log_) == 1
