import numpy as np
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import GradientCorrectionUnlearner
from tests.unlearning.test_gradient_correction import _data, _truth


def test_balanced_with_sample_weight_equals_retrain():
    # LogisticRegression balances the classes' summed sample weights; the objective
    # balanced their counts, so the unlearner certified (gradient 2e-11) a model whose
    # decision values differed from scikit-learn's retrain by 0.11
    X, y = _data("multiclass")
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    model = LogisticRegression(C=0.3, class_weight="balanced")
    unl = GradientCorrectionUnlearner(model, tol=1e-10).fit(X, y, sample_weight=sw)
    unl.unlearn(source_id="site_1")
    keep = stp.row_lineage(X)["source_id"].to_numpy() != "site_1"
    truth = _truth(model, X[keep], y[keep], sample_weight=sw[keep])
    assert_allclose(unl.decision_function(X), truth.decision_function(X), rtol=1e-6, atol=1e-7)


def test_removing_a_class_s_weightless_rows_under_balanced_weights_equals_retrain():
    # The downdate subtracted the removed rows' Hessian terms with class weights balanced
    # over the removed rows alone: where those rows of a class all had sample weight 0
    # (scikit-learn >= 1.9 balances LogisticRegression's summed weights), that refused,
    # "weighs them infinitely", a removal a retrain makes without complaint. The terms
    # J_T holds for them are weighed by all the held rows' class weights. Where
    # scikit-learn balances row counts (1.6) the removal never refused; it is checked
    # against the retrain all the same.
    X, y = _data("multiclass")
    rng = np.random.default_rng(1)
    sw = rng.uniform(0.5, 2.0, size=len(y))
    gone = np.flatnonzero(y == 0)[:4]
    sw[gone] = 0.0
    keep = np.ones(len(y), dtype=bool)
    keep[gone] = False
    model = LogisticRegression(C=0.3, class_weight="balanced")
    unl = GradientCorrectionUnlearner(model, tol=1e-10).fit(X, y, sample_weight=sw)
    unl.unlearn(mask=~keep)
    assert unl.unlearning_log_[-1]["method"] == "newton"
    truth = _truth(model, X[keep], y[keep], sample_weight=sw[keep])
    assert_allclose(unl.decision_function(X), truth.decision_function(X), rtol=1e-6, atol=1e-7)
