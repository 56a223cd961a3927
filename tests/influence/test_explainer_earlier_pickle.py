"""An explainer pickled by an earlier sktraceprop (``data/explainer_c5065de``, written at
commit c5065de, whose explainers named each fit by a bare ``object()``) loads, explains
as a fit made now does, and takes part in removals: before, every unlearn or erasure of
any row while it was loaded raised ``AttributeError: 'object' object has no attribute
'forgotten'`` (nothing removed), and its explanations could not be marked."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

import sktraceprop as stp
from sktraceprop import GradientCorrectionUnlearner, InfluenceExplainer
from tests._earlier_pickles import NEEDS_NUMPY_2

HERE = Path(__file__).parent / "data" / "explainer_c5065de"
pytestmark = NEEDS_NUMPY_2


def _load():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stp.exceptions.LineageWarning)
        with open(HERE / "explainer.pkl", "rb") as f:
            explainer, explanation = pickle.load(f)
        people = stp.read_csv(HERE / "people.csv", source_id="people")
    return explainer, explanation, people[["city", "x"]], people["label"]


def test_an_earlier_explainer_explains_as_one_fitted_now():
    explainer, explanation, X, y = _load()
    now = InfluenceExplainer(clone(explainer.estimator)).fit(X, y)
    truth = now.explain(X.iloc[:1])
    np.testing.assert_allclose(explainer.explain(X.iloc[:1]).scores, truth.scores, atol=1e-10)
    np.testing.assert_allclose(explanation.scores, truth.scores, atol=1e-10)
    assert list(explanation.top(3)["line"]) == list(truth.top(3)["line"])


def test_a_removal_drops_the_earlier_explainers_fit_and_its_explanations_refuse():
    explainer, explanation, X, y = _load()
    unlearner = GradientCorrectionUnlearner(clone(explainer.estimator)).fit(X, y)
    before = unlearner.decision_function(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unlearner.unlearn(sample_id=stp.row_ids(X.iloc[[1, 2]]))
    assert not np.allclose(unlearner.decision_function(X), before)
    assert unlearner.unlearning_log_[-1]["dropped_elsewhere"] == {"InfluenceExplainer": 2}
    with pytest.raises(ValueError, match="2 row"):
        explainer.explain(X.iloc[:1])
    with pytest.raises(ValueError, match="made by the fit dropped"):
        explanation.top(3)
