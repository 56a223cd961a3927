"""A bare linear model fitted before the explainer: which rows it trained on is unknown."""

import warnings

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import InfluenceExplainer

UNRECORDED = "nothing records which rows it was trained on"


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), n_extra=st.integers(1, 20))
@example(seed=0, n_extra=10)
def test_bare_linear_model_fitted_before_says_its_rows_are_unrecorded(seed, n_extra):
    # fitted on 950 of 1000 rows, a model was at stationarity_ 0.012 (no warning), and
    # the 50 rows it never trained on were scored like the others, with nothing said
    X, y = make_classification(300, 4, n_informative=3, n_redundant=0, random_state=seed)
    model = LogisticRegression(tol=1e-12).fit(X[n_extra:], y[n_extra:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        explainer = InfluenceExplainer(model).fit(X, y)
    explanation = explainer.explain(X[:3], y[:3], keep_scores=True)
    # brute force: the model never trained on rows :n_extra, so removing one changes
    # nothing; yet each has a score (what the note is for)
    assert np.abs(explanation.scores[:, :n_extra]).max() > 0
    assert any(UNRECORDED in note for note in explanation.notes)
    # fitted by the explainer: the rows are known, nothing to say
    fitted_here = InfluenceExplainer(clone(model)).fit(X, y).explain(X[:3], y[:3])
    assert not any(UNRECORDED in note for note in fitted_here.notes)


def test_traced_pipeline_fitted_before_needs_no_note():
    X, y = make_classification(80, 4, n_informative=3, n_redundant=0, random_state=0)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    explanation = InfluenceExplainer(pipe).fit(X, y).explain(X[:2], y[:2])
    assert not any(UNRECORDED in note for note in explanation.notes)
